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
        assert!(
            output.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null)
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

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing the guard's stdin stops moto; then reap the guard.
        drop(self.guard.stdin.take());
        let _ = self.guard.wait();
    }
}
