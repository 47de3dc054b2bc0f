//! `vault remove PROFILE` (alias `rm`): delete a profile's long-term keys, or with the hidden
//! `--sessions-only` its cached sessions (docs/aws-vault.md §1.3 `remove`).

use std::fmt::Write as _;

use super::{open_keystore, print, warn};
use crate::cli::{GlobalArgs, RemoveArgs};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::Error;
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
    print("Deleted credentials.\n")
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
