//! `vault login`: the console sign-in URL, built from moto's credentials through a stand-in
//! federation endpoint that checks the getSigninToken request.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::federation::{Answer, Federation, query};
use crate::support::{Sandbox, moto};

const TOKEN: &str = "SIGNIN+TOKEN/FROM=TEST";

/// What `login` says on stderr before it waits for the browser.
const WAITING: &str = "vault: waiting up to 2 minutes for your browser to open the AWS console \
                       sign-in page (Ctrl-C cancels)\n";

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
fn fake_browser(t: &Sandbox) -> PathBuf {
    browser_script(t, "")
}

/// `fake_browser`, which waits (up to 30 s) for `browser-record.go` to exist before it fetches.
fn gated_browser(t: &Sandbox) -> PathBuf {
    let go = t.home().join("browser-record.go");
    browser_script(
        t,
        &format!(
            "i=0; while [ ! -e '{go}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n",
            go = go.display()
        ),
    )
}

fn browser_script(t: &Sandbox, before_fetch: &str) -> PathBuf {
    let script = t.home().join("fake-browser");
    let record = t.home().join("browser-record");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
# What it records is the browser's own, as a real browser's profile is: no other user's.
umask 077
printf '%s\n' "$1" > '{record}.arg'
{before_fetch}python3 - "$1" > '{record}.location.part' <<'EOF'
import http.client, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
connection = http.client.HTTPConnection(url.hostname, url.port)
connection.request("GET", url.path)
answer = connection.getresponse()
print(answer.status, answer.getheader("Location"))
EOF
mv '{record}.location.part' '{record}.location'
"#,
            record = record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// Where the fake browser was sent: the status and Location it got. The browser may still be
/// writing them when vault, having answered it, has ended.
fn browser_location(t: &Sandbox) -> (String, String) {
    let path = t.home().join("browser-record.location");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let location = std::fs::read_to_string(&path).expect("the browser fetched the page");
    let (status, url) = location.trim().split_once(' ').unwrap();
    (status.to_owned(), url.to_owned())
}

#[test]
fn the_browser_gets_a_one_time_local_address_that_redirects_to_the_console() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let t = sandbox();
    let browser = fake_browser(&t);
    login(&t, &federation, &["role"])
        .env("BROWSER", &browser)
        .stdout("")
        .stderr(WAITING)
        .run();
    let record = t.home().join("browser-record");
    let arg = std::fs::read_to_string(record.with_extension("arg")).unwrap();
    assert!(arg.starts_with("http://127.0.0.1:"), "{arg}");
    assert!(
        !arg.contains("SigninToken"),
        "the sign-in URL was in argv: {arg}"
    );
    let (status, url) = browser_location(&t);
    assert_eq!(status, "302");
    assert!(url.starts_with(&federation.endpoint()), "{url}");
    assert_eq!(query(&url)["SigninToken"], TOKEN);
}

#[test]
fn when_the_browser_fails_the_url_is_printed_with_the_reason() {
    let federation = Federation::start(Answer::Token(TOKEN));
    let t = sandbox();
    let done = login(&t, &federation, &["role"])
        .env("BROWSER", "false")
        .status(1)
        .stderr_like(&format!(
            "{WAITING}vault: error: could not open the sign-in URL in a browser ([..]false failed \
             (exit status: 1)); it is printed above: open it yourself, or use --stdout\n",
        ))
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

#[test]
fn a_refusal_quoting_the_request_shows_its_status_but_no_credentials() {
    let federation = Federation::start(Answer::QuotingRequest(403));
    let t = sandbox();
    let done = login(&t, &federation, &["role", "--stdout"])
        .status(1)
        .stderr(&format!(
            "vault: error: the federation endpoint {} refused the sign-in token request \
             (HTTP 403): ERROR: Access Denied 403 Forbidden The proxy refused GET [removed] \
             Session: [removed]\n",
            federation.endpoint()
        ))
        .stdout("")
        .output_lacks("sessionKey")
        .output_lacks("sessionToken")
        .output_lacks("Session=")
        .run();
    // The page held every value sent; none of them, nor a piece of one, reached stderr.
    let sent = session(&federation);
    for field in ["sessionId", "sessionKey", "sessionToken"] {
        let value = sent[field].as_str().unwrap();
        assert!(!value.is_empty(), "{field}");
        for piece in value.as_bytes().chunks(12) {
            let piece = String::from_utf8_lossy(piece);
            assert!(!done.stderr.contains(&*piece), "{field}: {piece}");
        }
    }
}

/// Another local user (uid 65534, `nobody`) who watches every process's arguments and takes
/// whatever loopback address or file it sees there: it fetches each `http://127.0.0.1:PORT/...`
/// once, reads each file named, and prints one JSON line per try. The system python, since
/// the pyenv one is not usable by other uids.
const ARGV_THIEF: &str = r#"
import http.client, json, os, re, sys, time
def say(**record):
    print(json.dumps(record), flush=True)
me, seen, deadline = str(os.getpid()), set(), time.time() + 60
say(ready=True)
while time.time() < deadline:
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        for arg in args:
            for m in re.finditer(r"http://127[.]0[.]0[.]1:([0-9]+)(/[^\s'\"]*)?", arg):
                url = m.group(0)
                if url in seen:
                    continue
                seen.add(url)
                try:
                    c = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=5)
                    c.request("GET", m.group(2) or "/")
                    r = c.getresponse()
                    say(url=url, status=r.status, headers=dict(r.getheaders()),
                        body=r.read(65536).decode("utf-8", "replace"))
                except Exception as e:
                    say(url=url, error=repr(e))
            path = arg[len("file://"):] if arg.startswith("file://") else arg
            if path.startswith("/") and path not in seen and os.path.isfile(path):
                seen.add(path)
                try:
                    with open(path, "rb") as f:
                        content = f.read(1 << 20)
                    if b"\0" not in content:
                        say(file=path, content=content.decode("utf-8", "replace"))
                except OSError as e:
                    say(file=path, error=repr(e))
    time.sleep(0.01)
"#;

/// The thief, running until dropped; `tries` fills with its JSON lines as they come.
struct Thief {
    child: Child,
    tries: Arc<Mutex<Vec<serde_json::Value>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Thief {
    /// Starts the thief and waits until it watches; `on_try` sees each line as it comes.
    fn start(on_try: impl Fn(&serde_json::Value) + Send + 'static) -> Self {
        let mut child = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .args(["/usr/bin/python3", "-c", ARGV_THIEF])
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("setpriv runs (util-linux)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the thief starts").unwrap();
        assert_eq!(first, r#"{"ready": true}"#);
        let tries = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let tries = Arc::clone(&tries);
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    let value: serde_json::Value = serde_json::from_str(&line).unwrap();
                    on_try(&value);
                    tries.lock().unwrap().push(value);
                }
            })
        };
        Self {
            child,
            tries,
            reader: Some(reader),
        }
    }

    /// Stops the thief and gives everything it tried.
    fn stop(mut self) -> Vec<serde_json::Value> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.tries.lock().unwrap().clone()
    }
}

impl Drop for Thief {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn another_user_reading_the_browsers_arguments_cannot_take_the_sign_in() {
    // A token of this run only, so that finding it anywhere means it leaked from this login.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let token: &'static str =
        Box::leak(format!("TOKEN-{}-{nanos}", std::process::id()).into_boxed_str());
    let federation = Federation::start(Answer::Token(token));
    let t = sandbox();
    let browser = gated_browser(&t);
    // Our browser fetches only once the thief has had its go at the address it was given, so
    // the thief is always first, as a fast attacker would be.
    let record = t.home().join("browser-record");
    let thief = Thief::start(move |tried| {
        let arg = std::fs::read_to_string(record.with_extension("arg")).unwrap_or_default();
        if !arg.trim().is_empty() && tried["url"] == arg.trim() {
            std::fs::write(record.with_extension("go"), "").unwrap();
        }
    });
    login(&t, &federation, &["role"])
        .env("BROWSER", &browser)
        .stdout("")
        .stderr(&format!(
            "{WAITING}vault: warning: another user (uid 65534) asked for the sign-in page, which \
             only your own browser may have; it was refused\n"
        ))
        .run();
    let (status, url) = browser_location(&t);
    let tries = thief.stop();

    // The thief saw the browser's address and tried it, and got nothing.
    let arg = std::fs::read_to_string(t.home().join("browser-record.arg")).unwrap();
    let tried_ours: Vec<_> = tries.iter().filter(|x| x["url"] == arg.trim()).collect();
    assert_eq!(tried_ours.len(), 1, "{tries:#?}");
    assert_eq!(tried_ours[0]["status"], 403, "{tries:#?}");
    for tried in &tries {
        let text = tried.to_string();
        assert!(!text.contains(token), "the thief got the token: {text}");
        assert!(!text.contains("SigninToken"), "the thief got: {text}");
    }
    // Our browser was signed in.
    assert_eq!(status, "302");
    assert!(url.starts_with(&federation.endpoint()), "{url}");
    assert_eq!(query(&url)["SigninToken"], token);
}
