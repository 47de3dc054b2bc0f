//! STS (and IAM Identity Center) reachable, and the clock's skew from STS's `Date`.
//!
//! One unsigned GET per endpoint, to the address vault's own calls would use (`sts_target`, the
//! SSO `targets`), through the proxy and with the certificates the SDK clients would use
//! (`console::agent_for`). Any HTTP answer, even an error status, proves the way there works;
//! redirects are not followed, so the `Date` read is the endpoint's own. A skew over five
//! minutes is a problem: SigV4 refuses requests fifteen minutes off, and session expiry times
//! read wrong well before that.

use std::collections::BTreeSet;
use std::time::Duration;

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::Finding;
use crate::cli::GlobalArgs;
use crate::config::{Config, ProfileConfig};
use crate::console::{agent_for, unreachable_reason};
use crate::creds::{configured_endpoint, sso, sts_target};
use crate::ctx::{Ctx, Env};

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_SKEW_SECONDS: i64 = 5 * 60;

/// The profile whose STS endpoint is checked: the one named (`--profile`, or `AWS_PROFILE`
/// when vault takes it), else the one in use in this shell, else `default`.
pub(super) fn profile_to_check(global: &GlobalArgs, ctx: &Ctx) -> String {
    super::super::chosen_profile(None, global, ctx)
        .ok()
        .flatten()
        .or_else(|| ctx.env.non_empty("AWS_VAULT").map(str::to_owned))
        .unwrap_or_else(|| "default".to_owned())
}

pub(super) fn check(config: Option<&Config>, name: &str, ctx: &Ctx) -> Vec<Finding> {
    let env = &ctx.env;
    let profile = config
        .and_then(|config| config.resolve_profile(name, env).ok())
        .unwrap_or_default();
    let target = sts_target(&profile, env);
    let mut findings = Vec::new();
    let source = endpoint_source("AWS_ENDPOINT_URL_STS", &profile, name, env);
    let url = target.endpoint.clone().unwrap_or_else(|| {
        let domain = if target.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("https://sts.{}.{domain}", target.region)
    });
    if let Some(Source::Config(text)) = &source {
        findings.push(Finding::note(
            "sts",
            format!("profile '{name}' sends its STS calls to {url}, as {text} says"),
        ));
    }
    match reach(&url, env) {
        Ok(answer) => {
            findings.push(Finding::ok(
                "sts",
                format!(
                    "STS for profile '{name}' answers at {url}{}",
                    answer.via_text()
                ),
            ));
            findings.push(skew(answer.date, ctx));
        }
        Err(Unreachable { reason, via }) => findings.push(Finding::problem(
            "sts",
            format!("cannot reach STS for profile '{name}' at {url}: {reason}"),
            what_to_check(source.as_ref(), via),
        )),
    }
    if let Some(config) = config {
        findings.extend(sso_portals(config, env));
    }
    findings
}

/// Where a configured endpoint came from: the environment, or the config file.
enum Source {
    Env(&'static str),
    Config(String),
}

fn endpoint_source(
    service_variable: &'static str,
    profile: &ProfileConfig,
    name: &str,
    env: &Env,
) -> Option<Source> {
    configured_endpoint(service_variable, profile, env)?;
    [service_variable, "AWS_ENDPOINT_URL"]
        .into_iter()
        .find(|variable| env.non_empty(variable).is_some())
        .map(Source::Env)
        .or_else(|| {
            Some(Source::Config(format!(
                "endpoint_url of profile '{name}' in the AWS config file"
            )))
        })
}

/// What to look at when an endpoint does not answer.
fn what_to_check(source: Option<&Source>, via: Option<&'static str>) -> String {
    let mut parts = Vec::new();
    if let Some(variable) = via {
        parts.push(format!("the proxy in {variable}"));
    }
    match source {
        Some(Source::Env(variable)) => parts.push(format!("the address in {variable}")),
        Some(Source::Config(text)) => parts.push(text.clone()),
        None => {}
    }
    parts.push("the network".to_owned());
    if via.is_none() {
        parts.push("HTTPS_PROXY if this network needs a proxy".to_owned());
    }
    format!("check {}", super::and_list(&parts))
}

struct Answer {
    date: Option<OffsetDateTime>,
    via: Option<&'static str>,
}

impl Answer {
    fn via_text(&self) -> String {
        self.via
            .map(|variable| format!(" (through the proxy in {variable})"))
            .unwrap_or_default()
    }
}

struct Unreachable {
    reason: String,
    via: Option<&'static str>,
}

/// One GET to `url`: any answer is a success.
fn reach(url: &str, env: &Env) -> Result<Answer, Unreachable> {
    let (agent, via) =
        agent_for(url, env, TIMEOUT).map_err(|reason| Unreachable { reason, via: None })?;
    let answer = agent
        .get(url)
        .config()
        .max_redirects(0)
        .build()
        .call()
        .map_err(|error| Unreachable {
            reason: unreachable_reason(&error, via).into_owned(),
            via,
        })?;
    let date = answer
        .headers()
        .get("date")
        .and_then(|value| value.to_str().ok())
        .and_then(http_date);
    Ok(Answer { date, via })
}

/// An HTTP `Date` (RFC 9110's IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(text: &str) -> Option<OffsetDateTime> {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(text.trim(), format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

fn skew(server: Option<OffsetDateTime>, ctx: &Ctx) -> Finding {
    let Some(server) = server else {
        return Finding::note(
            "clock",
            "STS's answer carried no Date, so the clock's skew is unknown",
        );
    };
    let ahead = (ctx.clock.now() - server).whole_seconds();
    let amount = crate::duration::format_seconds(ahead.abs());
    let direction = if ahead >= 0 { "ahead of" } else { "behind" };
    if ahead.abs() > MAX_SKEW_SECONDS {
        return Finding::problem(
            "clock",
            format!(
                "this machine's clock is {amount} {direction} STS's; AWS refuses requests 15 minutes off"
            ),
            "set the clock right and keep it so with NTP (on systemd: `timedatectl set-ntp true`)",
        );
    }
    Finding::ok(
        "clock",
        format!("this machine's clock is within {amount} of STS's"),
    )
}

/// The IAM Identity Center OIDC endpoint of each SSO region the config uses.
fn sso_portals(config: &Config, env: &Env) -> Vec<Finding> {
    let mut seen = BTreeSet::new();
    let mut findings = Vec::new();
    let mut regions: Vec<(ProfileConfig, String, String)> = Vec::new();
    for name in config.profile_names() {
        if let Ok(profile) = config.resolve_profile(name, env)
            && let Some(region) = profile.sso_region.clone()
        {
            regions.push((profile, region, name.to_owned()));
        }
    }
    for session in config.sso_session_names() {
        if let Ok(settings) = config.sso_session_settings(session) {
            regions.push((
                ProfileConfig::default(),
                settings.region,
                format!("sso-session {session}"),
            ));
        }
    }
    for (profile, region, owner) in regions {
        let (oidc, _portal) = sso::targets(&profile, &region, env);
        let url = oidc
            .endpoint
            .unwrap_or_else(|| format!("https://oidc.{region}.amazonaws.com"));
        if !seen.insert(url.clone()) {
            continue;
        }
        let source = endpoint_source("AWS_ENDPOINT_URL_SSO_OIDC", &profile, &owner, env);
        findings.push(match reach(&url, env) {
            Ok(answer) => Finding::ok(
                "sso",
                format!(
                    "IAM Identity Center ({region}) answers at {url}{}",
                    answer.via_text()
                ),
            ),
            Err(Unreachable { reason, via }) => Finding::problem(
                "sso",
                format!("cannot reach IAM Identity Center ({region}) at {url}: {reason}"),
                what_to_check(source.as_ref(), via),
            ),
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_date_is_read_as_utc() {
        let date = http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("a date");
        assert_eq!(date.unix_timestamp(), 784_111_777);
        assert!(http_date("yesterday").is_none());
    }

    #[test]
    fn a_skew_over_five_minutes_is_a_problem() {
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).expect("time");
        let ctx = Ctx {
            clock: crate::ctx::Clock::Fixed(now),
            ..Ctx::from_process()
        };
        let later = |seconds| Some(now + time::Duration::seconds(seconds));
        assert!(skew(later(299), &ctx).ok);
        let behind = skew(later(301), &ctx);
        assert!(!behind.ok);
        assert!(behind.detail.contains("5m1s behind"), "{}", behind.detail);
    }
}
