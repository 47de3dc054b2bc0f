//! The one-line account of a plan that `--debug` logs, and where STS calls go. The plan's
//! choices themselves are tested from `tests/data/plan_cases.json` (`plan_cases.rs`).

use std::path::PathBuf;

use super::*;
use crate::config::{Config, Overrides};

const USER_MFA: &str = "arn:aws:iam::111111111111:mfa/me";

fn config() -> Config {
    let text = format!(
        "[profile user]\nmfa_serial = {USER_MFA}\n\
         [profile user-no-mfa]\n\
         [profile role-no-mfa]\nsource_profile = user\nrole_arn = arn:aws:iam::2:role/a\n\
         [profile role]\nsource_profile = user\nrole_arn = arn:aws:iam::2:role/b\nmfa_serial = {USER_MFA}\n\
         [profile role-long]\nsource_profile = user\nrole_arn = arn:aws:iam::2:role/c\nmfa_serial = {USER_MFA}\nduration_seconds = 7200\n\
         [profile role-of-role]\nsource_profile = role\nrole_arn = arn:aws:iam::3:role/d\nmfa_serial = {USER_MFA}\nduration_seconds = 7200\n\
         [profile process]\ncredential_process = true\n\
         [profile role-of-process]\nsource_profile = process\nrole_arn = arn:aws:iam::4:role/e\nduration_seconds = 7200\n\
         [profile web]\nrole_arn = arn:aws:iam::5:role/w\nweb_identity_token_file = /tmp/t\n\
         [profile sso]\nsso_start_url = https://x.awsapps.com/start\n\
         [profile nothing]\nregion = eu-west-1\n\
         [profile user-role]\nrole_arn = arn:aws:iam::6:role/own\nmfa_serial = {USER_MFA}\nduration_seconds = 7200\n"
    );
    Config::parse(PathBuf::from("config"), &text).unwrap()
}

fn described(profile: &str, no_session: bool) -> Result<String, String> {
    let env = Env::default();
    let chain = config()
        .resolve_chain(profile, &Overrides::default(), &env)
        .unwrap();
    let stored = |name: &str| name.starts_with("user");
    plan(
        &chain,
        &stored,
        ChainOptions {
            no_session,
            requested_duration: None,
            no_role_cache: false,
        },
        &env,
    )
    .map(|p| p.describe())
    .map_err(|e| e.to_string())
}

#[test]
fn a_user_gets_a_cached_session_token_and_no_session_gives_the_keys() {
    assert_eq!(described("user", true).unwrap(), "stored keys of user");
    assert_eq!(
        described("user", false).unwrap(),
        format!("cached GetSessionToken(user, mfa {USER_MFA}, 3600s) <- stored keys of user")
    );
    assert_eq!(
        described("user-no-mfa", false).unwrap(),
        "cached GetSessionToken(user-no-mfa, mfa none, 3600s) <- stored keys of user-no-mfa"
    );
}

#[test]
fn sts_goes_to_the_configured_endpoint_and_us_east_1_by_default() {
    let mut profile = ProfileConfig::default();
    let env = Env::from_pairs([
        ("AWS_ENDPOINT_URL", "http://global"),
        ("AWS_ENDPOINT_URL_STS", "http://sts"),
    ]);
    assert_eq!(
        sts_target(&profile, &env),
        Target {
            region: "us-east-1".into(),
            endpoint: Some("http://sts".into())
        }
    );
    let env = Env::from_pairs([("AWS_ENDPOINT_URL", "http://global")]);
    assert_eq!(
        sts_target(&profile, &env).endpoint.as_deref(),
        Some("http://global")
    );
    profile.endpoint_url = Some("http://profile".into());
    assert_eq!(
        sts_target(&profile, &Env::default()).endpoint.as_deref(),
        Some("http://profile")
    );
    let env = Env::from_pairs([
        ("AWS_ENDPOINT_URL", "http://global"),
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
    ]);
    assert_eq!(sts_target(&profile, &env).endpoint, None);
    profile.endpoint_url = None;
    profile.region = Some("eu-west-1".into());
    profile.sts_regional_endpoints = Some(StsRegionalEndpoints::Legacy);
    assert_eq!(
        sts_target(&profile, &Env::default()).endpoint.as_deref(),
        Some("https://sts.amazonaws.com")
    );
    profile.region = Some("eu-south-1".into());
    assert_eq!(sts_target(&profile, &Env::default()).endpoint, None);
}

#[test]
fn the_debug_line_names_no_command_tag_or_external_id() {
    let text = "[profile user]\ncredential_process = secret-tool lookup x\n\
                [profile role]\nsource_profile = user\nrole_arn = arn:aws:iam::2:role/r\n\
                external_id = EXT-SECRET\nsession_tags = k=TAG-VALUE\n";
    let config = Config::parse(PathBuf::from("config"), text).unwrap();
    let env = Env::default();
    let chain = config
        .resolve_chain("role", &Overrides::default(), &env)
        .unwrap();
    let line = plan(&chain, &|_| false, ChainOptions::default(), &env)
        .unwrap()
        .describe();
    assert_eq!(
        line,
        "cached AssumeRole(role, mfa none, 3600s) <- cached credential_process(user)"
    );
    for hidden in ["secret-tool", "EXT-SECRET", "TAG-VALUE"] {
        assert!(!line.contains(hidden), "{line}");
    }
}
