//! A corporate proxy for tests (`forward_proxy.py`): it tunnels `CONNECT` and relays
//! absolute-form requests, can demand Basic credentials, and alone resolves made-up host names
//! (`aws.vault-proxy.test`), ending their TLS with a throw-away CA's certificate. It logs each
//! request, one per connection, so tests count what went through it.
//!
//! ```ignore
//! let proxy = ForwardProxy::start(Some("user:pass"), &[(HOST, moto::shared().port)]);
//! // … HTTPS_PROXY = proxy.url("user:pass"), SSL_CERT_FILE = proxy.ca() …
//! assert_eq!(proxy.count(HOST), 1);
//! ```

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};

use tempfile::TempDir;

use super::{sso, support_file};

/// A running `forward_proxy.py`. Dropping it stops it.
pub struct ForwardProxy {
    pub port: u16,
    dir: TempDir,
    child: Child,
}

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `CONNECT`, or the method of a relayed plain-HTTP request.
    pub method: String,
    /// `host:port` as the client named it.
    pub target: String,
    /// What the proxy answered: 200 (passed on), 407 (credentials missing or wrong) or 502
    /// (a name it cannot resolve).
    pub status: u16,
}

impl ForwardProxy {
    /// A proxy that demands `auth` (`user:pass`) when given, and sends each routed name to
    /// that loopback port (through its TLS front on port 443).
    pub fn start(auth: Option<&str>, routes: &[(&str, u16)]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("vault-proxy-")
            .tempdir()
            .expect("temp dir");
        // The venv `.ci/run` makes: its `cryptography` (a dependency of moto) makes the CA.
        let python = sso::python();
        let mut command = std::process::Command::new(&python);
        command
            .arg(support_file("forward_proxy.py"))
            .arg("--dir")
            .arg(dir.path());
        if let Some(auth) = auth {
            command.args(["--auth", auth]);
        }
        for (host, port) in routes {
            command.arg("--route").arg(format!("{host}={port}"));
        }
        let stderr = std::fs::File::create(dir.path().join("stderr")).expect("stderr file");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", python.display()));
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        let Some(port) = line
            .trim_end()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the test proxy did not start (it needs Python with `cryptography`; .ci/run \
                 makes .venv): {line:?}\nstderr:\n{}",
                std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default()
            );
        };
        Self { port, dir, child }
    }

    /// The proxy's URL, with `auth` (`user:pass`) in it when given.
    pub fn url(&self, auth: Option<&str>) -> String {
        match auth {
            Some(auth) => format!("http://{auth}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    /// The CA that signed the certificate of every routed name, for `SSL_CERT_FILE`.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        std::fs::read_to_string(self.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let mut words = line.split(' ');
                let mut next = || words.next().unwrap_or_default().to_owned();
                Seen {
                    method: next(),
                    target: next(),
                    status: next().parse().unwrap_or(0),
                }
            })
            .collect()
    }

    /// How many requests for `host` (any port) the proxy passed on.
    pub fn count(&self, host: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.status == 200 && s.target.rsplit_once(':').map(|(h, _)| h) == Some(host))
            .count()
    }

    /// What the proxy wrote to stderr (a failed TLS handshake, a traceback).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
