//! The integration tests: the built `vault` binary, run in a sandbox HOME against real parts.

#![allow(
    clippy::disallowed_methods,
    reason = "the harness itself reads the real environment"
)]

mod support;

mod add;
mod agent;
mod aws_vault_flags;
mod backend_selection;
mod cli;
mod completion;
mod credentials;
mod doctor;
mod ec2_server;
mod exec;
mod file_keystore;
mod first_run;
mod hardening;
mod import;
mod injection;
mod keyctl;
mod limits;
mod list;
mod login;
mod manual_forms;
mod messages;
mod mfa;
mod migrate;
mod moto_harness;
mod pass;
mod passphrase;
mod picker;
mod powershell;
mod proxy_env;
mod remove;
mod role_cache;
mod rotate;
mod sdk_refresh;
mod secret_service;
mod secrets;
mod server;
mod shell;
mod shell_interactive;
mod shell_lint;
mod shell_safety;
mod sso;
mod sso_interop;
mod sso_standin;
mod sts_errors;
