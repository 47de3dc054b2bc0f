//! The typed profile: every `~/.aws/config` key aws-vault honours (docs/aws-vault.md §3.2), after
//! the merge in `merge.rs` has picked a value for each.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// INI key names, as written in `~/.aws/config`.
pub(crate) mod key {
    pub(crate) const CREDENTIAL_PROCESS: &str = "credential_process";
    pub(crate) const DURATION_SECONDS: &str = "duration_seconds";
    pub(crate) const ENDPOINT_URL: &str = "endpoint_url";
    pub(crate) const EXTERNAL_ID: &str = "external_id";
    pub(crate) const INCLUDE_PROFILE: &str = "include_profile";
    pub(crate) const MFA_PROCESS: &str = "mfa_process";
    pub(crate) const MFA_SERIAL: &str = "mfa_serial";
    pub(crate) const REGION: &str = "region";
    pub(crate) const ROLE_ARN: &str = "role_arn";
    pub(crate) const ROLE_SESSION_NAME: &str = "role_session_name";
    pub(crate) const SESSION_TAGS: &str = "session_tags";
    pub(crate) const SOURCE_IDENTITY: &str = "source_identity";
    pub(crate) const SOURCE_PROFILE: &str = "source_profile";
    pub(crate) const SSO_ACCOUNT_ID: &str = "sso_account_id";
    pub(crate) const SSO_REGION: &str = "sso_region";
    pub(crate) const SSO_REGISTRATION_SCOPES: &str = "sso_registration_scopes";
    pub(crate) const SSO_ROLE_NAME: &str = "sso_role_name";
    pub(crate) const SSO_SESSION: &str = "sso_session";
    pub(crate) const SSO_START_URL: &str = "sso_start_url";
    pub(crate) const STS_REGIONAL_ENDPOINTS: &str = "sts_regional_endpoints";
    pub(crate) const TRANSITIVE_SESSION_TAGS: &str = "transitive_session_tags";
    pub(crate) const WEB_IDENTITY_TOKEN_FILE: &str = "web_identity_token_file";
    pub(crate) const WEB_IDENTITY_TOKEN_PROCESS: &str = "web_identity_token_process";

    /// Every key the merge copies from a section. `include_profile` and `sso_session` are
    /// followed by the merge itself rather than copied.
    pub(crate) const MERGED: &[&str] = &[
        CREDENTIAL_PROCESS,
        DURATION_SECONDS,
        ENDPOINT_URL,
        EXTERNAL_ID,
        MFA_PROCESS,
        MFA_SERIAL,
        REGION,
        ROLE_ARN,
        ROLE_SESSION_NAME,
        SESSION_TAGS,
        SOURCE_IDENTITY,
        SOURCE_PROFILE,
        SSO_ACCOUNT_ID,
        SSO_REGION,
        SSO_REGISTRATION_SCOPES,
        SSO_ROLE_NAME,
        SSO_START_URL,
        STS_REGIONAL_ENDPOINTS,
        TRANSITIVE_SESSION_TAGS,
        WEB_IDENTITY_TOKEN_FILE,
        WEB_IDENTITY_TOKEN_PROCESS,
    ];

    /// The position of `name` in [`MERGED`], if the merge copies it.
    pub(crate) fn merged_slot(name: &str) -> Option<usize> {
        MERGED.iter().position(|k| *k == name)
    }
}

/// `sts_regional_endpoints`: only `legacy` changes anything (global endpoint for 16 regions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StsRegionalEndpoints {
    Legacy,
    Regional,
}

/// One profile of a chain, with flags, environment, its section, `include_profile` or
/// `[default]`, and the defaults already applied in that order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProfileConfig {
    pub name: String,
    /// Whether `~/.aws/config` has a section for this profile at all.
    pub in_config: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_process: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_session_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The AssumeRole duration: `--duration`, else `AWS_ASSUME_ROLE_TTL`, else
    /// `duration_seconds`; `None` means the 1h default.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "secs")]
    pub assume_role_duration: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_session: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_start_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_role_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sso_registration_scopes: Vec<String>,
    /// Where the profile's section is (`FILE line N`), and its `[sso-session]`'s, for errors.
    #[serde(skip)]
    pub defined_at: Option<String>,
    #[serde(skip)]
    pub sso_session_defined_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_identity_token_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_identity_token_process: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_process: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sts_regional_endpoints: Option<StsRegionalEndpoints>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub session_tags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transitive_session_tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
}

#[expect(clippy::ref_option, reason = "serde's serialize_with signature")]
fn secs<S: serde::Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(d) => s.serialize_u64(d.as_secs()),
        None => s.serialize_none(),
    }
}

/// Durations that apply to the whole run rather than one profile (docs/aws-vault.md §2.3, §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionDurations {
    /// GetSessionToken when it is not the source of a role (`AWS_SESSION_TOKEN_TTL`, 1h).
    #[serde(serialize_with = "crate::duration::serialize_seconds")]
    pub session_token: Duration,
    /// GetSessionToken when roles are assumed from it (`AWS_CHAINED_SESSION_TOKEN_TTL`, 8h).
    #[serde(serialize_with = "crate::duration::serialize_seconds")]
    pub chained_session_token: Duration,
    /// GetFederationToken for `login` (`AWS_FEDERATION_TOKEN_TTL`, 1h).
    #[serde(serialize_with = "crate::duration::serialize_seconds")]
    pub federation_token: Duration,
}

impl Default for SessionDurations {
    fn default() -> Self {
        Self {
            session_token: Duration::from_hours(1),
            chained_session_token: Duration::from_hours(8),
            federation_token: Duration::from_hours(1),
        }
    }
}
