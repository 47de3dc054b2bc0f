//! Picks each field of one profile, first non-empty source wins (docs/aws-vault.md §3.3):
//! 1. command-line flags, for every profile of the chain;
//! 2. environment variables (some for every profile, some for the target only);
//! 3. the profile's own section;
//! 4. its `include_profile` (recursively, same rules), or else `[default]`;
//! 5. the built-in defaults.
//!
//! An `[sso-session]` named by the first `sso_session` seen supplies the start URL, region and
//! scopes, over inline values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ini::{DEFAULT_PROFILE, Document};
use super::profile::{ProfileConfig, SessionDurations, StsRegionalEndpoints, key};
use super::{Error, MAX_LINKS};
use crate::ctx::Env;
use crate::duration;

/// Command-line values that beat everything else and apply to every profile of a chain.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub region: Option<String>,
    pub duration: Option<Duration>,
    /// `--session-ttl`: the GetSessionToken duration, over `duration`.
    pub session_ttl: Option<Duration>,
}

/// Where a value came from, so an error can say where to fix it.
#[derive(Debug, Clone, Copy)]
enum Origin<'a> {
    Flag(&'static str),
    Env(&'static str),
    Section(&'a str),
}

/// The value chosen so far for each key of `key::MERGED`, by position. Values borrow from the
/// config or the environment until `finish` builds the profile.
struct Layers<'a> {
    path: &'a Path,
    values: [Option<(&'a str, Origin<'a>)>; key::MERGED.len()],
    sso_session: Option<(&'a str, Origin<'a>)>,
}

fn slot(name: &str) -> usize {
    key::merged_slot(name).expect("every key the merge handles is in key::MERGED")
}

impl<'a> Layers<'a> {
    fn new(path: &'a Path) -> Self {
        Self {
            path,
            values: [None; key::MERGED.len()],
            sso_session: None,
        }
    }

    fn offer(&mut self, key: &'static str, value: Option<&'a str>, origin: Origin<'a>) {
        if let Some(value) = value {
            self.offer_slot(slot(key), value, origin);
        }
    }

    fn offer_slot(&mut self, slot: usize, value: &'a str, origin: Origin<'a>) {
        let chosen = &mut self.values[slot];
        if chosen.is_none() && !value.is_empty() {
            *chosen = Some((value, origin));
        }
    }

    fn force(&mut self, key: &'static str, value: Option<&'a str>, origin: Origin<'a>) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.values[slot(key)] = Some((value, origin));
        }
    }

    fn take(&mut self, key: &str) -> Option<String> {
        self.values[slot(key)]
            .take()
            .map(|(value, _)| value.to_owned())
    }

    fn describe(&self, origin: Origin<'_>) -> String {
        match origin {
            Origin::Flag(flag) => format!("the {flag} flag"),
            Origin::Env(var) => format!("the environment variable {var}"),
            Origin::Section(profile) => {
                format!("profile '{profile}' in {}", self.path.display())
            }
        }
    }

    /// Takes `key` and converts it, naming its origin when the value is malformed.
    fn take_parsed<T>(
        &mut self,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Error> {
        let Some((value, origin)) = self.values[slot(key)].take() else {
            return Ok(None);
        };
        parse(value)
            .map(Some)
            .map_err(|reason| Error::InvalidValue {
                origin: self.describe(origin),
                key,
                value: value.to_owned(),
                reason,
            })
    }
}

/// Merges the profile `name`. `is_target` says whether it is the profile the user asked for,
/// which is the only one that takes `AWS_ROLE_ARN` and its kin.
pub(crate) fn merge_profile(
    doc: &Document,
    path: &Path,
    name: &str,
    overrides: &Overrides,
    env: &Env,
    is_target: bool,
) -> Result<ProfileConfig, Error> {
    let mut layers = Layers::new(path);
    layers.offer(
        key::REGION,
        overrides.region.as_deref(),
        Origin::Flag("--region"),
    );
    offer_env(&mut layers, env, is_target);
    let mut visited = Vec::new();
    absorb_section(doc, path, name, &mut layers, &mut visited)?;
    let mut profile = finish(name, doc.profile(name).is_some(), layers, overrides, env)?;
    let at = |line: Option<usize>| line.map(|line| format!("{} line {line}", path.display()));
    profile.defined_at = at(doc.profile_line(name));
    profile.sso_session_defined_at = at(profile
        .sso_session
        .as_deref()
        .and_then(|session| doc.sso_session_line(session)));
    Ok(profile)
}

fn offer_env<'a>(layers: &mut Layers<'a>, env: &'a Env, is_target: bool) {
    let mut from_env = |key: &'static str, var: &'static str| {
        layers.offer(key, env.non_empty(var), Origin::Env(var));
    };
    from_env(key::REGION, "AWS_REGION");
    from_env(key::REGION, "AWS_DEFAULT_REGION");
    from_env(key::MFA_SERIAL, "AWS_MFA_SERIAL");
    from_env(key::STS_REGIONAL_ENDPOINTS, "AWS_STS_REGIONAL_ENDPOINTS");
    if is_target {
        from_env(key::ROLE_ARN, "AWS_ROLE_ARN");
        from_env(key::ROLE_SESSION_NAME, "AWS_ROLE_SESSION_NAME");
        from_env(key::SESSION_TAGS, "AWS_SESSION_TAGS");
        from_env(key::TRANSITIVE_SESSION_TAGS, "AWS_TRANSITIVE_TAGS");
        from_env(key::SOURCE_IDENTITY, "AWS_SOURCE_IDENTITY");
    }
}

fn absorb_section<'a>(
    doc: &'a Document,
    path: &Path,
    name: &'a str,
    layers: &mut Layers<'a>,
    visited: &mut Vec<&'a str>,
) -> Result<(), Error> {
    if visited.contains(&name) {
        visited.push(name);
        return Err(Error::IncludeLoop {
            chain: visited.iter().map(|n| (*n).to_owned()).collect(),
        });
    }
    // Checked before recursing deeper: the stack, and `visited`'s linear search, stay small.
    if visited.len() > MAX_LINKS {
        return Err(Error::ChainTooLong {
            profile: visited[0].to_owned(),
            link: "include_profile",
            start: visited.iter().take(5).map(|n| (*n).to_owned()).collect(),
        });
    }
    visited.push(name);
    let origin = Origin::Section(name);
    let section = doc.profile(name);
    if section.is_none() {
        log::debug!("profile '{name}' is not in {}", path.display());
    }
    if let Some(section) = section {
        if let Some(session) = section
            .get(key::SSO_SESSION)
            .filter(|_| layers.sso_session.is_none())
        {
            layers.sso_session = Some((session, origin));
            let sso = doc
                .sso_session(session)
                .ok_or_else(|| Error::MissingSsoSession {
                    profile: name.to_owned(),
                    session: session.to_owned(),
                    path: path.to_owned(),
                    suggestions: crate::suggest::closest(
                        session,
                        doc.sso_sessions().map(|(name, _)| name),
                    ),
                })?;
            for sso_key in [
                key::SSO_START_URL,
                key::SSO_REGION,
                key::SSO_REGISTRATION_SCOPES,
            ] {
                // The AWS CLI refuses a profile whose own value contradicts its session's.
                if let (Some(own), Some(theirs)) = (section.get(sso_key), sso.get(sso_key))
                    && own != theirs
                {
                    return Err(Error::SsoConflict(format!(
                        "profile '{name}' ({} line {}) sets {sso_key} = {own}, but its sso_session {session} says {theirs}; remove it from the profile or make the two agree",
                        path.display(),
                        doc.profile_line(name).unwrap_or_default()
                    )));
                }
                layers.force(sso_key, sso.get(sso_key), origin);
            }
        }
        for (slot, value) in section.merged_entries() {
            layers.offer_slot(slot, value, origin);
        }
    }
    match section.and_then(|s| s.get(key::INCLUDE_PROFILE)) {
        Some(include) => {
            if doc.profile(include).is_none() {
                return Err(Error::MissingInclude {
                    profile: name.to_owned(),
                    include: include.to_owned(),
                    path: path.to_owned(),
                    suggestions: crate::suggest::closest(include, doc.profile_names()),
                });
            }
            absorb_section(doc, path, include, layers, visited)
        }
        None if name != DEFAULT_PROFILE => {
            absorb_section(doc, path, DEFAULT_PROFILE, layers, visited)
        }
        None => Ok(()),
    }
}

fn finish(
    name: &str,
    in_config: bool,
    mut layers: Layers<'_>,
    overrides: &Overrides,
    env: &Env,
) -> Result<ProfileConfig, Error> {
    let assume_role_duration = match (
        overrides.duration,
        env_duration(env, "AWS_ASSUME_ROLE_TTL")?,
    ) {
        (Some(flag), _) => Some(flag),
        (None, Some(from_env)) => Some(from_env),
        (None, None) => layers.take_parsed(key::DURATION_SECONDS, parse_seconds)?,
    };
    layers.take(key::DURATION_SECONDS);
    let source_profile = layers
        .take(key::SOURCE_PROFILE)
        .filter(|source| source != name);
    Ok(ProfileConfig {
        defined_at: None,
        sso_session_defined_at: None,
        name: name.to_owned(),
        in_config,
        assume_role_duration,
        source_profile,
        sts_regional_endpoints: layers
            .take_parsed(key::STS_REGIONAL_ENDPOINTS, parse_sts_regional_endpoints)?,
        session_tags: layers
            .take_parsed(key::SESSION_TAGS, parse_session_tags)?
            .unwrap_or_default(),
        transitive_session_tags: layers
            .take(key::TRANSITIVE_SESSION_TAGS)
            .map(|v| split_list(&v))
            .unwrap_or_default(),
        sso_registration_scopes: layers
            .take(key::SSO_REGISTRATION_SCOPES)
            .map(|v| split_list(&v))
            .unwrap_or_default(),
        web_identity_token_file: layers.take(key::WEB_IDENTITY_TOKEN_FILE).map(PathBuf::from),
        region: layers.take(key::REGION),
        mfa_serial: layers.take(key::MFA_SERIAL),
        mfa_process: layers.take(key::MFA_PROCESS),
        role_arn: layers.take(key::ROLE_ARN),
        role_session_name: layers.take(key::ROLE_SESSION_NAME),
        external_id: layers.take(key::EXTERNAL_ID),
        sso_session: layers.sso_session.map(|(session, _)| session.to_owned()),
        sso_start_url: layers.take(key::SSO_START_URL),
        sso_region: layers.take(key::SSO_REGION),
        sso_account_id: layers.take(key::SSO_ACCOUNT_ID),
        sso_role_name: layers.take(key::SSO_ROLE_NAME),
        web_identity_token_process: layers.take(key::WEB_IDENTITY_TOKEN_PROCESS),
        credential_process: layers.take(key::CREDENTIAL_PROCESS),
        source_identity: layers.take(key::SOURCE_IDENTITY),
        endpoint_url: layers.take(key::ENDPOINT_URL),
    })
}

/// The run-wide durations: `--duration` for the non-chained GetSessionToken and federation,
/// then the `AWS_*_TTL` variables, then the defaults (upstream v7.2 semantics).
pub(crate) fn session_durations(
    overrides: &Overrides,
    env: &Env,
) -> Result<SessionDurations, Error> {
    let defaults = SessionDurations::default();
    Ok(SessionDurations {
        session_token: overrides
            .session_ttl
            .or(overrides.duration)
            .or(env_duration(env, "AWS_SESSION_TOKEN_TTL")?)
            .unwrap_or(defaults.session_token),
        chained_session_token: overrides
            .session_ttl
            .or(env_duration(env, "AWS_CHAINED_SESSION_TOKEN_TTL")?)
            .unwrap_or(defaults.chained_session_token),
        federation_token: overrides
            .duration
            .or(env_duration(env, "AWS_FEDERATION_TOKEN_TTL")?)
            .unwrap_or(defaults.federation_token),
    })
}

fn env_duration(env: &Env, var: &'static str) -> Result<Option<Duration>, Error> {
    env.non_empty(var)
        .map(|value| {
            duration::parse(value).map_err(|err| Error::InvalidValue {
                origin: format!("the environment variable {var}"),
                key: var,
                value: value.to_owned(),
                reason: err.to_string(),
            })
        })
        .transpose()
}

fn parse_seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| "expected a whole number of seconds, such as 3600".to_owned())
}

/// Only `legacy` changes anything; like aws-vault, any other value means the regional default.
#[expect(clippy::unnecessary_wraps, reason = "the shape take_parsed expects")]
fn parse_sts_regional_endpoints(value: &str) -> Result<StsRegionalEndpoints, String> {
    if value.eq_ignore_ascii_case("legacy") {
        return Ok(StsRegionalEndpoints::Legacy);
    }
    if !value.eq_ignore_ascii_case("regional") {
        log::debug!(
            "sts_regional_endpoints = {value} is neither legacy nor regional: using regional"
        );
    }
    Ok(StsRegionalEndpoints::Regional)
}

fn parse_session_tags(value: &str) -> Result<BTreeMap<String, String>, String> {
    value
        .split(',')
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("{:?} is not key=value; write k1=v1,k2=v2", pair.trim()))?;
            let k = k.trim();
            if k.is_empty() {
                return Err(format!("{:?} has an empty key", pair.trim()));
            }
            Ok((k.to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// `a, b,c` → `[a, b, c]`: the comma lists of the config (tags, scopes).
pub(super) fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}
