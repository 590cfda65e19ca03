fn main() {
    std::process::exit(neurodyn::cli::main());
}
