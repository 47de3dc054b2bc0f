//! Runs the data-driven resolution cases in `tests/data/config_cases.json`.
//! Each case gives a config text, environment, flags and a profile, and expects either the
//! exact resolved chain or an error containing a given text.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use super::{Config, Overrides};
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
    env: HashMap<String, String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    duration: Option<String>,
    profile: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Output {
    Chain(Vec<Value>),
    ChainWithDurations { chain: Vec<Value>, durations: Value },
    Error(String),
}

fn run(input: &Input) -> Result<Value, String> {
    let config = Config::parse(PathBuf::from("/home/u/.aws/config"), &input.config)
        .map_err(|e| e.to_string())?;
    let env = Env::from_pairs(input.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let overrides = Overrides {
        region: input.region.clone(),
        duration: input
            .duration
            .as_deref()
            .map(|d| crate::duration::parse(d).expect("case duration")),
        session_ttl: None,
    };
    let chain = config
        .resolve_chain(&input.profile, &overrides, &env)
        .map_err(|e| e.to_string())?;
    Ok(serde_json::to_value(chain).expect("serialises"))
}

#[test]
fn config_resolution_cases() {
    let cases: Vec<Case> = serde_json::from_str(include_str!("../../tests/data/config_cases.json"))
        .expect("valid JSON");
    assert!(cases.len() >= 20, "the case file lost cases");
    let mut failures = Vec::new();
    for case in &cases {
        let outcome = run(&case.input);
        let ok = match (&case.output, &outcome) {
            (Output::Chain(expected), Ok(actual)) => {
                actual["profiles"] == Value::from(expected.clone())
            }
            (Output::ChainWithDurations { chain, durations }, Ok(actual)) => {
                actual["profiles"] == Value::from(chain.clone())
                    && &actual["durations"] == durations
            }
            (Output::Error(text), Err(err)) => err.contains(text.as_str()),
            _ => false,
        };
        if !ok {
            failures.push(format!("{}\n  got: {outcome:?}", case.docs));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
