//! `~/.aws/config`: where it is, what it says, and how a profile's settings are resolved.
//!
//! Three steps, none of which touches the network or the keystore: `ini` reads sections,
//! `merge` picks each field of one profile, `chain` follows `source_profile` links.

mod chain;
pub(crate) mod credentials_file;
mod ini;
mod merge;
mod profile;
mod write;

use std::io;
use std::path::{Path, PathBuf};

pub use chain::ProfileChain;
pub use merge::Overrides;

/// The most `source_profile` (or `include_profile`) links one profile may follow: far more
/// than any real chain, and few enough that a hostile config cannot exhaust the stack or the
/// time of every command.
pub(crate) const MAX_LINKS: usize = 64;
pub(crate) use merge::session_durations;
pub use profile::{ProfileConfig, SessionDurations, StsRegionalEndpoints};

use crate::ctx::Env;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the AWS config file {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot update the AWS config file {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{}:{line}: {message}; fix that line of the AWS config file", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("no HOME is set, so the AWS config file cannot be found; set HOME or AWS_CONFIG_FILE")]
    NoHome,
    #[error("profile '{name}' is not in {} and has no stored credentials{}", path.display(), did_you_mean(suggestions))]
    UnknownProfile {
        name: String,
        path: PathBuf,
        suggestions: Vec<String>,
    },
    #[error("Loop detected in config file for profile '{}' (include_profile {})", chain[0], chain.join(" -> "))]
    IncludeLoop { chain: Vec<String> },
    #[error("source_profile loop in the AWS config file: {}; make one of these profiles get its credentials another way", chain.join(" -> "))]
    SourceLoop { chain: Vec<String> },
    #[error("profile '{profile}': its {link} chain is longer than {MAX_LINKS} profiles ({}, …); no working setup needs that many, so check the AWS config file", start.join(" -> "))]
    ChainTooLong {
        profile: String,
        link: &'static str,
        /// The first few links, to show where it goes.
        start: Vec<String>,
    },
    #[error("{origin}: invalid {key} {value:?}: {reason}")]
    InvalidValue {
        origin: String,
        key: &'static str,
        value: String,
        reason: String,
    },
    #[error("profile '{profile}' uses sso_session '{session}', but {} has no [sso-session {session}] section{}", path.display(), close_names(suggestions))]
    MissingSsoSession {
        profile: String,
        session: String,
        path: PathBuf,
        suggestions: Vec<String>,
    },
    /// A profile's own SSO setting contradicts its `[sso-session]` (the whole message: nobody
    /// branches on its parts, and it keeps the error small).
    #[error("{0}")]
    SsoConflict(String),
    #[error("{} has no [sso-session {session}] section", path.display())]
    NoSsoSession { session: String, path: PathBuf },
    #[error("[sso-session {session}] ({} line {line}) has no {key}", path.display())]
    SsoSessionKey {
        session: String,
        key: String,
        path: PathBuf,
        line: usize,
    },
    #[error("profile '{profile}' has include_profile = {include}, but {} has no such profile{}", path.display(), close_names(suggestions))]
    MissingInclude {
        profile: String,
        include: String,
        path: PathBuf,
        suggestions: Vec<String>,
    },
}

/// "; did you mean 'x'?" when there is a close name, else nothing.
pub(crate) fn close_names(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        did_you_mean(suggestions)
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => "; run `vault list --profiles` to see the profiles".to_owned(),
        [one] => format!("; did you mean '{one}'?"),
        many => format!(
            "; did you mean one of: {}?",
            many.iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The AWS config file as loaded. A file that does not exist reads as empty and is not created.
#[derive(Debug)]
pub struct Config {
    path: PathBuf,
    document: ini::Document,
}

impl Config {
    /// `$AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub(crate) fn path_from_env(env: &Env) -> Result<PathBuf, Error> {
        if let Some(path) = env.non_empty("AWS_CONFIG_FILE") {
            return Ok(env.expand_home(Path::new(path)));
        }
        env.home()
            .map(|home| home.join(".aws").join("config"))
            .ok_or(Error::NoHome)
    }

    pub(crate) fn load(env: &Env) -> Result<Self, Error> {
        Self::load_from(Self::path_from_env(env)?)
    }

    pub fn load_from(path: PathBuf) -> Result<Self, Error> {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(Error::Read { path, source }),
        };
        Self::parse(path, &text)
    }

    pub fn parse(path: PathBuf, text: &str) -> Result<Self, Error> {
        let document = ini::Document::parse(text, &path)?;
        Ok(Self { path, document })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn document(&self) -> &ini::Document {
        &self.document
    }

    /// Profile names in file order.
    pub fn profile_names(&self) -> impl Iterator<Item = &str> {
        self.document.profile_names()
    }

    #[must_use]
    pub fn has_profile(&self, name: &str) -> bool {
        self.document.profile(name).is_some()
    }

    /// The `[sso-session]` whose start URL is `url`, if any (the first by name).
    pub(crate) fn sso_session_for_start_url(&self, url: &str) -> Option<&str> {
        let mut names: Vec<&str> = self
            .document
            .sso_sessions()
            .filter(|(_, section)| section.get(profile::key::SSO_START_URL) == Some(url))
            .map(|(name, _)| name)
            .collect();
        names.sort_unstable();
        names.first().copied()
    }

    /// The settings of `[sso-session NAME]`, for a sign-in that names the session itself.
    pub(crate) fn sso_session_settings(&self, name: &str) -> Result<SsoSessionSettings, Error> {
        let section = self
            .document
            .sso_session(name)
            .ok_or_else(|| Error::NoSsoSession {
                session: name.to_owned(),
                path: self.path.clone(),
            })?;
        let get = |key: &str| {
            section
                .get(key)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| Error::SsoSessionKey {
                    session: name.to_owned(),
                    key: key.to_owned(),
                    path: self.path.clone(),
                    line: self.document.sso_session_line(name).unwrap_or_default(),
                })
        };
        Ok(SsoSessionSettings {
            start_url: get(profile::key::SSO_START_URL)?,
            region: get(profile::key::SSO_REGION)?,
            scopes: section
                .get(profile::key::SSO_REGISTRATION_SCOPES)
                .map(merge::split_list)
                .unwrap_or_default(),
        })
    }

    /// The `source_profile` written in the profile's own section (not inherited), unless it
    /// names the profile itself.
    pub(crate) fn own_source_profile(&self, name: &str) -> Option<&str> {
        self.document
            .profile(name)
            .and_then(|section| section.get(profile::key::SOURCE_PROFILE))
            .filter(|source| *source != name)
    }

    /// Resolves `target` and its `source_profile` chain.
    pub fn resolve_chain(
        &self,
        target: &str,
        overrides: &Overrides,
        env: &Env,
    ) -> Result<ProfileChain, Error> {
        chain::resolve(self, target, overrides, env)
    }

    /// Resolves `name` alone, without following `source_profile`, for callers that read only
    /// the target's own settings (completion descriptions, `list`'s SSO column).
    pub(crate) fn resolve_profile(&self, name: &str, env: &Env) -> Result<ProfileConfig, Error> {
        merge::merge_profile(
            &self.document,
            &self.path,
            name,
            &Overrides::default(),
            env,
            true,
        )
    }

    /// The error for a profile that is neither in the config nor among `stored` names, with
    /// the closest names from both as suggestions.
    pub(crate) fn unknown_profile<'a>(
        &'a self,
        name: &str,
        stored: impl IntoIterator<Item = &'a str>,
    ) -> Error {
        let candidates = self.profile_names().chain(stored);
        Error::UnknownProfile {
            name: name.to_owned(),
            path: self.path.clone(),
            suggestions: crate::suggest::closest(name, candidates),
        }
    }

    /// Appends a `[profile]` with its keys for each name the file does not have yet; returns
    /// the names added. The rest of the file is kept byte for byte.
    pub(crate) fn append_profiles(
        &self,
        sections: &[(String, Vec<(String, String)>)],
    ) -> Result<Vec<String>, Error> {
        write::append_sections(&self.path, sections)
    }

    /// The names of the `[sso-session]` sections, sorted.
    pub(crate) fn sso_session_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.document.sso_sessions().map(|(name, _)| name).collect();
        names.sort_unstable();
        names
    }
}

/// What an `[sso-session]` section says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SsoSessionSettings {
    pub(crate) start_url: String,
    pub(crate) region: String,
    pub(crate) scopes: Vec<String>,
}

#[cfg(test)]
mod cases;
