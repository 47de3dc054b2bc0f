//! Follows `source_profile` links from the profile the user named down to the profile that
//! holds (or fetches) the first credentials.

use std::collections::HashSet;

use serde::Serialize;

use super::merge::{Overrides, merge_profile, session_durations};
use super::profile::{ProfileConfig, SessionDurations};
use super::{Config, Error, MAX_LINKS};
use crate::ctx::Env;

/// The merged profiles from the target (first) to the last `source_profile` (last).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileChain {
    pub profiles: Vec<ProfileConfig>,
    pub durations: SessionDurations,
}

impl ProfileChain {
    #[must_use]
    pub fn target(&self) -> &ProfileConfig {
        &self.profiles[0]
    }
}

/// Resolves the chain for `target`. A profile without a section is allowed (its keys may be in
/// the keystore); a `source_profile` naming the profile itself is ignored; a cycle is an error.
pub(crate) fn resolve(
    config: &Config,
    target: &str,
    overrides: &Overrides,
    env: &Env,
) -> Result<ProfileChain, Error> {
    let durations = session_durations(overrides, env)?;
    let mut profiles: Vec<ProfileConfig> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut next = Some(target.to_owned());
    while let Some(name) = next {
        if profiles.len() >= MAX_LINKS {
            return Err(Error::ChainTooLong {
                profile: target.to_owned(),
                link: "source_profile",
                start: profiles.iter().take(5).map(|p| p.name.clone()).collect(),
            });
        }
        if !seen.insert(name.clone()) {
            let mut chain: Vec<String> = profiles.into_iter().map(|p| p.name).collect();
            chain.push(name);
            return Err(Error::SourceLoop { chain });
        }
        let profile = merge_profile(
            config.document(),
            config.path(),
            &name,
            overrides,
            env,
            profiles.is_empty(),
        )?;
        next = profile.source_profile.as_ref().map(ToOwned::to_owned);
        profiles.push(profile);
    }
    Ok(ProfileChain {
        profiles,
        durations,
    })
}
