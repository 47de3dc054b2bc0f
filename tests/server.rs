//! `vault exec --server`: the command reaches credentials through a local ECS-style endpoint,
//! with the aws CLI (moto behind it) as the SDK that uses it.

use std::path::Path;
use std::time::Duration;

use crate::support::proxy::{Mode, Proxy};
use crate::support::{Sandbox, moto};

fn sandbox(extra_config: &str) -> Sandbox {
    sandbox_at(moto::shared().endpoint(), extra_config)
}

/// A sandbox whose vault reaches AWS at `endpoint` (moto, or a proxy in front of it).
fn sandbox_at(endpoint: String, extra_config: &str) -> Sandbox {
    let t = Sandbox::new().with_endpoint(endpoint);
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
    let poll = crate::support::renewal_poller(
        r#"
request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
def fetch():
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)
"#,
    );
    let done = t
        .vault(["exec", "--server", "role", "--", "python3", "-c", &poll])
        .env("AWS_MIN_TTL", "14m50s")
        .run();
    crate::support::assert_renewed_every_10s(&done.stdout);
}

/// Waits (at most a minute) for the command to create `file`.
fn wait_for(file: &Path) {
    for _ in 0..600 {
        if file.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} never appeared", file.display());
}

fn touch(file: &Path) {
    std::fs::write(file, "").expect("marker");
}

const STS_DOWN: Mode = Mode::Fault(
    503,
    "<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>",
);

/// See: issue 16. With 30-second role credentials and AWS_MIN_TTL=20s, the server renews 9 s
/// after each fetch, and the credentials enter the window at 10 s. STS goes down before the
/// renewal and comes back 10 s later, well before the held credentials expire: the aws CLI,
/// called in a loop all along, never fails, and its first call after STS is back gets new
/// credentials (a new role session), not those held through the outage.
#[test]
fn held_credentials_carry_the_aws_cli_through_an_sts_outage_and_are_renewed_after_it() {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let t = sandbox_at(proxy.endpoint(), "duration_seconds = 30\n");
    let (started, down, up) = (
        t.home().join("started"),
        t.home().join("sts-down"),
        t.home().join("sts-up"),
    );
    // The command's own calls go to moto directly: only vault's pass the failing proxy.
    let script = format!(
        r#"touch '{started}'
end=$(($(date +%s) + 25))
while [ "$(date +%s)" -lt "$end" ]; do
  phase=before; [ -e '{down}' ] && phase=during; [ -e '{up}' ] && phase=after
  if arn=$(AWS_ENDPOINT_URL={moto} aws sts get-caller-identity --query Arn --output text 2>&1)
  then echo "$phase ok $arn"; else echo "$phase failed $arn" | tr '\n' ' '; echo; fi
done"#,
        started = started.display(),
        down = down.display(),
        up = up.display(),
        moto = moto.endpoint(),
    );
    let done = std::thread::scope(|scope| {
        scope.spawn(|| {
            wait_for(&started);
            std::thread::sleep(Duration::from_secs(6));
            proxy.set_mode(STS_DOWN);
            touch(&down);
            std::thread::sleep(Duration::from_secs(10));
            proxy.set_mode(Mode::Forward(moto.port));
            touch(&up);
        });
        t.vault([
            "--debug", "exec", "--server", "role", "--", "sh", "-c", &script,
        ])
        .env("AWS_MIN_TTL", "20s")
        .stderr_has("credential server: could not renew the credentials of profile role")
        .run()
    });
    let calls: Vec<(&str, &str, &str)> = done
        .stdout
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap_or(""),
            )
        })
        .collect();
    let failed: Vec<_> = calls.iter().filter(|(_, ok, _)| *ok != "ok").collect();
    assert!(
        failed.is_empty(),
        "calls failed: {failed:?}\nall: {calls:#?}"
    );
    let during: Vec<&str> = calls
        .iter()
        .filter(|(phase, ..)| *phase == "during")
        .map(|(.., arn)| *arn)
        .collect();
    assert!(during.len() >= 4, "too few calls in the outage: {calls:#?}");
    let first_after = calls
        .iter()
        .find(|(phase, ..)| *phase == "after")
        .unwrap_or_else(|| panic!("no call after the outage: {calls:#?}"))
        .2;
    let log: Vec<&str> = done
        .stderr
        .lines()
        .filter(|line| line.contains("credential server"))
        .collect();
    // A call labelled "during" may have asked for its credentials once STS was back; the
    // first one asked while it was down, and got the held credentials.
    assert!(
        first_after != during[0],
        "the first call after the outage had the old credentials: {calls:#?}\n{log:#?}"
    );
    assert!(
        first_after.contains(":assumed-role/served/"),
        "{first_after}"
    );
}

/// See: issue 16. 10-second role credentials (a 5-second window under the default
/// AWS_MIN_TTL) and STS down from the first request on: the held credentials are served while
/// they are valid, and once they have expired a request gets a 500.
#[test]
fn held_credentials_that_expire_during_an_outage_give_a_500() {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let t = sandbox_at(proxy.endpoint(), "duration_seconds = 10\n");
    let (started, down) = (t.home().join("started"), t.home().join("sts-down"));
    let poll = format!(
        r#"
import datetime, json, os, pathlib, time, urllib.request
pathlib.Path("{started}").touch()
while not os.path.exists("{down}"):
    time.sleep(0.05)
request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
seen = []
for _ in range(26):
    try:
        with urllib.request.urlopen(request) as answer:
            body = json.load(answer)
        now = datetime.datetime.now(datetime.timezone.utc)
        expires = datetime.datetime.strptime(body["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        seen.append([200, body["AccessKeyId"], (expires - now).total_seconds()])
    except urllib.error.HTTPError as error:
        seen.append([error.code, json.load(error)["Message"], 0])
    time.sleep(0.5)
print(json.dumps(seen))
"#,
        started = started.display(),
        down = down.display(),
    );
    let done = std::thread::scope(|scope| {
        scope.spawn(|| {
            wait_for(&started);
            proxy.set_mode(Mode::Closed);
            touch(&down);
        });
        t.vault(["exec", "--server", "role", "--", "python3", "-c", &poll])
            .run()
    });
    let seen: Vec<(u16, String, f64)> = serde_json::from_str(&done.stdout).expect(&done.stdout);
    let served: Vec<_> = seen.iter().filter(|(status, ..)| *status == 200).collect();
    assert!(
        served.len() >= 4,
        "the held credentials were not served: {seen:?}"
    );
    assert!(
        served.iter().all(|(_, key, _)| *key == served[0].1),
        "credentials were renewed with STS down: {seen:?}"
    );
    // Served inside the window (the last 5 s), where a renewal has failed, not refused.
    assert!(
        served.iter().any(|(.., left)| *left < 4.0),
        "the held credentials were not served inside the window: {seen:?}"
    );
    // Expiration has whole seconds: a second of slack.
    assert!(
        served.iter().all(|(.., left)| *left > -1.0),
        "expired credentials were served: {seen:?}"
    );
    let first_500 = seen
        .iter()
        .position(|(status, ..)| *status == 500)
        .unwrap_or_else(|| panic!("no 500 once the credentials expired: {seen:?}"));
    assert!(
        seen[first_500..].iter().all(|(status, ..)| *status == 500),
        "{seen:?}"
    );
}

/// See: issue 16. The ARN after `/role-arn/` is percent-decoded and loses its query, as
/// aws-vault's (Go's `URL.Path`) does; what reaches STS is the plain ARN. A malformed escape is
/// a 400. Every answer says which account its credentials belong to.
#[test]
fn role_arns_are_percent_decoded_without_their_query_and_answers_carry_the_account() {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let t = sandbox_at(proxy.endpoint(), "");
    let probe = r#"
import json, os, urllib.request
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
def get(path):
    request = urllib.request.Request(url + path)
    request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
print(json.dumps({
    "profile": get(""),
    "escaped": get("role-arn/arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fescaped"),
    "queried": get("role-arn/arn:aws:iam::210987654321:role/queried?x=1"),
    "malformed": get("role-arn/arn%zzaws"),
}))
"#;
    let done = t
        .vault(["exec", "--server", "role", "--", "python3", "-c", probe])
        .run();
    let p: serde_json::Value = serde_json::from_str(&done.stdout).expect(&done.stdout);
    assert_eq!(p["profile"][0], 200, "{p}");
    assert_eq!(p["profile"][1]["AccountId"], "123456789012", "{p}");
    for case in ["escaped", "queried"] {
        assert_eq!(p[case][0], 200, "{case}: {p}");
        assert_eq!(p[case][1]["AccountId"], "210987654321", "{case}: {p}");
    }
    assert_eq!(p["malformed"][0], 400, "{p}");
    let arns: Vec<String> = proxy
        .bodies("AssumeRole")
        .iter()
        .filter_map(|body| {
            body.split('&')
                .find_map(|pair| pair.strip_prefix("RoleArn="))
                .map(str::to_owned)
        })
        .collect();
    for wanted in [
        "arn:aws:iam::210987654321:role/escaped",
        "arn:aws:iam::210987654321:role/queried",
    ] {
        assert!(
            arns.iter().any(|arn| arn == wanted),
            "{wanted} not in {arns:?}"
        );
    }
    assert_eq!(arns.len(), 3, "one AssumeRole each, no other: {arns:?}");
}

/// See: issue 16. Another local user (uid 65534) opens 2,000 connections to the endpoint and
/// sends nothing. vault holds at most 64 connections, each with a thread, so its thread count
/// stays bounded, and the command's own requests are answered at once meanwhile.
#[test]
fn a_flood_of_idle_connections_from_another_user_neither_grows_threads_nor_delays_answers() {
    let t = sandbox("");
    // The system python, since nobody cannot read a python installed under /root.
    let flood = r#"
import os, socket, sys, time, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
held = []
for _ in range(2000):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((url.hostname, url.port))
    held.append(s)
time.sleep(1)
print("flooding", flush=True)
time.sleep(60)
"#;
    let probe = format!(
        r#"
import json, os, subprocess, time, urllib.request
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
flood = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", {flood:?}, url], stdout=subprocess.PIPE, text=True)
assert flood.stdout.readline() == "flooding\n"
def threads():
    with open(f"/proc/{{os.getppid()}}/status") as status:
        return int(next(line for line in status if line.startswith("Threads:")).split()[1])
request = urllib.request.Request(url)
request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
times, counts = [], [threads()]
for _ in range(20):
    start = time.perf_counter()
    with urllib.request.urlopen(request) as answer:
        answer.read()
    times.append((time.perf_counter() - start) * 1000)
    counts.append(threads())
    time.sleep(0.05)
flood.kill()
print(json.dumps({{"times": times, "threads": counts}}))
"#
    );
    let done = t
        .vault(["exec", "--server", "role", "--", "python3", "-c", &probe])
        .run();
    let p: serde_json::Value = serde_json::from_str(&done.stdout).expect(&done.stdout);
    let most_threads = p["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .max();
    assert!(most_threads.unwrap() < 64 + 8, "{p}");
    let mut times: Vec<f64> = p["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect();
    times.sort_by(f64::total_cmp);
    // One slow answer of 20 is the machine (two cores, shared); more is the server.
    assert!(times[18] < 10.0, "answers took {times:?} ms");
}
