//! The local credential endpoints of `exec --server` and `exec --ec2-server`
//! (docs/aws-vault.md §1.5), and what they share: a listener on a random port of 127.0.0.1, one
//! loop that answers its requests in turn, and the source of the credentials they hand out.
//!
//! Each protocol lives in its own module (`ecs.rs`, `imds.rs`) and only turns a request into a
//! [`Reply`]; the loop here sends it. The command is told where to ask through variables the
//! endpoint gives (`child_variables`), plus [`no_proxy`]'s additions.

mod ecs;
mod imds;
mod no_proxy;
pub(crate) mod peer;

use std::io;

use tiny_http::{Header, Request, Response, Server};

pub(crate) use ecs::EcsServer;
pub(crate) use imds::{ImdsOptions, ImdsServer};
pub(crate) use no_proxy::no_proxy_additions;

use crate::creds::Credentials;

/// Where the answers come from: the profile's credentials, or a role's assumed with them.
pub(crate) trait CredentialSource {
    fn profile_credentials(&self) -> Result<Credentials, String>;
    fn role_credentials(&self, role_arn: &str) -> Result<Credentials, String>;
}

/// A credential endpoint the command is pointed at: it answers until the process ends.
pub(crate) trait Endpoint: Send {
    /// The variables that point the command's SDKs at this endpoint.
    fn child_variables(&self) -> Vec<(&'static str, String)>;
    /// Answers requests until the process ends.
    fn serve(&self, source: &dyn CredentialSource);
}

/// A socket on a random port of 127.0.0.1: never another interface, so nothing off this machine
/// can ask.
pub(crate) struct Listener {
    http: Server,
    port: u16,
}

impl Listener {
    pub(crate) fn bind() -> io::Result<Self> {
        let http = Server::http("127.0.0.1:0").map_err(io::Error::other)?;
        let port = http
            .server_addr()
            .to_ip()
            .map(|addr| addr.port())
            .ok_or_else(|| io::Error::other("the server has no TCP address"))?;
        Ok(Self { http, port })
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The one serving loop: each request in turn gets `answer`'s reply. One thread answers, so
    /// the credential source needs no locking and fetches at most once at a time.
    pub(crate) fn serve(&self, name: &str, answer: &dyn Fn(&Request) -> Reply) {
        for request in self.http.incoming_requests() {
            let reply = answer(&request);
            let mut response = Response::from_string(reply.body).with_status_code(reply.status);
            for header in reply.headers {
                response.add_header(header);
            }
            if let Err(e) = request.respond(response) {
                log::debug!("{name}: could not answer: {e}");
            }
        }
    }
}

/// One answer: a status, a body and its headers.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) headers: Vec<Header>,
}

impl Reply {
    pub(crate) fn new(status: u16, body: String, content_type: &'static str) -> Self {
        Self {
            status,
            body,
            headers: vec![header("Content-Type", content_type)],
        }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push(header(name, value));
        self
    }
}

fn header(name: &'static str, value: &str) -> Header {
    // Values are our own (a content type, a number of seconds), never a client's.
    Header::from_bytes(name, value).expect("a valid header")
}

/// The value of the request's header `name`, if it has one.
pub(crate) fn header_value<'a>(request: &'a Request, name: &'static str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
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
