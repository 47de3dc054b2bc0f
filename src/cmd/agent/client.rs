//! The shell side of the agent: one request over the control socket, and the agent started
//! when none answers.

use std::io;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::socket::getsockopt;
use nix::sys::socket::sockopt::PeerCredentials;

use super::place::Place;
use super::wire::{self, Request, Response};
use crate::error::Error;

/// How long a new agent has to open its socket.
const START_DEADLINE: Duration = Duration::from_secs(5);
/// The agent answers at once; this only keeps a stopped (SIGSTOP) agent from hanging a shell.
const ANSWER_DEADLINE: Duration = Duration::from_secs(10);
/// Variables the agent must not inherit: it serves credentials, it never holds them, or what
/// unlocks a keystore, in its environment (each profile's renewals have their shell's), nor
/// this shell's marks.
const NOT_INHERITED: &[&str] = &[
    "AWS_VAULT_FILE_PASSPHRASE",
    "AWS_VAULT_OP_CONNECT_TOKEN",
    "AWS_VAULT_OP_SERVICE_ACCOUNT_TOKEN",
    "PROTON_PASS_PERSONAL_ACCESS_TOKEN",
    "__VAULT_SHELL",
    "__VAULT_SHELL_PID",
    "VAULT_AGENT_PID",
    "VAULT_AGENT_STAMP",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "__VAULT_STATE",
];

/// Asks the running agent; `None` when no agent is running.
pub(crate) fn ask(place: &Place, request: &Request) -> Result<Option<Response>, Error> {
    let Some(mut stream) = connect(place)? else {
        return Ok(None);
    };
    let mut talk = || -> io::Result<Response> {
        stream.set_read_timeout(Some(ANSWER_DEADLINE))?;
        stream.set_write_timeout(Some(ANSWER_DEADLINE))?;
        wire::send(&mut stream, request)?;
        wire::receive(&stream)
    };
    talk().map(Some).map_err(|e| unreachable(place, &e))
}

/// Asks the agent, starting it first when none is running.
pub(crate) fn ask_or_start(place: &Place, request: &Request) -> Result<Response, Error> {
    match ask(place, request) {
        Ok(Some(response)) => return Ok(response),
        Ok(None) => {}
        // An agent that left (idle) while it was being asked: a new one answers.
        Err(_) if !place.socket().exists() => {}
        Err(e) => return Err(e),
    }
    start(place)?;
    ask(place, request)?.ok_or_else(|| {
        Error::Message(
            "the vault agent started but does not answer; run: vault agent status".to_owned(),
        )
    })
}

/// A connection to the agent's socket, after checking that the socket is where only we can
/// put one and that a process of ours listens on it: the shell side sends credentials.
pub(crate) fn connect(place: &Place) -> Result<Option<UnixStream>, Error> {
    if !place.exists() {
        return Ok(None);
    }
    place.check()?;
    let stream = match UnixStream::connect(place.socket()) {
        Ok(stream) => stream,
        Err(e) if not_running(&e) => return Ok(None),
        Err(e) => return Err(unreachable(place, &e)),
    };
    let peer = getsockopt(&stream, PeerCredentials).map_err(|e| unreachable(place, &e.into()))?;
    let ours = nix::unistd::geteuid().as_raw();
    if peer.uid() != ours {
        return Err(Error::Message(format!(
            "the socket {} is served by uid {}, not by you; remove it and try again",
            place.socket().display(),
            peer.uid()
        )));
    }
    Ok(Some(stream))
}

/// The process serving the agent's socket, if one does.
pub(crate) fn agent_pid(place: &Place) -> Option<i32> {
    let stream = connect(place).ok()??;
    getsockopt(&stream, PeerCredentials)
        .ok()
        .map(|peer| peer.pid())
}

fn not_running(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
    )
}

fn unreachable(place: &Place, e: &io::Error) -> Error {
    let what = match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            "did not answer within 10 seconds".to_owned()
        }
        io::ErrorKind::UnexpectedEof => "closed the connection without an answer".to_owned(),
        _ => format!("could not be asked ({e})"),
    };
    Error::Message(format!(
        "the vault agent at {} {what}; run: vault agent stop, then try again",
        place.socket().display()
    ))
}

/// Starts `vault agent serve` in the background, in a process group of its own (the shell's
/// job control and its hang-up signal leave it alone), and waits for its socket.
fn start(place: &Place) -> Result<(), Error> {
    place.prepare()?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::io("cannot find the vault binary to start the agent", e))?;
    let mut command = crate::process::program(&exe);
    command
        .args(["agent", "serve"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Like any daemon, it keeps none of the shell's directories busy (`use` hands it
        // absolute paths).
        .current_dir("/")
        .process_group(0);
    for name in NOT_INHERITED {
        command.env_remove(name);
    }
    let mut child = command
        .spawn()
        .map_err(|e| Error::io("cannot start the vault agent", e))?;
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        match UnixStream::connect(place.socket()) {
            Ok(_) => return Ok(()),
            Err(e) if !not_running(&e) => return Err(unreachable(place, &e)),
            Err(_) => {}
        }
        // Another shell's agent may have won the race: this one then exits (with status 3),
        // and that one's socket appears.
        if let Ok(Some(status)) = child.try_wait()
            && status.code() != Some(super::ANOTHER_AGENT_RUNS.into())
        {
            return Err(Error::Message(format!(
                "the vault agent stopped as it started ({status}); see why with: vault --debug agent serve"
            )));
        }
        if Instant::now() > deadline {
            return Err(Error::Message(
                "the vault agent did not open its socket within 5 seconds; see why with: vault --debug agent serve"
                    .to_owned(),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
