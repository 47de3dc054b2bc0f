//! `credential_process` as a source: run the command through `sh -c` and read the
//! credential_process JSON it prints (docs/aws-vault.md §3.9). As with aws-vault, `SessionToken`
//! and `Expiration` are required: long-term keys belong in the keystore.

use std::process::Stdio;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::credentials::Credentials;
use super::{Context, Error};
use crate::process;
use crate::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CredentialProcess {
    pub(crate) profile: String,
    pub(crate) command: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    expiration: Option<String>,
}

impl CredentialProcess {
    fn fail(&self, reason: impl Into<String>) -> Error {
        Error::Source {
            profile: self.profile.clone(),
            reason: format!("credential_process `{}` {}", self.command, reason.into()),
        }
    }

    fn parse(&self, stdout: &[u8]) -> Result<Credentials, Error> {
        let output: Output = serde_json::from_slice(stdout)
            .map_err(|_| self.fail("did not print credential_process JSON"))?;
        let field = |value: Option<String>, name: &str| {
            value
                .filter(|v| !v.is_empty())
                .ok_or_else(|| self.fail(format!("printed JSON without {name}")))
        };
        let expiration = field(output.expiration, "Expiration")?;
        let expiration = OffsetDateTime::parse(&expiration, &Rfc3339).map_err(|_| {
            self.fail(format!(
                "printed an Expiration that is not RFC 3339: {expiration:?}"
            ))
        })?;
        Ok(Credentials {
            access_key_id: field(output.access_key_id, "AccessKeyId")?,
            secret_access_key: Secret::new(field(output.secret_access_key, "SecretAccessKey")?),
            session_token: Some(Secret::new(field(output.session_token, "SessionToken")?)),
            expiration: Some(expiration),
        })
    }

    pub(crate) fn retrieve(&self, cx: &Context<'_>) -> Result<Credentials, Error> {
        log::debug!("profile {}: running credential_process", self.profile);
        let mut running: Vec<&str> = running_for(cx.env).collect();
        running.push(&self.profile);
        let output = process::shell(&self.command)
            .env(RUNNING_FOR, running.join("\n"))
            .stdin(Stdio::inherit())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| self.fail(format!("could not start: {e}")))?;
        if !output.status.success() {
            return Err(self.fail(format!("failed ({})", output.status)));
        }
        self.parse(&output.stdout)
    }
}

/// Names the profiles whose credential_process is running, for the vault processes it may
/// start: `vault export P` inside P's own credential_process would otherwise recurse forever
/// (or wait forever for P's lock, which its parent holds).
const RUNNING_FOR: &str = "__VAULT_CREDENTIAL_PROCESS_FOR";

pub(crate) fn running_for(env: &crate::ctx::Env) -> impl Iterator<Item = &str> {
    env.non_empty(RUNNING_FOR)
        .unwrap_or_default()
        .split('\n')
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process() -> CredentialProcess {
        CredentialProcess {
            profile: "p".into(),
            command: "cmd".into(),
        }
    }

    #[test]
    fn reads_the_credential_process_document() {
        let creds = process()
            .parse(br#"{"Version":1,"AccessKeyId":"ASIA","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-02T03:04:05Z"}"#)
            .unwrap();
        assert_eq!(creds.access_key_id, "ASIA");
        assert_eq!(creds.expiration.unwrap().unix_timestamp(), 1_893_553_445);
    }

    #[test]
    fn garbage_or_long_term_keys_are_refused_with_the_reason() {
        let err = process().parse(b"garbage").unwrap_err().to_string();
        assert!(
            err.contains("did not print credential_process JSON"),
            "{err}"
        );
        let err = process()
            .parse(br#"{"AccessKeyId":"AKIA","SecretAccessKey":"s"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("without Expiration"), "{err}");
    }
}
