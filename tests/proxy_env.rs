//! Corporate proxies (issue 15): `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (either case) carry
//! every call vault makes, with the proxy's credentials in its URL, and `SSL_CERT_FILE` is
//! what both HTTP clients (the SDK's and `login`'s) trust.
//!
//! The proxy (`support/forward_proxy.py`) alone resolves `*.vault-proxy.test`, so a call that
//! bypasses it fails with a DNS error, and it ends their TLS with a certificate from a CA that
//! only `SSL_CERT_FILE` names.

use crate::support::federation::{Answer, Federation};
use crate::support::forward_proxy::{ForwardProxy, Seen};
use crate::support::moto::{self, AuthMoto};
use crate::support::{Run, Sandbox, exported_keys};

/// STS and IAM (moto), as only the proxy knows them.
const AWS: &str = "aws.vault-proxy.test";
/// The federation endpoint (a stand-in), as only the proxy knows it.
const SIGNIN: &str = "signin.vault-proxy.test";
const AUTH: &str = "corp:pr0xy-pass";
const WRONG_AUTH: &str = "corp:not-the-pass";
const TOKEN: &str = "SIGNIN-TOKEN-THROUGH-PROXY";

fn config(t: &Sandbox) {
    t.write_config(
        "[profile user]\nregion = eu-west-1\n\
         [profile role]\nregion = eu-west-1\nsource_profile = user\n\
         role_arn = arn:aws:iam::123456789012:role/proxied\n",
    );
    t.add("user", "AKIAPROXYTEST0000001", "proxy-long-term-secret");
}

/// A sandbox whose AWS calls go to `endpoint`.
fn sandbox(endpoint: String) -> Sandbox {
    let t = Sandbox::new().with_endpoint(endpoint);
    config(&t);
    t
}

/// `vault ARGS` with `HTTPS_PROXY` (credentials `auth`) and `SSL_CERT_FILE` naming its CA.
fn through(proxy: &ForwardProxy, t: &Sandbox, auth: &str, args: &[&str]) -> Run {
    t.vault(args)
        .env("HTTPS_PROXY", proxy.url(Some(auth)))
        .env("SSL_CERT_FILE", proxy.ca())
}

/// Every request the proxy saw was passed on (none refused).
#[track_caller]
fn all_passed(proxy: &ForwardProxy) -> Vec<Seen> {
    let seen = proxy.seen();
    assert!(
        seen.iter().all(|s| s.status == 200),
        "{seen:?}\n{}",
        proxy.stderr()
    );
    seen
}

#[test]
fn exec_and_export_reach_sts_through_an_authenticating_proxy() {
    let proxy = ForwardProxy::start(Some(AUTH), &[(AWS, moto::shared().port)]);
    let t = sandbox(format!("https://{AWS}"));
    through(
        &proxy,
        &t,
        AUTH,
        &["exec", "user", "--", "sh", "-c", "echo $AWS_VAULT"],
    )
    .stdout("user\n")
    .run();
    // One GetSessionToken, in one CONNECT tunnel.
    assert_eq!(proxy.count(AWS), 1, "{:?}", proxy.seen());
    through(&proxy, &t, AUTH, &["export", "role", "--format", "json"])
        .stdout_has("\"AccessKeyId\": \"ASIA")
        .run();
    // The role's AssumeRole, over the cached session.
    assert_eq!(proxy.count(AWS), 2, "{:?}", proxy.seen());
    let seen = all_passed(&proxy);
    assert!(
        seen.iter()
            .all(|s| s.method == "CONNECT" && s.target == format!("{AWS}:443")),
        "{seen:?}"
    );
}

#[test]
fn rotate_reaches_iam_through_the_proxy() {
    let auth = moto::authenticated();
    let (user, id, secret) = auth.create_user("proxied", &["iam:*"], &[]);
    let proxy = ForwardProxy::start(Some(AUTH), &[(AWS, auth.moto.port)]);
    let t = Sandbox::new().with_endpoint(format!("https://{AWS}"));
    t.write_config("[profile rot]\nregion = us-east-1\n");
    t.add("rot", &id, &secret);
    through(&proxy, &t, AUTH, &["rotate", "rot"])
        .stdout_has("Finished rotating access key\n")
        .run();
    let new = exported_keys(
        &t.vault(["export", "rot", "--no-session", "--format", "json"])
            .run(),
    );
    assert_ne!(new.0, id);
    assert!(
        rotated(auth, &user, &new.0),
        "IAM does not have the new key alone"
    );
    // GetCallerIdentity, CreateAccessKey, the new key's check and DeleteAccessKey at least.
    assert!(all_passed(&proxy).len() >= 4, "{:?}", proxy.seen());
}

/// The loopback port of the federation stand-in (`http://127.0.0.1:PORT/federation`).
fn federation_port(federation: &Federation) -> u16 {
    let endpoint = federation.endpoint();
    let rest = endpoint
        .strip_prefix("http://127.0.0.1:")
        .expect("a loopback endpoint");
    rest.split('/').next().unwrap().parse().expect("a port")
}

fn rotated(auth: &AuthMoto, user: &str, new_key: &str) -> bool {
    auth.access_keys(user) == [new_key.to_owned()]
}

#[test]
fn login_reaches_sts_and_the_federation_endpoint_through_the_proxy() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let port = federation_port(&federation);
    let proxy = ForwardProxy::start(Some(AUTH), &[(AWS, moto::shared().port), (SIGNIN, port)]);
    let t = sandbox(format!("https://{AWS}"));
    let done = through(&proxy, &t, AUTH, &["login", "role", "--stdout"])
        .env(
            "VAULT_FEDERATION_ENDPOINT",
            format!("https://{SIGNIN}/federation"),
        )
        .run();
    assert!(
        done.stdout
            .starts_with(&format!("https://{SIGNIN}/federation?Action=login&")),
        "{}",
        done.stdout
    );
    assert_eq!(federation.queries().len(), 1);
    assert_eq!(proxy.count(SIGNIN), 1, "{:?}", proxy.seen());
    assert!(proxy.count(AWS) >= 1, "{:?}", proxy.seen());
    all_passed(&proxy);
}

#[test]
fn without_the_proxy_a_name_only_it_knows_is_not_found() {
    let proxy = ForwardProxy::start(None, &[(AWS, moto::shared().port)]);
    let t = sandbox(format!("https://{AWS}"));
    t.vault(["exec", "user", "--", "true"])
        .env("SSL_CERT_FILE", proxy.ca())
        .status(1)
        .stderr_like(
            "vault: error: profile user: GetSessionToken failed: cannot reach STS at \
             https://aws.vault-proxy.test after 3 attempts: its host name was not found (DNS): \
             [..]; check AWS_ENDPOINT_URL, any proxy (HTTPS_PROXY, NO_PROXY) and the network\n",
        )
        .run();
    // STS is reached directly (moto), the federation endpoint is not.
    let t = sandbox(moto::shared().endpoint());
    t.vault(["login", "role", "--stdout"])
        .env(
            "VAULT_FEDERATION_ENDPOINT",
            format!("https://{SIGNIN}/federation"),
        )
        .env("SSL_CERT_FILE", proxy.ca())
        .status(1)
        .stderr(&format!(
            "vault: error: cannot reach the federation endpoint https://{SIGNIN}/federation: \
             its host name was not found (DNS)\n"
        ))
        .run();
    assert_eq!(proxy.seen(), []);
}

#[test]
fn http_proxy_carries_plain_http_endpoints_unless_no_proxy_names_them() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let proxy = ForwardProxy::start(Some(AUTH), &[]);
    let login = |t: &Sandbox, proxy_variable: &str, no_proxy: Option<(&str, &str)>| {
        let mut run = t
            .vault(["login", "role", "--stdout"])
            .env("VAULT_FEDERATION_ENDPOINT", federation.endpoint())
            .env(proxy_variable, proxy.url(Some(AUTH)));
        if let Some((variable, value)) = no_proxy {
            run = run.env(variable, value);
        }
        run.stdout_has("Action=login").run();
    };
    // Lower case, as curl writes it: STS (moto) and the federation endpoint, both plain HTTP
    // on 127.0.0.1, go through the proxy.
    login(&sandbox(moto::shared().endpoint()), "http_proxy", None);
    let seen = all_passed(&proxy);
    let moto_target = format!("127.0.0.1:{}", moto::shared().port);
    let federation_target = format!("127.0.0.1:{}", federation_port(&federation));
    assert!(
        seen.iter()
            .any(|s| s.method == "POST" && s.target == moto_target),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|s| s.target == federation_target),
        "{seen:?}"
    );
    // NO_PROXY naming the host, in either case: neither call reaches the proxy.
    let before = seen.len();
    login(
        &sandbox(moto::shared().endpoint()),
        "HTTP_PROXY",
        Some(("NO_PROXY", "example.com, 127.0.0.1")),
    );
    login(
        &sandbox(moto::shared().endpoint()),
        "http_proxy",
        Some(("no_proxy", "127.0.0.0/8")),
    );
    assert_eq!(proxy.seen().len(), before, "{:?}", proxy.seen());
    // HTTPS_PROXY is for https endpoints only.
    login(&sandbox(moto::shared().endpoint()), "HTTPS_PROXY", None);
    assert_eq!(proxy.seen().len(), before, "{:?}", proxy.seen());
}

#[test]
fn wrong_proxy_credentials_are_a_clear_error() {
    let proxy = ForwardProxy::start(Some(AUTH), &[(AWS, moto::shared().port)]);
    let t = sandbox(format!("https://{AWS}"));
    through(&proxy, &t, WRONG_AUTH, &["exec", "user", "--", "true"])
        .status(1)
        .stderr(
            "vault: error: profile user: GetSessionToken failed: cannot reach STS at \
             https://aws.vault-proxy.test after 3 attempts: the proxy wants credentials, or refused the ones in its URL (HTTP 407 \
             Proxy Authentication Required); give them in the proxy URL, as in \
             HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT (HTTP_PROXY for an http:// endpoint)\n",
        )
        .output_lacks("not-the-pass")
        .run();
    // A plain-HTTP endpoint: the proxy answers the request itself.
    let t = sandbox(moto::shared().endpoint());
    t.vault(["exec", "user", "--", "true"])
        .env("HTTP_PROXY", proxy.url(None))
        .status(1)
        .stderr(&format!(
            "vault: error: profile user: GetSessionToken failed: cannot reach STS at {}: the proxy \
             wants credentials, or refused the ones in its URL (HTTP 407 Proxy Authentication \
             Required); give them in the proxy URL, as in \
             HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT (HTTP_PROXY for an http:// endpoint)\n",
            moto::shared().endpoint()
        ))
        .run();
    // login: STS directly (HTTPS_PROXY is not for http://), the federation endpoint through
    // the proxy, which refuses.
    let t = sandbox(moto::shared().endpoint());
    through(&proxy, &t, WRONG_AUTH, &["login", "role", "--stdout"])
        .env(
            "VAULT_FEDERATION_ENDPOINT",
            format!("https://{SIGNIN}/federation"),
        )
        .status(1)
        .stderr(&format!(
            "vault: error: cannot reach the federation endpoint https://{SIGNIN}/federation: \
             the proxy in HTTPS_PROXY wants credentials, or refused the ones in its URL (HTTP \
             407 Proxy Authentication Required); give them in the URL, as in \
             HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT\n"
        ))
        .output_lacks("not-the-pass")
        .run();
    assert!(
        proxy.seen().iter().all(|s| s.status == 407),
        "{:?}",
        proxy.seen()
    );
}

#[test]
fn both_clients_trust_the_ca_in_ssl_cert_file() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let port = federation_port(&federation);
    let proxy = ForwardProxy::start(None, &[(AWS, moto::shared().port), (SIGNIN, port)]);
    // Without SSL_CERT_FILE, neither trusts the proxy's CA.
    let t = sandbox(format!("https://{AWS}"));
    t.vault(["exec", "user", "--", "true"])
        .env("HTTPS_PROXY", proxy.url(None))
        .status(1)
        .stderr(
            "vault: error: profile user: GetSessionToken failed: cannot reach STS at \
             https://aws.vault-proxy.test after 3 attempts: its TLS certificate is not signed by a trusted CA (check SSL_CERT_FILE \
             and any proxy)\n",
        )
        .run();
    let t = sandbox(moto::shared().endpoint());
    let login = |t: &Sandbox| {
        t.vault(["login", "role", "--stdout"])
            .env("HTTPS_PROXY", proxy.url(None))
            .env(
                "VAULT_FEDERATION_ENDPOINT",
                format!("https://{SIGNIN}/federation"),
            )
    };
    login(&t)
        .status(1)
        .stderr(&format!(
            "vault: error: cannot reach the federation endpoint https://{SIGNIN}/federation: \
             its TLS certificate is not signed by a trusted CA (check SSL_CERT_FILE and any \
             proxy)\n"
        ))
        .run();
    // A file that holds no certificate is said to, rather than trusting nothing.
    let empty = t.home().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    login(&t)
        .env("SSL_CERT_FILE", &empty)
        .status(1)
        .stderr(&format!(
            "vault: error: SSL_CERT_FILE {} holds no PEM certificate (-----BEGIN \
             CERTIFICATE-----)\n",
            empty.display()
        ))
        .run();
    login(&t)
        .env("SSL_CERT_FILE", proxy.ca())
        .stdout_has("Action=login")
        .run();
    assert_eq!(federation.queries().len(), 1);
}

/// A client in the command that honours `HTTP_PROXY` and `NO_PROXY` (Python's urllib, as
/// many SDKs) asks the local server for credentials; botocore's own fetcher ignores proxies.
const FETCH_THROUGH_ENV: &str = r#"
import json, os, urllib.request
request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
print("fetched", "AccessKeyId" in json.load(urllib.request.urlopen(request, timeout=10)))
"#;

/// Needs `exec --server` to add 127.0.0.1 and localhost to the command's NO_PROXY: without
/// that, a client in the command that honours `HTTP_PROXY` sends its credential request (plain
/// HTTP to 127.0.0.1) to the proxy, which could answer it from outside the machine.
#[test]
fn under_exec_server_the_commands_credential_requests_skip_the_proxy() {
    let proxy = ForwardProxy::start(None, &[(AWS, moto::shared().port)]);
    let t = sandbox(format!("https://{AWS}"));
    t.vault([
        "exec",
        "--server",
        "role",
        "--",
        "sh",
        "-c",
        "aws sts get-caller-identity && exec python3 -c \"$1\"",
        "sh",
        FETCH_THROUGH_ENV,
    ])
    .env("HTTP_PROXY", proxy.url(None))
    .env("HTTPS_PROXY", proxy.url(None))
    .env("SSL_CERT_FILE", proxy.ca())
    // The aws CLI's own trust store (botocore does not read SSL_CERT_FILE).
    .env("AWS_CA_BUNDLE", proxy.ca())
    .stdout_has("assumed-role/proxied/")
    .stdout_has("fetched True\n")
    .run();
    let seen = all_passed(&proxy);
    assert!(
        !seen
            .iter()
            .any(|s| s.target.starts_with("127.0.0.1:") || s.target.starts_with("localhost:")),
        "{seen:?}"
    );
    // vault's AssumeRole and the CLI's GetCallerIdentity both went through the proxy.
    assert!(proxy.count(AWS) >= 2, "{seen:?}");
}
