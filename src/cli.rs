//! The `neurodyn` command line (argument parsing → configs → library calls).

/// Runs the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
    println!("neurodyn {}", env!("CARGO_PKG_VERSION"));
    0
}
