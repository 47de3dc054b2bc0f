//! Tab completion candidates: profile names (from the config file only: no keystore, no
//! network, nothing on stderr, nothing at all on a broken config), backends and regions.
//! clap_complete's dynamic completion asks for these on each TAB.

use std::ffi::OsStr;

use clap_complete::engine::CompletionCandidate;

use crate::config::Config;
use crate::ctx::Env;

/// AWS region codes, for `--region`.
const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

fn matching<'a>(
    current: &OsStr,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    names
        .into_iter()
        .filter(|name| name.starts_with(prefix.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// Profile names, each with a short description: its role (account and name) or SSO account,
/// and its region.
pub(crate) fn profiles(current: &OsStr) -> Vec<CompletionCandidate> {
    let env = Env::from_process();
    let Ok(config) = Config::load(&env) else {
        return Vec::new();
    };
    let prefix = current.to_string_lossy();
    config
        .profile_names()
        .filter(|name| name.starts_with(prefix.as_ref()))
        .map(|name| {
            let help = config
                .resolve_profile(name, &env)
                .ok()
                .map(|profile| describe(&profile))
                .filter(|h| !h.is_empty());
            // Printed to the terminal by the shell: no control character goes out raw.
            let help = help.map(|h| crate::visible::visible(&h).into_owned());
            CompletionCandidate::new(crate::visible::visible(name).into_owned())
                .help(help.map(Into::into))
        })
        .collect()
}

pub(crate) fn describe(profile: &crate::config::ProfileConfig) -> String {
    let what = if let Some(arn) = &profile.role_arn {
        // arn:aws:iam::123456789012:role/Name → role 123456789012/Name
        let mut parts = arn.splitn(6, ':');
        let account = parts.nth(4).unwrap_or_default();
        let role = arn.rsplit('/').next().unwrap_or_default();
        format!("role {account}/{role}")
    } else if let Some(account) = &profile.sso_account_id {
        format!(
            "sso {account}/{}",
            profile.sso_role_name.as_deref().unwrap_or_default()
        )
    } else if profile.credential_process.is_some() {
        "credential_process".to_owned()
    } else {
        String::new()
    };
    match (what.is_empty(), &profile.region) {
        (false, Some(region)) => format!("{what}, {region}"),
        (true, Some(region)) => region.clone(),
        (_, None) => what,
    }
}

pub(crate) fn regions(current: &OsStr) -> Vec<CompletionCandidate> {
    matching(current, REGIONS.iter().copied())
}

pub(crate) fn prompt_drivers(current: &OsStr) -> Vec<CompletionCandidate> {
    matching(current, crate::mfa_prompt::DRIVERS.iter().copied())
}

pub(crate) fn backends(current: &OsStr) -> Vec<CompletionCandidate> {
    // Only what this build can open: the other names aws-vault knows would only fail.
    matching(current, crate::keystore::AVAILABLE_BACKENDS.iter().copied())
}
