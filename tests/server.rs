//! `vault exec --server`: the command reaches credentials through a local ECS-style endpoint,
//! with the aws CLI (moto behind it) as the SDK that uses it.

use crate::support::{Sandbox, moto};

fn sandbox(extra_config: &str) -> Sandbox {
    let t = Sandbox::new().with_endpoint(moto::shared().endpoint());
    t.write_config(&format!(
        "[profile user]\nregion = eu-west-1\n\
         [profile role]\nregion = eu-west-1\nsource_profile = user\n\
         role_arn = arn:aws:iam::123456789012:role/served\n{extra_config}"
    ));
    t.add("user", "AKIASERVERTEST000001", "server-long-term-secret");
    t
}

#[test]
fn the_aws_cli_gets_its_credentials_from_the_server() {
    let t = sandbox("");
    t.vault([
        "exec",
        "--server",
        "role",
        "--",
        "aws",
        "sts",
        "get-caller-identity",
    ])
    .stdout_has("assumed-role/served/")
    .run();
}

/// Requests made from inside the command, by a small Python client.
const PROBE: &str = r#"
import json, os, urllib.request
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
def get(path, auth):
    request = urllib.request.Request(url + path)
    if auth is not None:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
print(json.dumps({
    "keys_in_env": [k for k in os.environ if k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")],
    "url": url,
    "token_length": len(token),
    "no_token": get("", None),
    "wrong_token": get("", token[:-1] + ("A" if token[-1] != "A" else "B")),
    "right_token": get("", token),
    "role": get("role-arn/arn:aws:iam::123456789012:role/other", token),
}))
"#;

#[test]
fn only_requests_with_the_token_get_credentials_and_the_command_gets_no_keys() {
    let t = sandbox("");
    let done = t
        .vault(["exec", "-s", "role", "--", "python3", "-c", PROBE])
        .env("AWS_ACCESS_KEY_ID", "AKIAFROMOUTSIDE00001")
        .env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/from-outside")
        .run();
    let probe: serde_json::Value = serde_json::from_str(&done.stdout).expect(&done.stdout);
    assert_eq!(probe["keys_in_env"], serde_json::json!([]));
    let url = probe["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url}"
    );
    assert_eq!(probe["token_length"], 40);
    for refused in ["no_token", "wrong_token"] {
        assert_eq!(probe[refused][0], 403, "{refused}: {probe}");
        assert_eq!(
            probe[refused][1]["Message"], "invalid Authorization token",
            "{refused}"
        );
    }
    let served = &probe["right_token"];
    assert_eq!(served[0], 200, "{probe}");
    assert!(
        served[1]["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );
    assert!(served[1]["Token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(served[1]["Expiration"].as_str().unwrap().ends_with('Z'));
    let role = &probe["role"];
    assert_eq!(role[0], 200, "{probe}");
    assert_ne!(role[1]["AccessKeyId"], served[1]["AccessKeyId"]);
}

#[test]
fn the_commands_exit_code_is_passed_through() {
    let t = sandbox("");
    for code in [0, 3, 9] {
        t.vault([
            "exec",
            "--ecs-server",
            "role",
            "--",
            "sh",
            "-c",
            &format!("exit {code}"),
        ])
        .status(code)
        .run();
    }
}

#[test]
fn credentials_are_fetched_before_the_command_starts_unless_lazy() {
    // No keys are stored for `nokeys`, so fetching its credentials fails.
    let t = sandbox("[profile nokeys]\nregion = eu-west-1\n");
    let marker = t.home().join("command-ran");
    let touch = format!("touch '{}'", marker.display());
    t.vault(["exec", "--server", "nokeys", "--", "sh", "-c", &touch])
        .status(1)
        .stderr(
            "vault: error: profile nokeys: credentials missing; store keys with `vault add \
             nokeys`, or give the profile a source_profile, credential_process or web identity\n",
        )
        .run();
    assert!(
        !marker.exists(),
        "the command ran although the credentials failed"
    );

    // With --lazy the command starts, and its request gets the error as JSON with a 500.
    let probe = r#"
import json, os, urllib.request
request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
try:
    urllib.request.urlopen(request)
except urllib.error.HTTPError as error:
    print(error.code, json.load(error)["Message"])
"#;
    t.vault([
        "exec", "--server", "--lazy", "nokeys", "--", "python3", "-c", probe,
    ])
    .stdout_has("500 profile nokeys: credentials missing")
    .run();
}

#[test]
fn server_flags_that_cannot_work_are_usage_errors() {
    let t = sandbox("");
    t.vault(["exec", "--server", "--no-session", "role", "--", "true"])
        .status(2)
        .stderr(
            "vault: error: --server hands out temporary credentials, renewed as they expire; it \
             cannot serve long-term keys (--no-session)\n",
        )
        .run();
    t.vault(["exec", "--lazy", "role", "--", "true"])
        .status(2)
        .stderr("vault: error: --lazy only works with --server (--ecs-server) or --ec2-server\n")
        .run();
}

/// A command that runs for a while polls the endpoint every second. With 15-minute role
/// credentials and AWS_MIN_TTL=14m50s, the server must renew about every 10 seconds, and no
/// answer may ever carry credentials with less than AWS_MIN_TTL left.
#[test]
fn a_long_running_command_sees_credentials_renewed_before_they_expire() {
    // Appended to the last section, the role's.
    let t = sandbox("duration_seconds = 900\n");
    let poll = r#"
import datetime, json, os, time, urllib.request
request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
seen = []
for _ in range(24):
    with urllib.request.urlopen(request) as answer:
        body = json.load(answer)
    now = datetime.datetime.now(datetime.timezone.utc)
    expires = datetime.datetime.strptime(body["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    seen.append([body["AccessKeyId"], (expires - now).total_seconds()])
    time.sleep(1)
print(json.dumps(seen))
"#;
    let done = t
        .vault(["exec", "--server", "role", "--", "python3", "-c", poll])
        .env("AWS_MIN_TTL", "14m50s")
        .run();
    let seen: Vec<(String, f64)> = serde_json::from_str(&done.stdout).expect(&done.stdout);
    let mut keys: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    keys.dedup();
    assert!(
        keys.len() >= 3,
        "expected renewals about every 10 s over 24 s, saw {} sets: {seen:?}",
        keys.len()
    );
    for (key, left) in &seen {
        // The server hands out only credentials with more than 890 s left. Expiration has whole
        // seconds, and the answer takes a moment to read on a loaded machine: 5 s of slack.
        assert!(
            *left >= 885.0,
            "{key} was served with only {left}s left: {seen:?}"
        );
    }
}
