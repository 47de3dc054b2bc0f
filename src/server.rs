//! The local ECS-style credential endpoint of `exec --server` (docs/aws-vault.md §1.5): SDKs in the
//! child fetch credentials from it through `AWS_CONTAINER_CREDENTIALS_FULL_URI`, so a long-running
//! process never holds credentials that have expired.
//!
//! It listens on 127.0.0.1 only, on a random port, and answers only requests whose
//! `Authorization` header is the token it made (30 random bytes, base64url), compared in constant
//! time. `/role-arn/<ARN>` answers with that role's credentials, assumed with the profile's.

use std::io;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use tiny_http::{Header, Request, Response, Server};

use crate::creds::{Credentials, rfc3339_seconds};
use crate::secret::Secret;

/// Where the answers come from: the profile's credentials, or a role's assumed with them.
pub(crate) trait CredentialSource {
    fn profile_credentials(&self) -> Result<Credentials, String>;
    fn role_credentials(&self, role_arn: &str) -> Result<Credentials, String>;
}

pub(crate) struct EcsServer {
    http: Server,
    token: Secret,
    url: String,
}

impl EcsServer {
    /// Listens on a random port of 127.0.0.1.
    pub(crate) fn bind() -> io::Result<Self> {
        let http = Server::http("127.0.0.1:0").map_err(io::Error::other)?;
        let port = http
            .server_addr()
            .to_ip()
            .map(|addr| addr.port())
            .ok_or_else(|| io::Error::other("the server has no TCP address"))?;
        let mut bytes = [0u8; 30];
        getrandom::getrandom(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self {
            http,
            token: Secret::new(URL_SAFE_NO_PAD.encode(bytes)),
            // With a path: some SDKs (Ruby's among them) refuse a full URI without one.
            url: format!("http://127.0.0.1:{port}/"),
        })
    }

    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` for the child.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN` for the child.
    pub(crate) fn token(&self) -> &Secret {
        &self.token
    }

    /// Answers requests until the process ends.
    pub(crate) fn serve(&self, source: &dyn CredentialSource) {
        for request in self.http.incoming_requests() {
            let (status, body) = self.answer(&request, source);
            let response = Response::from_string(body)
                .with_status_code(status)
                .with_header(json_content_type());
            if let Err(e) = request.respond(response) {
                log::debug!("credential server: could not answer: {e}");
            }
        }
    }

    fn answer(&self, request: &Request, source: &dyn CredentialSource) -> (u16, String) {
        let authorized = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .is_some_and(|h| {
                constant_time_eq(h.value.as_str().as_bytes(), self.token.expose().as_bytes())
            });
        if !authorized {
            log::debug!("credential server: refused {} (bad token)", request.url());
            return (403, message("invalid Authorization token"));
        }
        let result = match request.url().strip_prefix("/role-arn/") {
            Some(role_arn) => source.role_credentials(role_arn),
            None => source.profile_credentials(),
        };
        match result {
            Ok(creds) => (200, credentials_json(&creds)),
            Err(reason) => {
                log::debug!("credential server: {reason}");
                (500, message(&reason))
            }
        }
    }
}

/// The ECS container-credentials answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EcsCredentials<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
}

fn credentials_json(creds: &Credentials) -> String {
    let body = EcsCredentials {
        access_key_id: &creds.access_key_id,
        secret_access_key: creds.secret_access_key.expose(),
        token: creds.session_token.as_ref().map_or("", Secret::expose),
        expiration: creds.expiration.map(rfc3339_seconds),
    };
    serde_json::to_string(&body).expect("plain struct serialises")
}

fn message(text: &str) -> String {
    serde_json::json!({ "Message": text }).to_string()
}

fn json_content_type() -> Header {
    Header::from_bytes("Content-Type", "application/json; charset=utf-8")
        .expect("a valid static header")
}

/// Equal contents, in a time that depends only on the lengths, so the answer's timing tells an
/// attacker nothing about how much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
    fn a_token_is_30_random_bytes_in_base64url() {
        let a = EcsServer::bind().unwrap();
        let b = EcsServer::bind().unwrap();
        assert_eq!(a.token().expose().len(), 40);
        assert_ne!(a.token().expose(), b.token().expose());
        assert!(a.url().starts_with("http://127.0.0.1:") && a.url().ends_with('/'));
    }
}
