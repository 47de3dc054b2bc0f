//! The outside world as `creds` sees it: the AWS clients, the MFA prompter, the clock, the
//! lock directory and a channel for notices. `cmd` builds them (`cmd/services.rs`, for each
//! credential fetch) and passes them down, so nothing in `creds` builds a client, reads the
//! clock or talks to the user itself (beyond the processes a profile configures, such as
//! `mfa_process`, which may use the terminal), and unit tests pass fakes (`fake.rs`).

use std::path::PathBuf;

use super::iam::Iam;
use super::sts::Sts;
use crate::ctx::Clock;
use crate::secret::Secret;
use crate::tty;

pub(crate) struct Services {
    pub(crate) sts: Box<dyn Sts>,
    pub(crate) iam: Box<dyn Iam>,
    pub(crate) prompter: Box<dyn Prompter>,
    pub(crate) clock: Clock,
    /// Where the per-session lock files go; `None` means no locks (and duplicate calls).
    pub(crate) lock_dir: Option<PathBuf>,
    /// What `creds` has to say while it works; `cmd` decides whether and how to say it.
    pub(crate) notices: Box<dyn Fn(&Notice)>,
}

/// Something worth telling the user while credentials are being fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Another process holds the lock of this session (it may be at an MFA prompt).
    WaitingForLock { session: String },
}

/// Asks a person for an MFA code.
pub(crate) trait Prompter {
    fn mfa_code(&self, serial: &str) -> Result<Secret, tty::Error>;
}
