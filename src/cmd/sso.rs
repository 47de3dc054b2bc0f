//! `vault sso login [PROFILE]` and `vault sso logout [PROFILE]`: sign in to IAM Identity Center
//! for a profile's start URL ahead of time, or sign out and remove what the sign-in left (the
//! token and the role credentials made with it).

use super::{note, open_keystore};
use crate::cli::{GlobalArgs, SsoCommand};
use crate::config::Config;
use crate::creds::{self, Request, SignInMode};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::visible::visible;

pub(crate) fn run(command: &SsoCommand, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let (positional, name) = match command {
        SsoCommand::Login(args) => (args.profile.as_deref(), "sso login"),
        SsoCommand::Logout(args) => (args.profile.as_deref(), "sso logout"),
    };
    let profile = super::required_profile(positional, global, ctx, name)?;
    let config = Config::load(&ctx.env)?;
    let keystore = open_keystore(global, ctx)?;
    let services = super::services::services(ctx, None);
    let mut request = Request {
        profile: profile.clone(),
        interactive: ctx.interactive,
        ..Request::default()
    };
    match command {
        SsoCommand::Login(args) => {
            request.sign_in = SignInMode {
                device_code: args.use_device_code,
                print_url: args.stdout,
            };
            let (start_url, expires) =
                creds::sso_login(&services, &ctx.env, &config, keystore.as_ref(), &request)?;
            note(&format!(
                "Signed in to {} until {}",
                visible(&start_url),
                creds::rfc3339_seconds(expires)
            ));
        }
        SsoCommand::Logout(_) => {
            let (start_url, removed) =
                creds::sso_logout(&services, &ctx.env, &config, keystore.as_ref(), &request)?;
            note(&format!(
                "Signed out of {}; removed its token and {removed} cached role session(s)",
                visible(&start_url)
            ));
        }
    }
    Ok(())
}
