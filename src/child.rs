//! Running the user's command: replace vault with it (`execve`), so no vault process stays
//! behind and signals and the exit code need no help; where that fails, run it as a child that
//! gets every forwardable signal and whose exit code becomes ours.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

use nix::sys::signal::{self, SigSet, Signal};
use nix::unistd::Pid;

use crate::process;

/// Signals a supervisor sends to vault that the command should receive instead.
const FORWARDED: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];
/// Signals the terminal already sends to the command itself (to the whole foreground group):
/// vault must outlive them to report the command's exit, but forwarding them would make a
/// second Ctrl-C, which tools like Terraform read as "abort now".
const SURVIVED: &[Signal] = &[Signal::SIGINT, Signal::SIGQUIT];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot run {program:?}: command not found in PATH")]
    NotFound { program: OsString },
    #[error("cannot run {}: {reason}", program.display())]
    Start { program: PathBuf, reason: String },
}

/// Finds `program` the way a shell would, in the `PATH` the child will get.
pub(crate) fn resolve(program: &OsStr, path_var: Option<&OsStr>) -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    which::which_in(program, path_var, cwd).map_err(|_| Error::NotFound {
        program: program.to_owned(),
    })
}

/// Replaces this process with `program`. Returns only when that is impossible, with the
/// reason, so the caller can fall back to [`run_forwarding_signals`].
pub(crate) fn replace_process(
    program: &Path,
    command: &[OsString],
    env: &[(OsString, OsString)],
) -> String {
    let to_c = |bytes: &[u8]| {
        CString::new(bytes).map_err(|_| "an argument or variable holds a NUL byte".to_owned())
    };
    let prepared = (|| {
        let path = to_c(program.as_os_str().as_bytes())?;
        let c_args = command
            .iter()
            .map(|a| to_c(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()?;
        let c_env = env
            .iter()
            .map(|(k, v)| to_c(&[k.as_bytes(), b"=", v.as_bytes()].concat()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, String>((path, c_args, c_env))
    })();
    match prepared {
        Ok((path, c_args, c_env)) => match nix::unistd::execve(&path, &c_args, &c_env) {
            Ok(never) => match never {},
            Err(errno) => errno.desc().to_owned(),
        },
        Err(reason) => reason,
    }
}

/// Keeps the signals the command gets away from the calling thread: a thread vault starts beside
/// the command (the credential server) must not take a signal meant for the command.
pub(crate) fn block_forwarded_signals() {
    let mut signals = SigSet::empty();
    for &sig in FORWARDED.iter().chain(SURVIVED) {
        signals.add(sig);
    }
    let _ = signals.thread_block();
}

/// Runs `program` as a child with `env`, forwards signals to it, and returns the exit code a
/// shell would report: its code, or 128 + the signal that ended it.
pub(crate) fn run_forwarding_signals(
    program: &Path,
    args: &[OsString],
    env: &[(OsString, OsString)],
) -> Result<u8, Error> {
    let mut command = process::program(program);
    command
        .args(args.iter().skip(1))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)));
    // Started before the signals are blocked, because a child inherits the signal mask.
    let mut child = command.spawn().map_err(|e| Error::Start {
        program: program.to_owned(),
        reason: e.to_string(),
    })?;
    // From here the signals wait for the forwarding thread instead of ending vault.
    let mut signals = SigSet::empty();
    for &sig in FORWARDED.iter().chain(SURVIVED) {
        signals.add(sig);
    }
    let _ = signals.thread_block();
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    std::thread::spawn(move || {
        while let Ok(sig) = signals.wait() {
            if FORWARDED.contains(&sig) {
                let _ = signal::kill(pid, sig);
            }
        }
    });
    let status = child.wait().map_err(|e| Error::Start {
        program: program.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(exit_code(status))
}

fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + sig).unwrap_or(1),
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<OsString> {
        ["sh", "-c", script].iter().map(OsString::from).collect()
    }

    /// Each test runs on its own thread, and the forwarding blocks signals on the calling
    /// thread (in vault, once per process), so each case gets a test of its own.
    fn run_sh(script: &str) -> u8 {
        let sh_path = resolve(OsStr::new("sh"), Some(OsStr::new("/bin:/usr/bin"))).unwrap();
        let env = vec![(OsString::from("PATH"), OsString::from("/bin:/usr/bin"))];
        run_forwarding_signals(&sh_path, &sh(script), &env).unwrap()
    }

    #[test]
    fn a_child_passes_its_exit_code_back() {
        assert_eq!(run_sh("exit 7"), 7);
    }

    #[test]
    fn a_child_killed_by_a_signal_gives_128_plus_the_signal() {
        assert_eq!(run_sh("kill -INT $$"), 130);
    }

    #[test]
    fn an_unknown_program_is_not_found() {
        let err = resolve(OsStr::new("no-such-program-xyz"), Some(OsStr::new("/bin"))).unwrap_err();
        assert!(err.to_string().contains("command not found"));
    }
}
