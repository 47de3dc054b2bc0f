//! AssumeRole from the credentials of the source profile, with the role's `external_id`,
//! session name, tags, source identity and MFA.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::credentials::Credentials;
use super::sts::{AssumeRoleRequest, Target};
use super::{Context, Error};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AssumeRole {
    pub(crate) profile: String,
    pub(crate) role_arn: String,
    /// After the chained-MFA rule: `None` when a GetSessionToken below already used it.
    pub(crate) mfa_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mfa_process: Option<String>,
    #[serde(serialize_with = "crate::duration::serialize_seconds")]
    pub(crate) duration: Duration,
    /// `role_session_name`; without one, the time in nanoseconds when the call is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) external_id: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) tags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) transitive_tag_keys: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) source_identity: Option<String>,
    pub(crate) target: Target,
}

impl AssumeRole {
    /// AssumeRole signed with `caller`, the credentials of the step below.
    pub(crate) fn retrieve(
        &self,
        caller: &Credentials,
        cx: &Context<'_>,
    ) -> Result<Credentials, Error> {
        let mfa = cx.mfa_code(self.mfa_serial.as_deref(), self.mfa_process.as_deref())?;
        let request = AssumeRoleRequest {
            role_arn: self.role_arn.clone(),
            session_name: session_name(self.session_name.as_deref(), cx),
            duration: self.duration,
            external_id: self.external_id.clone(),
            mfa,
            tags: self.tags.clone(),
            transitive_tag_keys: self.transitive_tag_keys.clone(),
            source_identity: self.source_identity.clone(),
        };
        log::debug!(
            "profile {}: calling AssumeRole {} for {}s",
            self.profile,
            self.role_arn,
            self.duration.as_secs()
        );
        cx.services
            .sts
            .assume_role(&self.target, caller, &request)
            .map_err(|source| Error::Sts {
                profile: self.profile.clone(),
                operation: "AssumeRole",
                source,
            })
    }
}

/// The profile's `role_session_name`, else aws-vault's default: the Unix time in nanoseconds.
pub(crate) fn session_name(configured: Option<&str>, cx: &Context<'_>) -> String {
    configured.map_or_else(
        || cx.services.clock.now().unix_timestamp_nanos().to_string(),
        str::to_owned,
    )
}
