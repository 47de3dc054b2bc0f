//! The STS calls vault makes, behind a trait: `aws.rs` implements it with aws-sdk-sts, and unit
//! tests pass a fake that records calls.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::credentials::Credentials;
use crate::secret::Secret;

/// Where an STS call goes: the profile's region and, when configured, an endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub(crate) struct Target {
    pub(crate) region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) endpoint: Option<String>,
}

/// An MFA device and the code it showed.
#[derive(Debug, Clone)]
pub(crate) struct MfaCode {
    pub(crate) serial: String,
    pub(crate) code: Secret,
}

#[derive(Debug, Clone)]
pub(crate) struct SessionTokenRequest {
    pub(crate) duration: Duration,
    pub(crate) mfa: Option<MfaCode>,
}

#[derive(Debug, Clone)]
pub(crate) struct AssumeRoleRequest {
    pub(crate) role_arn: String,
    pub(crate) session_name: String,
    pub(crate) duration: Duration,
    pub(crate) external_id: Option<String>,
    pub(crate) mfa: Option<MfaCode>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) transitive_tag_keys: Vec<String>,
    pub(crate) source_identity: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct WebIdentityRequest {
    pub(crate) role_arn: String,
    pub(crate) session_name: String,
    pub(crate) duration: Duration,
    pub(crate) token: Secret,
}

/// Why an STS call failed, phrased for the user by `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    /// AWS answered with an error (bad keys, missing role, access denied, throttling…).
    #[error("{}", service_message(code.as_deref(), message.as_deref(), *status))]
    Service {
        code: Option<String>,
        message: Option<String>,
        status: Option<u16>,
    },
    /// Nothing usable came back: no connection, a timeout, or a response we cannot read.
    #[error("{0}")]
    Unreachable(String),
}

impl StsError {
    /// The service's error code (`AccessDenied`, `LimitExceeded`…), for callers that branch.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => code.as_deref(),
            Self::Unreachable(_) => None,
        }
    }
}

fn service_message(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> String {
    let mut text = match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        (None, Some(message)) => message.to_owned(),
        (None, None) => "the request was refused".to_owned(),
    };
    if let Some(status) = status {
        let _ = write!(text, " (HTTP {status})");
    }
    text
}

pub(crate) trait Sts {
    fn get_session_token(
        &self,
        target: &Target,
        caller: &Credentials,
        request: &SessionTokenRequest,
    ) -> Result<Credentials, StsError>;

    fn assume_role(
        &self,
        target: &Target,
        caller: &Credentials,
        request: &AssumeRoleRequest,
    ) -> Result<Credentials, StsError>;

    /// Unsigned: the web identity token is the proof.
    fn assume_role_with_web_identity(
        &self,
        target: &Target,
        request: &WebIdentityRequest,
    ) -> Result<Credentials, StsError>;

    /// The ARN the caller's credentials belong to (sts:GetCallerIdentity).
    fn get_caller_identity(
        &self,
        target: &Target,
        caller: &Credentials,
    ) -> Result<String, StsError>;

    /// Federated-user credentials named `name`, with the policy `policy` (JSON).
    fn get_federation_token(
        &self,
        target: &Target,
        caller: &Credentials,
        name: &str,
        policy: &str,
        duration: Duration,
    ) -> Result<Credentials, StsError>;
}
