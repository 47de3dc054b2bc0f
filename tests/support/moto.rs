//! The moto server (a real implementation of the STS and IAM APIs) on a free loopback port.
//! Tests share one server ([`shared`]), or start their own when they change its global state
//! (turning authentication on). A guard process stops the server when the tests end.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Moto {
    guard: Child,
    pub port: u16,
}

/// `MOTO_SERVER` if set, else the venv `.ci/run` makes, else `moto_server` on PATH.
fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("moto_server")
    }
}

/// The server every test may use for calls that do not change moto's global settings.
pub fn shared() -> &'static Moto {
    static SHARED: OnceLock<Moto> = OnceLock::new();
    SHARED.get_or_init(|| Moto::start(&[]))
}

impl Moto {
    /// A server of its own, with extra environment (such as `INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn start(env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .unwrap()
            .port();
        let guard = Command::new("python3")
            .arg(super::support_file("moto_guard.py"))
            .arg(moto_server())
            .arg(port.to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .spawn()
            .expect("python3 starts moto_server (pip install 'moto[server]', or set MOTO_SERVER)");
        let moto = Self { guard, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while moto.get("/moto-api/").is_none() {
            assert!(
                Instant::now() < deadline,
                "moto did not answer on port {port} within 30s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.guard.id()
    }

    /// A plain HTTP GET; the status line and body, or `None` when nothing answers.
    pub fn get(&self, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        Some(response)
    }

    /// Runs the aws CLI against this server with the given keys; returns parsed JSON output.
    pub fn aws(&self, keys: (&str, &str), args: &[&str]) -> serde_json::Value {
        self.try_aws(keys, args)
            .unwrap_or_else(|stderr| panic!("aws {args:?}: {stderr}"))
    }

    /// `aws`, or the CLI's error output when the call fails.
    pub fn try_aws(&self, keys: (&str, &str), args: &[&str]) -> Result<serde_json::Value, String> {
        let output = Command::new("aws")
            .args(args)
            .args(["--output", "json"])
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", keys.0)
            .env("AWS_SECRET_ACCESS_KEY", keys.1)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .output()
            .expect("the aws CLI runs (pip install awscli)");
        if output.status.success() {
            Ok(serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null))
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Creates an IAM user named `prefix` plus a suffix unique in this server's life, with
    /// an access key; returns (user name, access key id, secret).
    pub fn create_user(&self, prefix: &str) -> (String, String, String) {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = ("AKIAIOSFODNN7EXAMPLE", "admin-secret");
        self.aws(admin, &["iam", "create-user", "--user-name", &name]);
        let key = self.aws(admin, &["iam", "create-access-key", "--user-name", &name]);
        let key = &key["AccessKey"];
        let id = key["AccessKeyId"].as_str().unwrap().to_owned();
        let secret = key["SecretAccessKey"].as_str().unwrap().to_owned();
        (name, id, secret)
    }
}

/// A server with request authentication on, so that wrong or deleted keys are really refused
/// and IAM policies apply. Three calls are allowed unauthenticated to make an admin user
/// allowed everything, whose keys then make the users tests need.
pub struct AuthMoto {
    pub moto: Moto,
    admin: (String, String),
}

pub fn authenticated() -> &'static AuthMoto {
    static AUTH: OnceLock<AuthMoto> = OnceLock::new();
    AUTH.get_or_init(|| {
        let moto = Moto::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
        let anyone = ("AKIAIOSFODNN7EXAMPLE", "bootstrap");
        moto.aws(anyone, &["iam", "create-user", "--user-name", "admin"]);
        moto.aws(
            anyone,
            &[
                "iam",
                "put-user-policy",
                "--user-name",
                "admin",
                "--policy-name",
                "all",
                "--policy-document",
                &policy(&["*"], &[]),
            ],
        );
        let key = moto.aws(
            anyone,
            &["iam", "create-access-key", "--user-name", "admin"],
        );
        let admin = (
            key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned(),
            key["AccessKey"]["SecretAccessKey"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        AuthMoto { moto, admin }
    })
}

/// An identity policy allowing `allowed` and denying `denied` actions on everything.
fn policy(allowed: &[&str], denied: &[&str]) -> String {
    let mut statements =
        vec![serde_json::json!({"Effect": "Allow", "Action": allowed, "Resource": "*"})];
    if !denied.is_empty() {
        statements.push(serde_json::json!({"Effect": "Deny", "Action": denied, "Resource": "*"}));
    }
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

impl AuthMoto {
    /// A new IAM user allowed `allowed` and denied `denied`, with one access key: (name, id,
    /// secret).
    pub fn create_user(
        &self,
        prefix: &str,
        allowed: &[&str],
        denied: &[&str],
    ) -> (String, String, String) {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let admin = (self.admin.0.as_str(), self.admin.1.as_str());
        self.moto
            .aws(admin, &["iam", "create-user", "--user-name", &name]);
        self.moto.aws(
            admin,
            &[
                "iam",
                "put-user-policy",
                "--user-name",
                &name,
                "--policy-name",
                "test",
                "--policy-document",
                &policy(allowed, denied),
            ],
        );
        let key = self
            .moto
            .aws(admin, &["iam", "create-access-key", "--user-name", &name]);
        let key = &key["AccessKey"];
        (
            name,
            key["AccessKeyId"].as_str().unwrap().to_owned(),
            key["SecretAccessKey"].as_str().unwrap().to_owned(),
        )
    }

    /// Whether STS accepts these keys.
    pub fn accepts(&self, keys: (&str, &str)) -> bool {
        self.moto
            .try_aws(keys, &["sts", "get-caller-identity"])
            .is_ok()
    }

    /// The access key ids IAM has for `user`.
    pub fn access_keys(&self, user: &str) -> Vec<String> {
        let admin = (self.admin.0.as_str(), self.admin.1.as_str());
        let listed = self
            .moto
            .aws(admin, &["iam", "list-access-keys", "--user-name", user]);
        listed["AccessKeyMetadata"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["AccessKeyId"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing the guard's stdin stops moto; then reap the guard.
        drop(self.guard.stdin.take());
        let _ = self.guard.wait();
    }
}
