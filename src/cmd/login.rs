//! `vault login [PROFILE]`: open the AWS console signed in with the profile's temporary
//! credentials (docs/aws-vault.md §6), or with `--stdout` print the sign-in URL.

use super::credentials::{Fetch, fetch};
use super::{note, print, warn};
use crate::browser;
use crate::cli::{CredentialArgs, GlobalArgs, LoginArgs};
use crate::config::ProfileConfig;
use crate::console;
use crate::creds::{self, Credentials};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::secret::Secret;

pub(crate) fn run(args: &LoginArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let mut profile = super::chosen_profile(args.profile.as_deref(), global, ctx)?;
    // Neither a profile nor keys in the environment: on a terminal, the picker (as the fork).
    if profile.is_none() && ctx.env.non_empty("AWS_ACCESS_KEY_ID").is_none() {
        profile = super::picker::pick("login", ctx)?;
    }
    let (creds, region) = match profile {
        Some(profile) => {
            profile_credentials(&profile, &args.credentials, args.stdout, global, ctx)?
        }
        None => environment_credentials(&args.credentials, ctx)?,
    };
    let partition = console::partition(region.as_deref(), &ctx.env);
    let destination = console::destination(&partition, region.as_deref(), args.path.as_deref());
    let token = console::signin_token(&partition, &creds, &ctx.env).map_err(Error::Message)?;
    let url = console::login_url(&partition, &destination, &token);
    if args.stdout {
        return print(&format!("{}\n", url.expose()));
    }
    // The wait is bounded (`browser::WAIT`); say what it is for, or a silent vault looks hung.
    note(&format!(
        "vault: waiting up to {} minutes for your browser to open the AWS console sign-in page (Ctrl-C cancels)",
        browser::WAIT.as_secs() / 60
    ));
    match browser::open(&url, &ctx.env) {
        Ok(opened) => {
            if !opened.refused.is_empty() {
                warn(&refused_message(&opened.refused));
            }
            Ok(())
        }
        Err(reason) => {
            print(&format!("{}\n", url.expose()))?;
            Err(Error::Message(format!(
                "could not open the sign-in URL in a browser ({reason}); it is printed above: open it yourself, or use --stdout"
            )))
        }
    }
}

/// Another user asked for the page (they can read its address in the browser's arguments): it
/// was refused, but the user should know someone on the machine tried.
fn refused_message(refused: &[Option<u32>]) -> String {
    let mut askers: Vec<String> = refused
        .iter()
        .map(|uid| uid.map_or_else(|| "unknown".to_owned(), |uid| uid.to_string()))
        .collect();
    askers.sort();
    askers.dedup();
    format!(
        "another user (uid {}) asked for the sign-in page, which only your own browser may have; \
         it was refused",
        askers.join(", ")
    )
}

/// The profile's credentials, made console-ready, and its region. GetSessionToken is skipped
/// for a profile that uses its own stored keys: the console needs federated-user credentials,
/// which GetFederationToken makes from the keys themselves (a role below a session still uses
/// the session, as with aws-vault).
fn profile_credentials(
    profile: &str,
    args: &CredentialArgs,
    print_url: bool,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<(Credentials, Option<String>), Error> {
    let config = crate::config::Config::load(&ctx.env)?;
    let overrides = super::credentials::overrides(args);
    let chain = config.resolve_chain(profile, &overrides, &ctx.env)?;
    let mut args = args.clone();
    args.no_session |= uses_own_keys(chain.target());
    let how = Fetch {
        print_url,
        ..Fetch::default()
    };
    let (creds, chain) = fetch(profile, &args, how, global, ctx)?;
    let target = chain.target();
    let services = super::services::services(ctx, None);
    let creds = creds::for_console(
        creds,
        target,
        chain.durations.federation_token,
        &services,
        &ctx.env,
    )?;
    Ok((creds, target.region.clone()))
}

fn uses_own_keys(profile: &ProfileConfig) -> bool {
    profile.role_arn.is_none()
        && profile.web_identity_token_file.is_none()
        && profile.web_identity_token_process.is_none()
        && profile.credential_process.is_none()
        && profile.sso_start_url.is_none()
        && profile.sso_session.is_none()
}

/// Without a profile: the credentials in the environment, as aws-vault takes them.
fn environment_credentials(
    args: &CredentialArgs,
    ctx: &Ctx,
) -> Result<(Credentials, Option<String>), Error> {
    let (Some(key_id), Some(secret)) = (
        ctx.env.non_empty("AWS_ACCESS_KEY_ID"),
        ctx.env.non_empty("AWS_SECRET_ACCESS_KEY"),
    ) else {
        return Err(Error::Usage(
            "name a profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) to sign in with them".to_owned(),
        ));
    };
    let region = args.region.clone().or_else(|| {
        ctx.env
            .non_empty("AWS_REGION")
            .or_else(|| ctx.env.non_empty("AWS_DEFAULT_REGION"))
            .map(str::to_owned)
    });
    let creds = Credentials {
        access_key_id: key_id.to_owned(),
        secret_access_key: Secret::new(secret.to_owned()),
        session_token: ctx
            .env
            .non_empty("AWS_SESSION_TOKEN")
            .map(|t| Secret::new(t.to_owned())),
        expiration: None,
    };
    let profile = ProfileConfig {
        name: "environment".to_owned(),
        region: region.clone(),
        ..ProfileConfig::default()
    };
    super::credentials::check_durations(args)?;
    let duration =
        crate::config::session_durations(&super::credentials::overrides(args), &ctx.env)?
            .federation_token;
    note("Using the credentials from the environment (no profile given).");
    let services = super::services::services(ctx, None);
    let creds = creds::for_console(creds, &profile, duration, &services, &ctx.env)?;
    Ok((creds, region))
}
