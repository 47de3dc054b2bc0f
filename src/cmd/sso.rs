//! `vault sso login`, `logout` and `populate`, for a profile or an `[sso-session]`: sign in to
//! IAM Identity Center ahead of time, or sign out and remove what the sign-in left (the token,
//! the AWS CLI's copy vault shared, and the role credentials made with it).

use super::{note, open_keystore};
use crate::cli::{GlobalArgs, SsoCommand, SsoLoginArgs, SsoLogoutArgs};
use crate::config::Config;
use crate::creds::sso::SsoSession;
use crate::creds::{self, Request, SignInMode};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::keystore::Keystore;
use crate::visible::visible;

pub(crate) fn run(command: &SsoCommand, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    match command {
        SsoCommand::Login(args) => login(args, global, ctx),
        SsoCommand::Logout(args) => logout(args, global, ctx),
        SsoCommand::Populate(args) => super::sso_populate::run(args, global, ctx),
    }
}

fn login(args: &SsoLoginArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let config = Config::load(&ctx.env)?;
    let keystore = open_keystore(global, ctx)?;
    let mut request = Request {
        interactive: ctx.interactive,
        sign_in: SignInMode {
            device_code: args.use_device_code,
            print_url: args.stdout,
            share_cli_cache: global.share_cli_cache,
        },
        ..Request::default()
    };
    let sso = chosen_session(
        args.profile.as_deref(),
        args.sso_session.as_deref(),
        "sso login",
        (global, ctx, &config, keystore.as_ref()),
        &mut request,
    )?;
    let services = super::services::services(ctx, None);
    let expires = creds::sso_login(&services, &ctx.env, keystore.as_ref(), &sso, &request)?;
    note(&format!(
        "Signed in to {} until {}",
        visible(&sso.start_url),
        creds::rfc3339_seconds(expires)
    ));
    Ok(())
}

fn logout(args: &SsoLogoutArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let config = Config::load(&ctx.env)?;
    let keystore = open_keystore(global, ctx)?;
    let mut request = Request::default();
    let sso = chosen_session(
        args.profile.as_deref(),
        args.sso_session.as_deref(),
        "sso logout",
        (global, ctx, &config, keystore.as_ref()),
        &mut request,
    )?;
    let services = super::services::services(ctx, None);
    let removed = creds::sso_logout(&services, &ctx.env, keystore.as_ref(), &sso)?;
    note(&format!(
        "Signed out of {}; removed its token and {removed} cached role session(s)",
        visible(&sso.start_url)
    ));
    Ok(())
}

/// The `[sso-session]` named by `--sso-session`, else the sign-in of the profile's chain.
fn chosen_session(
    positional: Option<&str>,
    session: Option<&str>,
    command: &str,
    (global, ctx, config, keystore): (&GlobalArgs, &Ctx, &Config, &dyn Keystore),
    request: &mut Request,
) -> Result<SsoSession, Error> {
    if let Some(session) = session {
        return Ok(SsoSession::named(config, session, &ctx.env)?);
    }
    request.profile = super::required_profile(positional, global, ctx, command)?;
    Ok(creds::sso_session_of(&ctx.env, config, keystore, request)?)
}
