//! The ECS-style credential endpoint of `exec --server` (docs/aws-vault.md §1.5): SDKs in the
//! command fetch credentials from it through `AWS_CONTAINER_CREDENTIALS_FULL_URI`, so a
//! long-running process never holds credentials that have expired.
//!
//! It answers only requests whose `Authorization` header is the token it made (30 random bytes,
//! base64url), compared in constant time. `/role-arn/<ARN>` answers with that role's
//! credentials, assumed with the profile's; the ARN is the percent-decoded path without its
//! query, as Go's `URL.Path` gives it to aws-vault. Answers carry `AccountId` when the account
//! is known, which botocore reads from this endpoint for account-based endpoints.

use std::io;

use serde::Serialize;

use super::http::{Reply, Request};
use super::{CredentialSource, Endpoint, Issued, Listener, constant_time_eq};
use crate::creds::rfc3339_seconds;
use crate::secret::Secret;

const JSON: &str = "application/json; charset=utf-8";

pub(crate) struct EcsServer {
    listener: Listener,
    token: Secret,
    url: String,
}

impl EcsServer {
    /// Listens on a random port of 127.0.0.1.
    pub(crate) fn bind() -> io::Result<Self> {
        let listener = Listener::bind()?;
        // With a path: some SDKs (Ruby's among them) refuse a full URI without one.
        let url = format!("http://127.0.0.1:{}/", listener.port());
        Ok(Self {
            listener,
            token: Secret::new(super::random_token(30)?),
            url,
        })
    }

    fn answer(&self, request: &Request, source: &dyn CredentialSource) -> Reply {
        let authorized = request.header("Authorization").is_some_and(|value| {
            constant_time_eq(value.as_bytes(), self.token.expose().as_bytes())
        });
        if !authorized {
            log::debug!(
                "credential server: refused {} (bad token)",
                crate::visible::visible(request.url())
            );
            return message(403, "invalid Authorization token");
        }
        credentials_reply(request, source)
    }
}

/// The answer to an authorized request: the profile's credentials, or at `/role-arn/ARN` a
/// role's. The agent (`vault use --agent`) answers the same way.
pub(crate) fn credentials_reply(request: &Request, source: &dyn CredentialSource) -> Reply {
    let result = match request.path().strip_prefix("/role-arn/") {
        Some(role_arn) => source.role_credentials(role_arn),
        None => source.profile_credentials(),
    };
    match result {
        Ok(issued) => Reply::new(200, credentials_json(&issued), JSON),
        Err(reason) => {
            log::debug!("credential server: {reason}");
            message(500, &reason)
        }
    }
}

impl Endpoint for EcsServer {
    fn child_variables(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", self.url.clone()),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                self.token.expose().to_owned(),
            ),
        ]
    }

    fn serve(&self, source: &dyn CredentialSource) {
        self.listener
            .serve("credential server", &|request| self.answer(request, source));
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
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

fn credentials_json(issued: &Issued) -> String {
    let creds = &issued.creds;
    let body = EcsCredentials {
        access_key_id: &creds.access_key_id,
        secret_access_key: creds.secret_access_key.expose(),
        token: creds.session_token.as_ref().map_or("", Secret::expose),
        expiration: creds.expiration.map(rfc3339_seconds),
        account_id: issued.account_id.as_deref(),
    };
    serde_json::to_string(&body).expect("plain struct serialises")
}

/// An error answer in the endpoint's JSON form.
pub(crate) fn message(status: u16, text: &str) -> Reply {
    Reply::new(
        status,
        serde_json::json!({ "Message": text }).to_string(),
        JSON,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_gets_a_url_with_a_path_and_a_40_character_token() {
        let a = EcsServer::bind().unwrap();
        let b = EcsServer::bind().unwrap();
        let vars = a.child_variables();
        assert_eq!(vars[0].0, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
        assert!(vars[0].1.starts_with("http://127.0.0.1:") && vars[0].1.ends_with('/'));
        assert_eq!(vars[1].1.len(), 40);
        assert_ne!(vars[1].1, b.child_variables()[1].1);
    }
}
