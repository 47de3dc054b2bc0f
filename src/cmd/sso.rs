//! `vault sso login` and `vault sso logout`, for a profile or an `[sso-session]`: sign in to IAM
//! Identity Center ahead of time, or sign out and remove what the sign-in left (the token, the
//! AWS CLI's copy vault shared, and the role credentials made with it).

use super::{note, open_keystore};
use crate::cli::{GlobalArgs, SsoCommand};
use crate::config::Config;
use crate::creds::sso::SsoSession;
use crate::creds::{self, Request, SignInMode};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::visible::visible;

pub(crate) fn run(command: &SsoCommand, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let (positional, session, name) = match command {
        SsoCommand::Login(args) => (args.profile.as_deref(), &args.sso_session, "sso login"),
        SsoCommand::Logout(args) => (args.profile.as_deref(), &args.sso_session, "sso logout"),
    };
    let config = Config::load(&ctx.env)?;
    let keystore = open_keystore(global, ctx)?;
    let mut request = Request {
        interactive: ctx.interactive,
        ..Request::default()
    };
    let sso = if let Some(session) = session {
        SsoSession::named(&config, session, &ctx.env)?
    } else {
        request.profile = super::required_profile(positional, global, ctx, name)?;
        creds::sso_session_of(&ctx.env, &config, keystore.as_ref(), &request)?
    };
    let services = super::services::services(ctx, None);
    match command {
        SsoCommand::Login(args) => {
            request.sign_in = SignInMode {
                device_code: args.use_device_code,
                print_url: args.stdout,
                share_cli_cache: global.share_cli_cache,
            };
            let expires = creds::sso_login(&services, &ctx.env, keystore.as_ref(), &sso, &request)?;
            note(&format!(
                "Signed in to {} until {}",
                visible(&sso.start_url),
                creds::rfc3339_seconds(expires)
            ));
        }
        SsoCommand::Logout(_) => {
            let removed = creds::sso_logout(&services, &ctx.env, keystore.as_ref(), &sso)?;
            note(&format!(
                "Signed out of {}; removed its token and {removed} cached role session(s)",
                visible(&sso.start_url)
            ));
        }
    }
    Ok(())
}
