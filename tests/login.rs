//! `vault login`: the console sign-in URL, built from moto's credentials through a stand-in
//! federation endpoint that checks the getSigninToken request.

use std::os::unix::fs::PermissionsExt;

use crate::support::federation::{Answer, Federation, query};
use crate::support::{Sandbox, moto};

const TOKEN: &str = "SIGNIN+TOKEN/FROM=TEST";

fn sandbox() -> Sandbox {
    let t = Sandbox::new().with_endpoint(moto::shared().endpoint());
    t.write_config(
        "[profile user]\nregion = eu-west-1\n\
         [profile role]\nregion = eu-west-1\nsource_profile = user\n\
         role_arn = arn:aws:iam::123456789012:role/console\n\
         [profile china]\nregion = cn-north-1\nsource_profile = user\n\
         role_arn = arn:aws-cn:iam::123456789012:role/console\n\
         [profile gov]\nregion = us-gov-west-1\nsource_profile = user\n\
         role_arn = arn:aws-us-gov:iam::123456789012:role/console\n",
    );
    t.add("user", "AKIALOGINTEST0000001", "login-long-term-secret");
    t
}

fn login(t: &Sandbox, federation: &Federation, args: &[&str]) -> crate::support::Run {
    let mut all = vec!["login"];
    all.extend_from_slice(args);
    t.vault(all)
        .env("VAULT_FEDERATION_ENDPOINT", federation.endpoint())
}

/// The Session parameter of the one getSigninToken request the endpoint saw.
fn session(federation: &Federation) -> serde_json::Value {
    let queries = federation.queries();
    assert_eq!(queries.len(), 1, "{queries:?}");
    assert_eq!(queries[0]["Action"], "getSigninToken");
    serde_json::from_str(&queries[0]["Session"]).expect("Session is JSON")
}

#[test]
fn a_role_profile_signs_in_with_its_role_credentials() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let t = sandbox();
    let done = login(&t, &federation, &["role", "--stdout"]).run();
    let url = done.stdout.trim();
    assert!(
        url.starts_with(&format!("{}?", federation.endpoint())),
        "{url}"
    );
    let params = query(url);
    assert_eq!(params["Action"], "login");
    assert_eq!(params["Issuer"], "vault");
    assert_eq!(
        params["Destination"],
        "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
    );
    assert_eq!(params["SigninToken"], TOKEN);

    // The session sent is the role's: STS (moto) says whose these credentials are.
    let sent = session(&federation);
    let identity = moto::shared().aws(
        (
            sent["sessionId"].as_str().unwrap(),
            sent["sessionKey"].as_str().unwrap(),
        ),
        &["sts", "get-caller-identity"],
    );
    assert!(
        identity["Arn"]
            .as_str()
            .unwrap()
            .contains(":assumed-role/console/"),
        "{identity}"
    );
    assert!(!sent["sessionToken"].as_str().unwrap().is_empty());
    assert!(sent["sessionId"].as_str().unwrap().starts_with("ASIA"));
}

#[test]
fn an_iam_user_signs_in_as_a_federated_user() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let t = sandbox();
    let done = login(
        &t,
        &federation,
        &["user", "--stdout", "--path", "s3/buckets"],
    )
    .run();
    assert_eq!(
        query(done.stdout.trim())["Destination"],
        "https://eu-west-1.console.aws.amazon.com/s3/buckets?region=eu-west-1"
    );
    // GetFederationToken credentials: not the long-term key, and with a token.
    let sent = session(&federation);
    let fields: Vec<&String> = sent.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["sessionId", "sessionKey", "sessionToken"]);
    assert_ne!(sent["sessionId"], "AKIALOGINTEST0000001");
    assert_ne!(sent["sessionKey"], "login-long-term-secret");
    assert!(!sent["sessionToken"].as_str().unwrap().is_empty());
}

#[test]
fn the_destination_follows_the_partition() {
    for (profile, destination) in [
        (
            "china",
            "https://cn-north-1.console.amazonaws.cn/console/home?region=cn-north-1",
        ),
        (
            "gov",
            "https://us-gov-west-1.console.amazonaws-us-gov.com/console/home?region=us-gov-west-1",
        ),
    ] {
        let federation = Federation::start(Answer::Token(TOKEN));
        let t = sandbox();
        let done = login(&t, &federation, &[profile, "--stdout"]).run();
        assert_eq!(query(done.stdout.trim())["Destination"], destination);
    }
}

#[test]
fn a_failing_federation_endpoint_is_a_clear_error() {
    for (answer, expected) in [
        (
            Answer::Status(500),
            "refused the sign-in token request (HTTP 500): {\"error\":\"nope\"}",
        ),
        // The parser's own words are in the brackets.
        (Answer::NotJson, "answered without a sign-in token ([..])"),
    ] {
        let federation = Federation::start(answer);
        let t = sandbox();
        login(&t, &federation, &["role", "--stdout"])
            .status(1)
            .stderr_like(&format!(
                "vault: error: the federation endpoint {} {expected}\n",
                federation.endpoint()
            ))
            .stdout("")
            // The credentials travel in the request; no error may repeat them.
            .output_lacks("sessionKey")
            .run();
    }
}

/// A browser that records the address it was given, then fetches it as a browser would and
/// records where it was sent.
fn fake_browser(t: &Sandbox) -> std::path::PathBuf {
    let script = t.home().join("fake-browser");
    let record = t.home().join("browser-record");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
printf '%s\n' "$1" > '{record}.arg'
python3 - "$1" > '{record}.location' <<'EOF'
import http.client, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
connection = http.client.HTTPConnection(url.hostname, url.port)
connection.request("GET", url.path)
answer = connection.getresponse()
print(answer.status, answer.getheader("Location"))
EOF
"#,
            record = record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn the_browser_gets_a_one_time_local_address_that_redirects_to_the_console() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let t = sandbox();
    let browser = fake_browser(&t);
    login(&t, &federation, &["role"])
        .env("BROWSER", &browser)
        .stdout("")
        .run();
    let record = t.home().join("browser-record");
    let arg = std::fs::read_to_string(record.with_extension("arg")).unwrap();
    assert!(arg.starts_with("http://127.0.0.1:"), "{arg}");
    assert!(
        !arg.contains("SigninToken"),
        "the sign-in URL was in argv: {arg}"
    );
    let location = std::fs::read_to_string(record.with_extension("location")).unwrap();
    let (status, url) = location.trim().split_once(' ').unwrap();
    assert_eq!(status, "302");
    assert!(url.starts_with(&federation.endpoint()), "{url}");
    assert_eq!(query(url)["SigninToken"], TOKEN);
}

#[test]
fn when_the_browser_fails_the_url_is_printed_with_the_reason() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let t = sandbox();
    let done = login(&t, &federation, &["role"])
        .env("BROWSER", "false")
        .status(1)
        .stderr_like(
            "vault: error: could not open the sign-in URL in a browser ([..]false failed (exit \
             status: 1)); it is printed above: open it yourself, or use --stdout\n",
        )
        .run();
    assert_eq!(query(done.stdout.trim())["SigninToken"], TOKEN);
}

#[test]
fn without_a_profile_the_environments_credentials_are_used() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let t = sandbox();
    login(&t, &federation, &["--stdout"])
        .status(2)
        .stderr(
            "vault: error: name a profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             (and AWS_SESSION_TOKEN) to sign in with them\n",
        )
        .run();
    let done = login(&t, &federation, &["--stdout"])
        .env("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT1")
        .env("AWS_SECRET_ACCESS_KEY", "environment-secret")
        .env("AWS_REGION", "eu-central-1")
        .stderr("Using the credentials from the environment (no profile given).\n")
        .run();
    assert_eq!(
        query(done.stdout.trim())["Destination"],
        "https://eu-central-1.console.aws.amazon.com/console/home?region=eu-central-1"
    );
    // Long-term keys from the environment go through GetFederationToken too.
    assert_ne!(session(&federation)["sessionId"], "AKIAFROMENVIRONMENT1");
}
