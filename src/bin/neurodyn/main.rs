//! The `neurodyn` command-line tool (all of it lives in `neurodyn::cli`).

mod huge_pages;

#[global_allocator]
static ALLOC: huge_pages::HugePageAlloc = huge_pages::HugePageAlloc;

fn main() {
    huge_pages::tune_malloc();
    std::process::exit(neurodyn::cli::main());
}
