//! AssumeRole from the credentials of the source profile, with the role's `external_id`,
//! session name, tags, source identity and MFA.

use std::time::Duration;

use super::credentials::Credentials;
use super::sts::{AssumeRoleRequest, MfaCode, Target};
use super::{Context, Error, Provider};
use crate::config::ProfileConfig;

pub(crate) struct AssumeRole {
    pub(crate) source: Box<dyn Provider>,
    pub(crate) profile: ProfileConfig,
    pub(crate) role_arn: String,
    /// After the chained-MFA rule: `None` when a GetSessionToken below already used it.
    pub(crate) mfa_serial: Option<String>,
    pub(crate) duration: Duration,
    pub(crate) target: Target,
}

impl Provider for AssumeRole {
    fn retrieve(&self, cx: &Context<'_>) -> Result<Credentials, Error> {
        let caller = self.source.retrieve(cx)?;
        let mfa = match &self.mfa_serial {
            Some(serial) => Some(MfaCode {
                serial: serial.clone(),
                code: cx
                    .mfa
                    .code_for(serial, self.profile.mfa_process.as_deref())?,
            }),
            None => None,
        };
        let request = AssumeRoleRequest {
            role_arn: self.role_arn.clone(),
            session_name: session_name(&self.profile, cx),
            duration: self.duration,
            external_id: self.profile.external_id.clone(),
            mfa,
            tags: self.profile.session_tags.clone(),
            transitive_tag_keys: self.profile.transitive_session_tags.clone(),
            source_identity: self.profile.source_identity.clone(),
        };
        log::debug!(
            "profile {}: calling AssumeRole {} for {}s",
            self.profile.name,
            self.role_arn,
            self.duration.as_secs()
        );
        cx.sts
            .assume_role(&self.target, &caller, &request)
            .map_err(|source| Error::Sts {
                profile: self.profile.name.clone(),
                operation: "AssumeRole",
                source,
            })
    }

    fn describe(&self) -> String {
        format!(
            "AssumeRole({}, mfa {}, {}s) <- {}",
            self.profile.name,
            self.mfa_serial.as_deref().unwrap_or("none"),
            self.duration.as_secs(),
            self.source.describe()
        )
    }
}

/// The profile's `role_session_name`, else aws-vault's default: the Unix time in nanoseconds.
pub(crate) fn session_name(profile: &ProfileConfig, cx: &Context<'_>) -> String {
    profile
        .role_session_name
        .clone()
        .unwrap_or_else(|| cx.clock.now().unix_timestamp_nanos().to_string())
}
