//! `vault migrate --from B --to B`: copy stored long-term keys between backends.
//!
//! Each key is copied, read back from the target and compared before anything else happens to
//! it, and only then, with `--delete-source`, removed from the source. So a migrate stopped at
//! any point (a crash, kill -9, a full disk) leaves every key in at least one store, whole.
//!
//! Only long-term keys move: cached sessions and SSO tokens are caches, made again on demand.

use super::{backend_options, note, print, warn};
use crate::cli::{GlobalArgs, MigrateArgs};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::keystore::keys::{KeyKind, classify};
use crate::keystore::{self, Keystore};

pub(crate) fn run(args: &MigrateArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    if args.from == args.to {
        return Err(Error::Usage(format!(
            "--from and --to are both {:?}; name two different backends",
            args.from
        )));
    }
    let options = backend_options(global, ctx);
    let source = keystore::open(&options.with_backend(&args.from), ctx)?;
    let target = keystore::open(&options.with_backend(&args.to), ctx)?;
    let keys = keys_to_copy(source.as_ref(), global.profile.as_deref(), &args.from)?;
    if keys.is_empty() {
        note(&format!("No stored keys in the {} keystore.", args.from));
        return Ok(());
    }
    // Each key costs a read, a write and a read-back: say up front how many there are.
    if keys.len() > 10 {
        note(&format!(
            "vault: copying {} keys from the {} keystore to the {} keystore; each is reported as it is done",
            keys.len(),
            args.from,
            args.to
        ));
    }
    let target_keys = target.list()?;
    let mut conflicts = Vec::new();
    let mut damaged = Vec::new();
    for key in &keys {
        let held = target_keys.contains(key);
        match copy_one(source.as_ref(), target.as_ref(), key, held, args) {
            Ok(Outcome::Conflict) => conflicts.push(key.clone()),
            Ok(Outcome::Done(line)) => print(&line)?,
            // One unreadable item must not keep the others where they are.
            Err(Error::Keystore(err @ keystore::Error::Damaged { .. })) => {
                warn(&format!("{err}; it was not copied"));
                damaged.push(key.clone());
            }
            Err(err) => return Err(err),
        }
    }
    if !conflicts.is_empty() {
        return Err(Error::Message(format!(
            "the {} keystore already holds different keys for {}; nothing was changed for them (rerun with --overwrite to replace them)",
            args.to,
            conflicts.join(", ")
        )));
    }
    if !damaged.is_empty() {
        return Err(Error::Message(format!(
            "{} could not be read in the {} keystore and {} not copied; the rest were",
            damaged.join(", "),
            args.from,
            if damaged.len() == 1 { "was" } else { "were" }
        )));
    }
    Ok(())
}

enum Outcome {
    /// What happened, as a line for stdout.
    Done(String),
    /// The target holds other values under this key, and `--overwrite` was not given.
    Conflict,
}

fn copy_one(
    source: &dyn Keystore,
    target: &dyn Keystore,
    key: &str,
    held_by_target: bool,
    args: &MigrateArgs,
) -> Result<Outcome, Error> {
    let (from, to) = (&args.from, &args.to);
    let item = source.get(key)?;
    let same_in_target = held_by_target && target.get(key).is_ok_and(|t| t.data == item.data);
    if held_by_target && !same_in_target && !args.overwrite {
        return Ok(Outcome::Conflict);
    }
    let removal = match (args.delete_source, args.dry_run) {
        (false, _) => String::new(),
        (true, false) => format!(" and removed from {from}"),
        (true, true) => format!(" and would be removed from {from}"),
    };
    if args.dry_run {
        let verb = if same_in_target {
            "is already in"
        } else {
            "would be copied to"
        };
        return Ok(Outcome::Done(format!(
            "{key}: {verb} {to}{removal} (dry run)\n"
        )));
    }
    if !same_in_target {
        target.set(&item)?;
        let copy = target.get(key)?;
        if copy.data != item.data {
            return Err(Error::Message(format!(
                "the copy of {key} in the {to} keystore does not match the original, so the original was kept in {from}"
            )));
        }
    }
    if args.delete_source {
        source.remove(key)?;
    }
    let verb = if same_in_target {
        "already in"
    } else {
        "copied to"
    };
    Ok(Outcome::Done(format!("{key}: {verb} {to}{removal}\n")))
}

/// The long-term keys to copy: all of them, or the one profile's.
fn keys_to_copy(
    source: &dyn Keystore,
    profile: Option<&str>,
    from: &str,
) -> Result<Vec<String>, Error> {
    let mut keys: Vec<String> = source
        .list()?
        .into_iter()
        .filter(|key| classify(key) == KeyKind::Credentials)
        .collect();
    keys.sort();
    keys.dedup();
    match profile {
        None => Ok(keys),
        Some(profile) if keys.iter().any(|k| k == profile) => Ok(vec![profile.to_owned()]),
        Some(profile) => Err(Error::Message(format!(
            "no keys are stored for profile '{profile}' in the {from} keystore; run `vault list --credentials --backend {from}` to see what is"
        ))),
    }
}
