//! `vault exec PROFILE [-- CMD ARGS…]`: run a command with credentials in its environment
//! (reference §1.3, §2). The command replaces vault (`execve`); where that fails it runs as a
//! child that gets our signals and whose exit code we return.

use std::ffi::OsString;
use std::io::IsTerminal;

use super::credentials::fetch;
use super::export;
use crate::child;
use crate::cli::{ExecArgs, ExportFormat, GlobalArgs};
use crate::ctx::{Ctx, inherited_environment};
use crate::error::Error;

/// Removed from the child's environment in every mode (reference §2.1).
const REMOVED: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_FILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_PROFILE",
    "AWS_SDK_LOAD_CONFIG",
    // A shell's `vault use` state describes that shell's profile, not this command's.
    "VAULT_EXPIRES_AT",
    "VAULT_REFRESH_AT",
    "VAULT_CLOCK_BOOT",
    "__VAULT_STATE",
];

pub(crate) fn run(args: &ExecArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let (creds, chain) = fetch(&args.profile, &args.credentials, None, global, ctx)?;
    let target = chain.target();
    if args.json {
        let text = export::render(
            ExportFormat::Json,
            &args.profile,
            &creds,
            target.region.as_deref(),
        );
        return super::print(&text);
    }
    let mut set: Vec<(&str, String)> = vec![("AWS_VAULT", args.profile.clone())];
    set.extend(export::env_pairs(&creds, target.region.as_deref()));
    if let Some(endpoint) = &target.endpoint_url {
        set.push(("AWS_ENDPOINT_URL", endpoint.clone()));
    }
    let mut env: Vec<(OsString, OsString)> = inherited_environment()
        .into_iter()
        .filter(|(name, _)| {
            let name = name.to_string_lossy();
            !REMOVED.contains(&name.as_ref()) && !set.iter().any(|(k, _)| *k == name)
        })
        .collect();
    env.extend(
        set.into_iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v))),
    );

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
        "running {} with the credentials of {}",
        program.display(),
        args.profile
    );
    crate::keystore::detach_from_shared_keyring();
    let reason = child::replace_process(&program, &command, &env);
    log::debug!("execve failed ({reason}); running the command as a child instead");
    let code = child::run_forwarding_signals(&program, &command, &env)?;
    Err(Error::Exit(code))
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
