//! `vault remove PROFILE` (alias `rm`): delete a profile's long-term keys, or with the hidden
//! `--sessions-only` its cached sessions (docs/aws-vault.md §1.3 `remove`).

use std::fmt::Write as _;

use super::{open_keystore, print, warn};
use crate::cli::{GlobalArgs, RemoveArgs};
use crate::config::{Config, Overrides};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::keystore::Keystore;
use crate::keystore::keys::{KeyKind, classify};
use crate::keystore::sessions::remove_sessions_of;
use crate::suggest;
use crate::tty;

pub(crate) fn run(args: &RemoveArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let profile = &super::required_profile(args.profile.as_deref(), global, ctx, "remove")?;
    let keystore = open_keystore(global, ctx)?;
    if args.sessions_only {
        let deleted = remove_sessions_of(keystore.as_ref(), profile)?;
        return print(&format!("Deleted {deleted} sessions.\n"));
    }
    let stored: Vec<String> = keystore
        .list()?
        .into_iter()
        .filter(|key| classify(key) == KeyKind::Credentials)
        .collect();
    if !stored.iter().any(|key| key == profile) {
        return Err(not_stored(profile, &stored, ctx));
    }
    if !args.force {
        let question = format!("Delete credentials for profile \"{profile}\"? (y|N) ");
        let confirmed = tty::confirm(&question).map_err(|err| {
            Error::Message(format!("{err}; pass --force to remove without asking"))
        })?;
        if !confirmed {
            warn("nothing was deleted");
            return Ok(());
        }
    }
    keystore.remove(profile)?;
    print("Deleted credentials.\n")?;
    let deleted = remove_sessions_made_from(keystore.as_ref(), profile, ctx)?;
    if deleted > 0 {
        super::note(&format!(
            "vault: also deleted {deleted} cached role sessions made with these keys"
        ));
    }
    Ok(())
}

/// Deletes the cached sessions of every profile whose `source_profile` chain reaches `source`
/// (the roles assumed with its keys), and returns how many. The source's own sessions are
/// left to the caller: aws-vault's `remove` keeps them, `rotate` deletes them itself.
pub(super) fn remove_sessions_made_from(
    keystore: &dyn Keystore,
    source: &str,
    ctx: &Ctx,
) -> Result<usize, Error> {
    // A config that cannot be read names no dependents; the command itself already worked.
    let Ok(config) = Config::load(&ctx.env) else {
        return Ok(0);
    };
    let mut deleted = 0;
    for name in config.profile_names().filter(|name| *name != source) {
        let Ok(chain) = config.resolve_chain(name, &Overrides::default(), &ctx.env) else {
            continue;
        };
        if chain.profiles.iter().skip(1).any(|p| p.name == source) {
            deleted += remove_sessions_of(keystore, name)?;
        }
    }
    Ok(deleted)
}

fn not_stored(profile: &str, stored: &[String], ctx: &Ctx) -> Error {
    // The config only improves the suggestions, so a broken one does not stop a removal.
    let config = Config::load(&ctx.env).ok();
    let in_config = config.as_ref().is_some_and(|c| c.has_profile(profile));
    let candidates = stored.iter().map(String::as_str);
    let suggestions = suggest::closest(profile, candidates);
    let mut message = format!("no credentials are stored for profile '{profile}'");
    if in_config {
        message.push_str(" (it is in the AWS config file, but its keys are not in this keystore)");
    }
    match suggestions.as_slice() {
        [] => message.push_str("; run `vault list --credentials` to see what is stored"),
        names => {
            let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
            let _ = write!(message, "; did you mean {}?", quoted.join(" or "));
        }
    }
    Error::Message(message)
}
