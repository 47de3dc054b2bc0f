//! `vault sso populate`: one `[profile]` for every account and role an IAM Identity Center
//! sign-in can use, named by a template and appended to the AWS config without rewriting what
//! is there; profiles that exist are left alone. `--dry-run` prints them instead. Each gets a
//! region (`--region`, else the session's), so the aws CLI works with it at once.

use std::fmt::Write as _;

use super::{note, open_keystore, print};
use crate::cli::{GlobalArgs, SsoPopulateArgs};
use crate::config::Config;
use crate::creds::sso::SsoSession;
use crate::creds::{self, Request, SignInMode};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::visible::visible;

pub(crate) fn run(args: &SsoPopulateArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let config = Config::load(&ctx.env)?;
    let session = match &args.sso_session {
        Some(name) => name.clone(),
        None => only_session(&config)?,
    };
    let sso = SsoSession::named(&config, &session, &ctx.env)?;
    let keystore = open_keystore(global, ctx)?;
    let services = super::services::services(ctx, None);
    let request = Request {
        interactive: ctx.interactive,
        sign_in: SignInMode {
            device_code: args.use_device_code,
            print_url: args.stdout,
            share_cli_cache: global.share_cli_cache,
        },
        ..Request::default()
    };
    let region = args
        .region
        .clone()
        .unwrap_or_else(|| sso.sso_region.clone());
    let found = creds::sso_assignments(&services, &ctx.env, keystore.as_ref(), &sso, &request)?;
    check_value("--region", &region, |c| {
        c.is_ascii_alphanumeric() || c == '-'
    })?;
    let mut taken = std::collections::BTreeSet::new();
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for (account_id, account_name, role_name) in &found {
        // What the portal says goes into the config: it must be what AWS allows there, or a
        // newline could add lines of its own.
        check_value("an account id", account_id, |c| c.is_ascii_digit())?;
        check_value("a role name", role_name, |c| {
            c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
        })?;
        let mut name = profile_name(
            &args.template,
            account_id,
            account_name,
            role_name,
            &session,
        );
        // Two accounts whose names sanitise alike (or to nothing) stay apart by their ids.
        if name.is_empty() || name.starts_with('/') || name == "default" || taken.contains(&name) {
            name = profile_name(
                "{account_id}/{role_name}",
                account_id,
                account_name,
                role_name,
                &session,
            );
        }
        taken.insert(name.clone());
        // A profile without a region fails in the aws CLI ("You must specify a region").
        let keys = vec![
            ("sso_session".to_owned(), session.clone()),
            ("sso_account_id".to_owned(), account_id.clone()),
            ("sso_role_name".to_owned(), role_name.clone()),
            ("region".to_owned(), region.clone()),
        ];
        sections.push((name, keys));
    }
    if args.dry_run {
        let mut text = String::new();
        for (name, keys) in &sections {
            let exists = if config.has_profile(name) {
                " (exists; skipped)"
            } else {
                ""
            };
            let _ = writeln!(text, "[profile {name}]{exists}");
            for (key, value) in keys {
                let _ = writeln!(text, "{key} = {value}");
            }
            text.push('\n');
        }
        return print(&text);
    }
    let added = config.append_profiles(&sections)?;
    for name in &added {
        print(&format!("{name}\n"))?;
    }
    note(&format!(
        "Added {} profile(s) for [sso-session {}] to {}; {} existed already",
        added.len(),
        visible(&session),
        config.path().display(),
        sections.len() - added.len()
    ));
    Ok(())
}

/// Refuses a value that is empty or has a character outside `allowed`.
fn check_value(what: &str, value: &str, allowed: impl Fn(char) -> bool) -> Result<(), Error> {
    if !value.is_empty() && value.chars().all(allowed) {
        return Ok(());
    }
    Err(Error::Message(format!(
        "{what} '{}' cannot go into the AWS config; nothing was written",
        visible(value)
    )))
}

/// The one `[sso-session]` of the config, when `--sso-session` is not given.
fn only_session(config: &Config) -> Result<String, Error> {
    match config.sso_session_names().as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(Error::Usage(format!(
            "{} has no [sso-session] section; add one (sso_start_url, sso_region) or pass --sso-session",
            config.path().display()
        ))),
        many => Err(Error::Usage(format!(
            "{} has several [sso-session] sections ({}); pass --sso-session NAME",
            config.path().display(),
            many.join(", ")
        ))),
    }
}

/// The template filled in, then made a safe profile name: no spaces, brackets or other
/// characters an INI section name or a shell word would trip on.
fn profile_name(
    template: &str,
    account_id: &str,
    account_name: &str,
    role_name: &str,
    session: &str,
) -> String {
    let filled = template
        .replace("{account_name}", account_name)
        .replace("{account_id}", account_id)
        .replace("{role_name}", role_name)
        .replace("{session}", session);
    let safe: String = filled
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._/-@+".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    safe.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::profile_name;

    #[test]
    fn names_follow_the_template_and_are_safe_for_a_section_and_a_shell() {
        assert_eq!(
            profile_name("{account_name}/{role_name}", "1", "dev", "Admin", "s"),
            "dev/Admin"
        );
        assert_eq!(
            profile_name(
                "{session}-{account_id}-{role_name}",
                "111",
                "x",
                "Read Only",
                "corp"
            ),
            "corp-111-Read-Only"
        );
        assert_eq!(
            profile_name("{account_name}", "1", "Prod [EU] $x;", "r", "s"),
            "Prod--EU---x"
        );
    }
}
