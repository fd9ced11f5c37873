//! The bridge as the end-to-end tests run it: `brigade-bridge` itself, built inside the test
//! package so that tests can find its binary.

fn main() -> std::process::ExitCode {
    brigade_bridge::cli::main()
}
