//! The one place that reads the process environment and the clock.
//!
//! Everything below `cmd/` receives an [`Env`] and a [`Clock`] instead of calling
//! `std::env` or `SystemTime::now`, so tests can pin both (see clippy.toml).

use std::collections::HashMap;
use std::path::PathBuf;

use time::OffsetDateTime;

/// A snapshot of the environment variables that are valid UTF-8.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl std::fmt::Debug for Env {
    // The environment can hold AWS_SECRET_ACCESS_KEY or AWS_VAULT_FILE_PASSPHRASE.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.len())
            .finish()
    }
}

impl Env {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one reader of the real environment"
    )]
    pub(crate) fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self { vars }
    }

    /// An environment made of exactly these variables (tests and benchmarks).
    #[must_use]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// An environment made of these owned pairs (what `use --agent` hands the agent).
    pub(crate) fn from_owned(pairs: Vec<(String, String)>) -> Self {
        Self {
            vars: pairs.into_iter().collect(),
        }
    }

    /// Every variable, in no particular order.
    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The value of `name`, even when it is empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value of `name` when it is set and not empty: what most AWS variables mean by "set".
    pub(crate) fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Sets (`Some`) or removes (`None`) a variable in this snapshot only.
    pub(crate) fn set(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(value) => self.vars.insert(name.to_owned(), value.to_owned()),
            None => self.vars.remove(name),
        };
    }

    pub(crate) fn home(&self) -> Option<PathBuf> {
        self.non_empty("HOME").map(PathBuf::from)
    }

    /// `path` with a leading `~/` read as `$HOME/`, as the AWS SDKs read the file variables.
    pub(crate) fn expand_home(&self, path: &std::path::Path) -> PathBuf {
        match (path.strip_prefix("~"), self.home()) {
            (Ok(rest), Some(home)) if path.to_string_lossy().starts_with("~/") => home.join(rest),
            _ => path.to_owned(),
        }
    }

    /// vault's own private files that need not outlive the login (locks, refresh outcomes):
    /// `$XDG_RUNTIME_DIR/vault`, cleared at logout, else `~/.cache/vault`.
    pub(crate) fn runtime_dir(&self) -> Option<PathBuf> {
        self.non_empty("XDG_RUNTIME_DIR")
            .map(|run| PathBuf::from(run).join("vault"))
            .or_else(|| self.home().map(|home| home.join(".cache").join("vault")))
    }
}

/// The environment a child process inherits, as the OS gave it (values need not be UTF-8).
#[expect(
    clippy::disallowed_methods,
    reason = "exec passes the real environment on"
)]
pub(crate) fn inherited_environment() -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    std::env::vars_os().collect()
}

/// Where "now" comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Clock {
    System,
    /// A fixed instant: what unit tests pass instead of the real clock.
    #[cfg_attr(not(test), expect(dead_code, reason = "only unit tests pin the clock"))]
    Fixed(OffsetDateTime),
}

impl Clock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one reader of the real clock"
    )]
    pub(crate) fn now(self) -> OffsetDateTime {
        match self {
            Self::System => OffsetDateTime::from(std::time::SystemTime::now()),
            Self::Fixed(at) => at,
        }
    }
}

/// What every command handler receives.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) env: Env,
    pub(crate) clock: Clock,
    /// Whether vault may ask questions on the terminal (not from the prompt hook).
    pub(crate) interactive: bool,
    /// How MFA codes are asked for (`--prompt`).
    pub(crate) mfa_prompt: crate::mfa_prompt::Driver,
    /// Whether a slow call may say so on stderr: not once a served command shares it.
    pub(crate) show_waits: bool,
}

impl Ctx {
    pub(crate) fn from_process() -> Self {
        // Tests move time from outside (libfaketime), never through a variable of ours: a stray
        // one would make vault hand out expired sessions as fresh.
        Self {
            env: Env::from_process(),
            clock: Clock::System,
            interactive: true,
            mfa_prompt: crate::mfa_prompt::Driver::Terminal,
            show_waits: true,
        }
    }
}
