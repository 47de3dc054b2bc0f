//! `vault rotate PROFILE`: replace a profile's stored access key with a new one without ever
//! leaving the keystore without a key that works (docs/aws-vault.md §7, reordered):
//!
//! 1. create the new key (iam:CreateAccessKey);
//! 2. check that it works (sts:GetCallerIdentity, retried while IAM catches up);
//! 3. store it, replacing the old one in one atomic write;
//! 4. delete the cached sessions the old key made;
//! 5. delete the old key, retried every 2s for up to 20s.
//!
//! Until step 3 the keystore holds the old key, which still works; from step 3 on, the new one,
//! which was shown to work. A kill at any point leaves a working key stored (tests/rotate.rs
//! kills vault from outside, through the test proxy and strace, to show it).

use std::thread::sleep;
use std::time::{Duration, Instant};

use super::credentials::{Fetch, fetch};
use super::{open_keystore, print};
use crate::cli::{CredentialArgs, GlobalArgs, RotateArgs};
use crate::config::{Config, Overrides, ProfileChain, ProfileConfig};
use crate::creds::iam::iam_target;
use crate::creds::{self, Credentials, Iam, Services, StsError};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::keystore::keys::{KeyKind, classify};
use crate::keystore::sessions::remove_sessions_of;
use crate::keystore::{Keystore, MasterCredentials};

const VERIFY_ATTEMPTS: u32 = 15;
const VERIFY_PAUSE: Duration = Duration::from_secs(1);
const DELETE_PAUSE: Duration = Duration::from_secs(2);
const DELETE_FOR: Duration = Duration::from_secs(20);

pub(crate) fn run(args: &RotateArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let profile = &super::required_profile(args.profile.as_deref(), global, ctx, "rotate")?;
    let config = Config::load(&ctx.env)?;
    let keystore = open_keystore(global, ctx)?;
    let stored: Vec<String> = keystore
        .list()?
        .into_iter()
        .filter(|k| classify(k) == KeyKind::Credentials)
        .collect();
    if !config.has_profile(profile) && !stored.contains(profile) {
        let unknown = || config.unknown_profile(profile, stored.iter().map(String::as_str));
        return Err(
            creds::import_hint(&ctx.env, profile).map_or_else(|| unknown().into(), Error::from)
        );
    }
    let chain = config.resolve_chain(profile, &Overrides::default(), &ctx.env)?;
    // The profile's own keys, else those of the nearest source_profile that has some (aws-vault
    // looks one level up only).
    let owner = chain
        .profiles
        .iter()
        .find(|p| stored.contains(&p.name))
        .ok_or_else(|| no_stored_keys(profile, &chain, ctx))?
        .clone();
    let old: MasterCredentials = {
        let item = keystore.get(&owner.name)?;
        MasterCredentials::from_item(&item).map_err(Error::Message)?
    };
    // A session signs the IAM calls only where it adds something: MFA. A session without MFA
    // cannot call IAM at all (aws-vault's users meet `InvalidClientTokenId` there).
    let use_session = !args.no_session && owner.mfa_serial.is_some();
    let how = if use_session {
        format!("a session from profile '{}'", owner.name)
    } else {
        "master credentials".to_owned()
    };
    print(&format!(
        "Rotating credentials stored for profile '{}' using {how} (takes 10-20 seconds)\n",
        owner.name
    ))?;
    let old_keys = Credentials::from(old.clone());
    let signer = if use_session {
        let session_args = CredentialArgs {
            duration: None,
            session_ttl: None,
            mfa_token: args.mfa_token.clone(),
            no_cache: false,
            no_session: false,
            region: None,
            use_device_code: false,
        };
        fetch(&owner.name, &session_args, Fetch::default(), global, ctx)?.0
    } else {
        old_keys.clone()
    };
    let services = super::services::services(ctx, None);
    let user = iam_user(&old_keys, &owner, &services, ctx)?;
    let iam = services.iam.as_ref();
    let target = iam_target(&owner, &ctx.env);

    print("Creating a new access key\n")?;
    let new = iam
        .create_access_key(&target, &signer, &user)
        .map_err(|e| create_failed(&e, &old.access_key_id))?;
    print(&format!(
        "Created new access key {}\n",
        mask(&new.access_key_id)
    ))?;

    let new_keys = Credentials::from(new.clone());
    if let Err(reason) = verify(&new_keys, &owner, &services, ctx) {
        // Leave no unused key behind; the stored one still works.
        let _ = iam.delete_access_key(&target, &signer, &user, &new.access_key_id);
        return Err(Error::Message(format!(
            "the new access key {} does not work ({reason}); it was deleted again, and the old key is still stored",
            mask(&new.access_key_id)
        )));
    }

    if let Err(err) = keystore.set(&new.to_item(&owner.name)) {
        // Its secret exists nowhere else: a key left in IAM could never be used, and would
        // take the second of IAM's two places, so the next rotate would fail.
        let undone = match iam.delete_access_key(&target, &signer, &user, &new.access_key_id) {
            Ok(()) => "it was deleted again".to_owned(),
            Err(e) => format!(
                "deleting it again failed too ({e}): delete {} in the IAM console",
                new.access_key_id
            ),
        };
        return Err(Error::Message(format!(
            "the new access key {} could not be stored ({err}); {undone}, and the old key is still stored and works",
            mask(&new.access_key_id)
        )));
    }

    delete_sessions_made_with_the_old_key(keystore.as_ref(), &chain, &owner.name, ctx)?;

    print(&format!(
        "Deleting old access key {}\n",
        mask(&old.access_key_id)
    ))?;
    let deleter = if use_session { &signer } else { &new_keys };
    delete_old(iam, &target, deleter, &user, &old.access_key_id)?;
    print(&format!(
        "Deleted old access key {}\nFinished rotating access key\n",
        mask(&old.access_key_id)
    ))
}

/// The error for a chain none of whose profiles has stored keys: `vault import` when the
/// plaintext credentials file has some (issue 17), else `vault add`.
fn no_stored_keys(profile: &str, chain: &ProfileChain, ctx: &Ctx) -> Error {
    let hint = (chain.profiles.iter()).find_map(|p| creds::import_hint(&ctx.env, &p.name));
    let missing = || {
        Error::Message(format!(
            "no access keys are stored for profile '{profile}' or its source profiles; store them with `vault add`"
        ))
    };
    hint.map_or_else(missing, Error::from)
}

/// The IAM user the keys belong to, from their ARN (no IAM permission needed).
fn iam_user(
    keys: &Credentials,
    owner: &ProfileConfig,
    services: &Services,
    ctx: &Ctx,
) -> Result<String, Error> {
    let arn = creds::caller_arn(keys, owner, services, &ctx.env)?;
    match creds::arn_resource(&arn).strip_prefix("user/") {
        Some(path_and_name) => Ok(path_and_name
            .rsplit('/')
            .next()
            .unwrap_or(path_and_name)
            .to_owned()),
        None => Err(Error::Message(format!(
            "the keys stored for '{}' belong to {arn}, not to an IAM user; only an IAM user's access keys can be rotated",
            owner.name
        ))),
    }
}

/// A new key can take a few seconds to work everywhere (IAM is eventually consistent).
fn verify(
    keys: &Credentials,
    owner: &ProfileConfig,
    services: &Services,
    ctx: &Ctx,
) -> Result<(), creds::Error> {
    let mut attempt = 1;
    loop {
        let Err(last) = creds::caller_arn(keys, owner, services, &ctx.env) else {
            return Ok(());
        };
        if attempt == VERIFY_ATTEMPTS {
            return Err(last);
        }
        log::debug!("rotate: the new key does not work yet (attempt {attempt}): {last}");
        sleep(VERIFY_PAUSE);
        attempt += 1;
    }
}

/// The sessions of the rotated chain, as aws-vault deletes them, then the roles assumed with the
/// old key elsewhere in the config (aws-vault caches none without MFA, so it has none to delete).
fn delete_sessions_made_with_the_old_key(
    keystore: &dyn Keystore,
    chain: &ProfileChain,
    owner: &str,
    ctx: &Ctx,
) -> Result<(), Error> {
    for profile in &chain.profiles {
        let deleted = remove_sessions_of(keystore, &profile.name)?;
        if deleted > 0 {
            print(&format!(
                "Deleted {deleted} sessions for {}\n",
                profile.name
            ))?;
        }
    }
    let roles = super::remove::remove_sessions_made_from(keystore, owner, ctx)?;
    if roles > 0 {
        print(&format!(
            "Deleted {roles} role sessions made with {owner}\n"
        ))?;
    }
    Ok(())
}

fn delete_old(
    iam: &dyn Iam,
    target: &creds::StsTarget,
    signer: &Credentials,
    user: &str,
    old_key_id: &str,
) -> Result<(), Error> {
    let deadline = Instant::now() + DELETE_FOR;
    loop {
        match iam.delete_access_key(target, signer, user, old_key_id) {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() + DELETE_PAUSE < deadline => {
                log::debug!("rotate: deleting the old key failed, retrying: {e}");
                sleep(DELETE_PAUSE);
            }
            Err(e) => {
                return Err(Error::Message(format!(
                    "the new key is stored and works, but the old access key {} could not be deleted ({e}); delete it by hand, for example in the IAM console or with `aws iam delete-access-key --user-name {user} --access-key-id <the key ending in {}>`",
                    mask(old_key_id),
                    last4(old_key_id)
                )));
            }
        }
    }
}

fn create_failed(error: &StsError, old_key_id: &str) -> Error {
    if error.code() == Some("LimitExceeded") {
        return Error::Message(format!(
            "IAM refused a new access key: the user already has two. Delete the one vault does not use (vault's is {}), then run rotate again",
            mask(old_key_id)
        ));
    }
    Error::Message(format!(
        "creating a new access key failed: {error}; nothing was changed"
    ))
}

/// aws-vault's masking: sixteen asterisks and the last four characters.
pub(crate) fn mask(access_key_id: &str) -> String {
    format!("****************{}", last4(access_key_id))
}

fn last4(access_key_id: &str) -> &str {
    let start = access_key_id.len().saturating_sub(4);
    access_key_id.get(start..).unwrap_or(access_key_id)
}

#[cfg(test)]
mod tests {
    use super::{StsError, create_failed, mask};

    #[test]
    fn two_keys_already_is_told_by_iams_error_code_not_its_wording() {
        let limit = StsError::Service {
            code: Some("LimitExceeded".into()),
            message: Some("Cannot exceed quota for AccessKeysPerUser: 2".into()),
            status: Some(409),
        };
        let said = create_failed(&limit, "AKIAOLDKEY0001").to_string();
        assert!(
            said.starts_with("IAM refused a new access key: the user already has two."),
            "{said}"
        );
        assert!(said.contains("****************0001"), "{said}");
        // A message that merely mentions the code is another failure.
        let other = StsError::Service {
            code: Some("AccessDenied".into()),
            message: Some("LimitExceeded is not the point".into()),
            status: Some(403),
        };
        let said = create_failed(&other, "AKIAOLDKEY0001").to_string();
        assert!(
            said.starts_with("creating a new access key failed: AccessDenied"),
            "{said}"
        );
        assert!(said.ends_with("nothing was changed"), "{said}");
    }

    #[test]
    fn keys_are_masked_as_aws_vault_masks_them() {
        assert_eq!(mask("AKIAIOSFODNN7EXAMPLE"), "****************MPLE");
        assert_eq!(mask("AB"), "****************AB");
    }
}
