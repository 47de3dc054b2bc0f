//! What the shell side and the agent say over the control socket: one JSON request and one JSON
//! answer, each on one line. Only processes of the same user can connect (the socket's
//! directory is private, and the agent checks the peer's uid).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cli::GlobalArgs;
use crate::creds::Credentials;
use crate::secret::Secret;

/// A request line is at most this long: the environment it carries included.
const MAX_LINE: u64 = 4 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub(crate) enum Request {
    /// A token for a shell, with credentials when the agent has asked for them.
    Use(Box<UseRequest>),
    /// Forget the token whose file this is (`unuse`, or a `use` of another profile), if it is
    /// the asking shell's: a nested shell inherits its parent's variables, not its token.
    Revoke {
        token_file: PathBuf,
        shell_pid: i32,
    },
    Status,
    Stop,
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct UseRequest {
    /// Which served profile this is: the profile with everything that shapes its credentials.
    pub(crate) key: String,
    pub(crate) profile: String,
    /// The `use` flags, as the shell state records them.
    pub(crate) flags: String,
    pub(crate) global: GlobalArgs,
    /// The shell's environment from before `use`, which renewals run with.
    pub(crate) env: Vec<(String, String)>,
    pub(crate) shell_pid: i32,
    /// `vault refresh`: the held credentials are not wanted; answer with their expiry.
    pub(crate) renew: bool,
    pub(crate) credentials: Option<WireCredentials>,
    pub(crate) account_id: Option<String>,
}

/// Credentials on their way to the agent. No `Debug`: it would print the secret.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct WireCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    expiration: Option<i64>,
}

impl WireCredentials {
    pub(crate) fn of(creds: &Credentials) -> Self {
        Self {
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.expose().to_owned(),
            session_token: creds.session_token.as_ref().map(|t| t.expose().to_owned()),
            expiration: creds.expiration.map(OffsetDateTime::unix_timestamp),
        }
    }

    pub(crate) fn into_credentials(self) -> Option<Credentials> {
        let expiration = match self.expiration {
            Some(at) => Some(OffsetDateTime::from_unix_timestamp(at).ok()?),
            None => None,
        };
        Some(Credentials {
            access_key_id: self.access_key_id,
            secret_access_key: Secret::new(self.secret_access_key),
            session_token: self.session_token.map(Secret::new),
            expiration,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub(crate) enum Response {
    Registered(Registered),
    /// The agent holds no usable credentials for the key: fetch them (with more time left than
    /// `held_until`, Unix seconds, when it holds some) and ask again.
    NeedCredentials {
        held_until: Option<i64>,
    },
    Status {
        agent_pid: u32,
        tokens: Vec<TokenInfo>,
    },
    Revoked {
        count: usize,
    },
    Failed {
        message: String,
    },
}

/// What a shell gets: where to ask, the file with its token, and the stamp to watch.
#[derive(Serialize, Deserialize)]
pub(crate) struct Registered {
    pub(crate) url: String,
    pub(crate) token_file: PathBuf,
    pub(crate) stamp: PathBuf,
    pub(crate) agent_pid: u32,
    /// When the credentials now held expire (Unix seconds), if they do.
    pub(crate) expires: Option<i64>,
}

/// One live token, as `vault agent status` lists it: nothing secret.
#[derive(Serialize, Deserialize)]
pub(crate) struct TokenInfo {
    pub(crate) profile: String,
    pub(crate) shell_pid: i32,
    pub(crate) age_secs: i64,
    pub(crate) needs_you: bool,
}

pub(crate) fn send(stream: &mut UnixStream, message: &impl Serialize) -> io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}

pub(crate) fn receive<T: for<'a> Deserialize<'a>>(stream: &UnixStream) -> io::Result<T> {
    let mut line = Vec::new();
    BufReader::new(stream.take(MAX_LINE)).read_until(b'\n', &mut line)?;
    if line.last() != Some(&b'\n') {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the message ended early",
        ));
    }
    serde_json::from_slice(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
