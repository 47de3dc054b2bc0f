//! GetSessionToken on long-term keys, with MFA when the profile has `mfa_serial`.

use std::time::Duration;

use serde::Serialize;

use super::credentials::Credentials;
use super::sts::{SessionTokenRequest, Target};
use super::{Context, Error};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SessionToken {
    pub(crate) profile: String,
    pub(crate) mfa_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mfa_process: Option<String>,
    #[serde(serialize_with = "crate::duration::serialize_seconds")]
    pub(crate) duration: Duration,
    pub(crate) target: Target,
}

impl SessionToken {
    /// GetSessionToken signed with `caller`, the long-term keys of the step below.
    pub(crate) fn retrieve(
        &self,
        caller: &Credentials,
        cx: &Context<'_>,
    ) -> Result<Credentials, Error> {
        let mfa = cx.mfa_code(self.mfa_serial.as_deref(), self.mfa_process.as_deref())?;
        log::debug!(
            "profile {}: calling GetSessionToken for {}s",
            self.profile,
            self.duration.as_secs()
        );
        let request = SessionTokenRequest {
            duration: self.duration,
            mfa,
        };
        cx.services
            .sts
            .get_session_token(&self.target, caller, &request)
            .map_err(|source| Error::Sts {
                profile: self.profile.clone(),
                operation: "GetSessionToken",
                source,
            })
    }
}
