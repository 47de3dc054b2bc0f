//! The outside world as `creds` sees it: the AWS clients, the MFA prompter, the clock, the
//! lock directory and a channel for notices. `cmd` builds them (`cmd/services.rs`, for each
//! credential fetch) and passes them down, so nothing in `creds` builds a client, reads the
//! clock or talks to the user itself (beyond the processes a profile configures, such as
//! `mfa_process`, which may use the terminal), and unit tests pass fakes (`fake.rs`).

use std::path::PathBuf;

use super::iam::Iam;
use super::sso::client::{SsoOidc, SsoPortal};
use super::sts::Sts;
use crate::ctx::Clock;
use crate::secret::Secret;
use crate::tty;

pub(crate) struct Services {
    pub(crate) sts: Box<dyn Sts>,
    pub(crate) iam: Box<dyn Iam>,
    pub(crate) sso_oidc: Box<dyn SsoOidc>,
    pub(crate) sso_portal: Box<dyn SsoPortal>,
    pub(crate) prompter: Box<dyn Prompter>,
    pub(crate) browser: Box<dyn Browser>,
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
    /// Another process is signing in to this start URL; this one will use its token.
    WaitingForSignIn { start_url: String },
    /// The sign-in page is being opened in the browser.
    OpeningBrowser { url: String },
    /// The person should open `url` (and enter `user_code`, for a device sign-in).
    OpenThisUrl {
        url: String,
        user_code: Option<String>,
    },
    /// No browser could be started, so the sign-in goes on with a device code.
    NoBrowser { reason: String },
    /// Something worth keeping could not be stored; the command goes on without.
    NotKept { what: String, reason: String },
}

/// Why a page did not reach the person's browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BrowserError {
    /// No browser could be started.
    NotStarted(String),
    /// A browser started but did not open the page within the wait.
    NotOpened,
}

/// Opens a page in the person's browser, waiting at most `wait` for it to be opened. The URL
/// must never reach another process's arguments (other local users can read those): it holds
/// a sign-in's state and challenge, or a device code.
pub(crate) trait Browser {
    fn open(&self, url: &str, wait: std::time::Duration) -> Result<(), BrowserError>;
}

/// Asks a person for an MFA code.
pub(crate) trait Prompter {
    fn mfa_code(&self, serial: &str) -> Result<Secret, PromptError>;
    /// What was typed is not a code (`why`); the code will be asked again.
    fn not_a_code(&self, _why: &str, _tries_left: u32) {}
}

/// Why no MFA code came from the person.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error(transparent)]
    Terminal(#[from] tty::Error),
    #[error("the {driver} prompt gave no code: {reason}")]
    Driver {
        driver: &'static str,
        reason: String,
    },
}
