//! Runs the data-driven plan cases in `tests/data/plan_cases.json`. Each case gives a config
//! text, the profiles with stored keys, the environment and flags, and a profile, and expects
//! either the exact plan (the calls in order, with their inputs and cache entries) or an error
//! containing a given text.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use super::{ChainOptions, Request};
use crate::config::{Config, Overrides};
use crate::ctx::Env;

#[derive(Deserialize)]
struct Case {
    docs: String,
    input: Input,
    output: Output,
}

#[derive(Deserialize)]
struct Input {
    config: String,
    #[serde(default)]
    stored: Vec<String>,
    #[serde(default)]
    env: HashMap<String, String>,
    #[serde(default)]
    no_session: bool,
    /// `--no-cache`: roles without MFA are assumed each time, as in aws-vault.
    #[serde(default)]
    no_cache: bool,
    #[serde(default)]
    duration: Option<String>,
    profile: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Output {
    Plan(Value),
    Error(String),
}

fn run(input: &Input) -> Result<Value, String> {
    let config = Config::parse(PathBuf::from("/home/u/.aws/config"), &input.config)
        .map_err(|e| e.to_string())?;
    let env = Env::from_pairs(input.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let duration = input
        .duration
        .as_deref()
        .map(|d| crate::duration::parse(d).expect("case duration"));
    let request = Request {
        profile: input.profile.clone(),
        overrides: Overrides {
            duration,
            ..Overrides::default()
        },
        options: ChainOptions {
            no_session: input.no_session,
            requested_duration: duration,
            no_role_cache: input.no_cache,
        },
        ..Request::default()
    };
    let stored: HashSet<String> = input.stored.iter().cloned().collect();
    let (plan, _) = super::plan(&env, &config, &stored, &request).map_err(|e| e.to_string())?;
    Ok(serde_json::to_value(plan).expect("serialises"))
}

#[test]
fn plan_cases() {
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("../../tests/data/plan_cases.json")).expect("valid JSON");
    assert!(cases.len() >= 15, "the case file lost cases");
    let mut failures = Vec::new();
    for case in &cases {
        let outcome = run(&case.input);
        let ok = match (&case.output, &outcome) {
            (Output::Plan(expected), Ok(actual)) => actual == expected,
            (Output::Error(text), Err(err)) => err.contains(text.as_str()),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}\n  got: {}",
                case.docs,
                outcome.map_or_else(|e| e, |v| v.to_string())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
