//! A resolved profile chain turned into the calls that will give its credentials, before any
//! of them runs: deciding (`chain.rs` builds a `Plan`) apart from doing (`execute.rs` runs
//! it), as smithy-rs's aws-config separates `repr.rs` from `exec.rs`. A plan is plain data:
//! it serialises to the JSON the cases in `tests/data/plan_cases.json` expect, and `--debug`
//! logs it in one line.

use serde::Serialize;

use super::assume_role::AssumeRole;
use super::cache::SessionId;
use super::credential_process::CredentialProcess;
use super::session_token::SessionToken;
use super::sso::SsoRole;
use super::static_keys::StoredKeys;
use super::web_identity::WebIdentity;

/// The session types of the cache, as aws-vault names them in its keys (docs/aws-vault.md §4.2).
pub(crate) mod kind {
    pub(crate) const CREDENTIAL_PROCESS: &str = "credential_process";
    pub(crate) const WEB_IDENTITY: &str = "sts.AssumeRoleWithWebIdentity";
    pub(crate) const SESSION_TOKEN: &str = "sts.GetSessionToken";
    pub(crate) const ASSUME_ROLE: &str = "sts.AssumeRole";
    pub(crate) const SSO_ROLE: &str = "sso.GetRoleCredentials";
}

/// Where the credentials start, then the STS calls that each use the credentials before them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Plan {
    pub(crate) source: Planned<Source>,
    pub(crate) calls: Vec<Planned<Call>>,
}

/// A source or a call, and the session cache entry its result is kept under (`None`: it is
/// fetched each time).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Planned<T> {
    #[serde(flatten)]
    pub(crate) what: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cache: Option<SessionId>,
}

/// What gives credentials on its own. The types live with the code that carries them out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "source")]
pub(crate) enum Source {
    StoredKeys(StoredKeys),
    CredentialProcess(CredentialProcess),
    AssumeRoleWithWebIdentity(WebIdentity),
    SsoRoleCredentials(SsoRole),
}

/// An STS call made with the credentials below it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "call")]
pub(crate) enum Call {
    GetSessionToken(SessionToken),
    AssumeRole(AssumeRole),
}

impl<T> Planned<T> {
    pub(crate) fn fetched_each_time(what: T) -> Self {
        Self { what, cache: None }
    }

    /// Kept by the session cache as a `kind` session of `profile`, made with `mfa_serial`.
    pub(crate) fn cached(
        what: T,
        kind: &'static str,
        profile: &str,
        mfa_serial: Option<&str>,
    ) -> Self {
        let cache = Some(SessionId {
            kind,
            profile: profile.to_owned(),
            mfa: mfa_serial.unwrap_or_default().to_owned(),
            inputs: None,
        });
        Self { what, cache }
    }

    fn describe(&self, what: String) -> String {
        match self.cache {
            Some(_) => format!("cached {what}"),
            None => what,
        }
    }
}

impl Plan {
    pub(crate) fn from_source(source: Planned<Source>) -> Self {
        Self {
            source,
            calls: Vec::new(),
        }
    }

    /// Whether the plan gives long-term keys, which GetSessionToken may wrap and AssumeRole
    /// may use for more than 1h.
    pub(crate) fn gives_long_term_keys(&self) -> bool {
        self.calls.is_empty() && matches!(self.source.what, Source::StoredKeys(_))
    }

    /// One line, outermost call first: `cached AssumeRole(prod, mfa none, 3600s) <- stored
    /// keys of user`, for `--debug`. Names, MFA serials and durations only: no command, tag or
    /// external ID.
    pub(crate) fn describe(&self) -> String {
        let mfa = |serial: &Option<String>| serial.clone().unwrap_or_else(|| "none".to_owned());
        let source = match &self.source.what {
            Source::StoredKeys(s) => format!("stored keys of {}", s.profile),
            Source::CredentialProcess(s) => format!("credential_process({})", s.profile),
            Source::AssumeRoleWithWebIdentity(s) => {
                format!("AssumeRoleWithWebIdentity({})", s.profile)
            }
            Source::SsoRoleCredentials(s) => format!(
                "GetRoleCredentials({}, {}/{})",
                s.profile, s.account_id, s.role_name
            ),
        };
        let mut lines = vec![self.source.describe(source)];
        for call in &self.calls {
            let (name, profile, serial, duration) = match &call.what {
                Call::GetSessionToken(s) => {
                    ("GetSessionToken", &s.profile, &s.mfa_serial, s.duration)
                }
                Call::AssumeRole(s) => ("AssumeRole", &s.profile, &s.mfa_serial, s.duration),
            };
            let text = format!(
                "{name}({profile}, mfa {}, {}s)",
                mfa(serial),
                duration.as_secs()
            );
            lines.push(call.describe(text));
        }
        lines.reverse();
        lines.join(" <- ")
    }
}
