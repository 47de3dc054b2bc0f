//! The STS client: aws-sdk-sts on a small tokio runtime that is only started when a call is
//! about to happen (the cached path never builds one), with bounded timeouts and the SDK's
//! standard retries (3 attempts, backoff, throttling and 5xx retried).

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use aws_sdk_sts::Client;
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{
    BehaviorVersion, Credentials as SdkCredentials, Region, SharedHttpClient,
};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::types::Tag;
use aws_smithy_http_client::Connector;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use time::OffsetDateTime;

use super::answer_limit::AnswerSizeLimit;
use super::credentials::Credentials;
use super::sts::{
    AssumeRoleRequest, SessionTokenRequest, Sts, StsError, Target, WebIdentityRequest,
};
use crate::secret::Secret;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_ATTEMPTS: u32 = 3;

/// What every AWS SDK client of vault shares: the runtime (made on the first call) and the
/// HTTP client.
#[derive(Default)]
pub(crate) struct SdkRuntime {
    runtime: OnceLock<tokio::runtime::Runtime>,
    http: OnceLock<SharedHttpClient>,
}

impl SdkRuntime {
    pub(crate) fn runtime(&self) -> Result<&tokio::runtime::Runtime, StsError> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StsError::Unreachable(format!("cannot start the async runtime: {e}")))?;
        Ok(self.runtime.get_or_init(|| runtime))
    }

    /// The HTTP client of every SDK call (STS, IAM, SSO OIDC, the SSO portal): rustls on ring,
    /// trusting the system's roots (or only `SSL_CERT_FILE`'s, which rustls-native-certs
    /// reads), through the proxy the environment names (`HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`, any case, credentials in the URL), as the AWS SDKs and
    /// aws-vault do (issue 15).
    pub(crate) fn http(&self) -> SharedHttpClient {
        self.http
            .get_or_init(|| {
                // `build_https` connects directly whatever the environment says, and the
                // connector's `proxy_config` is only reachable through `build_with_connector_fn`
                // (public, though hidden from the docs). It gets what `build_https` would pass
                // its connector (the timeouts and the sleep that enforces them) and adds the
                // proxy, read once per connector: the environment does not change under vault.
                aws_smithy_http_client::Builder::new().build_with_connector_fn(
                    |settings, components| {
                        let mut connector = Connector::builder()
                            .proxy_config(ProxyConfig::from_env())
                            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
                        connector.set_connector_settings(settings.cloned());
                        if let Some(components) = components {
                            connector.set_sleep_impl(components.sleep_impl());
                        }
                        connector.build()
                    },
                )
            })
            .clone()
    }
}

/// 3 attempts with the SDK's backoff; throttling and 5xx answers are retried.
pub(crate) fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

/// Bounded waits: 3s to connect, 10s per attempt, 30s in all.
pub(crate) fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// `caller` as the SDK's static credentials.
pub(crate) fn sdk_credentials(caller: &Credentials) -> SdkCredentials {
    SdkCredentials::new(
        &caller.access_key_id,
        caller.secret_access_key.expose(),
        caller.session_token.as_ref().map(|t| t.expose().to_owned()),
        caller.expiration.map(SystemTime::from),
        "vault",
    )
}

#[derive(Default)]
pub(crate) struct AwsSts {
    sdk: SdkRuntime,
    /// One attempt that must be over by then, instead of the usual retries and timeouts.
    deadline: Option<Duration>,
}

impl AwsSts {
    /// An STS whose every call is one attempt, over within `deadline`: for the shell hook,
    /// whose command must not wait on a hung STS.
    pub(crate) fn with_deadline(deadline: Duration) -> Self {
        Self {
            sdk: SdkRuntime::default(),
            deadline: Some(deadline),
        }
    }

    fn runtime(&self) -> Result<&tokio::runtime::Runtime, StsError> {
        self.sdk.runtime()
    }

    fn client(&self, target: &Target, caller: Option<&Credentials>) -> Client {
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .http_client(self.sdk.http())
            .interceptor(AnswerSizeLimit);
        config = match self.deadline {
            Some(deadline) => config
                .retry_config(RetryConfig::standard().with_max_attempts(1))
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(deadline.min(CONNECT_TIMEOUT))
                        .operation_attempt_timeout(deadline)
                        .operation_timeout(deadline)
                        .build(),
                ),
            None => config
                .retry_config(retry_config())
                .timeout_config(timeout_config()),
        };
        if let Some(endpoint) = &target.endpoint {
            config = config.endpoint_url(endpoint);
        }
        if let Some(caller) = caller {
            config = config.credentials_provider(sdk_credentials(caller));
        }
        Client::from_conf(config.build())
    }
}

pub(crate) fn seconds(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs()).unwrap_or(i32::MAX)
}

fn convert(creds: Option<&aws_sdk_sts::types::Credentials>) -> Result<Credentials, StsError> {
    let creds = creds
        .ok_or_else(|| StsError::Unreachable("STS answered without credentials".to_owned()))?;
    let expiration = OffsetDateTime::from_unix_timestamp_nanos(creds.expiration().as_nanos())
        .map_err(|_| StsError::Unreachable("STS answered with an impossible expiry".to_owned()))?;
    // Refused here too, so such an answer never reaches the session cache (the shell emitters
    // refuse it anyway): no environment variable can hold a NUL.
    for (field, value) in [
        ("AccessKeyId", creds.access_key_id()),
        ("SecretAccessKey", creds.secret_access_key()),
        ("SessionToken", creds.session_token()),
    ] {
        if value.contains('\0') {
            return Err(StsError::Unreachable(format!(
                "STS answered with a NUL byte in {field}, which no environment variable can hold"
            )));
        }
    }
    Ok(Credentials {
        access_key_id: creds.access_key_id().to_owned(),
        secret_access_key: Secret::new(creds.secret_access_key()),
        session_token: Some(Secret::new(creds.session_token())),
        expiration: Some(expiration),
    })
}

pub(crate) fn map_error<E, R>(err: &SdkError<E, R>, target: &Target) -> StsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    map_service_error(&format!("STS at {}", address("sts", target)), err)
}

/// Where a call to `service` ("sts") goes, for messages: the configured endpoint, else the
/// service's regional one. (The SDK resolves the real one; this names it for a person.)
pub(crate) fn address(service: &str, target: &Target) -> String {
    target.endpoint.clone().unwrap_or_else(|| {
        let domain = if target.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("https://{service}.{}.{domain}", target.region)
    })
}

/// What to look at when nothing answered.
const CHECK_THE_WAY: &str =
    "check AWS_ENDPOINT_URL, any proxy (HTTPS_PROXY, NO_PROXY) and the network";

/// What an SDK error means, for a call to `service` (STS, IAM, SSO OIDC, the SSO portal).
pub(crate) fn map_service_error<E, R>(service: &str, err: &SdkError<E, R>) -> StsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if super::answer_limit::is_too_long(err) {
        return StsError::Unreachable(super::answer_limit::AnswerTooLong.to_string());
    }
    match err {
        // A plain-HTTP endpoint through a proxy: the proxy answers the request itself.
        SdkError::ServiceError(answer) if status_of(answer.raw()) == Some(407) => {
            StsError::Unreachable(format!("cannot reach {service}: {PROXY_WANTS_CREDENTIALS}"))
        }
        SdkError::ServiceError(service) => StsError::Service {
            code: service.err().code().map(str::to_owned),
            message: service.err().message().map(str::to_owned),
            status: status_of(service.raw()),
        },
        SdkError::TimeoutError(_) => StsError::Unreachable(format!(
            "no answer from {service} within {}s; {CHECK_THE_WAY}",
            OPERATION_TIMEOUT.as_secs()
        )),
        SdkError::DispatchFailure(_) => {
            let reason = dispatch_reason(err);
            // A reason that names the proxy or the CA file already says what to check.
            let hint = if reason.contains("proxy") || reason.contains("SSL_CERT_FILE") {
                String::new()
            } else {
                format!("; {CHECK_THE_WAY}")
            };
            StsError::Unreachable(format!(
                "cannot reach {service} after {MAX_ATTEMPTS} attempts: {reason}{hint}"
            ))
        }
        _ => StsError::Unreachable(causes(err).join(": ")),
    }
}

const PROXY_WANTS_CREDENTIALS: &str = "the proxy wants credentials, or refused the ones in its \
    URL (HTTP 407 Proxy Authentication Required); give them in the proxy URL, as in \
    HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT (HTTP_PROXY for an http:// endpoint)";

/// The SDK's and hyper's wrappers of a connection failure: they tell the user nothing.
const WRAPPERS: &[&str] = &["dispatch failure", "io error", "client error (Connect)"];

/// Why no connection was made, in plain words. The causes' own texts, never their Debug form
/// (which `DisplayErrorContext` adds); a failed CONNECT comes as text from the SDK, so it is
/// recognised by its words.
fn dispatch_reason(err: &dyn std::error::Error) -> String {
    let causes = causes(err);
    let all = causes.join(": ");
    if all.contains("CONNECT tunnel failed") {
        return if all.contains("proxy authorization required") {
            PROXY_WANTS_CREDENTIALS.to_owned()
        } else if all.contains("failed to create underlying connection") {
            "the proxy cannot be reached; check HTTPS_PROXY".to_owned()
        } else {
            "the proxy would not connect to it; check HTTPS_PROXY and NO_PROXY".to_owned()
        };
    }
    if all.contains("invalid peer certificate: UnknownIssuer") {
        return "its TLS certificate is not signed by a trusted CA (check SSL_CERT_FILE and any \
                proxy)"
            .to_owned();
    }
    causes
        .iter()
        .filter(|cause| !WRAPPERS.contains(&cause.as_str()))
        .map(|cause| match cause.as_str() {
            "dns error" => "its host name was not found (DNS)",
            "tcp connect error" => "the connection failed",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// The error's text and its causes', outermost first.
fn causes(err: &dyn std::error::Error) -> Vec<String> {
    let mut texts = vec![err.to_string()];
    texts.extend(std::iter::successors(err.source(), |e| e.source()).map(ToString::to_string));
    texts
}

/// The HTTP status of a raw response, read through its Debug form so this works for any
/// response type the SDK hands back.
fn status_of<R: std::fmt::Debug>(raw: &R) -> Option<u16> {
    let text = format!("{raw:?}");
    let at = text.find("status: StatusCode(")? + "status: StatusCode(".len();
    text[at..].split(')').next()?.parse().ok()
}

impl Sts for AwsSts {
    fn get_session_token(
        &self,
        target: &Target,
        caller: &Credentials,
        request: &SessionTokenRequest,
    ) -> Result<Credentials, StsError> {
        let client = self.client(target, Some(caller));
        let mut call = client
            .get_session_token()
            .duration_seconds(seconds(request.duration));
        if let Some(mfa) = &request.mfa {
            call = call
                .serial_number(&mfa.serial)
                .token_code(mfa.code.expose());
        }
        let output = self
            .runtime()?
            .block_on(call.send())
            .map_err(|e| map_error(&e, target))?;
        convert(output.credentials())
    }

    fn assume_role(
        &self,
        target: &Target,
        caller: &Credentials,
        request: &AssumeRoleRequest,
    ) -> Result<Credentials, StsError> {
        let client = self.client(target, Some(caller));
        let mut call = client
            .assume_role()
            .role_arn(&request.role_arn)
            .role_session_name(&request.session_name)
            .duration_seconds(seconds(request.duration))
            .set_external_id(request.external_id.clone())
            .set_source_identity(request.source_identity.clone());
        if let Some(mfa) = &request.mfa {
            call = call
                .serial_number(&mfa.serial)
                .token_code(mfa.code.expose());
        }
        for (key, value) in &request.tags {
            let tag =
                Tag::builder().key(key).value(value).build().map_err(|e| {
                    StsError::Unreachable(format!("invalid session tag {key}: {e}"))
                })?;
            call = call.tags(tag);
        }
        for key in &request.transitive_tag_keys {
            call = call.transitive_tag_keys(key);
        }
        let output = self
            .runtime()?
            .block_on(call.send())
            .map_err(|e| map_error(&e, target))?;
        convert(output.credentials())
    }

    fn assume_role_with_web_identity(
        &self,
        target: &Target,
        request: &WebIdentityRequest,
    ) -> Result<Credentials, StsError> {
        let client = self.client(target, None);
        let call = client
            .assume_role_with_web_identity()
            .role_arn(&request.role_arn)
            .role_session_name(&request.session_name)
            .duration_seconds(seconds(request.duration))
            .web_identity_token(request.token.expose());
        let output = self
            .runtime()?
            .block_on(call.send())
            .map_err(|e| map_error(&e, target))?;
        convert(output.credentials())
    }

    fn get_caller_identity(
        &self,
        target: &Target,
        caller: &Credentials,
    ) -> Result<String, StsError> {
        let client = self.client(target, Some(caller));
        let output = self
            .runtime()?
            .block_on(client.get_caller_identity().send())
            .map_err(|e| map_error(&e, target))?;
        output
            .arn()
            .map(str::to_owned)
            .ok_or_else(|| StsError::Unreachable("STS answered without an ARN".to_owned()))
    }

    fn get_federation_token(
        &self,
        target: &Target,
        caller: &Credentials,
        name: &str,
        policy: &str,
        duration: Duration,
    ) -> Result<Credentials, StsError> {
        let client = self.client(target, Some(caller));
        let call = client
            .get_federation_token()
            .name(name)
            .policy(policy)
            .duration_seconds(seconds(duration));
        let output = self
            .runtime()?
            .block_on(call.send())
            .map_err(|e| map_error(&e, target))?;
        convert(output.credentials())
    }
}
