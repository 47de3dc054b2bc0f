//! The prompt segment, from the environment and the time alone: the same rules the hook
//! scripts implement in each shell (tested on one table of cases, `tests/data/prompt_cases.json`).
//!
//! `prod 42m`, `prod 1h05m`, `prod 59s`, `prod expired`; nothing when no profile is active.
//! `AWS_VAULT_PROMPT_FORMAT` sets the layout, with `%p` for the profile and `%t` for the time.

use crate::ctx::Env;
use crate::shell::state::EXPIRES_AT;

pub(crate) const DEFAULT_FORMAT: &str = "%p %t";

/// The time left, as the segment shows it.
pub(crate) fn time_left(seconds: i64) -> String {
    match seconds {
        ..=0 => "expired".to_owned(),
        1..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

/// The segment, or `None` when no profile is active.
pub(crate) fn segment(env: &Env, now: i64, format: Option<&str>) -> Option<String> {
    let profile = env.non_empty("AWS_VAULT")?;
    let format = format
        .or_else(|| env.non_empty("AWS_VAULT_PROMPT_FORMAT"))
        .unwrap_or(DEFAULT_FORMAT);
    let left = env
        .non_empty(EXPIRES_AT)
        .and_then(|at| at.parse::<i64>().ok())
        .map(|at| time_left(at - now))
        .unwrap_or_default();
    // %t first: a profile name may itself contain "%t", and must show as written.
    let text = format
        .replace("%t", &left)
        .replace("%p", &crate::visible::visible(profile));
    Some(text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    /// One row of the table the shell functions are tested on too.
    #[derive(Deserialize)]
    struct Case {
        profile: Option<String>,
        left: Option<i64>,
        format: Option<String>,
        segment: String,
    }

    #[test]
    fn the_shared_table_of_cases() {
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../tests/data/prompt_cases.json")).unwrap();
        assert!(cases.len() >= 10);
        let now = 1_700_000_000;
        for case in cases {
            let expires = case.left.map(|left| (now + left).to_string());
            let mut pairs = Vec::new();
            if let Some(profile) = &case.profile {
                pairs.push(("AWS_VAULT", profile.as_str()));
            }
            if let Some(at) = &expires {
                pairs.push((EXPIRES_AT, at.as_str()));
            }
            if let Some(format) = &case.format {
                pairs.push(("AWS_VAULT_PROMPT_FORMAT", format.as_str()));
            }
            let shown = segment(&Env::from_pairs(pairs), now, None).unwrap_or_default();
            assert_eq!(
                shown, case.segment,
                "profile {:?} left {:?}",
                case.profile, case.left
            );
        }
    }
}
