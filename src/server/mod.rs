//! The local credential endpoints of `exec --server` and `exec --ec2-server`
//! (docs/aws-vault.md §1.5), and what they share: a listener on a random port of 127.0.0.1, one
//! loop that answers its requests in turn, and the source of the credentials they hand out.
//!
//! Each protocol lives in its own module (`ecs.rs`, `imds.rs`) and only turns a request into a
//! [`Reply`]; the loop here sends it. The command is told where to ask through variables the
//! endpoint gives (`child_variables`), plus [`no_proxy`]'s additions.

mod ecs;
mod http;
mod imds;
mod no_proxy;
pub(crate) mod peer;

use std::io;
use std::net::TcpListener;

pub(crate) use ecs::{EcsServer, credentials_reply, message};
pub(crate) use http::{Reply, Request};
pub(crate) use imds::{ImdsOptions, ImdsServer};
pub(crate) use no_proxy::no_proxy_additions;

use crate::creds::Credentials;

/// What an endpoint hands out: credentials, and the account they belong to when it is known
/// (botocore and the other SDKs read `AccountId` for account-based endpoints).
pub(crate) struct Issued {
    pub(crate) creds: Credentials,
    pub(crate) account_id: Option<String>,
}

/// Where the answers come from: the profile's credentials, or a role's assumed with them.
/// Requests are answered on several threads at once, so it is shared between them.
pub(crate) trait CredentialSource: Sync {
    fn profile_credentials(&self) -> Result<Issued, String>;
    fn role_credentials(&self, role_arn: &str) -> Result<Issued, String>;
}

/// A credential endpoint the command is pointed at: it answers until the process ends.
pub(crate) trait Endpoint: Send + Sync {
    /// The variables that point the command's SDKs at this endpoint.
    fn child_variables(&self) -> Vec<(&'static str, String)>;
    /// Answers requests until the process ends.
    fn serve(&self, source: &dyn CredentialSource);
}

/// A socket on a random port of 127.0.0.1: never another interface, so nothing off this machine
/// can ask.
pub(crate) struct Listener {
    socket: TcpListener,
    port: u16,
}

impl Listener {
    pub(crate) fn bind() -> io::Result<Self> {
        let socket = http::bind()?;
        let port = socket.local_addr()?.port();
        Ok(Self { socket, port })
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The address the asking sockets connect to, as `peer.rs` looks them up.
    pub(crate) fn address(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The one serving loop: each request gets `answer`'s reply, on the thread of its
    /// connection (`http.rs` bounds how many there are).
    pub(crate) fn serve(&self, name: &str, answer: &(dyn Fn(&Request) -> Reply + Sync)) {
        http::serve(&self.socket, name, answer);
    }
}

/// `len` random bytes in base64url without padding: the endpoints' tokens.
pub(crate) fn random_token(len: usize) -> io::Result<String> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = vec![0u8; len];
    getrandom::getrandom(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Equal contents, in a time that depends only on the lengths, so the answer's timing tells an
/// attacker nothing about how much of a guessed token was right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn random_tokens_are_base64url_and_differ() {
        let a = random_token(30).unwrap();
        assert_eq!(a.len(), 40);
        assert_ne!(a, random_token(30).unwrap());
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
}
