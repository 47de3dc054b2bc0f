//! The strict half of the harness: a command about to run and what it must do. Every run
//! asserts its exit status (0 unless the test says otherwise) and its stderr (empty unless the
//! test says what it expects), as just's `tests/test.rs` does, so a stray warning fails a test
//! (issue 13). Stdout is checked where the test says; it is there to read afterwards.
//!
//! ```ignore
//! t.vault(["remove", "prd", "-f"])
//!     .status(1)
//!     .stderr("vault: error: no credentials are stored for profile 'prd'; did you mean 'prod'?\n")
//!     .run();
//! ```
//!
//! An opt-out (`stderr_any`, `status_any`) carries its reason, and is only for output that is
//! truly not vault's to decide (third-party tool noise, timing).

use std::ffi::OsStr;
use std::io::Read as _;
use std::process::{Child, Command, Output, Stdio};

use super::support_file;

/// A command about to run, with fluent setters for its input and for what it must output.
pub struct Run {
    command: Command,
    pty_script: Option<String>,
    expect: Expect,
}

/// What a run must end with. Nothing said about stderr means it must be empty.
#[derive(Default)]
struct Expect {
    status: Option<Status>,
    stdout: Vec<Text>,
    stderr: Vec<Text>,
    lacks: Vec<String>,
}

enum Status {
    Code(i32),
    Any,
}

/// One expectation about an output stream.
enum Text {
    Is(String),
    Has(String),
    Like(String),
    DebugOnly,
    Any,
}

impl Run {
    pub(super) fn new(command: Command) -> Self {
        Self {
            command,
            pty_script: None,
            expect: Expect::default(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// The variables this command will be given (for a shell that must start it the same way).
    pub fn envs(&self) -> Vec<(String, String)> {
        self.command
            .get_envs()
            .filter_map(|(k, v)| {
                Some((
                    k.to_string_lossy().into_owned(),
                    v?.to_string_lossy().into_owned(),
                ))
            })
            .collect()
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Runs on a pseudo-terminal, answering each prompt in turn: (text shown, text typed).
    /// Stdout then holds the whole transcript, vault's stderr included; stderr is the
    /// terminal driver's own, and stays empty.
    pub fn on_terminal(mut self, dialogue: &[(&str, &str)]) -> Self {
        self.pty_script = Some(serde_json::to_string(dialogue).expect("json"));
        self
    }

    /// The exit code the command must end with (0 unless said).
    pub fn status(mut self, code: i32) -> Self {
        self.expect.status = Some(Status::Code(code));
        self
    }

    /// Any exit, or death by a signal: only where the test cannot know (a kill that races the
    /// command's own end). `reason` says why.
    pub fn status_any(mut self, reason: &str) -> Self {
        assert_reason(reason);
        self.expect.status = Some(Status::Any);
        self
    }

    /// Stdout must be exactly `text`.
    pub fn stdout(mut self, text: &str) -> Self {
        self.expect.stdout.push(Text::Is(text.to_owned()));
        self
    }

    /// Stdout must contain `needle` (each one given, when given several times).
    pub fn stdout_has(mut self, needle: &str) -> Self {
        self.expect.stdout.push(Text::Has(needle.to_owned()));
        self
    }

    /// Stdout must match `pattern` as a whole, where `[..]` stands for any text within a line.
    pub fn stdout_like(mut self, pattern: &str) -> Self {
        self.expect.stdout.push(Text::Like(pattern.to_owned()));
        self
    }

    /// Stderr must be exactly `text` (the default is exactly nothing).
    pub fn stderr(mut self, text: &str) -> Self {
        self.expect.stderr.push(Text::Is(text.to_owned()));
        self
    }

    /// Stderr must contain `needle` (each one given, when given several times). Prefer
    /// `stderr` or `stderr_like`, which also catch a stray line next to the expected one.
    pub fn stderr_has(mut self, needle: &str) -> Self {
        self.expect.stderr.push(Text::Has(needle.to_owned()));
        self
    }

    /// Stderr must match `pattern` as a whole, where `[..]` stands for any text within a line
    /// (a temporary path, a port, a time).
    pub fn stderr_like(mut self, pattern: &str) -> Self {
        self.expect.stderr.push(Text::Like(pattern.to_owned()));
        self
    }

    /// Stderr holds `--debug` lines and nothing else: no warning slips in among them.
    pub fn stderr_debug_only(mut self) -> Self {
        self.expect.stderr.push(Text::DebugOnly);
        self
    }

    /// Stderr is not checked: only for output that is truly not vault's to decide (another
    /// program's noise, timing). `reason` says why.
    pub fn stderr_any(mut self, reason: &str) -> Self {
        assert_reason(reason);
        self.expect.stderr.push(Text::Any);
        self
    }

    /// Neither stdout nor stderr may contain `needle` (a secret).
    pub fn output_lacks(mut self, needle: &str) -> Self {
        self.expect.lacks.push(needle.to_owned());
        self
    }

    /// Runs the command to its end and asserts its status, stderr and stdout.
    #[track_caller]
    pub fn run(self) -> Done {
        let Run {
            mut command,
            pty_script,
            expect,
        } = self;
        let output = match pty_script {
            None => command.stdin(Stdio::null()).output(),
            Some(script) => {
                let mut wrapper = Command::new("python3");
                wrapper
                    .arg(support_file("pty_run.py"))
                    .arg(script)
                    .arg("--");
                wrapper.arg(command.get_program()).args(command.get_args());
                wrapper.env_clear();
                for (key, value) in command.get_envs() {
                    if let Some(value) = value {
                        wrapper.env(key, value);
                    }
                }
                if let Some(dir) = command.get_current_dir() {
                    wrapper.current_dir(dir);
                }
                wrapper.stdin(Stdio::null()).output()
            }
        }
        .expect("command runs");
        let done = Done::from(output);
        expect.assert(&describe(&command), &done);
        done
    }

    /// Starts the command in the background; `Running::finish` asserts as `run` does.
    pub fn start(mut self) -> Running {
        assert!(
            self.pty_script.is_none(),
            "start() has no terminal; use run()"
        );
        let description = describe(&self.command);
        let child = self
            .command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("command starts");
        Running {
            child,
            expect: self.expect,
            description,
        }
    }

    /// Starts the command with no expectations at all: only for a test that kills vault from
    /// outside and judges what it left behind. Assert what it captured yourself.
    pub fn spawn(mut self) -> Child {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("vault starts")
    }
}

/// A command started by `Run::start`.
pub struct Running {
    child: Child,
    expect: Expect,
    description: String,
}

impl Running {
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, unless the command has already ended.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
    }

    /// Waits for the end and asserts what `Run::run` would.
    #[track_caller]
    pub fn finish(mut self) -> Done {
        // Read both pipes to their end before waiting, as `wait_with_output` does, but keep
        // `self` whole for the assertion.
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut out = self.child.stdout.take().expect("stdout");
        let mut err = self.child.stderr.take().expect("stderr");
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = err.read_to_end(&mut bytes);
            bytes
        });
        let _ = out.read_to_end(&mut stdout);
        stderr.extend(reader.join().expect("stderr reader"));
        let status = self.child.wait().expect("wait");
        let done = Done::from(Output {
            status,
            stdout,
            stderr,
        });
        self.expect.assert(&self.description, &done);
        done
    }
}

/// A finished command. On a terminal, stdout holds the whole transcript (stderr included).
#[derive(Debug)]
pub struct Done {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Done {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Done {
    /// Exit code 0. `run` has asserted the status already; this only reads as it always did.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, Some(0), "exit code\n{}", streams(&self));
        self
    }
}

impl Expect {
    #[track_caller]
    fn assert(&self, command: &str, done: &Done) {
        let mut problems = Vec::new();
        match self.status {
            None if done.code != Some(0) => {
                problems.push(format!("exit code {:?}, expected 0", done.code));
            }
            Some(Status::Code(code)) if done.code != Some(code) => {
                problems.push(format!("exit code {:?}, expected {code}", done.code));
            }
            _ => {}
        }
        for text in &self.stdout {
            problems.extend(text.problem("stdout", &done.stdout));
        }
        if self.stderr.is_empty() {
            problems.extend(Text::Is(String::new()).problem("stderr", &done.stderr));
        }
        for text in &self.stderr {
            problems.extend(text.problem("stderr", &done.stderr));
        }
        for needle in &self.lacks {
            if done.stdout.contains(needle) || done.stderr.contains(needle) {
                problems.push(format!("{needle:?} appeared in the output"));
            }
        }
        assert!(
            problems.is_empty(),
            "`{command}`:\n{}\n{}",
            problems.join("\n"),
            streams(done)
        );
    }
}

impl Text {
    fn problem(&self, stream: &str, actual: &str) -> Option<String> {
        match self {
            Text::Is(expected) if actual != expected => {
                Some(format!("{stream} is not exactly:\n{}", block(expected)))
            }
            Text::Has(needle) if !actual.contains(needle.as_str()) => {
                Some(format!("{stream} lacks {needle:?}"))
            }
            Text::Like(pattern) if !like(actual, pattern) => Some(format!(
                "{stream} does not match ([..] is any text within a line):\n{}",
                block(pattern)
            )),
            Text::DebugOnly
                if actual.is_empty() || actual.lines().any(|l| !l.starts_with(DEBUG)) =>
            {
                Some(format!("{stream} is not only {DEBUG:?} lines"))
            }
            _ => None,
        }
    }
}

const DEBUG: &str = "vault: debug: ";

/// Whether `text` matches `pattern` as a whole, where each `[..]` in the pattern stands for
/// any text within one line.
pub fn like(text: &str, pattern: &str) -> bool {
    fn rest(pieces: &[&str], text: &str) -> bool {
        let Some((first, more)) = pieces.split_first() else {
            return text.is_empty();
        };
        let Some(after) = text.strip_prefix(first) else {
            return false;
        };
        if more.is_empty() {
            return after.is_empty();
        }
        let mut at = 0;
        loop {
            if rest(more, &after[at..]) {
                return true;
            }
            match after[at..].chars().next() {
                None | Some('\n') => return false,
                Some(c) => at += c.len_utf8(),
            }
        }
    }
    rest(&pattern.split("[..]").collect::<Vec<_>>(), text)
}

fn assert_reason(reason: &str) {
    assert!(
        !reason.trim().is_empty(),
        "an opt-out must say why the output cannot be known"
    );
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn block(text: &str) -> String {
    format!("---\n{text}---")
}

fn streams(done: &Done) -> String {
    format!(
        "exit code: {:?}\nstdout:\n{}\nstderr:\n{}",
        done.code,
        block(&done.stdout),
        block(&done.stderr)
    )
}

#[test]
fn like_matches_whole_text_with_wildcards_within_a_line() {
    assert!(like("a\n", "a\n"));
    assert!(!like("a\nb\n", "a\n"));
    assert!(like("error: /tmp/x/y: bad\n", "error: [..]: bad\n"));
    assert!(like("x 1 y 2\n", "x [..] y [..]\n"));
    assert!(!like("x 1\nstray\n", "x [..]\n"));
    assert!(like("", "[..]"));
    assert!(like("é日\n", "[..]日\n"));
}
