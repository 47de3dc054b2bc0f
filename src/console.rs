//! AWS console sign-in through the federation endpoint (docs/aws-vault.md §6): trade temporary
//! credentials for a sign-in token, and build the URL that logs the browser in.
//!
//! The endpoint and the console's domain depend on the partition, which the region tells.
//! `VAULT_FEDERATION_ENDPOINT` replaces the endpoint (private partitions, proxies, stand-ins),
//! as `AWS_ENDPOINT_URL` does for STS.
//!
//! A refusal is told by its status and a scrubbed excerpt of the page (`excerpt.rs`): the
//! request carries the credentials, and error pages may quote it.
//!
//! The request goes through the proxy the SDK clients would use for the same URL (issue 15),
//! and trusts `SSL_CERT_FILE` when it is set, as they do.

mod excerpt;

use std::borrow::Cow;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

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
pub(crate) fn signin_token(
    partition: &Partition,
    creds: &Credentials,
    env: &Env,
) -> Result<Secret, String> {
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
    let endpoint = &partition.federation;
    let (agent, via) = agent_for(endpoint, env, TIMEOUT)?;
    let mut answer = agent.get(url.expose()).call().map_err(|e| {
        format!(
            "cannot reach the federation endpoint {endpoint}: {}",
            unreachable_reason(&e, via)
        )
    })?;
    let status = answer.status().as_u16();
    // Capped as every AWS answer is (creds/answer_limit.rs): a real one is a few hundred bytes.
    let body = answer
        .body_mut()
        .with_config()
        .limit(crate::creds::answer_limit::MAX_ANSWER_BYTES as u64)
        .read_to_string()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => format!(
                "the federation endpoint {endpoint}: {}",
                crate::creds::answer_limit::AnswerTooLong
            ),
            e => format!("the federation endpoint {endpoint} sent an unreadable answer: {e}"),
        })?;
    if status != 200 {
        // Never the body as it came: a proxy's page may quote the request, credentials and all.
        let sent = [
            creds.access_key_id.as_str(),
            creds.secret_access_key.expose(),
            creds.session_token.as_ref().map_or("", Secret::expose),
        ];
        let said = excerpt::excerpt(&body, &sent);
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        };
        return Err(format!(
            "the federation endpoint {endpoint} refused the sign-in token request (HTTP {status}){said}"
        ));
    }
    let parsed: SigninTokenAnswer = serde_json::from_str(&body).map_err(|e| {
        format!("the federation endpoint {endpoint} answered without a sign-in token ({e})")
    })?;
    Ok(Secret::new(parsed.signin_token))
}

/// An HTTP client for `url`, with the variable naming the proxy it goes through (for
/// [`unreachable_reason`]): the proxy and the certificates the SDK clients would use, and
/// statuses as answers rather than errors. `vault doctor` asks STS through it too.
pub(crate) fn agent_for(
    url: &str,
    env: &Env,
    timeout: Duration,
) -> Result<(ureq::Agent, Option<&'static str>), String> {
    let proxy = proxy_for(url, env)?;
    let mut tls = TlsConfig::builder();
    if let Some(roots) = trusted_roots(env)? {
        tls = tls.root_certs(roots);
    }
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        // Always set, so ureq's own reading of the environment (which would send an https URL
        // through HTTP_PROXY, and reads NO_PROXY differently) never applies.
        .proxy(proxy.as_ref().map(|(_, proxy)| proxy.clone()))
        .tls_config(tls.build())
        .build()
        .into();
    Ok((agent, proxy.map(|(variable, _)| variable)))
}

/// The proxy `url` goes through, and the variable that named it, chosen as the SDK clients
/// choose theirs (hyper-util's matcher, curl's rules): `HTTPS_PROXY` for an https URL,
/// `HTTP_PROXY` for an http one, else `ALL_PROXY`, each upper case first; none when `NO_PROXY`
/// names the host, a domain above it or its network, and none under CGI (`REQUEST_METHOD`),
/// where `HTTP_PROXY` could come from a request header. The proxy's own credentials are in
/// its URL (`http://user:password@host:port`).
fn proxy_for(url: &str, env: &Env) -> Result<Option<(&'static str, ureq::Proxy)>, String> {
    if env.get("REQUEST_METHOD").is_some() {
        return Ok(None);
    }
    let first = |names: [&'static str; 2]| {
        names
            .into_iter()
            .find_map(|name| Some((name, env.get(name)?)))
    };
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| format!("{ENDPOINT_VARIABLE} is not a URL: {url}"))?;
    let scheme = if uri.scheme_str() == Some("http") {
        first(["HTTP_PROXY", "http_proxy"])
    } else {
        first(["HTTPS_PROXY", "https_proxy"])
    };
    let all = first(["ALL_PROXY", "all_proxy"]);
    let chosen = scheme.filter(|(_, value)| !value.is_empty()).or(all);
    let Some((variable, value)) = chosen.filter(|(_, value)| !value.is_empty()) else {
        return Ok(None);
    };
    let no_proxy = first(["NO_PROXY", "no_proxy"]).map_or("", |(_, value)| value);
    // The matcher decides only whether the host is exempt; the proxy is the one chosen above.
    let matcher = hyper_util::client::proxy::matcher::Matcher::builder()
        .all(value.to_owned())
        .no(no_proxy.to_owned())
        .build();
    if matcher.intercept(&uri).is_none() {
        return Ok(None);
    }
    // The value is never repeated: it may hold the proxy's password.
    let proxy = ureq::Proxy::new(value).map_err(|_| {
        format!(
            "{variable} is not a proxy URL vault can use; write it as http://HOST:PORT, with \
             http://USER:PASSWORD@HOST:PORT for a proxy that wants credentials"
        )
    })?;
    if !matches!(
        proxy.protocol(),
        ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
    ) {
        return Err(format!(
            "{variable} names a SOCKS proxy; vault goes through HTTP proxies only \
             (http://HOST:PORT)"
        ));
    }
    Ok(Some((variable, proxy)))
}

/// The certificates of `SSL_CERT_FILE` (PEM), when it is set: the SDK clients then trust only
/// those (rustls-native-certs), and the federation request must trust the same, or a proxy
/// that inspects TLS with its own CA would work for STS and fail here. Unset: the Mozilla
/// roots compiled into vault.
fn trusted_roots(env: &Env) -> Result<Option<RootCerts>, String> {
    let Some(path) = env.non_empty("SSL_CERT_FILE") else {
        return Ok(None);
    };
    let pem = std::fs::read(path).map_err(|e| format!("cannot read SSL_CERT_FILE {path}: {e}"))?;
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(format!(
            "SSL_CERT_FILE {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(Some(RootCerts::from(certs)))
}

/// Why the request did not get through, in plain words, by the kind of failure. Never the
/// error's own text: some kinds repeat the URL, whose query string holds the credentials.
/// `via` names the variable of the proxy in use: a connection that failed was the proxy's.
pub(crate) fn unreachable_reason(error: &ureq::Error, via: Option<&str>) -> Cow<'static, str> {
    use std::io::ErrorKind;
    let connection = match error {
        ureq::Error::HostNotFound => Some("its host name was not found (DNS)"),
        // The system resolver's failure reaches ureq as an uncategorised I/O error, known by
        // the text the standard library gives it.
        ureq::Error::Io(io) if io.to_string().starts_with("failed to lookup address") => {
            Some("its host name was not found (DNS)")
        }
        ureq::Error::ConnectionFailed => Some("the connection failed"),
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => {
            Some("the connection was refused")
        }
        ureq::Error::Io(io) if io.kind() == ErrorKind::NetworkUnreachable => {
            Some("the network is unreachable")
        }
        _ => None,
    };
    match (via, error, connection) {
        (Some(variable), ureq::Error::ConnectProxyFailed(answer), _)
            if answer.contains(" 407/") =>
        {
            format!(
                "the proxy in {variable} wants credentials, or refused the ones in its URL \
                 (HTTP 407 Proxy Authentication Required); give them in the URL, as in \
                 {variable}=http://USER:PASSWORD@HOST:PORT"
            )
            .into()
        }
        // ureq's text here is the proxy's status line only.
        (Some(variable), ureq::Error::ConnectProxyFailed(answer), _) => {
            format!("the proxy in {variable} would not connect to it ({answer})").into()
        }
        (Some(variable), _, Some(reason)) => {
            format!("the proxy in {variable} cannot be reached: {reason}").into()
        }
        (None, _, Some(reason)) => reason.into(),
        _ => tls_reason(error)
            .unwrap_or(match error {
                ureq::Error::Timeout(_) => "it did not answer in time",
                ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionReset => {
                    "the connection was reset"
                }
                ureq::Error::ConnectProxyFailed(_) => "the connection failed",
                _ => "the request failed",
            })
            .into(),
    }
}

/// A failed TLS handshake. A certificate rustls refused reaches ureq as invalid data.
fn tls_reason(error: &ureq::Error) -> Option<&'static str> {
    match error {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            if io.to_string().contains("UnknownIssuer") {
                Some(
                    "its TLS certificate is not signed by a trusted CA (check SSL_CERT_FILE and any proxy)",
                )
            } else {
                Some("the TLS handshake failed (check SSL_CERT_FILE and any proxy)")
            }
        }
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
            Some("the TLS handshake failed (check SSL_CERT_FILE and any proxy)")
        }
        _ => None,
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
            unreachable_reason(&ureq::Error::Timeout(ureq::Timeout::Global), None),
            "it did not answer in time"
        );
        assert_eq!(
            unreachable_reason(&ureq::Error::HostNotFound, None),
            "its host name was not found (DNS)"
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            unreachable_reason(&ureq::Error::Io(refused), None),
            "the connection was refused"
        );
        let leaky = ureq::Error::BadUri("https://f?Action=getSigninToken&Session=SECRET".into());
        assert_eq!(unreachable_reason(&leaky, None), "the request failed");
    }

    #[test]
    fn a_proxy_is_chosen_by_the_urls_scheme_unless_no_proxy_names_the_host() {
        let chosen = |url: &str, pairs: &[(&str, &str)]| {
            proxy_for(url, &Env::from_pairs(pairs.iter().copied()))
                .unwrap()
                .map(|(variable, proxy)| (variable, proxy.host().to_owned(), proxy.port()))
        };
        let both = [
            ("HTTPS_PROXY", "http://u:p@secure:3128"),
            ("http_proxy", "plain:8080"),
        ];
        assert_eq!(
            chosen("https://signin.aws.amazon.com/federation", &both),
            Some(("HTTPS_PROXY", "secure".to_owned(), 3128))
        );
        assert_eq!(
            chosen("http://127.0.0.1:9/federation", &both),
            Some(("http_proxy", "plain".to_owned(), 8080))
        );
        // Upper case first; ALL_PROXY when the scheme's own variable is unset or empty.
        assert_eq!(
            chosen(
                "https://f/",
                &[
                    ("HTTPS_PROXY", ""),
                    ("https_proxy", "ignored:1"),
                    ("all_proxy", "all:2")
                ]
            ),
            Some(("all_proxy", "all".to_owned(), 2))
        );
        assert_eq!(chosen("https://f/", &[("HTTP_PROXY", "plain:8080")]), None);
        // NO_PROXY: a domain covers its subdomains; networks; `*`.
        for no_proxy in [
            "amazon.com",
            ".aws.amazon.com",
            "10.0.0.0/8,aws.amazon.com",
            "*",
        ] {
            let env = [("HTTPS_PROXY", "secure:3128"), ("no_proxy", no_proxy)];
            assert_eq!(
                chosen("https://signin.aws.amazon.com/f", &env),
                None,
                "{no_proxy}"
            );
        }
        let env = [("HTTPS_PROXY", "secure:3128"), ("NO_PROXY", "zon.com")];
        assert!(chosen("https://signin.aws.amazon.com/f", &env).is_some());
        // Under CGI, a request header could have set HTTP_PROXY: no proxy at all.
        let cgi = [("HTTPS_PROXY", "secure:3128"), ("REQUEST_METHOD", "GET")];
        assert_eq!(chosen("https://f/", &cgi), None);
    }

    #[test]
    fn a_proxy_vault_cannot_use_is_named_by_its_variable_without_its_value() {
        let env = Env::from_pairs([("HTTPS_PROXY", "socks5://u:SECRET@h:1")]);
        let said = proxy_for("https://f/", &env).unwrap_err();
        assert!(
            said.starts_with("HTTPS_PROXY names a SOCKS proxy"),
            "{said}"
        );
        assert!(!said.contains("SECRET"), "{said}");
    }

    #[test]
    fn a_failure_through_a_proxy_is_the_proxys() {
        let wants = ureq::Error::ConnectProxyFailed(
            "proxy server responded 407/Proxy Authentication Required".into(),
        );
        assert!(
            unreachable_reason(&wants, Some("https_proxy"))
                .starts_with("the proxy in https_proxy wants credentials")
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            unreachable_reason(&ureq::Error::Io(refused), Some("HTTPS_PROXY")),
            "the proxy in HTTPS_PROXY cannot be reached: the connection was refused"
        );
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
