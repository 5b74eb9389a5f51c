//! The `flowlab` binary: everything lives in the library; see `flowlab::cli`.

fn main() -> std::process::ExitCode {
    flowlab::cli::main()
}
