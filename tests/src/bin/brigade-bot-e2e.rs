//! The bot's own `main`, built inside this package so its end-to-end tests can run the bot as a
//! process (Cargo gives integration tests the paths of their own package's binaries only).

fn main() -> std::process::ExitCode {
    brigade_bot::cli::main()
}
