//! `vault hook SHELL`: print the shell integration, for `eval` in a startup file.

use super::print;
use crate::cli::HookArgs;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::shell;

pub(crate) fn run(args: &HookArgs, ctx: &Ctx) -> Result<(), Error> {
    let exe = std::env::current_exe().map_err(|e| Error::io("cannot find the vault binary", e))?;
    print(&shell::hook(args.shell, &exe, &shell::status_dir(&ctx.env)))
}
