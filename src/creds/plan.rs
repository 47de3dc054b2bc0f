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
use super::static_keys::StoredKeys;
use super::web_identity::WebIdentity;

/// The steps from the source up: the first gives credentials on its own, and each later one
/// calls STS with the credentials of the step before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Plan {
    pub(crate) steps: Vec<PlannedStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PlannedStep {
    #[serde(flatten)]
    pub(crate) call: Step,
    /// The session cache entry the result is kept under; `None` when it is fetched each time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cache: Option<SessionId>,
}

/// One way of getting credentials; the types live with the code that carries them out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "call")]
pub(crate) enum Step {
    StoredKeys(StoredKeys),
    CredentialProcess(CredentialProcess),
    AssumeRoleWithWebIdentity(WebIdentity),
    GetSessionToken(SessionToken),
    AssumeRole(AssumeRole),
}

impl Step {
    /// The session cache's name for what this step gives (aws-vault's key prefixes).
    pub(crate) fn cache_kind(&self) -> &'static str {
        match self {
            Self::StoredKeys(_) => "long-term",
            Self::CredentialProcess(_) => "credential_process",
            Self::AssumeRoleWithWebIdentity(_) => "sts.AssumeRoleWithWebIdentity",
            Self::GetSessionToken(_) => "sts.GetSessionToken",
            Self::AssumeRole(_) => "sts.AssumeRole",
        }
    }

    fn describe(&self) -> String {
        let mfa = |serial: &Option<String>| serial.clone().unwrap_or_else(|| "none".to_owned());
        match self {
            Self::StoredKeys(s) => format!("stored keys of {}", s.profile),
            Self::CredentialProcess(s) => format!("credential_process({})", s.profile),
            Self::AssumeRoleWithWebIdentity(s) => {
                format!("AssumeRoleWithWebIdentity({})", s.profile)
            }
            Self::GetSessionToken(s) => format!(
                "GetSessionToken({}, mfa {}, {}s)",
                s.profile,
                mfa(&s.mfa_serial),
                s.duration.as_secs()
            ),
            Self::AssumeRole(s) => format!(
                "AssumeRole({}, mfa {}, {}s)",
                s.profile,
                mfa(&s.mfa_serial),
                s.duration.as_secs()
            ),
        }
    }
}

impl PlannedStep {
    pub(crate) fn fetched_each_time(call: Step) -> Self {
        Self { call, cache: None }
    }

    /// A step whose result the session cache keeps under `profile` and `mfa_serial`.
    pub(crate) fn cached(call: Step, profile: &str, mfa_serial: Option<&str>) -> Self {
        let cache = Some(SessionId {
            kind: call.cache_kind(),
            profile: profile.to_owned(),
            mfa: mfa_serial.unwrap_or_default().to_owned(),
        });
        Self { call, cache }
    }
}

impl Plan {
    /// Whether steps end in long-term keys, which GetSessionToken may wrap and AssumeRole may
    /// use for more than 1h.
    pub(crate) fn ends_in_long_term_keys(steps: &[PlannedStep]) -> bool {
        matches!(
            steps.last(),
            Some(PlannedStep {
                call: Step::StoredKeys(_),
                ..
            })
        )
    }

    /// One line, outermost call first: `cached AssumeRole(prod, mfa none, 3600s) <- stored
    /// keys of user`, for `--debug`.
    pub(crate) fn describe(&self) -> String {
        self.steps
            .iter()
            .rev()
            .map(|step| {
                let cached = if step.cache.is_some() { "cached " } else { "" };
                format!("{cached}{}", step.call.describe())
            })
            .collect::<Vec<_>>()
            .join(" <- ")
    }
}
