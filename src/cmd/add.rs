//! `vault add PROFILE`: store long-term access keys (docs/aws-vault.md §1.3 `add`).

use super::{open_keystore, print};
use crate::cli::{AddArgs, GlobalArgs};
use crate::config::Config;
use crate::ctx::{Ctx, Env};
use crate::error::Error;
use crate::keystore::MasterCredentials;
use crate::keystore::keys::{KeyKind, classify};
use crate::keystore::sessions::remove_sessions_of;
use crate::secret::Secret;
use crate::tty;

pub(crate) fn run(args: &AddArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let profile = &super::required_profile(args.profile.as_deref(), global, ctx, "add")?;
    check_profile_name(profile)?;
    let config = Config::load(&ctx.env)?;
    if let Some(source) = config.own_source_profile(profile) {
        return Err(Error::Message(format!(
            "Your profile has a source_profile of {source}, adding credentials to {profile} won't have any effect"
        )));
    }
    let credentials = if args.env {
        from_env(&ctx.env)?
    } else {
        from_prompt()?
    };
    // Asked before anything is stored, so a wrong answer changes nothing.
    let new_section = !args.no_add_config && !config.has_profile(profile);
    let region = if new_section {
        Some(region_for(profile, args, &ctx.env)?)
    } else {
        None
    };
    let keystore = open_keystore(global, ctx)?;
    keystore.set(&credentials.to_item(profile))?;
    print(&format!(
        "Added credentials to profile \"{profile}\" in vault\n"
    ))?;
    let deleted = remove_sessions_of(keystore.as_ref(), profile)?;
    if deleted > 0 {
        print(&format!("Deleted {deleted} existing sessions.\n"))?;
    }
    // `--add-config` is the default; `--no-add-config` turns it off.
    // A profile without a region fails in the aws CLI ("You must specify a region"), so the
    // first `vault exec` after `vault add` would not work.
    if let Some(region) = region {
        config.append_profiles(&[(profile.clone(), vec![("region".to_owned(), region)])])?;
    }
    Ok(())
}

/// `--region`, else the answer to a question whose Enter takes the default: `AWS_REGION`, else
/// `AWS_DEFAULT_REGION`, else `us-east-1`. With `--env` and no terminal, the default.
fn region_for(profile: &str, args: &AddArgs, env: &Env) -> Result<String, Error> {
    let default = env
        .non_empty("AWS_REGION")
        .or_else(|| env.non_empty("AWS_DEFAULT_REGION"))
        .unwrap_or("us-east-1");
    let region = match &args.region {
        Some(region) => region.clone(),
        None => match tty::read_line(&format!(
            "Default region for profile {profile} [{default}]: "
        )) {
            Ok(answer) if answer.is_empty() => default.to_owned(),
            Ok(answer) => answer,
            Err(tty::Error::NoTerminal { .. }) if args.env => default.to_owned(),
            Err(err) => return Err(err.into()),
        },
    };
    let plausible = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if plausible {
        Ok(region)
    } else {
        Err(Error::Usage(format!(
            "'{}' is not a region name (like eu-west-1); nothing was stored",
            crate::visible::visible(&region)
        )))
    }
}

/// A name that would be read back as a session or SSO token, or that holds control
/// characters, could never be used as a profile.
pub(super) fn check_profile_name(profile: &str) -> Result<(), Error> {
    if profile.trim().is_empty() || profile.chars().any(char::is_control) {
        return Err(Error::Usage(format!(
            "{profile:?} cannot be a profile name: it is empty or holds control characters"
        )));
    }
    // Such a name could not be written as a [profile NAME] header and read back.
    if profile.trim() != profile || profile.contains(['[', ']']) {
        return Err(Error::Usage(format!(
            "{profile:?} cannot be a profile name: it has brackets or surrounding spaces"
        )));
    }
    // A file keystore keeps each key in a file named after the profile: these name directories.
    if profile == "." || profile == ".." {
        return Err(Error::Usage(format!(
            "{profile:?} cannot be a profile name: it names a directory, not a file, in the file keystore"
        )));
    }
    if classify(profile) != KeyKind::Credentials {
        return Err(Error::Usage(format!(
            "{profile:?} cannot be a profile name: the keystore uses names of that form for sessions and SSO tokens"
        )));
    }
    Ok(())
}

fn from_env(env: &Env) -> Result<MasterCredentials, Error> {
    let read = |var: &str| {
        env.non_empty(var)
            .map(str::to_owned)
            .ok_or_else(|| Error::Message(format!("Missing value for {var}")))
    };
    Ok(MasterCredentials {
        access_key_id: read("AWS_ACCESS_KEY_ID")?,
        secret_access_key: Secret::new(read("AWS_SECRET_ACCESS_KEY")?),
    })
}

fn from_prompt() -> Result<MasterCredentials, Error> {
    let access_key_id = tty::read_line("Enter Access Key ID: ")?;
    if access_key_id.is_empty() {
        return Err(Error::Message(
            "no Access Key ID was entered; nothing was stored".to_owned(),
        ));
    }
    let secret_access_key = tty::read_hidden("Enter Secret Access Key: ")?;
    if secret_access_key.expose().trim().is_empty() {
        return Err(Error::Message(
            "no Secret Access Key was entered; nothing was stored".to_owned(),
        ));
    }
    Ok(MasterCredentials {
        access_key_id,
        secret_access_key: Secret::new(secret_access_key.expose().trim()),
    })
}
