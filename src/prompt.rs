//! The prompt segment, from the environment and the time alone: the same rules the hook
//! scripts implement in each shell (tested on one table of cases, `tests/data/prompt_cases.json`).
//!
//! `prod 42m`, `prod 1h05m`, `prod 59s`, `prod expired`; nothing when no profile is active.
//! `AWS_VAULT_PROMPT_FORMAT` sets the layout, with `%p` for the profile and `%t` for the time.

use crate::ctx::Env;
use crate::shell::state::{AGENT_PID, AGENT_STAMP, EXPIRES_AT};

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

/// What the agent of a `use --agent` shell is doing, as the hook tells it from /proc and the
/// needs-you stamp.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum AgentMark {
    Serving,
    NeedsYou,
    Gone,
}

impl AgentMark {
    /// The mark for the shell's environment; `None` when no agent serves it.
    pub(crate) fn of(env: &Env) -> Option<Self> {
        let pid = env.non_empty(AGENT_PID)?;
        let stamp = env.non_empty(AGENT_STAMP);
        let proc = std::path::Path::new("/proc");
        // Its process has exited, or its socket is gone (the first thing it removes).
        let socket_gone = stamp
            .and_then(|s| std::path::Path::new(s).parent()?.parent())
            .is_some_and(|dir| !dir.join("agent.sock").exists());
        if socket_gone || (proc.join("self").exists() && !proc.join(pid).exists()) {
            return Some(Self::Gone);
        }
        Some(if stamp.is_some_and(|s| std::path::Path::new(s).exists()) {
            Self::NeedsYou
        } else {
            Self::Serving
        })
    }

    fn text(self) -> &'static str {
        match self {
            Self::Serving => "agent",
            Self::NeedsYou => "agent!",
            Self::Gone => "agent gone",
        }
    }
}

/// The segment, or `None` when no profile is active. `agent` is [`AgentMark::of`] the
/// environment (passed in, so this stays a function of its arguments).
pub(crate) fn segment(
    env: &Env,
    now: i64,
    format: Option<&str>,
    agent: Option<AgentMark>,
) -> Option<String> {
    let profile = env.non_empty("AWS_VAULT")?;
    let format = format
        .or_else(|| env.non_empty("AWS_VAULT_PROMPT_FORMAT"))
        .unwrap_or(DEFAULT_FORMAT);
    let left = match agent {
        Some(mark) => mark.text().to_owned(),
        None => env
            .non_empty(EXPIRES_AT)
            .and_then(|at| at.parse::<i64>().ok())
            .map(|at| time_left(at - now))
            .unwrap_or_default(),
    };
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
    fn an_agent_shell_shows_what_the_agent_does_instead_of_a_countdown() {
        let env = Env::from_pairs([("AWS_VAULT", "prod"), (EXPIRES_AT, "1700000600")]);
        let now = 1_700_000_000;
        let shown = |mark| segment(&env, now, None, Some(mark)).unwrap();
        assert_eq!(shown(AgentMark::Serving), "prod agent");
        assert_eq!(shown(AgentMark::NeedsYou), "prod agent!");
        assert_eq!(shown(AgentMark::Gone), "prod agent gone");
        assert_eq!(segment(&env, now, None, None).unwrap(), "prod 10m");
        assert_eq!(AgentMark::of(&env), None);
        // The agent's directory: its socket, and the folder of stamps.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("needs")).unwrap();
        std::fs::write(dir.path().join("agent.sock"), "").unwrap();
        let stamp = dir.path().join("needs/1");
        let stamp = stamp.to_str().unwrap();
        // This process stands in for the agent: alive, with no stamp, it serves.
        let me = std::process::id().to_string();
        let with = |pid: &str| Env::from_pairs([(AGENT_PID, pid), (AGENT_STAMP, stamp)]);
        assert_eq!(AgentMark::of(&with(&me)), Some(AgentMark::Serving));
        std::fs::write(stamp, "why").unwrap();
        assert_eq!(AgentMark::of(&with(&me)), Some(AgentMark::NeedsYou));
        assert_eq!(AgentMark::of(&with("999999999")), Some(AgentMark::Gone));
        std::fs::remove_file(dir.path().join("agent.sock")).unwrap();
        assert_eq!(AgentMark::of(&with(&me)), Some(AgentMark::Gone));
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
            let shown = segment(&Env::from_pairs(pairs), now, None, None).unwrap_or_default();
            assert_eq!(
                shown, case.segment,
                "profile {:?} left {:?}",
                case.profile, case.left
            );
        }
    }
}
