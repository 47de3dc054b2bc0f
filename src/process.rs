//! The one module that starts other programs (see clippy.toml): user-configured commands run
//! through `/bin/sh -c`, as aws-vault runs them.

#![expect(
    clippy::disallowed_methods,
    reason = "the one place that builds Commands"
)]

use std::process::Command;

/// `sh -c COMMAND`, for `credential_process`, `mfa_process` and `web_identity_token_process`.
pub(crate) fn shell(command: &str) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    cmd
}

/// A program found by `exec`, run as a child when it cannot replace vault.
pub(crate) fn program(path: &std::path::Path) -> Command {
    Command::new(path)
}
