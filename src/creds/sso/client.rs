//! The IAM Identity Center calls vault makes, behind traits like STS's: the OIDC service that
//! signs a person in (`SsoOidc`) and the portal that trades the sign-in for role credentials
//! (`SsoPortal`). `aws.rs` makes them with the AWS SDK; unit tests pass fakes.

use std::time::Duration;

use time::OffsetDateTime;

use crate::creds::StsError;
use crate::creds::credentials::Credentials;
use crate::creds::sts::Target;
use crate::secret::Secret;

/// The grant types vault registers, as the OIDC service names them.
pub(crate) mod grant {
    pub(crate) const AUTHORIZATION_CODE: &str = "authorization_code";
    pub(crate) const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
    pub(crate) const REFRESH_TOKEN: &str = "refresh_token";
}

#[derive(Debug, Clone)]
pub(crate) struct RegisterRequest {
    pub(crate) client_name: String,
    pub(crate) grant_types: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) issuer_url: String,
}

/// A registered OIDC client. The secret is not a user's secret, but it is kept like one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Registration {
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) grant_types: Vec<String>,
    pub(crate) scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct DeviceAuthorization {
    pub(crate) device_code: Secret,
    pub(crate) user_code: String,
    pub(crate) verification_uri_complete: String,
    pub(crate) interval: Duration,
    pub(crate) expires_in: Duration,
}

#[derive(Debug, Clone)]
pub(crate) enum Grant {
    AuthorizationCode {
        code: Secret,
        verifier: Secret,
        redirect_uri: String,
    },
    DeviceCode {
        device_code: Secret,
    },
    RefreshToken {
        refresh_token: Secret,
    },
}

/// What CreateToken gives.
#[derive(Debug, Clone)]
pub(crate) struct TokenAnswer {
    pub(crate) access_token: Secret,
    pub(crate) expires_in: Duration,
    pub(crate) refresh_token: Option<Secret>,
}

/// The OIDC service's answers that callers branch on, by its error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OidcError {
    /// The device sign-in is not approved yet: wait and ask again.
    #[error("the sign-in is not approved yet")]
    Pending,
    /// Asking too often: wait longer.
    #[error("asked too often")]
    SlowDown,
    /// The code or refresh token is no longer accepted.
    #[error("{0}")]
    InvalidGrant(String),
    /// The person declined the sign-in.
    #[error("{0}")]
    AccessDenied(String),
    /// The device sign-in ran out of time.
    #[error("{0}")]
    Expired(String),
    #[error(transparent)]
    Other(StsError),
}

pub(crate) trait SsoOidc {
    fn register_client(
        &self,
        target: &Target,
        request: &RegisterRequest,
    ) -> Result<Registration, OidcError>;

    fn start_device_authorization(
        &self,
        target: &Target,
        client: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, OidcError>;

    fn create_token(
        &self,
        target: &Target,
        client: &Registration,
        grant: &Grant,
    ) -> Result<TokenAnswer, OidcError>;
}

/// The portal's answers that callers branch on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PortalError {
    /// The access token is not (or no longer) accepted.
    #[error("{0}")]
    Unauthorized(String),
    /// The signed-in person may not use this account and role.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Other(StsError),
}

/// An account the signed-in person can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub(crate) id: String,
    pub(crate) name: String,
}

pub(crate) trait SsoPortal {
    fn get_role_credentials(
        &self,
        target: &Target,
        access_token: &Secret,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, PortalError>;

    /// Every account the person can reach (all pages).
    fn list_accounts(
        &self,
        target: &Target,
        access_token: &Secret,
    ) -> Result<Vec<Account>, PortalError>;

    /// Every role the person can use in `account_id` (all pages).
    fn list_account_roles(
        &self,
        target: &Target,
        access_token: &Secret,
        account_id: &str,
    ) -> Result<Vec<String>, PortalError>;

    /// Ends the sign-in at the service: the access token and its refresh token stop working.
    fn logout(&self, target: &Target, access_token: &Secret) -> Result<(), PortalError>;
}
