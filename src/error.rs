//! The top-level error: every domain error folds into it, and it alone decides exit codes.
//!
//! Codes (documented in the README): 0 success, 1 error, 2 usage error. clap's own
//! `--help` / `--version` output and a closed stdout pipe are not errors.

use std::error::Error as StdError;
use std::io;

use crate::{child, config, creds, keystore, shell, tty};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--help`, `--version` or a command-line mistake; clap has already formatted it.
    #[error("{0}")]
    Cli(#[from] clap::Error),
    #[error(transparent)]
    Config(#[from] config::Error),
    #[error(transparent)]
    Keystore(#[from] keystore::Error),
    #[error(transparent)]
    Credentials(#[from] creds::Error),
    #[error(transparent)]
    Command(#[from] child::Error),
    /// The command `exec` ran ended with this code; vault exits with it, silently.
    #[error("the command exited with {0}")]
    Exit(u8),
    #[error(transparent)]
    Prompt(#[from] tty::Error),
    /// A value no environment can hold, refused before anything was printed or run.
    #[error("{source}; it came from {origin}, and nothing was changed")]
    Unholdable {
        source: shell::Unholdable,
        origin: String,
    },
    /// A mistake in how the command was used that clap cannot see (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// Anything else a command wants to say, already phrased for the user.
    #[error("{0}")]
    Message(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn unholdable(origin: impl Into<String>) -> impl FnOnce(shell::Unholdable) -> Self {
        let origin = origin.into();
        move |source| Self::Unholdable { source, origin }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// The exit code for errors that print themselves (clap help, version, usage) or are
    /// not failures at all (a reader closed our stdout).
    #[must_use]
    pub fn silent_exit_code(&self) -> Option<u8> {
        match self {
            Self::Cli(err) if err.use_stderr() => {
                // Like every other error: `vault: error: …`, so one pattern finds them all.
                let text = err.render().to_string();
                let text = match text.strip_prefix("error: ") {
                    Some(rest) => format!("vault: error: {rest}"),
                    None => text,
                };
                let _ = io::Write::write_all(&mut io::stderr().lock(), text.as_bytes());
                Some(u8::try_from(err.exit_code()).unwrap_or(2))
            }
            Self::Cli(err) => {
                // Help and the version, which clap prints to stdout.
                let _ = err.print();
                Some(u8::try_from(err.exit_code()).unwrap_or(0))
            }
            Self::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe => Some(0),
            Self::Exit(code) => Some(*code),
            _ => None,
        }
    }

    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Cli(_)
            | Self::Usage(_)
            | Self::Credentials(creds::Error::DurationOutOfRange { .. }) => 2,
            _ => 1,
        }
    }

    /// The message and its cause chain, each cause once, with any control character from
    /// input (a profile name, an STS message) made visible.
    #[must_use]
    pub fn report(&self) -> String {
        crate::visible::visible_lines(&self.chain()).into_owned()
    }

    fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = self.source();
        while let Some(err) = cause {
            let line = err.to_string();
            if !text.contains(&line) {
                text.push_str(": ");
                text.push_str(&line);
            }
            cause = err.source();
        }
        text
    }
}
