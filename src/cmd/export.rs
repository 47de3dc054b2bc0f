//! `vault export PROFILE`: print credentials in the formats of docs/aws-vault.md §1.6.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::credentials::{Fetch, check_credential_values, fetch};
use super::print;
use crate::cli::{ExportArgs, ExportFormat, GlobalArgs};
use crate::creds::{Credentials, rfc3339_seconds};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::secret::Secret;

/// botocore (boto3, the aws CLI) runs `credential_process` again on every call once fewer than
/// 15 minutes are left. A cached session inside that window is renewed instead of handed out,
/// so an SDK gets credentials it keeps using, not a vault start per API call. (A session whose
/// whole life is shorter is renewed each time, as botocore would ask each time anyway.)
const BOTOCORE_REFRESH_WINDOW: Duration = Duration::from_mins(16);

pub(crate) fn run(args: &ExportArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let profile = &super::required_profile(args.profile.as_deref(), global, ctx, "export")?;
    let how = Fetch {
        print_url: args.stdout,
        min_ttl: (args.format == ExportFormat::Json).then_some(BOTOCORE_REFRESH_WINDOW),
        ..Fetch::default()
    };
    let (creds, chain) = fetch(profile, &args.credentials, how, global, ctx)?;
    let region = chain.target().region.as_deref();
    check_credential_values(
        &env_pairs(&creds, region),
        &chain,
        args.credentials.no_session,
    )?;
    let account = crate::creds::account::account_id(&chain);
    print(&render(
        args.format,
        profile,
        &creds,
        region,
        account.as_deref(),
    ))
}

/// The credential_process document: `Version` first, optional fields left out.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessJson<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
    /// Read by botocore, the JS SDK v3 and the Rust SDK for account-based endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

pub(crate) fn render(
    format: ExportFormat,
    profile: &str,
    creds: &Credentials,
    region: Option<&str>,
    account: Option<&str>,
) -> String {
    let token = creds
        .session_token
        .as_ref()
        .map(Secret::expose)
        .filter(|t| !t.is_empty());
    let expiration = creds.expiration.map(rfc3339_seconds);
    match format {
        ExportFormat::Json => {
            let json = ProcessJson {
                version: 1,
                access_key_id: &creds.access_key_id,
                secret_access_key: creds.secret_access_key.expose(),
                session_token: token,
                expiration,
                account_id: account,
            };
            serde_json::to_string_pretty(&json).expect("plain struct serialises") + "\n"
        }
        ExportFormat::Ini => {
            let mut text = format!("[{profile}]\n");
            let lines = [
                ("aws_access_key_id", Some(creds.access_key_id.as_str())),
                (
                    "aws_secret_access_key",
                    Some(creds.secret_access_key.expose()),
                ),
                ("aws_session_token", token),
                ("aws_credential_expiration", expiration.as_deref()),
                ("region", region),
            ];
            for (key, value) in lines {
                if let Some(value) = value.filter(|v| !v.is_empty()) {
                    let _ = writeln!(text, "{key}={value}");
                }
            }
            text
        }
        ExportFormat::Env | ExportFormat::ExportEnv => {
            let prefix = if format == ExportFormat::ExportEnv {
                "export "
            } else {
                ""
            };
            let mut text = String::new();
            for (name, value) in env_pairs(creds, region) {
                let _ = writeln!(text, "{prefix}{name}={value}");
            }
            text
        }
    }
}

/// The variables that carry credentials, in aws-vault's order.
pub(crate) fn env_pairs(creds: &Credentials, region: Option<&str>) -> Vec<(&'static str, String)> {
    let mut pairs = vec![
        ("AWS_ACCESS_KEY_ID", creds.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            creds.secret_access_key.expose().to_owned(),
        ),
    ];
    if let Some(token) = creds
        .session_token
        .as_ref()
        .filter(|t| !t.expose().is_empty())
    {
        pairs.push(("AWS_SESSION_TOKEN", token.expose().to_owned()));
    }
    if let Some(expiration) = creds.expiration {
        pairs.push(("AWS_CREDENTIAL_EXPIRATION", rfc3339_seconds(expiration)));
    }
    if let Some(region) = region {
        pairs.push(("AWS_REGION", region.to_owned()));
        pairs.push(("AWS_DEFAULT_REGION", region.to_owned()));
    }
    pairs
}
