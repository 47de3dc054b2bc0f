//! vault: keeps long-lived AWS keys encrypted and hands out short-lived credentials.
//! See CONTRIBUTING.md for the layers; `run` is the whole program behind `main`.

mod browser;
mod child;
mod cli;
mod cmd;
mod complete;
pub mod config;
mod console;
mod creds;
mod ctx;
pub use ctx::Env;
pub mod duration;
mod error;
mod fsutil;
pub mod keystore;
mod kingpin;
#[cfg(test)]
mod layering;
mod logging;
mod mfa_prompt;
mod process;
mod prompt;
mod secret;
mod server;
mod shell;
mod suggest;
mod tty;
mod visible;

pub use error::Error;

/// Makes this process not dumpable: no core dump, and no other process of the user may ptrace it
/// or read its memory, so a Ctrl-\\ at the MFA prompt cannot write the decrypted keys or the
/// typed passphrase to disk. The command `exec` starts is dumpable again (execve resets it).
pub fn keep_memory_private() {
    // A kernel without prctl leaves things as they were; there is nothing better to do.
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_dumpable(false);
}

/// Answers a shell's tab-completion request (`VAULT_COMPLETE` is set) and exits; otherwise
/// returns at once. `main` calls it first, before anything is written.
pub fn complete_from_env() {
    use clap::CommandFactory;
    clap_complete::CompleteEnv::with_factory(cli::Cli::command)
        .var(shell::COMPLETE_VAR)
        .complete();
}

/// Parses `args` and runs the command they name.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<(), Error> {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    if kingpin::wants_man_page(&args) {
        use clap::CommandFactory;
        return cmd::print_text(&kingpin::man_page(cli::Cli::command()));
    }
    let cli = cli::parse(args)?;
    logging::init(cli.global.debug);
    let mut ctx = ctx::Ctx::from_process();
    ctx.mfa_prompt = mfa_prompt::Driver::choose(cli.global.prompt.as_deref(), &ctx.env)
        .map_err(|e| Error::Usage(e.to_string()))?;
    cmd::run(&cli, &ctx)
}
