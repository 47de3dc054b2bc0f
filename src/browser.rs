//! Opens a URL that is itself a credential (the console sign-in URL) in the user's browser
//! without putting it in any process's arguments, where every local user could read it
//! (`/proc/PID/cmdline`; aws-vault passes it there).
//!
//! The browser is started with a one-time local address instead: `http://127.0.0.1:PORT/RANDOM`,
//! which answers its first request with a redirect to the real URL and then closes. That address
//! is in the browser's arguments, so any local user can read it too (issue 16): the redirect is
//! given only to a connection whose socket belongs to our own uid, as the kernel's socket table
//! tells (`server::peer`). Anyone else gets 403, and the wait goes on for our browser.
//!
//! Why not a 0600 file in `$XDG_RUNTIME_DIR` that redirects: the secret would sit in a file with
//! no way to know when the browser has read it, so it is deleted either too early for a slow
//! browser or too late; sandboxed browsers (snap, Flatpak) cannot read that directory at all;
//! and `xdg-open` hands a local `.html` file to whatever opens HTML, not always a browser.

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
use crate::server::peer;

/// How long the browser may take to ask for the page.
pub(crate) const WAIT: Duration = Duration::from_mins(2);

/// What happened on the way to the page, besides our browser getting it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Opened {
    /// The uids of other users who asked for the page and were refused (`None`: an asker whose
    /// socket was gone before it could be looked up). Worth telling: someone read the address
    /// from the browser's arguments.
    pub(crate) refused: Vec<Option<u32>>,
}

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
pub(crate) fn open(url: &Secret, env: &Env) -> Result<Opened, String> {
    hand_off(url, env, WAIT).map_err(|e| e.to_string())
}

/// `open`, waiting at most `wait` for the browser to ask for the page (the IAM Identity Center
/// sign-in, whose caller says nothing of refused askers: they are logged under `--debug`).
pub(crate) fn open_within(url: &Secret, env: &Env, wait: Duration) -> Result<(), OpenError> {
    hand_off(url, env, wait).map(drop)
}

/// Starts the browser on the one-time address and serves it the redirect to `url`, to our uid
/// only, within `wait`.
fn hand_off(url: &Secret, env: &Env, wait: Duration) -> Result<Opened, OpenError> {
    let not_started = OpenError::NotStarted;
    // Without the socket table nobody's request could be told from ours: better no browser
    // (the caller then shows the URL to us alone) than a page for whoever asks first.
    peer::check_available().map_err(|_| {
        not_started(
            "cannot tell which user asks for the local page: /proc/net/tcp cannot be read"
                .to_owned(),
        )
    })?;
    let server = Server::http("127.0.0.1:0")
        .map_err(|e| not_started(format!("cannot listen locally: {e}")))?;
    let ours = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| not_started("no local port".to_owned()))?;
    let port = ours.port();
    let uid = nix::unistd::getuid().as_raw();
    let mut opened = Opened::default();
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
            // Who asks is checked first: another user learns nothing, not even whether the
            // path was right.
            let asker = request
                .remote_addr()
                .and_then(|client| peer::client_uid(*client, ours));
            if asker != Some(uid) {
                log::debug!("refused the page to uid {asker:?}: not ours");
                // Once per asker: someone who keeps asking does not grow the list.
                if !opened.refused.contains(&asker) {
                    opened.refused.push(asker);
                }
                let _ = request.respond(Response::empty(403));
                continue;
            }
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
            return Ok(opened);
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
