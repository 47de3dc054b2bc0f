//! `vault use --agent`: the shell gets no credentials, only where to ask for them. Its SDKs
//! ask the per-user agent (`cmd/agent`) through the container credential endpoint, with a
//! token kept in a private file; the shell's environment holds the endpoint's address, the
//! token file's path, the profile and region, and what the prompt reads. Nothing secret.
//!
//! The agent holds each profile's credentials once for every shell on it: a `use --agent`
//! of a profile it already serves makes no STS call. When it holds none (or `vault refresh`
//! asks for new ones), this process fetches them, where a prompt can reach the user, and
//! hands them over.

use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;

use super::agent::{self, Place, Registered, Request, Response, UseRequest, WireCredentials};
use super::credentials::{Fetch, config_origin, fetch, overrides};
use super::use_profile::{Value, push_region, state_script};
use crate::cli::{CredentialArgs, GlobalArgs};
use crate::config::Config;
use crate::config::credentials_file::{self, CredentialsFile};
use crate::creds::account::account_id;
use crate::ctx::{Ctx, Env};
use crate::error::Error;
use crate::prompt::time_left;
use crate::shell::ShellKind;
use crate::shell::state::{AGENT_PID, AGENT_STAMP, Saved};
use crate::visible::visible;

/// Set by the hook's function: the shell whose token this is (a command substitution's
/// subshell is vault's parent, not the shell).
const SHELL_PID: &str = "__VAULT_SHELL_PID";
const TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
/// The longest the hook's restore waits on STS: it runs before a command or prompt.
const RESTORE_DEADLINE: Duration = Duration::from_secs(2);

/// Why a token is asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// `vault use --agent`: the agent's credentials when it holds some, else fetch them here.
    Use,
    /// `vault refresh`: new credentials for every shell on the profile, asking what it must.
    Renew,
    /// The hook, when this shell's agent or token is gone: a token from the agent that runs
    /// now, without asking anything, and any STS call within 2 s.
    Restore,
}

/// The code that points this shell at the agent, and the line that says so.
pub(super) fn agent_code(
    profile: &str,
    credentials: &CredentialArgs,
    saved: &Saved,
    shell: ShellKind,
    global: &GlobalArgs,
    ctx: &Ctx,
    mode: Mode,
) -> Result<(String, String), Error> {
    // What the agent renews with, and this process fetches with: its window as AWS_MIN_TTL.
    let original = agent::with_renewal_window(&absolute_paths(&saved.original_env(&ctx.env)));
    let as_before = Ctx {
        env: original.clone(),
        ..ctx.clone()
    };
    // The profile must exist (with a suggestion when it does not), and gives the region.
    let config = Config::load(&original)?;
    let chain = config.resolve_chain(profile, &overrides(credentials), &original)?;
    let region = chain.target().region.clone();
    if mode != Mode::Restore
        && let Some(found) = default_credentials(&config, &original)
    {
        super::warn(&format!(
            "SDKs in this shell will use the [default] profile's credentials ({found}), not the \
             agent's: every SDK looks there first. Move them into a named profile (`vault import` \
             takes keys into the keystore)"
        ));
    }
    let flags = saved.flags().encode();
    let place = Place::of(&ctx.env)?;
    let mut request = UseRequest {
        key: key(profile, &flags, global, &original)?,
        profile: profile.to_owned(),
        flags,
        global: global.clone(),
        env: original.pairs(),
        shell_pid: shell_pid(ctx),
        renew: mode == Mode::Renew,
        credentials: None,
        account_id: None,
    };
    let mut response = agent::ask_or_start(&place, &Request::Use(Box::new(request.clone())))?;
    if let Response::NeedCredentials { held_until } = response {
        let now = ctx.clock.now().unix_timestamp();
        // A cached session must outlast the agent's renewal window (AWS_MIN_TTL above, or it
        // would be renewed at once), and end later than what the agent holds (or it would be
        // no renewal).
        let how = Fetch {
            min_ttl: held_until
                .and_then(|at| u64::try_from(at - now + 1).ok())
                .map(Duration::from_secs),
            deadline: (mode == Mode::Restore).then_some(RESTORE_DEADLINE),
            ..Fetch::default()
        };
        let (creds, chain) = fetch(profile, credentials, how, global, &as_before)?;
        if creds.expiration.is_none() {
            // The agent would hold long-term keys for as long as the shell lives.
            return Err(Error::Message(format!(
                "{} gives long-term keys that do not expire (no session), and the agent serves \
                 only temporary credentials; drop --no-session, or use plain `vault use {}`",
                visible(profile),
                visible(profile)
            )));
        }
        request.credentials = Some(WireCredentials::of(&creds));
        request.account_id = account_id(&chain);
        request.renew = false;
        response = agent::ask_or_start(&place, &Request::Use(Box::new(request)))?;
    }
    let Response::Registered(registered) = response else {
        return Err(agent::unexpected(&response));
    };
    let code = code_for(
        profile,
        &registered,
        region.as_ref(),
        saved,
        shell,
        &original,
    )?;
    if ctx.env.non_empty(TOKEN_FILE) != registered.token_file.to_str() {
        revoke_previous(ctx);
    }
    let now = ctx.clock.now();
    let left = registered
        .expires
        .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok())
        .map(|at| format!(", {} left", time_left((at - now).whole_seconds())))
        .unwrap_or_default();
    let region_text = region
        .map(|r| format!(" ({})", visible(&r)))
        .unwrap_or_default();
    let line = format!(
        "vault: using {}{region_text} through the agent{left}; it renews them, and no \
         credentials are in this shell",
        visible(profile)
    );
    Ok((code, line))
}

/// What in the `[default]` profile an SDK takes before the container endpoint: with
/// `AWS_PROFILE` unset, SDKs read the default profile's credentials first.
fn default_credentials(config: &Config, env: &Env) -> Option<String> {
    const SETTINGS: &[&str] = &[
        "aws_access_key_id",
        "credential_process",
        "role_arn",
        "sso_session",
        "sso_start_url",
        "web_identity_token_file",
    ];
    if let Some(section) = config.document().profile("default")
        && let Some(setting) = SETTINGS.iter().find(|key| section.get(key).is_some())
    {
        return Some(format!("{setting} in {}", config.path().display()));
    }
    let path = credentials_file::path_from_env(env)?;
    let text = std::fs::read_to_string(&path).ok()?;
    CredentialsFile::parse(&text)
        .profile("default")?
        .keys()
        .map(|_| format!("access keys in {}", path.display()))
}

/// Whether this shell's token is its own and the agent that made it still runs: if not, the
/// hook asks for a new one (`refresh --if-needed`).
pub(super) fn token_is_good(ctx: &Ctx) -> bool {
    let agent_alive = ctx
        .env
        .non_empty(AGENT_PID)
        .and_then(|pid| pid.parse().ok())
        .and_then(agent::Shell::find)
        .is_some();
    let ours = format!("{}-", shell_pid(ctx));
    let token_ours = ctx.env.non_empty(TOKEN_FILE).is_some_and(|file| {
        let file = std::path::Path::new(file);
        file.exists()
            && file
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(&ours))
    });
    agent_alive && token_ours
}

/// What makes two shells' credentials the same: the profile, the `use` flags, the keystore
/// (`--debug` aside), the config file and the endpoints.
fn key(profile: &str, flags: &str, global: &GlobalArgs, env: &Env) -> Result<String, Error> {
    let keystore = GlobalArgs {
        debug: false,
        ..absolute_globals(global, env)
    };
    let keystore = serde_json::to_string(&keystore).map_err(|e| Error::Message(e.to_string()))?;
    let mut parts = vec![profile, flags, &keystore];
    for name in [
        "AWS_CONFIG_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
    ] {
        parts.push(env.get(name).unwrap_or("-"));
    }
    Ok(parts.join("\n"))
}

/// Variables that name files: relative ones are made absolute, so that the agent (whose working
/// directory is `/`) and the key mean the files this shell means.
const PATH_VARIABLES: &[&str] = &[
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_VAULT_FILE_DIR",
    "AWS_VAULT_PASS_PASSWORD_STORE_DIR",
    "PASSWORD_STORE_DIR",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

fn absolute_paths(env: &Env) -> Env {
    let mut absolute_env = env.clone();
    for name in PATH_VARIABLES {
        if let Some(path) = env
            .non_empty(name)
            .map(|path| absolute(env, Path::new(path)))
            && let Some(path) = path.to_str()
        {
            absolute_env.set(name, Some(path));
        }
    }
    absolute_env
}

fn absolute_globals(global: &GlobalArgs, env: &Env) -> GlobalArgs {
    GlobalArgs {
        file_dir: global.file_dir.as_deref().map(|dir| absolute(env, dir)),
        pass_dir: global.pass_dir.as_deref().map(|dir| absolute(env, dir)),
        ..global.clone()
    }
}

/// `~/` read as vault reads it everywhere, then made absolute.
fn absolute(env: &Env, path: &Path) -> PathBuf {
    let path = env.expand_home(path);
    std::path::absolute(&path).unwrap_or(path)
}

fn code_for(
    profile: &str,
    registered: &Registered,
    region: Option<&String>,
    saved: &Saved,
    shell: ShellKind,
    original: &Env,
) -> Result<String, Error> {
    let token_file = registered.token_file.to_str().ok_or_else(|| {
        Error::Message("the agent's directory has a name that is not UTF-8".to_owned())
    })?;
    let stamp = registered.stamp.to_str().unwrap_or_default();
    let region_origin = config_origin(profile);
    let from_agent = "the vault agent";
    let mut values: Vec<Value<'_>> = vec![
        (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            Some(registered.url.clone()),
            from_agent,
        ),
        (TOKEN_FILE, Some(token_file.to_owned()), from_agent),
        (
            "AWS_VAULT",
            Some(profile.to_owned()),
            "the profile name on the command line",
        ),
        (
            AGENT_PID,
            Some(registered.agent_pid.to_string()),
            from_agent,
        ),
        (AGENT_STAMP, Some(stamp.to_owned()), from_agent),
    ];
    push_region(&mut values, region, original, &region_origin);
    state_script(&values, saved, shell)
}

/// Revokes the token `use --agent` gave this shell, if it has one: on `unuse`, and on a `use`
/// that replaces it. An agent that is gone has nothing left to revoke.
pub(super) fn revoke_previous(ctx: &Ctx) {
    let (Some(_), Some(file)) = (ctx.env.non_empty(AGENT_PID), ctx.env.non_empty(TOKEN_FILE))
    else {
        return;
    };
    let Ok(place) = Place::of(&ctx.env) else {
        return;
    };
    let request = Request::Revoke {
        token_file: file.into(),
        shell_pid: shell_pid(ctx),
    };
    if let Err(e) = agent::ask(&place, &request) {
        log::debug!("could not revoke this shell's agent token: {e}");
    }
}

/// The shell this token is for: the hook names it; else vault's parent.
fn shell_pid(ctx: &Ctx) -> i32 {
    ctx.env
        .non_empty(SHELL_PID)
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| i32::try_from(std::os::unix::process::parent_id()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_variables_reach_the_agent_absolute_with_home_read_as_vault_reads_it() {
        let env = Env::from_pairs([
            ("HOME", "/home/u"),
            ("AWS_CONFIG_FILE", "~/work/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "creds"),
            ("AWS_VAULT_FILE_DIR", "/keys"),
            ("AWS_REGION", "~/not-a-path"),
        ]);
        let absolute_env = absolute_paths(&env);
        assert_eq!(
            absolute_env.get("AWS_CONFIG_FILE"),
            Some("/home/u/work/config")
        );
        let cwd = std::path::absolute("creds").unwrap();
        assert_eq!(
            absolute_env.get("AWS_SHARED_CREDENTIALS_FILE"),
            cwd.to_str()
        );
        assert_eq!(absolute_env.get("AWS_VAULT_FILE_DIR"), Some("/keys"));
        assert_eq!(absolute_env.get("AWS_REGION"), Some("~/not-a-path"));
    }
}
