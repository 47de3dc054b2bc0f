//! The agent itself (`vault agent serve`, started by the first `vault use --agent`): one
//! process per user that serves every `use --agent` shell.
//!
//! - An HTTP endpoint on 127.0.0.1 answers the SDKs as the container credential endpoint, to
//!   sockets of this uid only (`/proc/net/tcp`, as `exec --ec2-server`), for a token that
//!   belongs to a live shell.
//! - A Unix socket in the private directory takes the shell side's requests (register a token,
//!   revoke one, status, stop), from processes of this uid only (`SO_PEERCRED`).
//! - Each profile is a [`Served`]: held credentials renewed in the background before the SDKs'
//!   refresh windows, shared by every shell on that profile. When a renewal needs the user, its
//!   stamp file appears, which every such shell's prompt sees without a process.
//! - Once a second, tokens of shells that have exited are forgotten, profiles no shell uses are
//!   dropped with their credentials, and after a while with no token the agent leaves.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::place::Place;
use super::shells::Shell;
use super::wire::{self, Registered, Request, Response, TokenInfo, UseRequest};
use crate::cmd::credentials::overrides;
use crate::cmd::refresh::{Outcome, credential_args};
use crate::cmd::served::{Holding, Served};
use crate::config::Config;
use crate::creds::rfc3339_seconds;
use crate::ctx::{Clock, Ctx, Env};
use crate::error::Error;
use crate::fsutil;
use crate::secret::Secret;
use crate::server::{self, Listener, Reply};
use crate::shell::state::Saved;

/// How long the agent stays with no token before it leaves, unless `AWS_VAULT_AGENT_IDLE`
/// says otherwise.
const IDLE: Duration = Duration::from_mins(10);
const IDLE_VAR: &str = "AWS_VAULT_AGENT_IDLE";
/// How often shells that have exited are looked for.
const SWEEP: Duration = Duration::from_secs(1);
/// A request on the control socket must arrive within this.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

struct Agent {
    place: Place,
    url: String,
    uid: u32,
    idle: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    profiles: HashMap<String, Profile>,
    tokens: Vec<Token>,
    /// Numbers the stamp files.
    made: u64,
    /// Since when no token has been live.
    idle_since: Option<Instant>,
}

impl State {
    /// Forgets the token at `at`, and its profile when no other token uses it.
    fn forget(&mut self, at: usize) {
        let token = self.tokens.swap_remove(at);
        let _ = std::fs::remove_file(&token.file);
        log::debug!(
            "agent: token of shell {} for {} revoked (made {})",
            token.shell.pid(),
            token.profile,
            rfc3339_seconds(token.made)
        );
        if !self.tokens.iter().any(|other| other.key == token.key)
            && let Some(profile) = self.profiles.remove(&token.key)
        {
            // Nobody uses these credentials now: they go, and their renewals stop.
            profile.served.retire();
            let _ = std::fs::remove_file(&profile.stamp);
        }
        if self.tokens.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(Instant::now());
        }
    }

    fn forget_where(&mut self, wanted: impl Fn(&Token) -> bool) -> usize {
        let mut count = 0;
        while let Some(at) = self.tokens.iter().position(&wanted) {
            self.forget(at);
            count += 1;
        }
        count
    }
}

/// One profile's credentials, shared by the shells that use it.
struct Profile {
    served: Arc<Served>,
    stamp: std::path::PathBuf,
}

/// A shell's token. No `Debug`: it holds the secret.
struct Token {
    secret: Secret,
    key: String,
    profile: String,
    shell: Shell,
    file: std::path::PathBuf,
    made: OffsetDateTime,
}

pub(super) fn serve(ctx: &Ctx) -> Result<(), Error> {
    let place = Place::of(&ctx.env)?;
    place.prepare()?;
    let lock_path = place.lock();
    let lock = fsutil::open_lock_file(&lock_path)
        .map_err(|e| Error::io(format!("cannot open {}", lock_path.display()), e))?;
    if lock.try_lock().is_err() {
        log::debug!("agent: another vault agent is running");
        return Err(Error::Exit(super::ANOTHER_AGENT_RUNS));
    }
    // What an agent that was killed left behind: its socket, tokens no one can use, stamps.
    place.clear();
    let http = Listener::bind().map_err(|e| Error::io("cannot listen on 127.0.0.1", e))?;
    let socket = place.socket();
    let control = UnixListener::bind(&socket)
        .map_err(|e| Error::io(format!("cannot listen on {}", socket.display()), e))?;
    let _ = std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600));
    let idle = ctx
        .env
        .non_empty(IDLE_VAR)
        .and_then(|text| crate::duration::parse(text).ok())
        .unwrap_or(IDLE);
    let agent = Agent {
        place,
        url: format!("http://127.0.0.1:{}/", http.port()),
        uid: nix::unistd::geteuid().as_raw(),
        idle,
        state: Mutex::new(State {
            idle_since: Some(Instant::now()),
            ..State::default()
        }),
    };
    log::debug!("agent: serving on {} and {}", agent.url, socket.display());
    std::thread::scope(|scope| {
        let address = http.address();
        let agent = &agent;
        let http = &http;
        scope.spawn(move || http.serve("agent", &|request| agent.answer(request, address)));
        scope.spawn(move || agent.sweep_forever());
        for stream in control.incoming() {
            match stream {
                Ok(stream) => {
                    scope.spawn(move || agent.talk(stream));
                }
                Err(e) => log::debug!("agent: accept failed: {e}"),
            }
        }
    });
    drop(lock);
    Ok(())
}

impl Agent {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An SDK's request: only from this uid, only with a live shell's token.
    fn answer(&self, request: &server::Request, address: SocketAddr) -> Reply {
        if request.peer_uid(address) != Some(self.uid) {
            log::debug!("agent: refused a socket of another user");
            return server::message(403, "this endpoint answers only the user who runs it");
        }
        let presented = request.header("Authorization").unwrap_or_default();
        let served = {
            let mut state = self.lock();
            let Some(at) = state.tokens.iter().position(|token| {
                server::constant_time_eq(token.secret.expose().as_bytes(), presented.as_bytes())
            }) else {
                return server::message(403, "invalid or revoked Authorization token");
            };
            if !state.tokens[at].shell.alive() {
                state.forget(at);
                return server::message(403, "the shell this token was given to has exited");
            }
            let key = &state.tokens[at].key;
            match state.profiles.get(key) {
                Some(profile) => Arc::clone(&profile.served),
                None => return server::message(500, "the agent holds nothing for this token"),
            }
        };
        server::credentials_reply(request, &*served)
    }

    /// One request on the control socket, from a process of this uid.
    fn talk(&self, mut stream: UnixStream) {
        let peer =
            nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials);
        if peer.map(|cred| cred.uid()).ok() != Some(self.uid) {
            log::debug!("agent: refused a control connection of another user");
            return;
        }
        let _ = stream.set_read_timeout(Some(CONTROL_TIMEOUT));
        let _ = stream.set_write_timeout(Some(CONTROL_TIMEOUT));
        let request: Request = match wire::receive(&stream) {
            Ok(request) => request,
            Err(e) => {
                let _ = wire::send(
                    &mut stream,
                    &Response::Failed {
                        message: format!("the agent could not read the request: {e}"),
                    },
                );
                return;
            }
        };
        let response = match request {
            Request::Use(request) => self.register(*request),
            Request::Revoke {
                token_file,
                shell_pid,
            } => {
                let mut state = self.lock();
                let count = state.forget_where(|token| {
                    token.file == token_file
                        && (token.shell.pid() == shell_pid || !token.shell.alive())
                });
                Response::Revoked { count }
            }
            Request::Status => self.status(),
            Request::Stop => {
                let mut state = self.lock();
                let count = state.forget_where(|_| true);
                let _ = wire::send(&mut stream, &Response::Revoked { count });
                self.leave(&mut state);
            }
        };
        let _ = wire::send(&mut stream, &response);
    }

    /// A token for the shell, on credentials held or brought.
    fn register(&self, request: UseRequest) -> Response {
        let UseRequest {
            key,
            profile,
            flags,
            global,
            env,
            shell_pid,
            renew,
            credentials,
            account_id,
        } = request;
        let Some(shell) = Shell::find(shell_pid) else {
            return failed(format!("the shell (process {shell_pid}) is not running"));
        };
        // Everything slow (the config, for the settings roles are assumed with at `/role-arn/`)
        // comes before the lock that every SDK request takes.
        let brought = match credentials {
            None => None,
            Some(credentials) => {
                let Some(creds) = credentials.into_credentials() else {
                    return failed("the credentials' expiry is out of range".to_owned());
                };
                let env = Env::from_owned(env);
                let args = credential_args(&Saved::decode(&flags).unwrap_or_default());
                let config = match Config::load(&env).and_then(|config| {
                    config
                        .resolve_chain(&profile, &overrides(&args), &env)
                        .map(|chain| chain.target().clone())
                }) {
                    Ok(config) => config,
                    Err(e) => return failed(e.to_string()),
                };
                Some((creds, env, args, config))
            }
        };
        let mut state = self.lock();
        if let Some((creds, env, args, config)) = brought {
            let entry = match state.profiles.remove(&key) {
                Some(entry) => entry,
                None => self.new_profile(&mut state.made, profile.clone(), args, global, env),
            };
            entry.served.hold(creds, account_id, config);
            let _ = std::fs::remove_file(&entry.stamp);
            state.profiles.insert(key.clone(), entry);
        } else {
            let held = state
                .profiles
                .get(&key)
                .map(|p| (p.served.holding(), p.stamp.exists()));
            match held {
                Some((Holding::Expires(_) | Holding::Forever, false)) if !renew => {}
                held => {
                    return Response::NeedCredentials {
                        held_until: held
                            .and_then(|(holding, _)| holding.expires())
                            .map(OffsetDateTime::unix_timestamp),
                    };
                }
            }
        }
        let Some(entry) = state.profiles.get(&key) else {
            return failed("the profile was dropped while its token was made".to_owned());
        };
        let stamp = entry.stamp.clone();
        let expires = entry.served.holding().expires();
        let made = match self.new_token(key, profile, shell) {
            Ok(token) => token,
            Err(e) => return failed(format!("cannot write the token file: {e}")),
        };
        let registered = Registered {
            url: self.url.clone(),
            token_file: made.file.clone(),
            stamp,
            agent_pid: std::process::id(),
            expires: expires.map(OffsetDateTime::unix_timestamp),
        };
        state.tokens.push(made);
        state.idle_since = None;
        Response::Registered(registered)
    }

    fn new_profile(
        &self,
        made: &mut u64,
        profile: String,
        args: crate::cli::CredentialArgs,
        global: crate::cli::GlobalArgs,
        env: Env,
    ) -> Profile {
        *made += 1;
        let stamp = self.place.stamps().join(made.to_string());
        // Renewals never ask: the agent has no terminal. What needs the user is marked.
        let ctx = Ctx {
            env,
            interactive: false,
            show_waits: false,
            ..Ctx::from_process()
        };
        let served = Arc::new(Served::new(profile, args, global, ctx));
        let marked = stamp.clone();
        served.observe(Box::new(move |outcome| match outcome {
            Outcome::NeedsYou(why) => {
                let text = format!("{}\n", crate::visible::visible(why));
                let _ = fsutil::write_atomic(&marked, text.as_bytes(), 0o600);
            }
            Outcome::Done => {
                let _ = std::fs::remove_file(&marked);
            }
            Outcome::Retry(_) => {}
        }));
        Profile { served, stamp }
    }

    /// A new token, its file written (0600) before anyone is told of it.
    fn new_token(&self, key: String, profile: String, shell: Shell) -> io::Result<Token> {
        let secret = Secret::new(server::random_token(30)?);
        // Named after the shell, which the hook compares with its own pid.
        let folder = self.place.tokens();
        fsutil::create_private_dir(&folder)?;
        let file = folder.join(format!("{}-{}", shell.pid(), server::random_token(9)?));
        // A new name, written before anyone learns it: no rename needed, and no fsync, since
        // a token must not outlive the agent anyway (this keeps `use --agent` fast on a disk).
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)?
            .write_all(secret.expose().as_bytes())?;
        Ok(Token {
            secret,
            key,
            profile,
            shell,
            file,
            made: Clock::System.now(),
        })
    }

    fn status(&self) -> Response {
        let state = self.lock();
        let now = Clock::System.now();
        let tokens = state
            .tokens
            .iter()
            .map(|token| TokenInfo {
                profile: token.profile.clone(),
                shell_pid: token.shell.pid(),
                age_secs: (now - token.made).whole_seconds(),
                needs_you: state
                    .profiles
                    .get(&token.key)
                    .is_some_and(|p| p.stamp.exists()),
            })
            .collect();
        Response::Status {
            agent_pid: std::process::id(),
            tokens,
        }
    }

    /// Forgets the tokens of shells that have exited, and leaves after a while with none.
    fn sweep_forever(&self) {
        loop {
            std::thread::sleep(SWEEP);
            let mut state = self.lock();
            state.forget_where(|token| !token.shell.alive());
            if state
                .idle_since
                .is_some_and(|since| since.elapsed() >= self.idle)
            {
                log::debug!("agent: no shell has used it for {:?}; leaving", self.idle);
                self.leave(&mut state);
            }
        }
    }

    /// Removes every file and the socket, and ends the process. The state lock is held, so no
    /// request is answered in between.
    #[expect(
        clippy::disallowed_methods,
        reason = "the agent leaves from whichever thread finds it done; no caller is waiting"
    )]
    fn leave(&self, _state: &mut State) -> ! {
        self.place.remove_all();
        std::process::exit(0);
    }
}

fn failed(message: String) -> Response {
    Response::Failed { message }
}
