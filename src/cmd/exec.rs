//! `vault exec PROFILE [-- CMD ARGS…]`: run a command with credentials in its environment
//! (docs/aws-vault.md §1.3, §2). The command replaces vault (`execve`); where that fails it runs as
//! a child that gets our signals and whose exit code we return.

use std::ffi::OsString;
use std::io::IsTerminal;

use std::sync::mpsc;

use super::credentials::{
    Fetch, check_credential_values, check_values, config_origin, fetch, overrides,
};
use super::export;
use super::served::Served;
use crate::child;
use crate::cli::{ExecArgs, ExportFormat, GlobalArgs};
use crate::config::ProfileChain;
use crate::creds::rfc3339_seconds;
use crate::ctx::{Ctx, inherited_environment};
use crate::error::Error;
use crate::server::{EcsServer, Endpoint, ImdsOptions, ImdsServer, no_proxy_additions};
use crate::shell::state::{CLOCK_BOOT, EXPIRES_AT};

/// Removed from the child's environment in every mode (docs/aws-vault.md §2.1).
const REMOVED: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_FILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_PROFILE",
    "AWS_SDK_LOAD_CONFIG",
    // Another profile's expiry (a `vault use` shell's) must not reach the command: `exec` sets
    // its own, and `--server` none, since the server renews.
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    // A shell's `vault use` state describes that shell's profile, not this command's.
    "VAULT_EXPIRES_AT",
    "VAULT_REFRESH_AT",
    "VAULT_CLOCK_BOOT",
    "__VAULT_STATE",
    // A `use --agent` shell's agent serves that shell, not this command.
    "VAULT_AGENT_PID",
    "VAULT_AGENT_STAMP",
    // What unlocks a keystore, and with it every long-term key: the command needs none of it.
    "AWS_VAULT_FILE_PASSPHRASE",
    "AWS_VAULT_OP_CONNECT_TOKEN",
    "AWS_VAULT_OP_SERVICE_ACCOUNT_TOKEN",
    "PROTON_PASS_PERSONAL_ACCESS_TOKEN",
];

/// Also removed: container-credential settings from outside, which SDKs would prefer to ours.
const CONTAINER_VARIABLES: &[&str] = &[
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// Removed for `--ec2-server`: the container settings (SDKs ask a container endpoint before the
/// metadata one), and the switch that turns the metadata endpoint off.
const METADATA_VARIABLES: &[&str] = &[
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
];

pub(crate) fn run(args: &ExecArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let profile = &super::required_profile(args.profile.as_deref(), global, ctx, "exec")?;
    if args.server || args.ecs_server || args.ec2_server {
        return run_with_server(profile, args, global, ctx);
    }
    if args.lazy {
        return Err(Error::Usage(
            "--lazy only works with --server (--ecs-server) or --ec2-server".to_owned(),
        ));
    }
    let how = Fetch {
        print_url: args.stdout,
        ..Fetch::default()
    };
    let (creds, chain) = fetch(profile, &args.credentials, how, global, ctx)?;
    let target = chain.target();
    let mut set = export::env_pairs(&creds, target.region.as_deref());
    check_credential_values(&set, &chain, args.credentials.no_session)?;
    if args.json {
        let text = export::render(
            ExportFormat::Json,
            profile,
            &creds,
            target.region.as_deref(),
            crate::creds::account::account_id(&chain).as_deref(),
        );
        return super::print(&text);
    }
    if let Some(expiration) = creds.expiration {
        // Hooked shells started by `exec` show the countdown from these, with no process.
        let at = expiration.unix_timestamp();
        set.push(("AWS_SESSION_EXPIRATION", rfc3339_seconds(expiration)));
        set.push((EXPIRES_AT, at.to_string()));
        let now = ctx.clock.now().unix_timestamp();
        if let Some(boot) = super::use_profile::boot_time(now) {
            set.push((CLOCK_BOOT, boot.to_string()));
        }
    }
    let mut from_config = vec![("AWS_VAULT", profile.to_owned())];
    if let Some(endpoint) = &target.endpoint_url {
        from_config.push(("AWS_ENDPOINT_URL", endpoint.clone()));
    }
    check_values(&from_config, &config_origin(profile))?;
    set.extend(from_config);
    // The agent's endpoint of a `use --agent` shell: keys in the environment come first in every
    // SDK, but a command that drops them must not fall back to the shell's profile.
    let agent_shell = ctx.env.non_empty("VAULT_AGENT_PID").is_some();
    let env = child_environment(
        set,
        if agent_shell {
            CONTAINER_VARIABLES
        } else {
            &[]
        },
    );
    let (program, command) = program_and_command(profile, args, global, ctx, &env)?;
    crate::keystore::detach_from_shared_keyring();
    let reason = child::replace_process(&program, &command, &env);
    log::debug!("execve failed ({reason}); running the command as a child instead");
    let code = child::run_forwarding_signals(&program, &command, &env)?;
    Err(Error::Exit(code))
}

/// `exec --server` and `exec --ec2-server`: the command gets a local credential endpoint (and
/// the ECS one its token), no keys, and runs as our child for as long as the endpoint must
/// answer.
fn run_with_server(
    profile: &str,
    args: &ExecArgs,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<(), Error> {
    let flag = if args.ec2_server {
        "--ec2-server"
    } else {
        "--server"
    };
    if args.json {
        return Err(Error::Usage(format!(
            "{flag} and --json cannot be used together"
        )));
    }
    if args.credentials.no_session {
        return Err(Error::Usage(format!(
            "{flag} hands out temporary credentials, renewed as they expire; it cannot serve long-term keys (--no-session)"
        )));
    }
    // The region and endpoint the command gets come from the config, before any STS call.
    let config = crate::config::Config::load(&ctx.env)?;
    let overrides = overrides(&args.credentials);
    let chain = config.resolve_chain(profile, &overrides, &ctx.env)?;
    let target = chain.target();
    let (endpoint, removed) = endpoint(args, &chain, ctx)?;

    let mut set: Vec<(&str, String)> = vec![("AWS_VAULT", profile.to_owned())];
    set.extend(endpoint.child_variables());
    if let Some(region) = &target.region {
        set.push(("AWS_REGION", region.clone()));
        set.push(("AWS_DEFAULT_REGION", region.clone()));
    }
    if let Some(url) = &target.endpoint_url {
        set.push(("AWS_ENDPOINT_URL", url.clone()));
    }
    check_values(&set, &config_origin(profile))?;
    set.extend(no_proxy_additions(&inherited_environment()));

    let source = Served::new(
        profile.to_owned(),
        args.credentials.clone(),
        global.clone(),
        ctx.clone(),
    );
    let lazy = args.lazy;
    let (ready, ready_wait) = mpsc::channel::<Result<(), String>>();
    std::thread::spawn(move || {
        // Signals are for the command (the main thread forwards them), never for this thread.
        child::block_forwarded_signals();
        let first = if lazy { Ok(()) } else { source.prefetch() };
        let failed = first.is_err();
        let _ = ready.send(first.map_err(|e| e.to_string()));
        if !failed {
            endpoint.serve(&source);
        }
    });
    ready_wait
        .recv()
        .map_err(|_| Error::Message("the credential server stopped before it started".to_owned()))?
        .map_err(Error::Message)?;

    let env = child_environment(set, removed);
    let (program, command) = program_and_command(profile, args, global, ctx, &env)?;
    log::debug!("credential server for {profile} started");
    crate::keystore::detach_from_shared_keyring();
    let code = child::run_forwarding_signals(&program, &command, &env)?;
    Err(Error::Exit(code))
}

/// The endpoint the flags ask for, and the variables from outside that would lead the
/// command's SDKs elsewhere.
fn endpoint(
    args: &ExecArgs,
    chain: &ProfileChain,
    ctx: &Ctx,
) -> Result<(Box<dyn Endpoint>, &'static [&'static str]), Error> {
    if !args.ec2_server {
        let server =
            EcsServer::bind().map_err(|e| Error::io("cannot start the credential server", e))?;
        return Ok((Box::new(server), CONTAINER_VARIABLES));
    }
    let options = ImdsOptions {
        v2_only: args.imds_v2_only,
        region: chain.target().region.clone(),
        // As `export --format json` and `--server` tell it.
        account_id: crate::creds::account::account_id(chain),
        clock: ctx.clock,
    };
    let server =
        ImdsServer::bind(options).map_err(|e| Error::io("cannot start the metadata server", e))?;
    Ok((Box::new(server), METADATA_VARIABLES))
}

/// Our environment without what must not leak into the command, plus `set`.
fn child_environment(set: Vec<(&str, String)>, also_removed: &[&str]) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = inherited_environment()
        .into_iter()
        .filter(|(name, _)| {
            let name = name.to_string_lossy();
            !REMOVED.contains(&name.as_ref())
                && !also_removed.contains(&name.as_ref())
                && !set.iter().any(|(k, _)| *k == name)
        })
        .collect();
    env.extend(
        set.into_iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v))),
    );
    env
}

/// The program to run (found on the command's PATH) and its command line, saying that a
/// subshell starts when no command was given, as aws-vault does.
fn program_and_command(
    profile: &str,
    args: &ExecArgs,
    global: &GlobalArgs,
    ctx: &Ctx,
    env: &[(OsString, OsString)],
) -> Result<(std::path::PathBuf, Vec<OsString>), Error> {
    let command = command_line(args, ctx);
    let help_wanted = ctx.env.get("AWS_VAULT_DISABLE_HELP_MESSAGE") != Some("1");
    if args.command.is_empty() && help_wanted && !global.debug && std::io::stdout().is_terminal() {
        super::note(&format!(
            "Starting subshell {}, use `exit` to exit the subshell",
            command[0].to_string_lossy()
        ));
    }
    let path_var = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_os_str());
    let program = child::resolve(&command[0], path_var)?;
    log::debug!(
        "running {} with the credentials of {profile}",
        program.display()
    );
    Ok((program, command))
}

/// The command to run: the arguments after the profile, else `$SHELL`, else `/bin/sh`.
fn command_line(args: &ExecArgs, ctx: &Ctx) -> Vec<OsString> {
    if args.command.is_empty() {
        let shell = ctx.env.non_empty("SHELL").unwrap_or("/bin/sh");
        vec![OsString::from(shell)]
    } else {
        args.command.clone()
    }
}
