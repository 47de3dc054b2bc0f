//! Credentials as vault passes them around, and the JSON shapes they are stored and printed in.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::keystore::MasterCredentials;
use crate::secret::Secret;

/// A set of AWS credentials: long-term keys (no token, no expiry) or temporary ones.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: Secret,
    pub(crate) session_token: Option<Secret>,
    pub(crate) expiration: Option<OffsetDateTime>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("expiration", &self.expiration)
            .finish()
    }
}

impl From<MasterCredentials> for Credentials {
    fn from(keys: MasterCredentials) -> Self {
        Self {
            access_key_id: keys.access_key_id,
            secret_access_key: keys.secret_access_key,
            session_token: None,
            expiration: None,
        }
    }
}

/// UTC RFC 3339 at second precision, as aws-vault prints times: `2024-01-02T03:04:05Z`.
pub(crate) fn rfc3339_seconds(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_default()
}

/// The STS `Credentials` JSON aws-vault caches sessions in (Go's field names).
#[derive(Serialize, Deserialize)]
struct StsCredentialsJson {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "Expiration")]
    expiration: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: String,
    #[serde(rename = "SessionToken")]
    session_token: String,
    /// vault's own: what the session was made from (see `SessionId::inputs`). Go's decoder
    /// ignores fields it does not know, so aws-vault still reads such a session.
    #[serde(
        rename = "VaultInputs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    inputs: Option<String>,
}

impl Credentials {
    /// The cached-session payload. Only temporary credentials are cached.
    /// It records the `inputs` the session was made from, when there are any.
    pub(crate) fn to_session_json(&self, inputs: Option<&str>) -> Secret {
        let expiration = self
            .expiration
            .map(|at| at.format(&Rfc3339).unwrap_or_default())
            .unwrap_or_default();
        let json = StsCredentialsJson {
            access_key_id: self.access_key_id.clone(),
            expiration,
            secret_access_key: self.secret_access_key.expose().to_owned(),
            session_token: self
                .session_token
                .as_ref()
                .map(|t| t.expose().to_owned())
                .unwrap_or_default(),
            inputs: inputs.map(str::to_owned),
        };
        Secret::new(serde_json::to_string(&json).expect("plain struct serialises"))
    }

    /// Reads a cached session; `None` for anything unreadable, which counts as a cache miss.
    /// Also the inputs it records, if any (aws-vault records none).
    pub(crate) fn from_session_json(text: &str) -> Option<(Self, Option<String>)> {
        let json: StsCredentialsJson = serde_json::from_str(text).ok()?;
        let expiration = OffsetDateTime::parse(&json.expiration, &Rfc3339).ok()?;
        let creds = Self {
            access_key_id: json.access_key_id,
            secret_access_key: Secret::new(json.secret_access_key),
            session_token: Some(json.session_token)
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            expiration: Some(expiration),
        };
        Some((creds, json.inputs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let creds = Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("top-secret"),
            session_token: Some(Secret::new("token-secret")),
            expiration: None,
        };
        let shown = format!("{creds:?}");
        assert!(
            !shown.contains("top-secret") && !shown.contains("token-secret"),
            "{shown}"
        );
        assert!(shown.contains("ASIAEXAMPLE"));
    }

    #[test]
    fn sessions_round_trip_through_aws_vaults_json() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_716_200_000_123_456_789).unwrap();
        let creds = Credentials {
            access_key_id: "ASIA".into(),
            secret_access_key: Secret::new("s"),
            session_token: Some(Secret::new("t")),
            expiration: Some(at),
        };
        let json = creds.to_session_json(None);
        assert!(
            json.expose()
                .contains("\"Expiration\":\"2024-05-20T10:13:20.123456789Z\""),
            "{}",
            json.expose()
        );
        assert_eq!(
            Credentials::from_session_json(json.expose()),
            Some((creds.clone(), None))
        );
        let recorded = creds.to_session_json(Some("abc"));
        assert!(recorded.expose().ends_with(",\"VaultInputs\":\"abc\"}"));
        assert_eq!(
            Credentials::from_session_json(recorded.expose()),
            Some((creds, Some("abc".to_owned())))
        );
        assert_eq!(Credentials::from_session_json("{}"), None);
        assert_eq!(rfc3339_seconds(at), "2024-05-20T10:13:20Z");
    }
}
