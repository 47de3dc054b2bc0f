//! The `vault` binary: parse, run, and turn the outcome into an exit code in one place.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    vault::keep_memory_private();
    vault::complete_from_env();
    match vault::run(std::env::args_os()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(code) = err.silent_exit_code() {
                return ExitCode::from(code);
            }
            // A failing write to stderr has nowhere left to be reported.
            let _ = writeln!(std::io::stderr().lock(), "vault: error: {}", err.report());
            ExitCode::from(err.exit_code())
        }
    }
}
