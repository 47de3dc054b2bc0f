//! GetSessionToken on long-term keys, with MFA when the profile has `mfa_serial`.

use std::time::Duration;

use super::credentials::Credentials;
use super::sts::{MfaCode, SessionTokenRequest, Target};
use super::{Context, Error, Provider};

pub(crate) struct SessionToken {
    pub(crate) source: Box<dyn Provider>,
    pub(crate) profile: String,
    pub(crate) mfa_serial: Option<String>,
    pub(crate) mfa_process: Option<String>,
    pub(crate) duration: Duration,
    pub(crate) target: Target,
}

impl Provider for SessionToken {
    fn retrieve(&self, cx: &Context<'_>) -> Result<Credentials, Error> {
        let caller = self.source.retrieve(cx)?;
        let mfa = match &self.mfa_serial {
            Some(serial) => Some(MfaCode {
                serial: serial.clone(),
                code: cx.mfa.code_for(serial, self.mfa_process.as_deref())?,
            }),
            None => None,
        };
        log::debug!(
            "profile {}: calling GetSessionToken for {}s",
            self.profile,
            self.duration.as_secs()
        );
        let request = SessionTokenRequest {
            duration: self.duration,
            mfa,
        };
        cx.sts
            .get_session_token(&self.target, &caller, &request)
            .map_err(|source| Error::Sts {
                profile: self.profile.clone(),
                operation: "GetSessionToken",
                source,
            })
    }

    fn describe(&self) -> String {
        format!(
            "GetSessionToken({}, mfa {}, {}s) <- {}",
            self.profile,
            self.mfa_serial.as_deref().unwrap_or("none"),
            self.duration.as_secs(),
            self.source.describe()
        )
    }
}
