//! `vault prompt`: the prompt segment from the binary, for prompt frameworks that run a
//! command. The hook computes the same text inside the shell, with no process.

use super::print;
use crate::cli::PromptArgs;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::prompt;

pub(crate) fn run(args: &PromptArgs, ctx: &Ctx) -> Result<(), Error> {
    let now = ctx.clock.now().unix_timestamp();
    let agent = prompt::AgentMark::of(&ctx.env);
    match prompt::segment(&ctx.env, now, args.format.as_deref(), agent) {
        Some(text) if !text.is_empty() => print(&format!("{text}\n")),
        _ => Ok(()),
    }
}
