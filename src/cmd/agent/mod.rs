//! `vault use --agent`'s agent: one process per user that serves the container credential
//! endpoint to every `use --agent` shell, so no secret sits in any environment. `daemon.rs`
//! is the agent, `client.rs` the shell side, `wire.rs` what they say, `place.rs` where its
//! files live and `shells.rs` how a token's shell is known. `vault agent status|stop` are here.

mod client;
mod daemon;
mod place;
mod shells;
mod wire;

use std::fmt::Write;
use std::time::{Duration, Instant};

pub(crate) use client::{ask, ask_or_start};
pub(crate) use place::Place;
pub(crate) use shells::Shell;
pub(crate) use wire::{Registered, Request, Response, UseRequest, WireCredentials};

use crate::cli::AgentCommand;
use crate::ctx::{Ctx, Env};
use crate::error::Error;
use crate::visible::visible;

/// The exit status of an agent that finds another running: its starter waits for that one.
const ANOTHER_AGENT_RUNS: u8 = 3;

/// The window the agent renews ahead of unless `AWS_MIN_TTL` says otherwise: botocore asks
/// again 15 minutes before expiry, the earliest of the SDKs, and must find new credentials then.
const SDK_REFRESH_WINDOW: &str = "15m";

/// `env` with the agent's renewal window as `AWS_MIN_TTL`, unless the user set one: the agent's
/// renewals start ahead of it, and no fetch for the agent takes a cached session that ends
/// within it.
pub(crate) fn with_renewal_window(env: &Env) -> Env {
    let mut env = env.clone();
    if env.non_empty("AWS_MIN_TTL").is_none() {
        env.set("AWS_MIN_TTL", Some(SDK_REFRESH_WINDOW));
    }
    env
}

pub(crate) fn run(command: &AgentCommand, ctx: &Ctx) -> Result<(), Error> {
    match command {
        AgentCommand::Serve => daemon::serve(ctx),
        AgentCommand::Status => status(ctx),
        AgentCommand::Stop => stop(ctx),
    }
}

fn status(ctx: &Ctx) -> Result<(), Error> {
    let place = Place::of(&ctx.env)?;
    let Some(response) = ask(&place, &Request::Status)? else {
        return super::print("no vault agent is running\n");
    };
    let Response::Status { agent_pid, tokens } = response else {
        return Err(unexpected(&response));
    };
    let mut text = format!(
        "vault agent {agent_pid}: {} live token{}\n",
        tokens.len(),
        if tokens.len() == 1 { "" } else { "s" }
    );
    if !tokens.is_empty() {
        let width = tokens
            .iter()
            .map(|t| visible(&t.profile).chars().count())
            .max()
            .unwrap_or(0)
            .max("PROFILE".len());
        let _ = writeln!(text, "{:<width$}  SHELL PID  AGE", "PROFILE");
        for token in &tokens {
            let mark = if token.needs_you {
                "  needs you: run vault refresh"
            } else {
                ""
            };
            let _ = writeln!(
                text,
                "{:<width$}  {:<9}  {}{mark}",
                visible(&token.profile),
                token.shell_pid,
                age(token.age_secs)
            );
        }
    }
    super::print(&text)
}

/// A token's age, written as the prompt writes time left.
fn age(secs: i64) -> String {
    if secs > 0 {
        crate::prompt::time_left(secs)
    } else {
        "0s".to_owned()
    }
}

fn stop(ctx: &Ctx) -> Result<(), Error> {
    let place = Place::of(&ctx.env)?;
    let response = match ask(&place, &Request::Stop) {
        Ok(Some(response)) => response,
        Ok(None) => {
            super::note("vault: no agent is running");
            return Ok(());
        }
        // A stopped (SIGSTOP) or wedged agent: the process behind the socket goes.
        Err(e) => {
            let Some(pid) = client::agent_pid(&place) else {
                return Err(e);
            };
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            place.remove_all();
            super::note(&format!(
                "vault: the agent (process {pid}) did not answer, so vault killed it; its tokens are gone with it"
            ));
            return Ok(());
        }
    };
    let Response::Revoked { count } = response else {
        return Err(unexpected(&response));
    };
    // The agent removes its files before it exits: wait for that, so nothing is left when
    // this returns.
    let deadline = Instant::now() + Duration::from_secs(5);
    while place.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if !super::quiet(ctx) {
        super::note(&format!(
            "vault: the agent stopped; {count} token{} revoked",
            if count == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

pub(crate) fn unexpected(response: &Response) -> Error {
    match response {
        Response::Failed { message } => Error::Message(format!("the vault agent: {message}")),
        _ => Error::Message("the vault agent gave an answer vault does not know".to_owned()),
    }
}
