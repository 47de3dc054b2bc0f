//! The local set-up: which keystore vault picks and why, whether the passphrase cache works
//! here, whether the config file parses and its links resolve, plaintext keys in the
//! credentials file, and `AWS_*` variables that override what vault hands out.

use std::collections::BTreeSet;

use super::{Finding, and_list};
use crate::config::credentials_file::{self, CredentialsFile};
use crate::config::{Config, Overrides};
use crate::ctx::{Ctx, Env};
use crate::keystore::keys::{KeyKind, classify};
use crate::keystore::{self, AVAILABLE_BACKENDS, BackendOptions, DEFAULT_BACKEND, Keystore};

/// The findings, and the config for the network checks when it parsed.
pub(super) struct Setup {
    pub(super) findings: Vec<Finding>,
    pub(super) config: Option<Config>,
}

pub(super) fn check(options: &BackendOptions, ctx: &Ctx) -> Setup {
    let mut findings = Vec::new();
    let store = backend(options, ctx, &mut findings);
    // The names of stored long-term keys: a source_profile may name one with no section.
    let stored: Option<BTreeSet<String>> = store.as_ref().and_then(|store| {
        let keys = store.list().ok()?;
        Some(
            keys.into_iter()
                .filter(|key| matches!(classify(key), KeyKind::Credentials))
                .collect(),
        )
    });
    if store.as_ref().is_some_and(|s| s.backend() == "file") {
        findings.push(passphrase_cache(&ctx.env));
    }
    let config = config(&ctx.env, stored.as_ref(), &mut findings);
    findings.push(credentials_file(&ctx.env));
    environment(&ctx.env, super::super::use_aws_profile(ctx), &mut findings);
    Setup { findings, config }
}

/// Which backend opens, and why that one; `None` when it does not open.
fn backend(
    options: &BackendOptions,
    ctx: &Ctx,
    findings: &mut Vec<Finding>,
) -> Option<Box<dyn Keystore>> {
    let chosen = options.backend.as_deref().filter(|name| !name.is_empty());
    let why = match chosen {
        Some(name) if ctx.env.non_empty("AWS_VAULT_BACKEND") == Some(name) => {
            "chosen by AWS_VAULT_BACKEND".to_owned()
        }
        Some(_) => "chosen by --backend".to_owned(),
        None => String::new(),
    };
    let store = match keystore::open(options, ctx) {
        Ok(store) => store,
        Err(error) => {
            findings.push(Finding::problem(
                "keystore",
                format!("the keystore does not open: {error}"),
                format!(
                    "fix what that names, or choose another backend with AWS_VAULT_BACKEND ({} work in this build)",
                    AVAILABLE_BACKENDS.join(", ")
                ),
            ));
            return None;
        }
    };
    let name = store.backend();
    let why = if chosen.is_some() {
        why
    } else if name == DEFAULT_BACKEND {
        "the default, as it answers here".to_owned()
    } else {
        // Why the default was passed over, in the words its own opening gives.
        match keystore::open(&options.with_backend(DEFAULT_BACKEND), ctx) {
            Err(reason) => format!("the {DEFAULT_BACKEND} backend is not usable here: {reason}"),
            Ok(_) => "no AWS_VAULT_BACKEND is set".to_owned(),
        }
    };
    match store.list() {
        Ok(keys) => {
            let count = keys
                .iter()
                .filter(|key| matches!(classify(key), KeyKind::Credentials))
                .count();
            findings.push(Finding::ok(
                "keystore",
                format!(
                    "vault uses the {name} backend ({why}); it holds keys for {count} profile(s)"
                ),
            ));
            Some(store)
        }
        Err(error) => {
            findings.push(Finding::problem(
                "keystore",
                format!("the {name} backend ({why}) cannot list its keys: {error}"),
                "fix what that names, or choose another backend with AWS_VAULT_BACKEND",
            ));
            None
        }
    }
}

const PASSPHRASE_VAR: &str = "AWS_VAULT_FILE_PASSPHRASE";
const TTL_VAR: &str = "AWS_VAULT_FILE_PASSPHRASE_TTL";

/// Whether the file keystore's passphrase is asked once per while (kernel keyring) or on every
/// command.
fn passphrase_cache(env: &Env) -> Finding {
    if env.get(PASSPHRASE_VAR).is_some() {
        return Finding::note(
            "passphrase",
            format!(
                "the file keystore's passphrase comes from {PASSPHRASE_VAR}, so it is never asked or cached"
            ),
        );
    }
    match env.non_empty(TTL_VAR).map(crate::duration::parse) {
        Some(Err(error)) => {
            return Finding::problem(
                "passphrase",
                format!("{TTL_VAR} is not a duration: {error}"),
                format!("set {TTL_VAR} to a duration such as 15m or 1h, or unset it"),
            );
        }
        Some(Ok(ttl)) if ttl.is_zero() => {
            return Finding::note(
                "passphrase",
                format!(
                    "{TTL_VAR} is 0, so the passphrase is asked on every command that reads the keystore"
                ),
            );
        }
        _ => {}
    }
    kernel_cache()
}

#[cfg(target_os = "linux")]
fn kernel_cache() -> Finding {
    match keystore::kernel::session_keyring() {
        Ok(_) => Finding::ok(
            "passphrase",
            format!(
                "the kernel keyring keeps the passphrase between commands ({TTL_VAR} sets how long)"
            ),
        ),
        Err(reason) => Finding::note(
            "passphrase",
            format!(
                "the kernel keyring cannot keep the passphrase here ({reason}), so it is asked on every command that reads the keystore"
            ),
        ),
    }
}

#[cfg(not(target_os = "linux"))]
fn kernel_cache() -> Finding {
    Finding::note(
        "passphrase",
        "this system has no kernel keyring, so the passphrase is asked on every command that reads the keystore",
    )
}

/// The config file parses, and every profile's links resolve.
fn config(
    env: &Env,
    stored: Option<&BTreeSet<String>>,
    findings: &mut Vec<Finding>,
) -> Option<Config> {
    let config = match Config::load(env) {
        Ok(config) => config,
        Err(error) => {
            findings.push(Finding::problem(
                "config",
                error.to_string(),
                "correct the AWS config file as the message says",
            ));
            return None;
        }
    };
    let path = config.path().display().to_string();
    let names: Vec<String> = config.profile_names().map(str::to_owned).collect();
    let mut problems = BTreeSet::new();
    for name in &names {
        let chain = match config.resolve_chain(name, &Overrides::default(), env) {
            Ok(chain) => chain,
            Err(error) => {
                problems.insert((
                    error.to_string(),
                    format!("correct profile '{name}' in {path}"),
                ));
                continue;
            }
        };
        let Some(source) = chain.target().source_profile.as_deref() else {
            continue;
        };
        let is_stored = stored.is_some_and(|stored| stored.contains(source));
        // Unknown when the keystore did not open: its keys could be there.
        if config.has_profile(source) || is_stored || stored.is_none() {
            continue;
        }
        let close = crate::suggest::closest(source, names.iter().map(String::as_str));
        let hint = crate::config::close_names(&close);
        problems.insert((
            format!(
                "profile '{name}' has source_profile = {source}, but {path} has no such profile and no keys are stored for it{hint}"
            ),
            format!("correct source_profile in profile '{name}', or store keys for '{source}' with `vault add {source}`"),
        ));
    }
    if problems.is_empty() {
        let detail = if names.is_empty() {
            format!("{path} has no profiles yet")
        } else {
            format!(
                "{path} parses, and every source_profile, include_profile and sso_session of its {} profile(s) resolves",
                names.len()
            )
        };
        findings.push(Finding::ok("config", detail));
    }
    findings.extend(
        problems
            .into_iter()
            .map(|(detail, fix)| Finding::problem("config", detail, fix)),
    );
    Some(config)
}

/// Plaintext secret keys in the credentials file, by profile name only: no value is kept.
fn credentials_file(env: &Env) -> Finding {
    let Some(path) = credentials_file::path_from_env(env) else {
        return Finding::note(
            "credentials",
            "no HOME is set, so there is no ~/.aws/credentials to check",
        );
    };
    let shown = path.display();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Finding::ok(
                "credentials",
                format!("no plaintext keys: {shown} does not exist"),
            );
        }
        Err(error) => {
            return Finding::problem(
                "credentials",
                format!("cannot read {shown}: {error}"),
                format!("make {shown} readable by you, or remove it"),
            );
        }
    };
    let profiles = profiles_with_keys(&text);
    if profiles.is_empty() {
        return Finding::ok("credentials", format!("no plaintext keys in {shown}"));
    }
    let quoted: Vec<String> = profiles.iter().map(|p| format!("'{p}'")).collect();
    Finding::problem(
        "credentials",
        format!(
            "{shown} holds plaintext access keys for {}",
            and_list(&quoted)
        ),
        format!(
            "`vault import {}` moves them into the keystore and out of the file",
            profiles.join(" ")
        ),
    )
}

/// The profiles of a credentials file that hold a secret key, in file order (read by the
/// reader `vault import` uses).
fn profiles_with_keys(text: &str) -> Vec<String> {
    CredentialsFile::parse(text)
        .profiles()
        .into_iter()
        .filter(|p| {
            !p.missing_keys()
                .contains(&credentials_file::SECRET_ACCESS_KEY)
        })
        .map(|p| p.name.to_owned())
        .collect()
}

const CREDENTIAL_VARS: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];
const ENDPOINT_VARS: [&str; 5] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
];

/// `AWS_*` variables that take over from vault: keys, a profile, an endpoint.
fn environment(env: &Env, takes_aws_profile: bool, findings: &mut Vec<Finding>) {
    let before = findings.len();
    let keys: Vec<String> = CREDENTIAL_VARS
        .iter()
        .filter(|name| env.non_empty(name).is_some())
        .map(|name| (*name).to_owned())
        .collect();
    if !keys.is_empty() {
        match env.non_empty("AWS_VAULT") {
            Some(profile) => findings.push(Finding::ok(
                "env",
                format!("{} hold the credentials of profile '{profile}', from vault", and_list(&keys)),
            )),
            None => findings.push(Finding::problem(
                "env",
                format!(
                    "{} {} set in the environment, so the aws CLI and SDKs use those keys instead of vault's",
                    and_list(&keys),
                    if keys.len() == 1 { "is" } else { "are" }
                ),
                format!(
                    "`unset {}`, and remove the line that sets {} from your shell's startup files",
                    CREDENTIAL_VARS.join(" "),
                    if keys.len() == 1 { "it" } else { "them" }
                ),
            )),
        }
    }
    if let Some(profile) = env.non_empty("AWS_PROFILE") {
        let detail = if takes_aws_profile {
            format!(
                "AWS_PROFILE={profile} picks the profile of vault commands (AWS_VAULT_USE_AWS_PROFILE is on)"
            )
        } else {
            format!(
                "AWS_PROFILE={profile} is set: vault commands ignore it (AWS_VAULT_USE_AWS_PROFILE=1 makes them take it), while other tools read that profile's settings"
            )
        };
        findings.push(Finding::note("env", detail));
    }
    let ignored = env
        .non_empty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    for name in ENDPOINT_VARS {
        let Some(url) = env.non_empty(name) else {
            continue;
        };
        if ignored {
            findings.push(Finding::note(
                "env",
                format!(
                    "{name}={url} is set, and ignored as AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true"
                ),
            ));
            continue;
        }
        findings.push(Finding::problem(
            "env",
            format!("{name}={url} sends vault's AWS calls, and every other AWS tool's, to that address"),
            format!("`unset {name}`; to send one profile's calls there on purpose, write `endpoint_url = {url}` in its section of the AWS config file"),
        ));
    }
    if findings.len() == before {
        findings.push(Finding::ok(
            "env",
            "no AWS_ACCESS_KEY_ID, AWS_PROFILE or AWS_ENDPOINT_URL overrides vault here",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_section_and_never_by_value() {
        let text = "\
# a comment
[default]
aws_access_key_id = AKIA1
aws_secret_access_key = s3cret
[profile work]
region = eu-west-1
[other]
AWS_Secret_Access_Key=x
aws_secret_access_key=y
";
        assert_eq!(profiles_with_keys(text), ["default", "other"]);
    }

    #[test]
    fn vaults_own_keys_are_fine_and_anyone_elses_are_a_problem() {
        let verdicts = |pairs: &[(&str, &str)]| {
            let mut findings = Vec::new();
            environment(
                &Env::from_pairs(pairs.iter().copied()),
                false,
                &mut findings,
            );
            findings.iter().map(|f| f.ok).collect::<Vec<_>>()
        };
        assert_eq!(verdicts(&[]), [true]);
        assert_eq!(verdicts(&[("AWS_ACCESS_KEY_ID", "AKIA")]), [false]);
        assert_eq!(
            verdicts(&[("AWS_ACCESS_KEY_ID", "ASIA"), ("AWS_VAULT", "prod")]),
            [true]
        );
        assert_eq!(verdicts(&[("AWS_ENDPOINT_URL", "http://x")]), [false]);
        assert_eq!(
            verdicts(&[
                ("AWS_ENDPOINT_URL", "http://x"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
            ]),
            [true]
        );
    }
}
