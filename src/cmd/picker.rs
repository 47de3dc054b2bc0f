//! The profile picker: `use`, `exec`, `export`, `login` and `rotate` without a profile, on a
//! terminal, list the profiles to choose from (type to filter, arrows, Enter; Esc cancels), each
//! with the description tab completion shows. Off a terminal nothing is asked, and the command
//! stays the usage error it was, so scripts never hang on a question.

use std::io::IsTerminal as _;

use dialoguer::FuzzySelect;
use dialoguer::console::Term;

use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::visible::visible;

/// What a shell reports for a command ended by the user (128 + SIGINT).
const CANCELLED: u8 = 130;

/// The profile the person picks; `None` when there is no terminal to ask on (or no profile).
pub(super) fn pick(command: &str, ctx: &Ctx) -> Result<Option<String>, Error> {
    // The list is drawn on stderr, which stays the terminal while `use`'s stdout goes to the
    // shell hook; the keys are read from stdin.
    if !ctx.interactive || !std::io::stderr().is_terminal() || !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let config = Config::load(&ctx.env)?;
    let names: Vec<&str> = config.profile_names().collect();
    if names.is_empty() {
        return Ok(None);
    }
    let width = names
        .iter()
        .map(|name| name.chars().count())
        .max()
        .unwrap_or(0);
    let items: Vec<String> = names
        .iter()
        .map(|name| {
            let about = config
                .resolve_profile(name, &ctx.env)
                .map(|profile| crate::complete::describe(&profile))
                .unwrap_or_default();
            format!("{:width$}  {}", visible(name), visible(&about))
                .trim_end()
                .to_owned()
        })
        .collect();
    let chosen = FuzzySelect::new()
        .with_prompt(format!(
            "vault {command}: choose a profile (type to filter, Esc cancels)"
        ))
        .items(&items)
        .default(0)
        .interact_on_opt(&Term::stderr())
        .map_err(|e| Error::Message(format!("the profile picker failed: {e}")))?;
    match chosen {
        Some(index) => Ok(Some(names[index].to_owned())),
        None => Err(Error::Exit(CANCELLED)),
    }
}
