//! IAM Identity Center for tests: `sso_standin.py`, a stand-in for the OIDC service and the
//! access portal on one free loopback port (moto has neither), which checks every request
//! against botocore's service models and gets role credentials from moto; and a fake
//! `$BROWSER` (`fake_browser.py`) that logs each URL it is given and fetches it, following
//! redirects as a browser does.
//!
//! ```ignore
//! let sso = SsoStandIn::start(&moto::shared().endpoint());
//! sso.configure(&json!({"access_token_ttl": 60}));
//! // … AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO = sso.endpoint …
//! assert_eq!(sso.stats()["create_token"]["refresh_token"], 1);
//! ```

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::NamedTempFile;

use super::support_file;

/// A running `sso_standin.py`. Dropping it kills it.
pub struct SsoStandIn {
    /// `http://127.0.0.1:PORT`, for both `AWS_ENDPOINT_URL_SSO_OIDC` and `AWS_ENDPOINT_URL_SSO`.
    pub endpoint: String,
    pub port: u16,
    child: Child,
    stderr: NamedTempFile,
}

/// An answer of the stand-in to a raw request.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// The Python the stand-in runs on: `SSO_STANDIN_PYTHON` if set, else the venv `.ci/run`
/// makes (it has botocore), else `python3` on PATH.
pub fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("SSO_STANDIN_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

impl SsoStandIn {
    /// A stand-in whose role credentials come from moto at `moto_endpoint` (AssumeRole with
    /// dummy keys, which a moto without authentication accepts).
    /// (`sso_standin.py --moto-keys ID:SECRET` calls a moto with authentication on.)
    pub fn start(moto_endpoint: &str) -> Self {
        let stderr = NamedTempFile::new().expect("stderr file");
        let python = python();
        let mut command = Command::new(&python);
        command
            .arg(support_file("sso_standin.py"))
            .args(["--port", "0", "--moto", moto_endpoint])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.reopen().expect("stderr file"));
        if std::env::var_os("SSO_STANDIN_VERBOSE").is_some() {
            command.arg("--verbose");
        }
        let mut child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "{} does not start ({e}): the SSO stand-in needs Python with botocore \
                 (.ci/run makes .venv; or set SSO_STANDIN_PYTHON)",
                python.display()
            )
        });
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        let Some(port) = line
            .trim_end()
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|p| p.parse::<u16>().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the SSO stand-in did not start: {line:?}\nstderr:\n{}",
                std::fs::read_to_string(stderr.path()).unwrap_or_default()
            );
        };
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            child,
            stderr,
        }
    }

    /// Counts and recent requests: `operations` (every API request, by operation),
    /// `create_token` (by grant type), `role_credentials` (by `ACCOUNT/ROLE`), `errors` (by
    /// error shape), `authorize` and `device_approvals`/`device_denials` (browser pages),
    /// `clients` (what each RegisterClient registered), `live_access_tokens`,
    /// `live_refresh_tokens`, `internal_errors` (the stand-in's own tracebacks) and `requests`
    /// (the last 100: method, path, query, headers, body, operation, status, error).
    pub fn stats(&self) -> serde_json::Value {
        let reply = self.request("GET", "/__control/stats", &[], "");
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.json()
    }

    /// Changes settings or acts; any of: `access_token_ttl`, `role_credentials_ttl`,
    /// `client_secret_ttl`, `device_expires_in`, `device_interval`, `page_size` (numbers),
    /// `deny_authorization` (bool), `assignments` (`[{accountId, accountName, emailAddress,
    /// roles: [..]}]`), and the one-shot actions `revoke_refresh_tokens`,
    /// `expire_access_tokens`, `expire_clients` (true) and `approve_device` (a user code).
    #[track_caller]
    pub fn configure(&self, json: &serde_json::Value) {
        let reply = self.request("POST", "/__control/config", &[], &json.to_string());
        assert_eq!(reply.status, 200, "configure {json}: {reply:?}");
    }

    /// What the stand-in wrote to stderr (tracebacks; each request with `SSO_STANDIN_VERBOSE`).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr.path()).unwrap_or_default()
    }

    /// One raw HTTP/1.0 request; redirects are not followed.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("stand-in answers");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut request = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n",
            self.port
        );
        for (name, value) in headers {
            let _ = write!(request, "{name}: {value}\r\n");
        }
        let _ = write!(request, "Content-Length: {}\r\n\r\n{body}", body.len());
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read answer");
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {response:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_owned(),
        }
    }
}

impl Drop for SsoStandIn {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `$BROWSER` value (as vault splits it: words, the URL appended) that runs
/// `fake_browser.py`: it appends each URL it is given to `log`, one line per launch, then
/// fetches it following redirects (so `/authorize` lands on vault's loopback callback and a
/// `/device` URL approves) and exits 0. With `FAKE_BROWSER_FETCH=0` in its environment it
/// only logs.
pub fn fake_browser_command(log: &Path) -> String {
    let words = [
        python().to_string_lossy().into_owned(),
        support_file("fake_browser.py")
            .to_string_lossy()
            .into_owned(),
        "--log".to_owned(),
        log.to_string_lossy().into_owned(),
    ];
    shell_words::join(words)
}

/// The URLs the fake browser was launched with, in order.
pub fn browser_launches(log: &Path) -> Vec<String> {
    File::open(log)
        .map(|f| {
            BufReader::new(f)
                .lines()
                .map_while(Result::ok)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A sandbox (on the shared moto) whose IAM Identity Center calls go to a fresh stand-in with one
/// account and the roles Developer and ReadOnly, and whose `$BROWSER` is the fake one.
pub struct World {
    pub t: super::Sandbox,
    pub sso: SsoStandIn,
    pub browser_log: PathBuf,
}

impl World {
    pub fn new(config: &str) -> Self {
        let moto = super::moto::shared();
        let sso = SsoStandIn::start(&moto.endpoint());
        sso.configure(&serde_json::json!({"assignments": [{
            "accountId": "111111111111",
            "accountName": "dev",
            "emailAddress": "dev@example.com",
            "roles": ["Developer", "ReadOnly"]
        }]}));
        let t = super::Sandbox::new().with_endpoint(moto.endpoint());
        t.write_config(config);
        let browser_log = t.home().join("browser.log");
        Self {
            t,
            sso,
            browser_log,
        }
    }

    /// `vault ARGS` with the SSO endpoints on the stand-in and the fake browser.
    pub fn vault<const N: usize>(&self, args: [&str; N]) -> super::Run {
        self.t
            .vault(args)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.sso.endpoint)
            .env("AWS_ENDPOINT_URL_SSO", &self.sso.endpoint)
            .env("BROWSER", fake_browser_command(&self.browser_log))
    }

    /// Another program, in the same environment as `vault`.
    pub fn command(&self, program: &str) -> Command {
        let mut command = self.t.command(program);
        command
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.sso.endpoint)
            .env("AWS_ENDPOINT_URL_SSO", &self.sso.endpoint)
            .env("BROWSER", fake_browser_command(&self.browser_log))
            .env("VAULT", env!("CARGO_BIN_EXE_vault"));
        command
    }

    /// `script` in a bash with no rc files and strict options, in the same environment.
    pub fn bash(&self, script: &str) -> std::process::Output {
        self.command("bash")
            .args(super::STRICT_BASH)
            .args(["-c", script])
            .output()
            .expect("bash runs")
    }

    /// How often the fake browser was launched.
    pub fn launches(&self) -> usize {
        browser_launches(&self.browser_log).len()
    }

    /// A count from the stand-in's stats, such as `("operations", "CreateToken")`.
    pub fn count(&self, section: &str, name: &str) -> u64 {
        self.sso.stats()[section][name].as_u64().unwrap_or(0)
    }
}
