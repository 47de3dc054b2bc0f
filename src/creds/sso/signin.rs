//! Signing a person in to IAM Identity Center: the authorization code grant with PKCE through a
//! loopback redirect (what the AWS CLI v2 does), or the device authorization grant, where the
//! person types a code on any device. Nothing is stored here: the caller stores the token only
//! once the sign-in succeeded, so a cancel, a refusal or a timeout leaves nothing behind.

use std::thread::sleep;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tiny_http::{Header, Response, Server};

use super::client::{DeviceAuthorization, Grant, OidcError, Registration, TokenAnswer};
use crate::creds::sts::Target;
use crate::creds::{BrowserError, Context, Error, Notice, StsError};
use crate::secret::Secret;

/// How long a sign-in may take before vault gives up, unless
/// `VAULT_SSO_SIGNIN_TIMEOUT` says otherwise.
const BROWSER_WAIT: Duration = Duration::from_mins(5);
pub(crate) const TIMEOUT_VARIABLE: &str = "VAULT_SSO_SIGNIN_TIMEOUT";
/// How long the device sign-in waits for a browser to show its page (it goes on without).
const DEVICE_PAGE_WAIT: Duration = Duration::from_secs(5);

/// `VAULT_SSO_SIGNIN_TIMEOUT` (a duration such as `90s`), else 5 minutes.
fn browser_wait(cx: &Context<'_>) -> Duration {
    match cx
        .env
        .non_empty(TIMEOUT_VARIABLE)
        .map(crate::duration::parse)
    {
        Some(Ok(wait)) if !wait.is_zero() => wait,
        Some(_) => {
            log::debug!("ignoring {TIMEOUT_VARIABLE}: not a duration");
            BROWSER_WAIT
        }
        None => BROWSER_WAIT,
    }
}
/// The path of the loopback redirect, as the AWS CLI names it.
const CALLBACK_PATH: &str = "/oauth/callback";
/// The redirect a browser client registers: the loopback address without its port, which
/// changes with every sign-in.
pub(crate) const REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

/// How the person signs in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SignInMode {
    /// The device authorization grant instead of the browser redirect.
    pub(crate) device_code: bool,
    /// Print the URL (on stderr) instead of opening a browser.
    pub(crate) print_url: bool,
    /// Also write new tokens to the AWS CLI's cache, for SDK-native tools.
    pub(crate) share_cli_cache: bool,
}

/// What a loopback sign-in needs before the client is registered: the redirect it will use.
pub(crate) struct Loopback {
    server: Server,
    pub(crate) redirect_uri: String,
}

impl Loopback {
    pub(crate) fn listen() -> Result<Self, String> {
        let server =
            Server::http("127.0.0.1:0").map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or("no local port")?;
        Ok(Self {
            server,
            redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"),
        })
    }
}

fn random(bytes: usize) -> Result<String, String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::getrandom(&mut buffer).map_err(|e| format!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// The S256 challenge of a PKCE verifier (RFC 7636 §4.2).
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The browser's authorize page of the OIDC service: the endpoint override when one is set
/// (`AWS_ENDPOINT_URL_SSO_OIDC`), else the region's.
fn authorize_base(target: &Target) -> String {
    target.endpoint.clone().map_or_else(
        || format!("https://oidc.{}.amazonaws.com", target.region),
        |endpoint| endpoint.trim_end_matches('/').to_owned(),
    )
}

/// The authorization code grant: the browser (or the person, with `print_url`) opens the
/// authorize page, the service redirects to `loopback`, and the code is exchanged.
pub(crate) fn with_browser(
    cx: &Context<'_>,
    target: &Target,
    client: &Registration,
    scopes: &[String],
    loopback: &Loopback,
    print_url: bool,
) -> Result<TokenAnswer, SignInError> {
    let verifier = random(48).map_err(SignInError::Local)?;
    let state = random(24).map_err(SignInError::Local)?;
    let url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge_method=S256&code_challenge={}&scopes={}",
        authorize_base(target),
        encode(&client.client_id),
        encode(&loopback.redirect_uri),
        encode(&state),
        challenge(&verifier),
        encode(&scopes.join(" ")),
    );
    if print_url {
        (cx.services.notices)(&Notice::OpenThisUrl {
            url: url.clone(),
            user_code: None,
        });
    } else {
        (cx.services.notices)(&Notice::OpeningBrowser { url: url.clone() });
        match cx.services.browser.open(&url, browser_wait(cx)) {
            Ok(()) => {}
            Err(BrowserError::NotStarted(reason)) => return Err(SignInError::NoBrowser(reason)),
            Err(BrowserError::NotOpened) => return Err(SignInError::TimedOut(browser_wait(cx))),
        }
    }
    let code = wait_for_redirect(loopback, &state, browser_wait(cx))?;
    let grant = Grant::AuthorizationCode {
        code,
        verifier: Secret::new(verifier),
        redirect_uri: loopback.redirect_uri.clone(),
    };
    cx.services
        .sso_oidc
        .create_token(target, client, &grant)
        .map_err(SignInError::Service)
}

/// Answers the browser's requests until the redirect with our `state` arrives.
fn wait_for_redirect(
    loopback: &Loopback,
    state: &str,
    wait: Duration,
) -> Result<Secret, SignInError> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let request = loopback
            .server
            .recv_timeout(left)
            .map_err(|e| SignInError::Local(format!("the local redirect failed: {e}")))?;
        let Some(request) = request else {
            return Err(SignInError::TimedOut(wait));
        };
        let url = request.url().to_owned();
        let Some(query) = url
            .strip_prefix(CALLBACK_PATH)
            .and_then(|rest| rest.strip_prefix('?'))
        else {
            let _ = request.respond(Response::from_string("Not found").with_status_code(404));
            continue;
        };
        let params = parse_query(query);
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        if get("state").as_deref() != Some(state) {
            // Not the answer to our request: someone else's, or forged.
            let _ = request.respond(Response::from_string("Unknown sign-in").with_status_code(400));
            continue;
        }
        let page = |text: &str| {
            Response::from_string(format!("<!doctype html><title>vault</title><p>{text}</p>"))
                .with_header(
                    Header::from_bytes("Content-Type", "text/html; charset=utf-8")
                        .unwrap_or_else(|()| unreachable!("a valid header")),
                )
        };
        if let Some(error) = get("error") {
            let _ = request.respond(page(
                "The sign-in was not completed. You can close this tab.",
            ));
            return Err(SignInError::Denied(error));
        }
        let Some(code) = get("code") else {
            let _ = request.respond(page("The sign-in sent no code. You can close this tab."));
            return Err(SignInError::Denied("no code".to_owned()));
        };
        let _ = request.respond(page("Signed in to vault. You can close this tab."));
        return Ok(Secret::new(code));
    }
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (!key.is_empty()).then(|| (decode(key), decode(value)))
        })
        .collect()
}

/// The device authorization grant: show the URL and code, open the browser unless asked not
/// to, and ask for the token at the service's pace until the person approves.
pub(crate) fn with_device_code(
    cx: &Context<'_>,
    target: &Target,
    client: &Registration,
    start_url: &str,
    open_browser: bool,
) -> Result<TokenAnswer, SignInError> {
    let oidc = &cx.services.sso_oidc;
    let DeviceAuthorization {
        device_code,
        user_code,
        verification_uri_complete,
        mut interval,
        expires_in,
    } = oidc
        .start_device_authorization(target, client, start_url)
        .map_err(SignInError::Service)?;
    (cx.services.notices)(&Notice::OpenThisUrl {
        url: verification_uri_complete.clone(),
        user_code: Some(user_code),
    });
    // A courtesy: the code can be confirmed on any device, so a browser that does not come up
    // soon is not waited for.
    if open_browser
        && let Err(err) = cx
            .services
            .browser
            .open(&verification_uri_complete, DEVICE_PAGE_WAIT)
    {
        log::debug!("the device sign-in page did not open in a browser: {err:?}");
    }
    let wait = expires_in.min(browser_wait(cx));
    let deadline = Instant::now() + wait;
    let grant = Grant::DeviceCode { device_code };
    loop {
        match oidc.create_token(target, client, &grant) {
            Ok(answer) => return Ok(answer),
            Err(OidcError::Pending) => {}
            Err(OidcError::SlowDown) => interval += Duration::from_secs(5),
            Err(err) => return Err(SignInError::Service(err)),
        }
        if Instant::now() + interval > deadline {
            return Err(SignInError::TimedOut(wait));
        }
        sleep(interval);
    }
}

/// Why a sign-in did not happen.
#[derive(Debug)]
pub(crate) enum SignInError {
    /// No browser could be started (the caller falls back to the device code).
    NoBrowser(String),
    /// The person declined, or the service refused the sign-in.
    Denied(String),
    TimedOut(Duration),
    Service(OidcError),
    Local(String),
}

impl SignInError {
    /// The error for a sign-in to `start_url` through `region`'s service.
    pub(crate) fn into_error(self, start_url: &str, region: &str) -> Error {
        let reason = match self {
            Self::NoBrowser(reason) => {
                format!("no browser could be opened ({reason}); pass --use-device-code or --stdout")
            }
            Self::Denied(reason) => format!(
                "the sign-in was declined or not completed ({reason}); run the command again to retry"
            ),
            Self::TimedOut(after) => format!(
                "no sign-in arrived within {}; run the command again to retry (or set {TIMEOUT_VARIABLE} to wait longer)",
                crate::duration::format_seconds(i64::try_from(after.as_secs()).unwrap_or(i64::MAX))
            ),
            Self::Service(OidcError::AccessDenied(reason)) => {
                format!("the sign-in was declined ({reason}); run the command again to retry")
            }
            Self::Service(OidcError::Expired(reason)) => {
                format!("the sign-in code expired ({reason}); run the command again to retry")
            }
            // An unknown or wrong region looks like this too: name what to check.
            Self::Service(OidcError::Other(StsError::Unreachable(reason))) => format!(
                "{reason}; check sso_region ({region}), the endpoint variables and the network"
            ),
            Self::Service(err) => format!(
                "IAM Identity Center refused the sign-in: {err}; check sso_start_url and sso_region ({region})"
            ),
            Self::Local(reason) => reason,
        };
        Error::SignIn {
            start_url: start_url.to_owned(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636 appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            parse_query("code=a%2Fb&state=x+y&empty="),
            vec![
                ("code".into(), "a/b".into()),
                ("state".into(), "x y".into()),
                ("empty".into(), String::new())
            ]
        );
    }
}
