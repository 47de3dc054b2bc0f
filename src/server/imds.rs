//! The EC2 instance metadata endpoint of `exec --ec2-server`, with IMDSv2 session tokens.
//!
//! aws-vault serves it on 169.254.169.254:80 through a root proxy and a loopback alias
//! (docs/aws-vault.md §1.5). vault needs neither: it listens on a random port of 127.0.0.1 and
//! gives the command `AWS_EC2_METADATA_SERVICE_ENDPOINT`, which the SDKs and the aws CLI honour.
//!
//! The protocol has no secret, so who may ask is checked instead: only sockets of our own uid
//! (`peer.rs`), and only with a `Host` of 127.0.0.1 or localhost on our port, so a web page
//! cannot reach it through DNS rebinding (aws-vault issue #578). Unlike aws-vault's, the
//! endpoint has IMDSv2's `PUT /latest/api/token`; IMDSv1 (no token) is answered unless
//! `--imds-v2-only`.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::json;

use super::http::{Reply, Request};
use super::{CredentialSource, Endpoint, Listener, peer};
use crate::creds::{Credentials, rfc3339_seconds};
use crate::ctx::Clock;
use crate::secret::Secret;

/// The one role the endpoint knows, named as aws-vault names it.
const ROLE: &str = "local-credentials";
const ROLES_PATH: &str = "/latest/meta-data/iam/security-credentials";
/// `ROLES_PATH`, then `/` and `ROLE`.
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/local-credentials";
const TTL_HEADER: &str = "X-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";
/// IMDSv2's limit on a session token's life: six hours.
const MAX_TTL_SECONDS: u64 = 21_600;
const TEXT: &str = "text/plain; charset=utf-8";

/// What the endpoint says about the "instance" besides credentials.
/// The most session tokens held at once: far more than the programs of one command ask for.
const MAX_TOKENS: usize = 1_000;

pub(crate) struct ImdsOptions {
    pub(crate) v2_only: bool,
    pub(crate) region: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) clock: Clock,
}

pub(crate) struct ImdsServer {
    listener: Listener,
    options: ImdsOptions,
    uid: u32,
    /// Session tokens handed out (at most [`MAX_TOKENS`]), with when each stops being valid. Expired ones are dropped
    /// at the next token request, so the map holds only live tokens of our own uid's programs.
    tokens: Mutex<HashMap<String, Instant>>,
}

impl ImdsServer {
    /// Listens on a random port of 127.0.0.1; fails where it could not check who asks.
    pub(crate) fn bind(options: ImdsOptions) -> io::Result<Self> {
        peer::check_available()?;
        Ok(Self {
            listener: Listener::bind()?,
            options,
            uid: nix::unistd::getuid().as_raw(),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    fn answer(&self, request: &Request, source: &dyn CredentialSource) -> Reply {
        if let Some(refusal) = self.refusal(request) {
            log::debug!(
                "metadata server: refused {} ({refusal})",
                crate::visible::visible(request.url())
            );
            return text(403, "Forbidden");
        }
        let path = request.path();
        match request.method() {
            "PUT" if path == "/latest/api/token" => self.new_token(request),
            "GET" => match self.token_check(request) {
                Ok(()) => self.route(path, source),
                Err(reason) => {
                    log::debug!("metadata server: refused {path} ({reason})");
                    text(401, "Unauthorized")
                }
            },
            _ => text(405, "Method Not Allowed"),
        }
    }

    /// Why a request must not be answered at all, if it must not.
    fn refusal(&self, request: &Request) -> Option<String> {
        let server = SocketAddr::from(([127, 0, 0, 1], self.listener.port()));
        let uid = request.peer_uid(server);
        match uid {
            Some(uid) if uid == self.uid => {}
            Some(uid) => return Some(format!("the asking socket belongs to uid {uid}")),
            None => return Some("the asking socket was not found".to_owned()),
        }
        let host = request.header("Host").unwrap_or_default();
        (!host_allowed(host, self.listener.port()))
            .then(|| format!("Host header '{}'", crate::visible::visible(host)))
    }

    /// `PUT /latest/api/token`: a new session token for the seconds asked.
    fn new_token(&self, request: &Request) -> Reply {
        // AWS refuses a token to anything that came through a proxy (a forwarded request).
        if request.header("X-Forwarded-For").is_some() {
            return text(403, "Forbidden");
        }
        let Some(seconds) = request.header(TTL_HEADER).and_then(parse_ttl) else {
            return text(400, "Bad Request");
        };
        let token = match super::random_token(32) {
            Ok(token) => Secret::new(token),
            Err(e) => return text(500, &format!("cannot make a token: {e}")),
        };
        let now = Instant::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        tokens.retain(|_, until| *until > now);
        // Each is 6 hours at most, but a program could ask for them without end: keep the
        // newest ones only.
        if tokens.len() >= MAX_TOKENS
            && let Some(oldest) = tokens
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(token, _)| token.clone())
        {
            tokens.remove(&oldest);
        }
        tokens.insert(
            token.expose().to_owned(),
            now + Duration::from_secs(seconds),
        );
        Reply::new(200, token.expose().to_owned(), TEXT)
            .with_header(TTL_HEADER, &seconds.to_string())
    }

    /// Whether the request's session token (or its lack of one) lets it through.
    fn token_check(&self, request: &Request) -> Result<(), &'static str> {
        match request.header(TOKEN_HEADER) {
            None if self.options.v2_only => Err("no session token, and --imds-v2-only"),
            None => Ok(()),
            Some(token) => match self
                .tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(token)
            {
                Some(until) if *until > Instant::now() => Ok(()),
                Some(_) => Err("expired session token"),
                None => Err("unknown session token"),
            },
        }
    }

    fn route(&self, path: &str, source: &dyn CredentialSource) -> Reply {
        let now = rfc3339_seconds(self.options.clock.now());
        match (path.trim_end_matches('/'), self.options.region.as_deref()) {
            (ROLES_PATH, _) => text(200, ROLE),
            (CREDENTIALS_PATH, _) => match source.profile_credentials() {
                Ok(issued) => text(200, &self.credentials_json(&issued.creds, &now)),
                Err(reason) => {
                    log::debug!("metadata server: {reason}");
                    text(500, &reason)
                }
            },
            ("/latest/meta-data/iam/info", _) => text(
                200,
                &json!({ "Code": "Success", "LastUpdated": now }).to_string(),
            ),
            ("/latest/meta-data/instance-id", _) => text(200, "vault"),
            ("/latest/meta-data/placement/region", Some(region)) => text(200, region),
            ("/latest/dynamic/instance-identity/document", Some(region)) => {
                let mut document = json!({ "region": region, "instanceId": "vault" });
                if let Some(account) = &self.options.account_id {
                    document["accountId"] = json!(account);
                }
                text(200, &document.to_string())
            }
            // Without a region, SDKs are better told nothing than a made-up one.
            _ => text(404, "Not Found"),
        }
    }

    fn credentials_json(&self, creds: &Credentials, now: &str) -> String {
        // SDKs need an expiry. Credentials without one (a credential_process may give such)
        // are asked for again in 15 minutes, so a change reaches the command then.
        let expiration = creds
            .expiration
            .unwrap_or_else(|| self.options.clock.now() + time::Duration::minutes(15));
        json!({
            "Code": "Success",
            "LastUpdated": now,
            "Type": "AWS-HMAC",
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key.expose(),
            "Token": creds.session_token.as_ref().map_or("", Secret::expose),
            "Expiration": rfc3339_seconds(expiration),
        })
        .to_string()
    }
}

impl Endpoint for ImdsServer {
    fn child_variables(&self) -> Vec<(&'static str, String)> {
        vec![(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://127.0.0.1:{}/", self.listener.port()),
        )]
    }

    fn serve(&self, source: &dyn CredentialSource) {
        self.listener
            .serve("metadata server", &|request| self.answer(request, source));
    }
}

fn text(status: u16, body: &str) -> Reply {
    Reply::new(status, body.to_owned(), TEXT)
}

/// A session token's life in seconds: a whole number from 1 to six hours.
fn parse_ttl(value: &str) -> Option<u64> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|s| (1..=MAX_TTL_SECONDS).contains(s))
}

/// Whether `host` names our endpoint: 127.0.0.1 or localhost, with our port.
fn host_allowed(host: &str, port: u16) -> bool {
    host.rsplit_once(':').is_some_and(|(name, p)| {
        (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost")) && p == port.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lives_are_whole_seconds_up_to_six_hours() {
        assert_eq!(parse_ttl("1"), Some(1));
        assert_eq!(parse_ttl("21600"), Some(21_600));
        for bad in ["0", "21601", "-5", "ten", "", "1.5"] {
            assert_eq!(parse_ttl(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_loopback_names_with_our_port_are_accepted_hosts() {
        assert!(host_allowed("127.0.0.1:8080", 8080));
        assert!(host_allowed("LocalHost:8080", 8080));
        for bad in [
            "127.0.0.1",
            "127.0.0.1:8081",
            "evil.example:8080",
            "169.254.169.254:8080",
            "",
        ] {
            assert!(!host_allowed(bad, 8080), "{bad}");
        }
    }
}
