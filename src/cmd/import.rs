//! `vault import [PROFILE…]`: move long-term keys from the plaintext credentials file into the
//! keystore (issue 17).
//!
//! The order is what makes a failure at any point (a crash, kill -9, a full disk) lose nothing:
//! every key is stored and read back first, then the config gets its `[profile]` sections, and
//! only then is the credentials file rewritten, atomically, without the keys. Until that rename
//! every key is still in the file; after it, every key is in the keystore. A rerun finds the
//! keys already stored and finishes the job.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use super::{open_keystore, print, warn};
use crate::cli::{GlobalArgs, ImportArgs};
use crate::config::Config;
use crate::config::credentials_file::{self, CredentialsFile, Profile};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::keystore::{self, Keystore, MasterCredentials};
use crate::secret::Secret;

pub(crate) fn run(args: &ImportArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let path = credentials_file::path_from_env(&ctx.env).ok_or_else(|| {
        Error::Message(
            "no HOME is set, so ~/.aws/credentials cannot be found; set HOME or AWS_SHARED_CREDENTIALS_FILE".to_owned(),
        )
    })?;
    let named = named_profiles(args, global);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound && named.is_empty() => {
            super::note(&format!(
                "There is no {}, so there is nothing to import.",
                path.display()
            ));
            return Ok(());
        }
        Err(err) => {
            return Err(Error::io(format!("cannot read {}", path.display()), err));
        }
    };
    let file = CredentialsFile::parse(&text);
    let config = Config::load(&ctx.env)?;
    let candidates = choose(&file, &named, &path, &config)?;
    if candidates.is_empty() {
        super::note(&format!(
            "{} holds no long-term keys; there is nothing to import.",
            path.display()
        ));
        return Ok(());
    }
    let keystore = open_keystore(global, ctx)?;
    let mut moved = Vec::new();
    let mut skipped = Vec::new();
    for candidate in candidates {
        match candidate {
            Candidate::Refused { name, reason } => {
                warn(&format!("profile {name} was not imported: {reason}"));
                skipped.push(name);
            }
            Candidate::Keys { name, keys } => {
                match store(keystore.as_ref(), &name, &keys, args.dry_run)? {
                    Stored::Conflict => {
                        warn(&format!(
                            "profile {name} was not imported: vault already holds different keys for it, and import replaces none (`vault add {name}` does); its keys stay in {}",
                            path.display()
                        ));
                        skipped.push(name);
                    }
                    Stored::New => moved.push(Moved {
                        name,
                        keys,
                        already: false,
                    }),
                    Stored::Already => moved.push(Moved {
                        name,
                        keys,
                        already: true,
                    }),
                }
            }
        }
    }
    if args.dry_run {
        print(&dry_run_lines(&moved, &config, args.keep, &path))?;
        return finish(&skipped);
    }
    // A new key must show in `list`, as `vault add` makes it; `[default]` stays `[default]`.
    let sections: Vec<(String, Vec<(String, String)>)> = moved
        .iter()
        .filter(|m| !config.has_profile(&m.name))
        .map(|m| (m.name.clone(), Vec::new()))
        .collect();
    config.append_profiles(&sections)?;
    let lines = if args.keep {
        moved
            .iter()
            .map(|m| {
                line(
                    &m.name,
                    m.already,
                    false,
                    &format!("; left them in {} (--keep)", path.display()),
                )
            })
            .collect()
    } else {
        take_out_of_file(&path, &moved, &mut skipped)?
    };
    print(&lines)?;
    finish(&skipped)
}

/// The PROFILE arguments and `--profile`, without repeats.
fn named_profiles(args: &ImportArgs, global: &GlobalArgs) -> Vec<String> {
    let mut named: Vec<String> = Vec::new();
    for name in args.profiles.iter().chain(global.profile.as_ref()) {
        if !named.contains(name) {
            named.push(name.clone());
        }
    }
    named
}

/// A profile whose keys are in the keystore now (or, in a dry run, would be).
struct Moved {
    name: String,
    keys: MasterCredentials,
    /// The keystore held these very keys before this run (an earlier, interrupted import).
    already: bool,
}

/// A profile of the file this run deals with.
enum Candidate {
    /// Long-term keys to store.
    Keys {
        name: String,
        keys: MasterCredentials,
    },
    /// A profile this run will not import, and why (said in a warning; the run then exits 1).
    Refused { name: String, reason: String },
}

/// The profiles to import: the named ones, else every one that has keys. Decided before the
/// keystore is opened; a name the file does not have is a mistake nothing else should follow.
fn choose(
    file: &CredentialsFile<'_>,
    named: &[String],
    path: &Path,
    config: &Config,
) -> Result<Vec<Candidate>, Error> {
    let profiles = file.profiles();
    let missing: Vec<&str> = named
        .iter()
        .map(String::as_str)
        .filter(|name| !profiles.iter().any(|p| p.name == *name))
        .collect();
    if !missing.is_empty() {
        let present: Vec<&str> = profiles.iter().map(|p| p.name).collect();
        return Err(Error::Message(format!(
            "{} has no [{}] section; nothing was imported (it has: {})",
            path.display(),
            missing.join("], ["),
            if present.is_empty() {
                "no sections".to_owned()
            } else {
                present.join(", ")
            }
        )));
    }
    let wanted = |p: &Profile<'_>| {
        if named.is_empty() {
            // A section with neither key (a region alone) is not the user's keys.
            p.missing_keys().len() < 2 || p.session_token
        } else {
            named.iter().any(|n| n == p.name)
        }
    };
    Ok(profiles
        .iter()
        .filter(|p| wanted(p))
        .map(|p| candidate(p, config))
        .collect())
}

fn candidate(profile: &Profile<'_>, config: &Config) -> Candidate {
    let name = profile.name.to_owned();
    let refuse = |reason: String| Candidate::Refused {
        name: name.clone(),
        reason,
    };
    if profile.session_token {
        return refuse(
            "it has an aws_session_token, so its keys are temporary credentials, not long-term keys; they stay in the file".to_owned(),
        );
    }
    let Some((access_key_id, secret)) = profile.keys() else {
        return refuse(format!(
            "it has no {} in the file",
            profile.missing_keys().join(" and no ")
        ));
    };
    if let Err(err) = super::add::check_profile_name(&name) {
        return refuse(err.to_string());
    }
    // Stored keys would take the place of the source profile's (as `vault add` says).
    if let Some(source) = config.own_source_profile(&name) {
        return refuse(format!(
            "its config section has source_profile = {source}, so keys stored for it would be used instead of {source}'s; they stay in the file"
        ));
    }
    Candidate::Keys {
        keys: MasterCredentials {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: Secret::new(secret),
        },
        name,
    }
}

enum Stored {
    /// Stored now (or, in a dry run, would be).
    New,
    /// The keystore held these very keys already (an earlier, interrupted import).
    Already,
    /// The keystore holds other keys for this profile: left alone.
    Conflict,
}

/// Stores `keys` for `name` unless the keystore has some, and reads them back.
fn store(
    keystore: &dyn Keystore,
    name: &str,
    keys: &MasterCredentials,
    dry_run: bool,
) -> Result<Stored, Error> {
    match keystore.get(name) {
        Ok(item) if MasterCredentials::from_item(&item).as_ref() == Ok(keys) => {
            return Ok(Stored::Already);
        }
        Ok(_) => return Ok(Stored::Conflict),
        Err(keystore::Error::NotFound { .. }) => {}
        Err(err) => return Err(err.into()),
    }
    if dry_run {
        return Ok(Stored::New);
    }
    keystore.set(&keys.to_item(name))?;
    let copy = MasterCredentials::from_item(&keystore.get(name)?);
    if copy.as_ref() != Ok(keys) {
        return Err(Error::Message(format!(
            "the keys stored for {name} read back different from what was written, so nothing was taken out of the credentials file; run `vault import {name}` again"
        )));
    }
    Ok(Stored::New)
}

/// Rewrites the credentials file without the moved keys; one stdout line per profile.
fn take_out_of_file(
    path: &Path,
    moved: &[Moved],
    skipped: &mut Vec<String>,
) -> Result<String, Error> {
    let imported: Vec<(&str, &str, &str)> = moved
        .iter()
        .map(|m| {
            let secret = m.keys.secret_access_key.expose();
            (m.name.as_str(), m.keys.access_key_id.as_str(), secret)
        })
        .collect();
    let outcome = credentials_file::remove_keys(path, &imported).map_err(|err| {
        let names: Vec<&str> = imported.iter().map(|(name, ..)| *name).collect();
        Error::io(
            format!(
                "the keys of {} are in vault, but {} could not be rewritten without them, so they are in both; run `vault import` again to take them out",
                names.join(", "),
                path.display()
            ),
            err,
        )
    })?;
    let mut lines = String::new();
    for Moved { name, already, .. } in moved {
        if outcome.changed.contains(name) {
            warn(&format!(
                "the keys of profile {name} in {} changed while it was imported: vault holds the ones read before, and the file keeps the new ones",
                path.display()
            ));
            skipped.push(name.clone());
            continue;
        }
        lines.push_str(&line(
            name,
            *already,
            false,
            &format!("; removed them from {}", path.display()),
        ));
    }
    Ok(lines)
}

fn dry_run_lines(moved: &[Moved], config: &Config, keep: bool, path: &Path) -> String {
    let mut lines = String::new();
    for Moved { name, already, .. } in moved {
        let mut tail = String::new();
        if !config.has_profile(name) {
            let section = if name == "default" {
                "[default]".to_owned()
            } else {
                format!("[profile {name}]")
            };
            let _ = write!(tail, "; would add {section} to {}", config.path().display());
        }
        let _ = if keep {
            write!(
                tail,
                "; would leave them in {} (--keep, dry run)",
                path.display()
            )
        } else {
            write!(
                tail,
                "; would remove them from {} (dry run)",
                path.display()
            )
        };
        lines.push_str(&line(name, *already, true, &tail));
    }
    lines
}

/// One stdout line about one profile, in the manner of `vault add`'s.
fn line(name: &str, already: bool, dry_run: bool, tail: &str) -> String {
    let head = match (already, dry_run) {
        (true, _) => format!("Credentials of profile \"{name}\" are already in vault"),
        (false, false) => format!("Imported credentials of profile \"{name}\" into vault"),
        (false, true) => format!("Would import credentials of profile \"{name}\" into vault"),
    };
    format!("{head}{tail}\n")
}

/// Exit 1 when a profile was left out, having said why for each.
fn finish(skipped: &[String]) -> Result<(), Error> {
    match skipped {
        [] => Ok(()),
        [one] => Err(Error::Message(format!(
            "profile {one} was not imported (see the warning above)"
        ))),
        many => Err(Error::Message(format!(
            "profiles {} were not imported (see the warnings above)",
            many.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const FILE: &str = "\
[keys]
aws_access_key_id = AKIA1
aws_secret_access_key = s1
[region-only]
region = eu-west-1
[half]
aws_access_key_id = AKIA2
[session]
aws_access_key_id = ASIA3
aws_secret_access_key = s3
aws_session_token = t3
[role]
aws_access_key_id = AKIA4
aws_secret_access_key = s4
";

    /// What `choose` makes of `FILE` for these names: "name" to import, "name: reason" not.
    fn chosen(named: &[&str]) -> Result<Vec<String>, Error> {
        let config = Config::parse(
            PathBuf::from("config"),
            "[profile role]\nsource_profile = keys\nrole_arn = arn:aws:iam::1:role/r\n",
        )
        .unwrap();
        let named: Vec<String> = named.iter().map(|n| (*n).to_owned()).collect();
        let file = CredentialsFile::parse(FILE);
        let candidates = choose(&file, &named, Path::new("credentials"), &config)?;
        Ok(candidates
            .into_iter()
            .map(|c| match c {
                Candidate::Keys { name, .. } => name,
                Candidate::Refused { name, reason } => format!("{name}: {reason}"),
            })
            .collect())
    }

    #[test]
    fn without_names_every_section_with_a_key_is_taken_and_the_unusable_ones_refused() {
        let chosen = chosen(&[]).unwrap();
        assert_eq!(chosen.len(), 4, "{chosen:?}");
        assert_eq!(chosen[0], "keys");
        assert_eq!(
            chosen[1],
            "half: it has no aws_secret_access_key in the file"
        );
        assert!(chosen[2].starts_with("session: it has an aws_session_token"));
        assert!(chosen[3].starts_with("role: its config section has source_profile = keys"));
    }

    #[test]
    fn named_profiles_are_taken_even_without_keys_and_an_unknown_name_stops_all() {
        assert_eq!(
            chosen(&["region-only"]).unwrap(),
            ["region-only: it has no aws_access_key_id and no aws_secret_access_key in the file"]
        );
        let err = chosen(&["keys", "nope"]).unwrap_err().to_string();
        assert_eq!(
            err,
            "credentials has no [nope] section; nothing was imported (it has: keys, region-only, half, session, role)"
        );
    }
}
