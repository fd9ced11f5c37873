//! `brigade-bridge`: see [`brigade_bridge::cli`].

fn main() -> std::process::ExitCode {
    brigade_bridge::cli::main()
}
