//! AssumeRoleWithWebIdentity, with the token from `web_identity_token_file` or the output of
//! `web_identity_token_process`. Unlike aws-vault, surrounding whitespace is trimmed: a
//! trailing newline is never part of a JWT.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::assume_role::session_name;
use super::credentials::Credentials;
use super::sts::{Target, WebIdentityRequest};
use super::{Context, Error};
use crate::process;
use crate::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct WebIdentity {
    pub(crate) profile: String,
    pub(crate) role_arn: String,
    #[serde(serialize_with = "crate::duration::serialize_seconds")]
    pub(crate) duration: Duration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token_process: Option<String>,
    pub(crate) target: Target,
}

impl WebIdentity {
    fn token(&self) -> Result<Secret, Error> {
        let fail = |reason: String| Error::Source {
            profile: self.profile.clone(),
            reason,
        };
        let text = if let Some(path) = &self.token_file {
            std::fs::read_to_string(path).map_err(|e| {
                fail(format!(
                    "cannot read web_identity_token_file {}: {e}",
                    path.display()
                ))
            })?
        } else if let Some(command) = &self.token_process {
            let output = process::shell(command)
                .stderr(std::process::Stdio::inherit())
                .output()
                .map_err(|e| fail(format!("web_identity_token_process could not start: {e}")))?;
            if !output.status.success() {
                return Err(fail(format!(
                    "web_identity_token_process failed ({})",
                    output.status
                )));
            }
            String::from_utf8(output.stdout)
                .map_err(|_| fail("web_identity_token_process printed non-text".to_owned()))?
        } else {
            return Err(fail("it has no web identity token source".to_owned()));
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(fail("the web identity token is empty".to_owned()));
        }
        Ok(Secret::new(token))
    }

    pub(crate) fn retrieve(&self, cx: &Context<'_>) -> Result<Credentials, Error> {
        let request = WebIdentityRequest {
            role_arn: self.role_arn.clone(),
            session_name: session_name(self.session_name.as_deref(), cx),
            duration: self.duration,
            token: self.token()?,
        };
        cx.services
            .sts
            .assume_role_with_web_identity(&self.target, &request)
            .map_err(|source| Error::Sts {
                profile: self.profile.clone(),
                operation: "AssumeRoleWithWebIdentity",
                source,
            })
    }
}
