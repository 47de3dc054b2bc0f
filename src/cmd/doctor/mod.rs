//! `vault doctor`: checks the set-up and says, for each problem, what is wrong and the exact
//! fix (issue 17). One line per check on stdout, or `--json` for scripts; exit 0 when all is
//! well, 1 when something needs the user.
//!
//! Three levels: `ok`, `note` (worth knowing, nothing to fix: the passphrase comes from the
//! environment, an endpoint set on purpose in the config file) and `problem`. Only a problem
//! changes the exit code. No check prints a secret: values of credential variables and of the
//! credentials file are never read into a finding, only their names.
//!
//! - `shell.rs`: the hook and tab completion, as the hook's `vault` function reports them;
//! - `setup.rs`: the keystore, the passphrase cache, the config file, the credentials file
//!   and the environment;
//! - `network.rs`: STS and IAM Identity Center reachable, and the clock's skew.

mod network;
mod setup;
mod shell;

use serde::Serialize;

use super::{backend_options, print};
use crate::cli::{DoctorArgs, GlobalArgs};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::visible::visible_lines;

pub(crate) fn run(args: &DoctorArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let mut findings = shell::check(&ctx.env);
    // Doctor never asks for a passphrase or an unlock: it reports what would be asked.
    let options = crate::keystore::BackendOptions {
        interactive: false,
        ..backend_options(global, ctx)
    };
    let setup = setup::check(&options, ctx);
    findings.extend(setup.findings);
    findings.extend(network::check(
        setup.config.as_ref(),
        &network::profile_to_check(global, ctx),
        ctx,
    ));
    let text = if args.json {
        let mut json = serde_json::to_string_pretty(&findings).expect("plain data serialises");
        json.push('\n');
        json
    } else {
        findings.iter().map(Finding::line).collect()
    };
    print(&text)?;
    if findings.iter().any(|f| f.level == Level::Problem) {
        return Err(Error::Exit(1));
    }
    Ok(())
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Note,
    Problem,
}

/// One check's verdict: what was found and, for a problem, what to do.
#[derive(Debug, Serialize)]
struct Finding {
    check: &'static str,
    #[serde(skip)]
    level: Level,
    /// False only for a problem: a note needs nothing from the user.
    ok: bool,
    detail: String,
    fix: Option<String>,
}

impl Finding {
    fn ok(check: &'static str, detail: impl AsRef<str>) -> Self {
        Self::new(check, Level::Ok, detail.as_ref(), None)
    }

    fn note(check: &'static str, detail: impl AsRef<str>) -> Self {
        Self::new(check, Level::Note, detail.as_ref(), None)
    }

    fn problem(check: &'static str, detail: impl AsRef<str>, fix: impl AsRef<str>) -> Self {
        Self::new(check, Level::Problem, detail.as_ref(), Some(fix.as_ref()))
    }

    fn new(check: &'static str, level: Level, detail: &str, fix: Option<&str>) -> Self {
        // Names from the config file and the environment can hold control characters; none
        // reaches the terminal or a script raw.
        let detail = visible_lines(detail).into_owned();
        let fix = fix.map(|fix| visible_lines(fix).into_owned());
        Self {
            check,
            level,
            ok: level != Level::Problem,
            detail,
            fix,
        }
    }

    /// `problem  env: … ; fix: …`, one line.
    fn line(&self) -> String {
        let label = match self.level {
            Level::Ok => "ok",
            Level::Note => "note",
            Level::Problem => "problem",
        };
        match &self.fix {
            Some(fix) => format!("{label:<8} {}: {}; fix: {fix}\n", self.check, self.detail),
            None => format!("{label:<8} {}: {}\n", self.check, self.detail),
        }
    }
}

/// `words` joined as "a", "a and b", "a, b and c".
fn and_list(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_line_carries_its_fix_and_a_note_is_not_a_problem() {
        let problem = Finding::problem("env", "AWS_PROFILE is set", "unset AWS_PROFILE");
        assert_eq!(
            problem.line(),
            "problem  env: AWS_PROFILE is set; fix: unset AWS_PROFILE\n"
        );
        assert!(!problem.ok);
        let note = Finding::note("sts", "an endpoint");
        assert_eq!(note.line(), "note     sts: an endpoint\n");
        assert!(note.ok);
    }

    #[test]
    fn control_characters_from_names_are_made_visible() {
        let finding = Finding::ok("config", "profile 'a\u{1b}[31m'");
        assert!(!finding.detail.contains('\u{1b}'), "{}", finding.detail);
    }

    #[test]
    fn lists_read_as_english() {
        let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(and_list(&words(&["a"])), "a");
        assert_eq!(and_list(&words(&["a", "b", "c"])), "a, b and c");
    }
}
