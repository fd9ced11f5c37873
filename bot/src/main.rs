//! `brigade-bot`: see [`brigade_bot::cli`].

fn main() -> std::process::ExitCode {
    brigade_bot::cli::main()
}
