//! Fakes of the outside services for unit tests: an STS that records every call and answers
//! with credentials that name the call, a prompter that counts its questions, and `services`
//! to put them together with a fixed clock.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use time::OffsetDateTime;

use super::credentials::Credentials;
use super::iam::Iam;
use super::services::{Browser, BrowserError, Notice, PromptError, Prompter, Services};
use super::sso::client::{
    Account, DeviceAuthorization, Grant, OidcError, PortalError, RegisterRequest, Registration,
    SsoOidc, SsoPortal, TokenAnswer,
};
use super::sts::{
    AssumeRoleRequest, SessionTokenRequest, Sts, StsError, Target, WebIdentityRequest,
};
use crate::ctx::Clock;
use crate::keystore::MasterCredentials;
use crate::secret::Secret;
use crate::tty;

/// One STS call as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) operation: &'static str,
    /// The access key id the call was signed with (`None` for web identity).
    pub(crate) caller: Option<String>,
    pub(crate) role_arn: Option<String>,
    pub(crate) mfa_serial: Option<String>,
    pub(crate) duration: Duration,
    pub(crate) region: String,
}

/// Answers every call with credentials valid for the requested duration from `now`, whose
/// access key id is `ASIA<operation><n>`, so a test can tell which call made them.
pub(crate) struct FakeSts {
    now: OffsetDateTime,
    calls: Rc<RefCell<Vec<Call>>>,
    failures: RefCell<VecDeque<StsError>>,
}

impl FakeSts {
    pub(crate) fn new(now: OffsetDateTime) -> Self {
        Self {
            now,
            calls: Rc::default(),
            failures: RefCell::default(),
        }
    }

    /// The record of calls, which stays readable after the fake moved into `Services`.
    pub(crate) fn calls(&self) -> Rc<RefCell<Vec<Call>>> {
        Rc::clone(&self.calls)
    }

    /// The next call fails with `error`.
    pub(crate) fn fail_next(&self, error: StsError) {
        self.failures.borrow_mut().push_back(error);
    }

    fn answer(&self, call: Call) -> Result<Credentials, StsError> {
        let duration = call.duration;
        let operation = call.operation;
        self.calls.borrow_mut().push(call);
        if let Some(error) = self.failures.borrow_mut().pop_front() {
            return Err(error);
        }
        let n = self.calls.borrow().len();
        Ok(Credentials {
            access_key_id: format!("ASIA{operation}{n}"),
            secret_access_key: Secret::new(format!("secret-{n}")),
            session_token: Some(Secret::new(format!("token-{n}"))),
            expiration: Some(self.now + duration),
        })
    }
}

impl Sts for FakeSts {
    fn get_session_token(
        &self,
        target: &Target,
        caller: &Credentials,
        request: &SessionTokenRequest,
    ) -> Result<Credentials, StsError> {
        self.answer(Call {
            operation: "GetSessionToken",
            caller: Some(caller.access_key_id.clone()),
            role_arn: None,
            mfa_serial: request.mfa.as_ref().map(|m| m.serial.clone()),
            duration: request.duration,
            region: target.region.clone(),
        })
    }

    fn assume_role(
        &self,
        target: &Target,
        caller: &Credentials,
        request: &AssumeRoleRequest,
    ) -> Result<Credentials, StsError> {
        self.answer(Call {
            operation: "AssumeRole",
            caller: Some(caller.access_key_id.clone()),
            role_arn: Some(request.role_arn.clone()),
            mfa_serial: request.mfa.as_ref().map(|m| m.serial.clone()),
            duration: request.duration,
            region: target.region.clone(),
        })
    }

    fn assume_role_with_web_identity(
        &self,
        target: &Target,
        request: &WebIdentityRequest,
    ) -> Result<Credentials, StsError> {
        self.answer(Call {
            operation: "AssumeRoleWithWebIdentity",
            caller: None,
            role_arn: Some(request.role_arn.clone()),
            mfa_serial: None,
            duration: request.duration,
            region: target.region.clone(),
        })
    }

    fn get_caller_identity(
        &self,
        _target: &Target,
        caller: &Credentials,
    ) -> Result<String, StsError> {
        Ok(format!(
            "arn:aws:iam::111111111111:user/{}",
            caller.access_key_id
        ))
    }

    fn get_federation_token(
        &self,
        target: &Target,
        caller: &Credentials,
        _name: &str,
        _policy: &str,
        duration: Duration,
    ) -> Result<Credentials, StsError> {
        self.answer(Call {
            operation: "GetFederationToken",
            caller: Some(caller.access_key_id.clone()),
            role_arn: None,
            mfa_serial: None,
            duration,
            region: target.region.clone(),
        })
    }
}

/// IAM is not reached by `creds`; this one refuses, so a test that reaches it fails loudly.
pub(crate) struct NoIam;

impl Iam for NoIam {
    fn create_access_key(
        &self,
        _target: &Target,
        _caller: &Credentials,
        _user: &str,
    ) -> Result<MasterCredentials, StsError> {
        Err(StsError::Unreachable("no IAM in this test".to_owned()))
    }

    fn delete_access_key(
        &self,
        _target: &Target,
        _caller: &Credentials,
        _user: &str,
        _access_key_id: &str,
    ) -> Result<(), StsError> {
        Err(StsError::Unreachable("no IAM in this test".to_owned()))
    }
}

/// No IAM Identity Center in these tests: every call fails loudly.
pub(crate) struct NoSso;

fn no_sso() -> StsError {
    StsError::Unreachable("no IAM Identity Center in this test".to_owned())
}

impl SsoOidc for NoSso {
    fn register_client(&self, _: &Target, _: &RegisterRequest) -> Result<Registration, OidcError> {
        Err(OidcError::Other(no_sso()))
    }

    fn start_device_authorization(
        &self,
        _: &Target,
        _: &Registration,
        _: &str,
    ) -> Result<DeviceAuthorization, OidcError> {
        Err(OidcError::Other(no_sso()))
    }

    fn create_token(
        &self,
        _: &Target,
        _: &Registration,
        _: &Grant,
    ) -> Result<TokenAnswer, OidcError> {
        Err(OidcError::Other(no_sso()))
    }
}

impl SsoPortal for NoSso {
    fn get_role_credentials(
        &self,
        _: &Target,
        _: &Secret,
        _: &str,
        _: &str,
    ) -> Result<Credentials, PortalError> {
        Err(PortalError::Other(no_sso()))
    }

    fn list_accounts(&self, _: &Target, _: &Secret) -> Result<Vec<Account>, PortalError> {
        Err(PortalError::Other(no_sso()))
    }

    fn list_account_roles(
        &self,
        _: &Target,
        _: &Secret,
        _: &str,
    ) -> Result<Vec<String>, PortalError> {
        Err(PortalError::Other(no_sso()))
    }

    fn logout(&self, _: &Target, _: &Secret) -> Result<(), PortalError> {
        Err(PortalError::Other(no_sso()))
    }
}

impl Browser for NoSso {
    fn open(&self, _: &str, _: Duration) -> Result<(), BrowserError> {
        Err(BrowserError::NotStarted(
            "no browser in this test".to_owned(),
        ))
    }
}

/// Answers every MFA question with one code, and counts the questions.
#[derive(Clone)]
pub(crate) struct FakePrompter {
    code: Option<&'static str>,
    pub(crate) asked: Rc<Cell<u32>>,
}

impl FakePrompter {
    pub(crate) fn answering(code: &'static str) -> Self {
        Self {
            code: Some(code),
            asked: Rc::default(),
        }
    }

    /// A prompter that has no terminal to ask on.
    pub(crate) fn never() -> Self {
        Self {
            code: None,
            asked: Rc::default(),
        }
    }
}

impl Prompter for FakePrompter {
    fn mfa_code(&self, serial: &str) -> Result<Secret, PromptError> {
        self.asked.set(self.asked.get() + 1);
        self.code.map(Secret::new).ok_or_else(|| {
            tty::Error::Closed {
                what: format!("the MFA code for {serial}"),
            }
            .into()
        })
    }
}

/// Services made of fakes, at the fixed time `now`, with locks in `lock_dir`.
pub(crate) fn services(
    sts: FakeSts,
    prompter: FakePrompter,
    now: OffsetDateTime,
    lock_dir: Option<PathBuf>,
    notices: Box<dyn Fn(&Notice)>,
) -> Services {
    Services {
        sts: Box::new(sts),
        iam: Box::new(NoIam),
        sso_oidc: Box::new(NoSso),
        sso_portal: Box::new(NoSso),
        prompter: Box::new(prompter),
        browser: Box::new(NoSso),
        clock: Clock::Fixed(now),
        lock_dir,
        notices,
    }
}
