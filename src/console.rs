//! AWS console sign-in through the federation endpoint (docs/aws-vault.md §6): trade temporary
//! credentials for a sign-in token, and build the URL that logs the browser in.
//!
//! The endpoint and the console's domain depend on the partition, which the region tells.
//! `VAULT_FEDERATION_ENDPOINT` replaces the endpoint (private partitions, proxies, stand-ins),
//! as `AWS_ENDPOINT_URL` does for STS.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::creds::Credentials;
use crate::ctx::Env;
use crate::secret::Secret;

pub(crate) const ENDPOINT_VARIABLE: &str = "VAULT_FEDERATION_ENDPOINT";
/// The Issuer parameter: where the console sends people whose session has ended.
const ISSUER: &str = "vault";
const TIMEOUT: Duration = Duration::from_secs(30);

/// Everything but RFC 3986's unreserved characters is encoded in a query value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The federation endpoint and console domain of a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Partition {
    pub(crate) federation: String,
    pub(crate) console_domain: &'static str,
}

/// The partition of `region`, with the endpoint replaced by `VAULT_FEDERATION_ENDPOINT`.
pub(crate) fn partition(region: Option<&str>, env: &Env) -> Partition {
    let (federation, console_domain) = match region {
        Some(r) if r.starts_with("cn-") => (
            "https://signin.amazonaws.cn/federation",
            "console.amazonaws.cn",
        ),
        Some(r) if r.starts_with("us-gov-") => (
            "https://signin.amazonaws-us-gov.com/federation",
            "console.amazonaws-us-gov.com",
        ),
        _ => (
            "https://signin.aws.amazon.com/federation",
            "console.aws.amazon.com",
        ),
    };
    Partition {
        federation: env
            .non_empty(ENDPOINT_VARIABLE)
            .unwrap_or(federation)
            .to_owned(),
        console_domain,
    }
}

/// Where the console opens: the region's home page, or `path` (a service, such as `s3`) in it.
/// Without a region, the global console (and `path` cannot apply, as with aws-vault).
pub(crate) fn destination(
    partition: &Partition,
    region: Option<&str>,
    path: Option<&str>,
) -> String {
    let Some(region) = region else {
        return format!("https://{}/", partition.console_domain);
    };
    let path = path.map_or("console/home", |p| p.trim_start_matches('/'));
    format!(
        "https://{region}.{}/{path}?region={region}",
        partition.console_domain
    )
}

#[derive(Deserialize)]
struct SigninTokenAnswer {
    #[serde(rename = "SigninToken")]
    signin_token: String,
}

/// Asks the federation endpoint for a sign-in token. The credentials travel in the query
/// string, as the endpoint requires, so no error message here ever repeats the URL.
pub(crate) fn signin_token(partition: &Partition, creds: &Credentials) -> Result<Secret, String> {
    let session = serde_json::json!({
        "sessionId": creds.access_key_id,
        "sessionKey": creds.secret_access_key.expose(),
        "sessionToken": creds.session_token.as_ref().map_or("", Secret::expose),
    })
    .to_string();
    let url = Secret::new(format!(
        "{}?Action=getSigninToken&Session={}",
        partition.federation,
        encode(&session)
    ));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let endpoint = &partition.federation;
    let mut answer = agent.get(url.expose()).call().map_err(|e| {
        format!(
            "cannot reach the federation endpoint {endpoint}: {}",
            unreachable_reason(&e)
        )
    })?;
    let status = answer.status().as_u16();
    let body = answer.body_mut().read_to_string().map_err(|e| {
        format!("the federation endpoint {endpoint} sent an unreadable answer: {e}")
    })?;
    if status != 200 {
        return Err(format!(
            "the federation endpoint {endpoint} refused the sign-in token request (HTTP {status}): {}",
            body.trim()
        ));
    }
    let parsed: SigninTokenAnswer = serde_json::from_str(&body).map_err(|e| {
        format!("the federation endpoint {endpoint} answered without a sign-in token ({e})")
    })?;
    Ok(Secret::new(parsed.signin_token))
}

/// Why the request did not get through, in plain words, by the kind of failure. Never the
/// error's own text: some kinds repeat the URL, whose query string holds the credentials.
fn unreachable_reason(error: &ureq::Error) -> &'static str {
    match error {
        ureq::Error::Timeout(_) => "it did not answer in time",
        ureq::Error::HostNotFound => "its host name was not found (DNS)",
        ureq::Error::ConnectionFailed | ureq::Error::ConnectProxyFailed(_) => {
            "the connection failed"
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "the connection was refused"
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset => {
            "the connection was reset"
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::NetworkUnreachable => {
            "the network is unreachable"
        }
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
            "the TLS handshake failed (check SSL_CERT_FILE and any proxy)"
        }
        _ => "the request failed",
    }
}

/// The URL that signs the browser in and opens `destination`.
pub(crate) fn login_url(partition: &Partition, destination: &str, token: &Secret) -> Secret {
    Secret::new(format!(
        "{}?Action=login&Issuer={ISSUER}&Destination={}&SigninToken={}",
        partition.federation,
        encode(destination),
        encode(token.expose())
    ))
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_request_is_told_by_its_kind_and_never_repeats_the_url() {
        assert_eq!(
            unreachable_reason(&ureq::Error::Timeout(ureq::Timeout::Global)),
            "it did not answer in time"
        );
        assert_eq!(
            unreachable_reason(&ureq::Error::HostNotFound),
            "its host name was not found (DNS)"
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            unreachable_reason(&ureq::Error::Io(refused)),
            "the connection was refused"
        );
        let leaky = ureq::Error::BadUri("https://f?Action=getSigninToken&Session=SECRET".into());
        assert_eq!(unreachable_reason(&leaky), "the request failed");
    }

    #[test]
    fn each_partition_has_its_endpoint_and_console() {
        let env = Env::default();
        let aws = partition(Some("eu-west-1"), &env);
        assert_eq!(aws.federation, "https://signin.aws.amazon.com/federation");
        assert_eq!(
            destination(&aws, Some("eu-west-1"), None),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        let china = partition(Some("cn-north-1"), &env);
        assert_eq!(china.federation, "https://signin.amazonaws.cn/federation");
        assert_eq!(
            destination(&china, Some("cn-north-1"), Some("s3")),
            "https://cn-north-1.console.amazonaws.cn/s3?region=cn-north-1"
        );
        let gov = partition(Some("us-gov-west-1"), &env);
        assert_eq!(
            gov.federation,
            "https://signin.amazonaws-us-gov.com/federation"
        );
        assert_eq!(
            destination(&gov, Some("us-gov-west-1"), None),
            "https://us-gov-west-1.console.amazonaws-us-gov.com/console/home?region=us-gov-west-1"
        );
        // No region: the global console, and no path.
        assert_eq!(
            destination(&partition(None, &env), None, Some("s3")),
            "https://console.aws.amazon.com/"
        );
    }

    #[test]
    fn the_endpoint_can_be_replaced() {
        let mut env = Env::default();
        env.set(ENDPOINT_VARIABLE, Some("http://127.0.0.1:9/federation"));
        let p = partition(Some("cn-north-1"), &env);
        assert_eq!(p.federation, "http://127.0.0.1:9/federation");
        assert_eq!(p.console_domain, "console.amazonaws.cn");
    }

    #[test]
    fn the_login_url_encodes_destination_and_token() {
        let p = partition(Some("eu-west-1"), &Env::default());
        let url = login_url(
            &p,
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1",
            &Secret::new("tok+en/=".to_owned()),
        );
        assert_eq!(
            url.expose(),
            "https://signin.aws.amazon.com/federation?Action=login&Issuer=vault\
             &Destination=https%3A%2F%2Feu-west-1.console.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Deu-west-1\
             &SigninToken=tok%2Ben%2F%3D"
        );
    }
}
