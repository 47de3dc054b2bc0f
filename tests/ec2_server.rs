//! `vault exec --ec2-server`: the command reaches credentials through a local EC2 instance
//! metadata endpoint (IMDSv2) on 127.0.0.1, with the aws CLI and boto3 (moto behind them) as the
//! SDKs that use it. Also the proxy exemption both servers give the command.

use crate::support::{Sandbox, moto};

fn sandbox(extra_config: &str) -> Sandbox {
    let t = Sandbox::new().with_endpoint(moto::shared().endpoint());
    t.write_config(&format!(
        "[profile user]\nregion = eu-west-1\n\
         [profile role]\nregion = eu-west-1\nsource_profile = user\n\
         role_arn = arn:aws:iam::123456789012:role/served\n{extra_config}"
    ));
    t.add(
        "user",
        "AKIAEC2SERVERTEST001",
        "ec2-server-long-term-secret",
    );
    t
}

#[test]
fn the_aws_cli_and_boto3_get_the_roles_identity_through_imdsv2() {
    let t = sandbox("");
    // With --imds-v2-only a client that fell back to IMDSv1 would get nothing.
    for v2_only in [false, true] {
        let mut args = vec!["exec", "--ec2-server"];
        if v2_only {
            args.push("--imds-v2-only");
        }
        args.extend(["role", "--"]);
        let cli = [args.clone(), vec!["aws", "sts", "get-caller-identity"]].concat();
        t.vault(cli)
            .stdout_has("arn:aws:sts::123456789012:assumed-role/served/")
            .run();
        let boto = "import boto3\n\
                    session = boto3.Session()\n\
                    print(session.get_credentials().method)\n\
                    print(session.client('sts').get_caller_identity()['Arn'])";
        let python = [args, vec!["python3", "-c", boto]].concat();
        t.vault(python)
            .stdout_like("iam-role\narn:aws:sts::123456789012:assumed-role/served/[..]\n")
            .run();
    }
}

/// Raw requests made from inside the command, as an SDK would make them and as it would not.
const PROBE: &str = r#"
import json, os, time, urllib.parse, urllib.request
base = os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
port = urllib.parse.urlparse(base).port
def ask(path, method="GET", headers={}):
    request = urllib.request.Request(base + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.read().decode(), answer.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), None
def put_token(ttl):
    headers = {} if ttl is None else {"X-aws-ec2-metadata-token-ttl-seconds": ttl}
    return ask("latest/api/token", "PUT", headers)
status, token, ttl = put_token("60")
with_token = {"X-aws-ec2-metadata-token": token}
_, short, _ = put_token("1")
time.sleep(2)
creds = "latest/meta-data/iam/security-credentials/"
print(json.dumps({
    "env": {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_EC2_METADATA_DISABLED", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_REGION", "AWS_VAULT")},
    "base": base,
    "token": [status, len(token), ttl],
    "role": ask(creds, headers=with_token),
    "credentials": ask(creds + "local-credentials", headers=with_token),
    "v1": ask(creds + "local-credentials"),
    "unknown_token": ask(creds, headers={"X-aws-ec2-metadata-token": "not-a-token"}),
    "expired_token": ask(creds, headers={"X-aws-ec2-metadata-token": short}),
    "ttl_zero": put_token("0"),
    "ttl_too_long": put_token("21601"),
    "ttl_missing": put_token(None),
    "forwarded": ask("latest/api/token", "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.0.1"}),
    "delete": ask(creds, "DELETE", with_token),
    "rebound_host": ask(creds, headers={**with_token, "Host": f"evil.example:{port}"}),
    "localhost_host": ask("latest/meta-data/instance-id", headers={**with_token, "Host": f"localhost:{port}"}),
    "unknown_path": ask("latest/meta-data/nothing-here", headers=with_token),
    "info": ask("latest/meta-data/iam/info", headers=with_token),
    "instance_id": ask("latest/meta-data/instance-id", headers=with_token),
    "region": ask("latest/meta-data/placement/region", headers=with_token),
    "document": ask("latest/dynamic/instance-identity/document", headers=with_token),
}))
"#;

fn probe(t: &Sandbox, flags: &[&str]) -> serde_json::Value {
    let args = [
        &["exec", "--ec2-server"],
        flags,
        &["role", "--", "python3", "-c", PROBE],
    ]
    .concat();
    let done = t
        .vault(args)
        .env("AWS_ACCESS_KEY_ID", "AKIAFROMOUTSIDE00001")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://127.0.0.1:1/outside",
        )
        .run();
    serde_json::from_str(&done.stdout).expect(&done.stdout)
}

fn json_body(answer: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(answer[1].as_str().unwrap()).expect("a JSON body")
}

#[test]
fn the_endpoint_speaks_imdsv2_and_answers_imdsv1_and_the_command_gets_no_keys() {
    let t = sandbox("");
    let p = probe(&t, &[]);
    let env = &p["env"];
    for absent in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        assert!(env[absent].is_null(), "{absent} reached the command: {p}");
    }
    assert_eq!(env["AWS_REGION"], "eu-west-1");
    assert_eq!(env["AWS_VAULT"], "role");
    let base = p["base"].as_str().unwrap();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with('/'),
        "{base}"
    );

    assert_eq!(p["token"][0], 200, "{p}");
    assert!(p["token"][1].as_u64().unwrap() >= 40, "{p}");
    assert_eq!(p["token"][2], "60", "the TTL is echoed: {p}");
    assert_eq!(p["role"][0], 200);
    assert_eq!(p["role"][1], "local-credentials");

    let creds = json_body(&p["credentials"]);
    assert_eq!(p["credentials"][0], 200, "{p}");
    assert_eq!(creds["Code"], "Success");
    assert_eq!(creds["Type"], "AWS-HMAC");
    assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(!creds["SecretAccessKey"].as_str().unwrap().is_empty());
    assert!(!creds["Token"].as_str().unwrap().is_empty());
    for stamp in ["Expiration", "LastUpdated"] {
        let text = creds[stamp].as_str().unwrap();
        assert!(text.len() == 20 && text.ends_with('Z'), "{stamp}: {text}");
    }
    assert_eq!(p["v1"][0], 200, "IMDSv1 is answered by default: {p}");
    assert_eq!(json_body(&p["v1"])["AccessKeyId"], creds["AccessKeyId"]);

    for (case, status) in [
        ("unknown_token", 401),
        ("expired_token", 401),
        ("ttl_zero", 400),
        ("ttl_too_long", 400),
        ("ttl_missing", 400),
        ("forwarded", 403),
        ("delete", 405),
        ("rebound_host", 403),
        ("unknown_path", 404),
    ] {
        assert_eq!(p[case][0], status, "{case}: {p}");
    }
    assert_eq!(p["localhost_host"][0], 200, "{p}");
    assert_eq!(json_body(&p["info"])["Code"], "Success");
    assert_eq!(p["instance_id"][1], "vault");
    assert_eq!(p["region"][1], "eu-west-1");
    let document = json_body(&p["document"]);
    assert_eq!(document["region"], "eu-west-1");
    assert_eq!(document["accountId"], "123456789012");
}

#[test]
fn with_imds_v2_only_a_request_without_a_token_is_refused() {
    let t = sandbox("");
    let p = probe(&t, &["--imds-v2-only"]);
    assert_eq!(p["v1"][0], 401, "{p}");
    assert_eq!(p["credentials"][0], 200, "{p}");
}

#[test]
fn another_users_request_is_refused_and_ours_is_answered() {
    let t = sandbox("");
    // The same request, first from uid 65534 (nobody), then from us. The system python, since
    // nobody cannot read a python installed under /root.
    let ask = r#"
import os, sys, urllib.request
url = os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] + "latest/meta-data/iam/security-credentials/"
try:
    print(urllib.request.urlopen(url).status)
except urllib.error.HTTPError as error:
    print(error.code)
"#;
    let script = format!(
        "setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '{ask}'; \
         /usr/bin/python3 -c '{ask}'"
    );
    t.vault([
        "--debug",
        "exec",
        "--ec2-server",
        "role",
        "--",
        "sh",
        "-c",
        &script,
    ])
    .stdout("403\n200\n")
    .stderr_has(
        "metadata server: refused /latest/meta-data/iam/security-credentials/ (the asking \
             socket belongs to uid 65534)",
    )
    .run();
}

/// As tests/server.rs proves it for `--server`: 15-minute role credentials with
/// AWS_MIN_TTL=14m50s are renewed about every 10 seconds, and no answer has less than that left.
#[test]
fn a_long_running_command_sees_credentials_renewed_before_they_expire() {
    let t = sandbox("duration_seconds = 900\n");
    let poll = crate::support::renewal_poller(
        r#"
base = os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
def fetch():
    put = urllib.request.Request(base + "latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    token = urllib.request.urlopen(put).read().decode()
    get = urllib.request.Request(base + "latest/meta-data/iam/security-credentials/local-credentials", headers={"X-aws-ec2-metadata-token": token})
    with urllib.request.urlopen(get) as answer:
        return json.load(answer)
"#,
    );
    let done = t
        .vault(["exec", "--ec2-server", "role", "--", "python3", "-c", &poll])
        .env("AWS_MIN_TTL", "14m50s")
        .run();
    crate::support::assert_renewed_every_10s(&done.stdout);
}

/// botocore, as the aws CLI resolves credentials, without a call of its own to AWS.
const RESOLVE: &str = "python3 -c 'import botocore.session; \
    c = botocore.session.get_session().get_credentials(); print(c.method, c.access_key[:4])'";

#[test]
fn behind_a_proxy_both_servers_keep_the_commands_requests_to_them_direct() {
    let t = sandbox("");
    // A port nothing listens on: any request sent to the proxy fails.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    // vault's own STS client honours the proxy too: a session cached beforehand means vault
    // makes no call through it, and botocore's request to the endpoint is the only one.
    t.vault(["exec", "role", "--", "true"]).run();
    let show = format!("echo \"NO_PROXY=$NO_PROXY\"; echo \"no_proxy=$no_proxy\"; {RESOLVE}");
    for (server, method) in [("--server", "container-role"), ("--ec2-server", "iam-role")] {
        t.vault(["exec", server, "role", "--", "sh", "-c", &show])
            .env("HTTP_PROXY", &proxy)
            .stdout(&format!(
                "NO_PROXY=127.0.0.1,localhost\nno_proxy=127.0.0.1,localhost\n{method} ASIA\n"
            ))
            .run();
    }
    // With the user's own exemptions, which keep moto off the proxy for vault (hyper-util reads
    // the network) and for the aws CLI (Python reads host:port), but not our endpoint's port:
    // the aws CLI's whole round trip works.
    let moto = moto::shared().endpoint();
    let moto_host = moto.trim_start_matches("http://").trim_end_matches('/');
    let own = format!("127.0.0.0/8,{moto_host}");
    let show = "echo \"NO_PROXY=$NO_PROXY\"; echo \"no_proxy=$no_proxy\"; \
                aws sts get-caller-identity --query Arn --output text";
    for server in ["--server", "--ec2-server"] {
        t.vault(["exec", server, "role", "--", "sh", "-c", show])
            .env("https_proxy", &proxy)
            .env("HTTP_PROXY", &proxy)
            .env("no_proxy", &own)
            .stdout_like(&format!(
                "NO_PROXY={own},127.0.0.1,localhost\n\
                 no_proxy={own},127.0.0.1,localhost\n\
                 arn:aws:sts::123456789012:assumed-role/served/[..]\n"
            ))
            .run();
    }
}

#[test]
fn lazy_fetches_at_the_first_request_and_its_failure_is_a_500() {
    // No keys are stored for `nokeys`.
    let t = sandbox("[profile nokeys]\nregion = eu-west-1\n");
    let ask = r#"
import os, urllib.request
url = os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] + "latest/meta-data/iam/security-credentials/local-credentials"
try:
    urllib.request.urlopen(url)
except urllib.error.HTTPError as error:
    print(error.code, error.read().decode())
"#;
    t.vault([
        "exec",
        "--ec2-server",
        "--lazy",
        "nokeys",
        "--",
        "python3",
        "-c",
        ask,
    ])
    .stdout_has("500 profile nokeys: credentials missing")
    .run();
}

#[test]
fn ec2_server_flags_that_cannot_work_are_usage_errors() {
    let t = sandbox("");
    t.vault(["exec", "--ec2-server", "--json", "role"])
        .status(2)
        .stderr("vault: error: --ec2-server and --json cannot be used together\n")
        .run();
    t.vault(["exec", "--ec2-server", "--no-session", "role", "--", "true"])
        .status(2)
        .stderr(
            "vault: error: --ec2-server hands out temporary credentials, renewed as they expire; \
             it cannot serve long-term keys (--no-session)\n",
        )
        .run();
    t.vault(["exec", "--imds-v2-only", "role", "--", "true"])
        .status(2)
        .stderr_has("--ec2-server")
        .run();
}
