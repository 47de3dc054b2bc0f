//! One handler per subcommand, and the single dispatch `match`.
//!
//! Handlers decide what goes to stdout (the data asked for, and aws-vault's confirmation
//! lines, which scripts grep) and to stderr (warnings). Prompts go to the terminal.

mod add;
mod agent;
mod clear;
mod credentials;
mod doctor;
mod exec;
mod export;
mod hook;
mod import;
mod list;
mod login;
mod migrate;
mod picker;
mod prompt;
mod refresh;
mod remove;
mod rotate;
mod served;
mod services;
mod sso;
mod sso_populate;
mod use_agent;
mod use_profile;
mod waiting;

use std::io::{self, Write};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::keystore::{self, BackendOptions, Keystore, PassOptions};
use crate::visible::visible_lines;

pub(crate) fn run(cli: &Cli, ctx: &Ctx) -> Result<(), Error> {
    match &cli.command {
        Command::Add(args) => add::run(args, &cli.global, ctx),
        Command::Agent(command) => agent::run(command, ctx),
        Command::Clear(args) => clear::run(args, &cli.global, ctx),
        Command::Completion(args) => print(&crate::shell::completion(args.shell, "vault")),
        Command::Doctor(args) => doctor::run(args, &cli.global, ctx),
        Command::Exec(args) => exec::run(args, &cli.global, ctx),
        Command::Export(args) => export::run(args, &cli.global, ctx),
        Command::Hook(args) => hook::run(args, ctx),
        Command::Import(args) => import::run(args, &cli.global, ctx),
        Command::List(args) => list::run(args, &cli.global, ctx),
        Command::Login(args) => login::run(args, &cli.global, ctx),
        Command::Migrate(args) => migrate::run(args, &cli.global, ctx),
        Command::Prompt(args) => prompt::run(args, ctx),
        Command::Refresh(args) => refresh::run(args, &cli.global, ctx),
        Command::Remove(args) => remove::run(args, &cli.global, ctx),
        Command::Rotate(args) => rotate::run(args, &cli.global, ctx),
        Command::Sso(command) => sso::run(command, &cli.global, ctx),
        Command::Unuse(args) => use_profile::unuse(args, ctx),
        Command::Use(args) => use_profile::use_profile(args, &cli.global, ctx),
        Command::Version => print(&format!("vault {}\n", env!("CARGO_PKG_VERSION"))),
    }
}

/// The profile a command acts on: its PROFILE argument or `--profile` (naming the same one twice
/// is fine, two different ones a usage error), else `AWS_PROFILE` when
/// `AWS_VAULT_USE_AWS_PROFILE` turns that on. A stray `AWS_PROFILE` never picks credentials
/// silently.
fn chosen_profile(
    positional: Option<&str>,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<Option<String>, Error> {
    Ok(explicit_profile(positional, global)?.or_else(|| {
        use_aws_profile(ctx)
            .then(|| ctx.env.non_empty("AWS_PROFILE").map(str::to_owned))
            .flatten()
    }))
}

/// The profile named on the command line, as an argument or with `--profile`.
fn explicit_profile(
    positional: Option<&str>,
    global: &GlobalArgs,
) -> Result<Option<String>, Error> {
    match (positional, global.profile.as_deref()) {
        (Some(a), Some(b)) if a != b => Err(Error::Usage(format!(
            "two profiles given: '{a}' as the argument and '{b}' with --profile; give one"
        ))),
        (Some(name), _) | (None, Some(name)) => Ok(Some(name.to_owned())),
        (None, None) => Ok(None),
    }
}

/// `AWS_VAULT_USE_AWS_PROFILE`: 1, true or yes.
fn use_aws_profile(ctx: &Ctx) -> bool {
    ctx.env
        .non_empty(USE_AWS_PROFILE)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

pub(crate) const USE_AWS_PROFILE: &str = "AWS_VAULT_USE_AWS_PROFILE";

/// `chosen_profile` for a command that cannot go on without one.
fn required_profile(
    positional: Option<&str>,
    global: &GlobalArgs,
    ctx: &Ctx,
    command: &str,
) -> Result<String, Error> {
    if let Some(profile) = chosen_profile(positional, global, ctx)? {
        return Ok(profile);
    }
    if PICKED.contains(&command)
        && let Some(profile) = picker::pick(command, ctx)?
    {
        return Ok(profile);
    }
    Err(Error::Usage(format!(
        "name a profile: `vault {command} PROFILE` or `vault {command} --profile PROFILE` (set {USE_AWS_PROFILE}=1 to take AWS_PROFILE)"
    )))
}

/// The commands that open the profile picker on a terminal when no profile is named (and
/// `login`, without keys in the environment either).
const PICKED: &[&str] = &["exec", "export", "rotate", "use"];

fn open_keystore(global: &GlobalArgs, ctx: &Ctx) -> Result<Box<dyn Keystore>, Error> {
    Ok(keystore::open(&backend_options(global, ctx), ctx)?)
}

fn backend_options(global: &GlobalArgs, ctx: &Ctx) -> BackendOptions {
    BackendOptions {
        backend: global.backend.clone(),
        file_dir: global.file_dir.clone(),
        secret_service_collection: global.secret_service_collection.clone(),
        keyctl_scope: global.keyctl_scope.clone(),
        pass: PassOptions {
            dir: global.pass_dir.clone(),
            command: global.pass_cmd.clone(),
            prefix: global.pass_prefix.clone(),
        },
        interactive: ctx.interactive,
    }
}

/// `AWS_VAULT_QUIET`: no line that only tells what vault did or waits for (errors and
/// warnings still show).
fn quiet(ctx: &Ctx) -> bool {
    matches!(ctx.env.non_empty("AWS_VAULT_QUIET"), Some(v) if v != "0")
}

/// Writes `text` to stdout, for what runs before any command (the manual page).
pub(crate) fn print_text(text: &str) -> Result<(), Error> {
    print(text)
}

/// Writes `text` to stdout; a closed pipe ends the program quietly (see `Error`).
fn print(text: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("cannot write to stdout", e))
}

/// A message on stderr, as aws-vault words it. Control characters from input are made
/// visible here, so no profile name reaches the terminal raw.
fn note(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{}", visible_lines(text));
}

/// A warning on stderr.
fn warn(text: &str) {
    let _ = writeln!(
        io::stderr().lock(),
        "vault: warning: {}",
        visible_lines(text)
    );
}
