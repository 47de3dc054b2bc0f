//! The integration tests: the built `vault` binary, run in a sandbox HOME against real parts.

#![allow(
    clippy::disallowed_methods,
    reason = "the harness itself reads the real environment"
)]

mod support;

mod add;
mod cli;
mod file_keystore;
mod list;
mod moto_harness;
mod passphrase;
mod remove;
mod secrets;
