//! Opens a URL that is itself a credential (the console sign-in URL) in the user's browser
//! without putting it in any process's arguments, where every local user could read it
//! (`/proc/PID/cmdline`; aws-vault passes it there).
//!
//! The browser is started with a one-time local address instead: `http://127.0.0.1:PORT/RANDOM`,
//! which answers its first request with a redirect to the real URL and then closes.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tiny_http::{Header, Response, Server};

use crate::ctx::Env;
use crate::process;
use crate::secret::Secret;

/// How long the browser may take to ask for the page.
const WAIT: Duration = Duration::from_mins(2);

/// Why a URL did not reach a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// No browser could be started, or it failed at once.
    NotStarted(String),
    /// The browser started but did not ask for the page in time.
    NotFetched(Duration),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotStarted(reason) => f.write_str(reason),
            Self::NotFetched(wait) => write!(
                f,
                "the browser did not open the page within {}s",
                wait.as_secs()
            ),
        }
    }
}

/// Opens `url` in `$BROWSER`, else the desktop's opener (`xdg-open`, `open`), and waits until the
/// browser has fetched it. The error says why it could not.
pub(crate) fn open(url: &Secret, env: &Env) -> Result<(), String> {
    open_within(url, env, WAIT).map_err(|e| e.to_string())
}

/// `open`, waiting at most `wait` for the browser to ask for the page.
pub(crate) fn open_within(url: &Secret, env: &Env, wait: Duration) -> Result<(), OpenError> {
    let not_started = OpenError::NotStarted;
    let server = Server::http("127.0.0.1:0")
        .map_err(|e| not_started(format!("cannot listen locally: {e}")))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| not_started("no local port".to_owned()))?;
    let mut random = [0u8; 24];
    getrandom::getrandom(&mut random).map_err(|e| not_started(format!("no randomness: {e}")))?;
    let path = format!("/{}", URL_SAFE_NO_PAD.encode(random));
    let local = format!("http://127.0.0.1:{port}{path}");

    let (program, args) = browser_command(env).map_err(not_started)?;
    // The browser must not hold our stdout and stderr (a caller reading them to the end would
    // wait for the browser to exit), nor share our Ctrl-C.
    let mut browser = process::program(&program)
        .args(&args)
        .arg(&local)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| not_started(format!("cannot start {}: {e}", program.display())))?;
    log::debug!("opening the page through {}", program.display());
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if let Some(request) = server
            .recv_timeout(Duration::from_millis(100))
            .map_err(|e| not_started(format!("the local redirect failed: {e}")))?
        {
            if request.url() != path {
                let _ = request.respond(Response::empty(404));
                continue;
            }
            let location = Header::from_bytes("Location", url.expose())
                .map_err(|()| not_started("the URL is not a valid header".to_owned()))?;
            let no_store = Header::from_bytes("Cache-Control", "no-store").expect("static header");
            let _ = request.respond(
                Response::empty(302)
                    .with_header(location)
                    .with_header(no_store),
            );
            return Ok(());
        }
        check_still_running(&mut browser, &program).map_err(not_started)?;
    }
    Err(OpenError::NotFetched(wait))
}

/// An opener such as xdg-open hands the URL on and exits 0; a failure is an exit code other
/// than 0 before the page was asked for.
fn check_still_running(browser: &mut Child, program: &std::path::Path) -> Result<(), String> {
    match browser.try_wait() {
        Ok(Some(status)) if !status.success() => {
            Err(format!("{} failed ({status})", program.display()))
        }
        _ => Ok(()),
    }
}

/// `$BROWSER` (a command, possibly with arguments), else the platform's opener on PATH.
fn browser_command(env: &Env) -> Result<(PathBuf, Vec<String>), String> {
    let path = env.get("PATH");
    let cwd = env.get("PWD").unwrap_or("/");
    if let Some(browser) = env.non_empty("BROWSER") {
        let mut words = shell_words::split(browser)
            .map_err(|e| format!("BROWSER is not a valid command ({e})"))?
            .into_iter();
        let name = words.next().ok_or("BROWSER is empty")?;
        let program = which::which_in(&name, path, cwd)
            .map_err(|_| format!("BROWSER names {name}, which is not installed"))?;
        return Ok((program, words.collect()));
    }
    let openers: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else {
        &["xdg-open"]
    };
    openers
        .iter()
        .find_map(|name| which::which_in(name, path, cwd).ok())
        .map(|program| (program, Vec::new()))
        .ok_or_else(|| {
            format!(
                "no browser to open: BROWSER is not set and {} is not installed",
                openers.join(", ")
            )
        })
}
