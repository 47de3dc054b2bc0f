//! The integration harness: a sandbox HOME per test, the built `vault` binary run through a
//! strict `Run` builder (`run.rs`: status, stderr and stdout asserted), and helpers for the
//! real parts tests use (a pseudo-terminal, an independent JOSE library, moto).

pub mod federation;
pub mod forward_proxy;
pub mod moto;
pub mod proxy;
mod run;
pub mod secret_service;
pub mod small_disk;
pub mod sso;
pub mod tmux;

pub use run::{Done, Run, like};

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// The file-keystore passphrase every sandbox uses unless a test says otherwise.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// A throw-away HOME with its own AWS config and file keystore.
pub struct Sandbox {
    dir: TempDir,
    endpoint: Option<String>,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("vault-test-")
            .tempdir()
            .expect("temp dir");
        fs::create_dir_all(dir.path().join("home/.aws")).expect("home");
        Self {
            dir,
            endpoint: None,
        }
    }

    /// Sends every AWS call of this sandbox's commands to `endpoint` (moto, or a proxy).
    pub fn with_endpoint(mut self, endpoint: String) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// XDG_RUNTIME_DIR of this sandbox's commands, made on first use as a login would.
    pub fn runtime_dir(&self) -> PathBuf {
        use std::os::unix::fs::DirBuilderExt;
        let dir = self.dir.path().join("run");
        let _ = fs::DirBuilder::new().mode(0o700).create(&dir);
        dir
    }

    pub fn config_path(&self) -> PathBuf {
        self.home().join(".aws/config")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.home().join(".awsvault/keys")
    }

    pub fn write_config(&self, text: &str) -> &Self {
        fs::write(self.config_path(), text).expect("write config");
        self
    }

    pub fn read_config(&self) -> String {
        fs::read_to_string(self.config_path()).unwrap_or_default()
    }

    /// `vault ARGS` with this sandbox's environment and nothing else from ours.
    pub fn vault<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vault"));
        command.args(args);
        self.isolate(&mut command);
        Run::new(command)
    }

    /// `program` (one that starts vault, such as `keyctl session -`) with this sandbox's
    /// environment, asserted as strictly as `vault`.
    pub fn program(&self, program: &str) -> Run {
        Run::new(self.command(program))
    }

    /// A sandboxed command other than vault (python helpers, sh).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        self.isolate(&mut command);
        command
    }

    fn isolate(&self, command: &mut Command) {
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("AWS_CONFIG_FILE", self.config_path())
            .env("AWS_VAULT_BACKEND", "file")
            .env("AWS_VAULT_FILE_DIR", self.keys_dir())
            .env("AWS_VAULT_FILE_PASSPHRASE", PASSPHRASE)
            .env("AWS_VAULT_FILE_PASSPHRASE_TTL", "2m")
            // `use` and `unuse` say what they did on stderr; the tests that check it unset this.
            .env("AWS_VAULT_QUIET", "1")
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
            .current_dir(self.dir.path());
        if let Some(endpoint) = &self.endpoint {
            command.env("AWS_ENDPOINT_URL", endpoint);
        }
    }

    /// Stores keys for `profile` through `vault add --env`.
    #[track_caller]
    pub fn add(&self, profile: &str, access_key_id: &str, secret: &str) -> &Self {
        self.vault(["add", profile, "--env", "--no-add-config"])
            .env("AWS_ACCESS_KEY_ID", access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .stdout(&format!(
                "Added credentials to profile \"{profile}\" in vault\n"
            ))
            .run();
        self
    }

    /// Every file under HOME, for "nothing leaked" and "nothing changed" checks.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let Ok(entries) = fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if let Ok(bytes) = fs::read(&path) {
                    out.push((path, bytes));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.home(), &mut out);
        out.sort();
        out
    }

    /// Decrypts a key file with jwcrypto and returns the plaintext.
    pub fn jose_decrypt(&self, file: &Path, passphrase: &str) -> Result<String, String> {
        let output = self
            .command("python3")
            .arg(support_file("jose.py"))
            .args([
                OsStr::new("decrypt"),
                OsStr::new("JOSE_PASSPHRASE"),
                file.as_os_str(),
            ])
            .env("JOSE_PASSPHRASE", passphrase)
            .output()
            .expect("python3 runs");
        if output.status.success() {
            Ok(String::from_utf8(output.stdout).expect("utf-8 payload"))
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Encrypts `plaintext` into `file` with jwcrypto, with aws-vault's parameters.
    pub fn jose_encrypt(&self, file: &Path, passphrase: &str, plaintext: &str) {
        use std::io::Write;
        let mut child = self
            .command("python3")
            .arg(support_file("jose.py"))
            .args([
                OsStr::new("encrypt"),
                OsStr::new("JOSE_PASSPHRASE"),
                file.as_os_str(),
            ])
            .env("JOSE_PASSPHRASE", passphrase)
            .stdin(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(plaintext.as_bytes())
            .unwrap();
        assert!(
            child.wait().unwrap().success(),
            "jwcrypto could not encrypt"
        );
    }
}

/// What aws-vault stores for long-term keys: its keyring Item JSON, with the credentials JSON
/// base64-encoded in `Data` (reference §4–5).
pub fn aws_vault_item_json(profile: &str, access_key_id: &str, secret: &str) -> String {
    use base64::Engine;
    let data = serde_json::json!({
        "AccessKeyID": access_key_id,
        "SecretAccessKey": secret,
        "SessionToken": "",
        "Source": "",
        "CanExpire": false,
        "Expires": "0001-01-01T00:00:00Z",
    });
    serde_json::json!({
        "Key": profile,
        "Data": base64::engine::general_purpose::STANDARD.encode(data.to_string()),
        "Label": format!("aws-vault ({profile})"),
        "Description": "",
        "KeychainNotTrustApplication": true,
        "KeychainNotSynchronizable": false,
    })
    .to_string()
}

/// The long-term keys `vault export --no-session` prints for a profile, as (key id, secret).
pub fn exported_keys(done: &Done) -> (String, String) {
    let json: serde_json::Value = serde_json::from_str(&done.stdout).unwrap_or_else(|e| {
        panic!(
            "export printed no JSON ({e}):\n{}\nstderr:\n{}",
            done.stdout, done.stderr
        )
    });
    (
        json["AccessKeyId"].as_str().unwrap_or_default().to_owned(),
        json["SecretAccessKey"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Runs `command` with `stdin` as its input and returns its stdout; panics when it fails.
pub fn output_of(mut command: Command, stdin: &str) -> String {
    use std::io::Write;
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} does not start (is it installed?): {e}"));
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.as_bytes()).expect("write stdin");
    drop(pipe);
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "{program} {:?} failed: {}",
        command.get_args().collect::<Vec<_>>(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A form-encoded value (`+` for space, `%XX` for bytes), decoded.
pub fn form_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

pub fn support_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// Opens the refresh window (the hook's own variable), runs the prompt hook, which starts the
/// background fetch, waits for its outcome, and runs the prompt hook again, which collects it.
pub const REFRESH_IN_BASH: &str = r#"
export VAULT_REFRESH_AT=1
__vault_precmd
for _ in $(seq 400); do
  seen=
  if [ -r "$__VAULT_STATUS_DIR/$$" ]; then read -r seen _ <"$__VAULT_STATUS_DIR/$$"; fi
  [ "$seen" = "$__vault_attempt" ] && break
  sleep 0.05
done
__vault_precmd
"#;

/// A `credential_process = …` line whose script hands out a new key with 2 hours left at every
/// run, so a profile works with no STS at all.
pub fn two_hour_process(t: &Sandbox) -> String {
    let script = t.home().join("creds.sh");
    std::fs::write(
        &script,
        "now=$(date +%s)\n\
         exp=$(date -u -d \"@$((now + 7200))\" +%Y-%m-%dT%H:%M:%SZ)\n\
         printf '{\"Version\":1,\"AccessKeyId\":\"ASIA%s\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"%s\"}' \"$(date +%s%N)\" \"$exp\"\n",
    )
    .unwrap();
    format!("credential_process = sh {}\n", script.display())
}

/// bash with no rc files, stopping at the first failure, unset variable or failed pipe.
pub const STRICT_BASH: [&str; 6] = ["--noprofile", "--norc", "-e", "-u", "-o", "pipefail"];

/// A Python program that asks a credential endpoint for credentials once a second for 24 s,
/// through `fetch` (Python that defines `fetch()`, returning the answer's JSON), and prints what
/// [`assert_renewed_every_10s`] reads.
pub fn renewal_poller(fetch: &str) -> String {
    format!(
        r#"import datetime, json, os, time, urllib.request
{fetch}
seen = []
for _ in range(24):
    body = fetch()
    now = datetime.datetime.now(datetime.timezone.utc)
    expires = datetime.datetime.strptime(body["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    seen.append([body["AccessKeyId"], (expires - now).total_seconds()])
    time.sleep(1)
print(json.dumps(seen))
"#
    )
}

/// What a command polling a credential server once a second for 24 s printed (a JSON list of
/// `[AccessKeyId, seconds left]`), when role credentials of 15 minutes are served with
/// `AWS_MIN_TTL=14m50s`: renewed about every 10 s, and never handed out with less than that left.
#[track_caller]
pub fn assert_renewed_every_10s(polled: &str) {
    let seen: Vec<(String, f64)> = serde_json::from_str(polled).expect(polled);
    let mut keys: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    keys.dedup();
    assert!(
        keys.len() >= 3,
        "expected renewals about every 10 s over 24 s, saw {} sets: {seen:?}",
        keys.len()
    );
    for (key, left) in &seen {
        // Only credentials with more than 890 s left are served. Expiration has whole seconds,
        // and the answer takes a moment to read on a loaded machine: 5 s of slack.
        assert!(
            *left >= 885.0,
            "{key} was served with only {left}s left: {seen:?}"
        );
    }
}
