//! IAM Identity Center sign-ins shared with other tools and used by vault's other commands: a
//! token cache file written by real botocore, the keystore item aws-vault reads, the console
//! sign-in of `vault login`, and `use`/`refresh` in a real bash with the hook. Everything runs
//! against the SSO stand-in (role credentials from moto) with a fake `$BROWSER` that logs
//! each launch.

use std::path::PathBuf;

use base64::Engine;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::federation::{Answer, Federation, query};
use crate::support::sso::{self, World};
use crate::support::{PASSPHRASE, REFRESH_IN_BASH, moto, support_file};

const START_URL: &str = "https://corp.awsapps.com/start";

/// Two roles in one account under one `[sso-session]`.
fn config() -> String {
    format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\
         [profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Developer\nregion = us-east-1\n\
         [profile ro]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = us-east-1\n"
    )
}

fn world() -> World {
    World::new(&config())
}

/// Signs in ahead of time, through the fake browser.
fn sign_in(w: &World) {
    w.vault(["sso", "login", "dev"])
        .stderr_like(&format!("{OPENING}Signed in to {START_URL} until [..]\n"))
        .run();
    assert_eq!(w.launches(), 1);
}

fn count(stats: &Value, section: &str, name: &str) -> u64 {
    stats[section][name].as_u64().unwrap_or(0)
}

/// The API calls and browser pages the stand-in saw between two `stats()`: operation name to
/// count, with `authorize` and `device_approvals` as entries of their own.
fn calls_between(before: &Value, after: &Value) -> Value {
    let mut calls = serde_json::Map::new();
    for (name, n) in after["operations"].as_object().expect("operations") {
        let made = n.as_u64().unwrap_or(0) - count(before, "operations", name);
        if made > 0 {
            calls.insert(name.clone(), made.into());
        }
    }
    for page in ["authorize", "device_approvals"] {
        let made = after[page].as_u64().unwrap_or(0) - before[page].as_u64().unwrap_or(0);
        if made > 0 {
            calls.insert(page.to_owned(), made.into());
        }
    }
    Value::Object(calls)
}

/// What vault says while it opens the browser for a sign-in.
const OPENING: &str = "vault: opening the IAM Identity Center sign-in page in your browser (Ctrl-C cancels):\n[..]/authorize?response_type=code&client_id=[..]&redirect_uri=http%3A%2F%2F127%2E0%2E0%2E1%3A[..]%2Foauth%2Fcallback&state=[..]&code_challenge_method=S256&code_challenge=[..]&scopes=sso%3Aaccount%3Aaccess\n";

/// The bearer token of the last GetRoleCredentials the stand-in saw.
fn last_portal_token(stats: &Value) -> String {
    stats["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .rev()
        .find(|r| r["operation"] == "GetRoleCredentials")
        .and_then(|r| r["headers"]["x-amz-sso_bearer_token"].as_str())
        .unwrap_or_else(|| panic!("no GetRoleCredentials in {stats}"))
        .to_owned()
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn rfc3339(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {text}"))
}

/// What a person gets from the AWS SDKs and CLI: a device-code sign-in by botocore's sso-oidc
/// client against the stand-in (registered as the AWS CLI registers for an `[sso-session]`
/// with registration scopes), cached with botocore's own `SSOTokenLoader` and `JSONFileCache`
/// (which name the file by the sha1 of the session name) with an access token past its
/// `expiresAt`. Then botocore's `SSOTokenProvider` (the SDKs' `sso_session` token provider)
/// loads the file, renews the token with the refresh token (CreateToken, refresh_token grant)
/// and writes the cache file itself. Prints the file's path, what it holds, and the token the
/// provider handed out.
const BOTOCORE_SIGN_IN: &str = r#"
import datetime, json, os, urllib.request
import botocore.session
from botocore.tokens import SSOTokenProvider, _sso_json_dumps
from botocore.utils import JSONFileCache, SSOTokenLoader

EP = os.environ["SSO_ENDPOINT"]
START, SESSION, REGION = "https://corp.awsapps.com/start", "corp", "eu-west-1"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"

session = botocore.session.get_session()
oidc = session.create_client("sso-oidc", region_name=REGION, endpoint_url=EP)
client = oidc.register_client(clientName="botocore-interop", clientType="public", scopes=["sso:account:access"])
ids = dict(clientId=client["clientId"], clientSecret=client["clientSecret"])
auth = oidc.start_device_authorization(startUrl=START, **ids)
request = urllib.request.Request(
    EP + "/__control/config", data=json.dumps({"approve_device": auth["userCode"]}).encode(), method="POST"
)
urllib.request.urlopen(request).read()
answer = oidc.create_token(grantType=DEVICE, deviceCode=auth["deviceCode"], **ids)

now = datetime.datetime.now(datetime.timezone.utc)
token = {
    "startUrl": START,
    "region": REGION,
    "accessToken": answer["accessToken"],
    "expiresAt": now - datetime.timedelta(minutes=1),
    "clientId": client["clientId"],
    "clientSecret": client["clientSecret"],
    "registrationExpiresAt": datetime.datetime.fromtimestamp(client["clientSecretExpiresAt"], datetime.timezone.utc),
    "refreshToken": answer["refreshToken"],
}
cache = JSONFileCache(SSOTokenProvider._SSO_TOKEN_CACHE_DIR, dumps_func=_sso_json_dumps)
SSOTokenLoader(cache=cache).save_token(START, token, session_name=SESSION)

provider = SSOTokenProvider(session, profile_name="dev")
provider_token = provider.load_token().get_frozen_token().token
assert provider_token != answer["accessToken"], "the provider did not renew the token"

path = cache._convert_cache_key(SSOTokenLoader()._generate_cache_key(START, SESSION))
with open(path) as f:
    print(json.dumps({"path": path, "cached": json.load(f), "provider_token": provider_token}))
"#;

/// Runs [`BOTOCORE_SIGN_IN`] in the sandbox (its HOME, its config) and returns what it printed.
fn botocore_sign_in(w: &World) -> Value {
    let python = sso::python();
    let done =
        w.t.program(python.to_str().expect("utf-8 path"))
            .arg("-c")
            .arg(BOTOCORE_SIGN_IN)
            .env("SSO_ENDPOINT", &w.sso.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &w.sso.endpoint)
            .run();
    json_of(&done.stdout)
}

#[test]
fn a_token_botocores_sso_token_provider_cached_is_used_with_no_sign_in() {
    let w = world();
    let result = botocore_sign_in(&w);

    // The file botocore wrote, where botocore names it: sha1 of the sso-session name.
    let path = result["path"].as_str().unwrap();
    assert_eq!(
        PathBuf::from(path),
        w.t.home()
            .join(".aws/sso/cache")
            .join(format!("{}.json", sha1_hex("corp"))),
    );
    let cached = &result["cached"];
    let mut fields: Vec<&str> = cached
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "accessToken",
            "clientId",
            "clientSecret",
            "expiresAt",
            "refreshToken",
            "region",
            "registrationExpiresAt",
            "startUrl"
        ]
    );
    // The provider renewed the token and wrote the new one: botocore's own file, not ours.
    assert_eq!(cached["accessToken"], result["provider_token"]);
    let expires_at = cached["expiresAt"].as_str().unwrap();
    assert!(
        expires_at.ends_with('Z') && !expires_at.contains('.'),
        "{expires_at}"
    );
    let left = rfc3339(expires_at) - OffsetDateTime::now_utc();
    assert!(left.whole_minutes() > 50, "{expires_at}");
    let before = w.sso.stats();
    assert_eq!(count(&before, "operations", "RegisterClient"), 1);
    assert_eq!(count(&before, "create_token", "refresh_token"), 1);
    assert_eq!(count(&before, "operations", "CreateToken"), 2);

    let done = w.vault(["export", "dev", "--format", "json"]).run();
    let exported = json_of(&done.stdout);
    assert!(
        exported["AccessKeyId"]
            .as_str()
            .is_some_and(|k| k.starts_with("ASIA")),
        "{exported}"
    );
    let after = w.sso.stats();
    assert_eq!(w.launches(), 0, "no browser");
    // No RegisterClient, no CreateToken, no sign-in page: only the role call.
    assert_eq!(
        calls_between(&before, &after),
        json!({"GetRoleCredentials": 1})
    );
    assert_eq!(
        count(&after, "role_credentials", "111111111111/Developer"),
        1
    );
    // GetRoleCredentials was signed with the token from botocore's file.
    assert_eq!(
        last_portal_token(&after),
        cached["accessToken"].as_str().unwrap()
    );
    // The file is botocore's to keep: vault read it and left it as it was.
    assert_eq!(&json_of(&std::fs::read_to_string(path).unwrap()), cached);

    // The other role under the same start URL: one more GetRoleCredentials, still no sign-in.
    w.vault(["export", "ro", "--format", "json"])
        .stdout_has("\"AccessKeyId\"")
        .run();
    let last = w.sso.stats();
    assert_eq!(
        calls_between(&after, &last),
        json!({"GetRoleCredentials": 1})
    );
    assert_eq!(count(&last, "role_credentials", "111111111111/ReadOnly"), 1);
    assert_eq!(w.launches(), 0);
}

/// The sha1 hex of `text`, as botocore names its cache files (by an independent hasher: the
/// python standard library).
fn sha1_hex(text: &str) -> String {
    let output = std::process::Command::new(sso::python())
        .args([
            "-c",
            "import hashlib, sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest())",
            text,
        ])
        .output()
        .expect("python runs");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_keystore_item_of_a_sign_in_has_aws_vaults_name_and_fields() {
    let w = world();
    sign_in(&w);
    let file =
        w.t.keys_dir()
            .join("oidc:https:%2F%2Fcorp.awsapps.com%2Fstart");
    assert!(file.exists(), "no {}", file.display());
    let item = json_of(
        &w.t.jose_decrypt(&file, PASSPHRASE)
            .expect("jwcrypto decrypts the item"),
    );
    assert_eq!(item["Key"], format!("oidc:{START_URL}"));
    assert_eq!(item["Description"], "aws-vault oidc token");
    let data = base64::engine::general_purpose::STANDARD
        .decode(item["Data"].as_str().expect("Data is a string"))
        .expect("Data is base64");
    let data = json_of(std::str::from_utf8(&data).expect("utf-8"));

    // aws-vault's payload: a Go CreateTokenOutput and the absolute expiry.
    let token = &data["Token"];
    let mut fields: Vec<&str> = token
        .as_object()
        .unwrap_or_else(|| panic!("no Token in {data}"))
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "AccessToken",
            "ExpiresIn",
            "IdToken",
            "RefreshToken",
            "ResultMetadata",
            "TokenType"
        ]
    );
    assert_eq!(token["TokenType"], "Bearer");
    assert_eq!(token["ResultMetadata"], json!({}));
    assert_eq!(token["IdToken"], Value::Null);
    assert!(
        token["RefreshToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("aor")),
        "{token}"
    );
    let expires_in = token["ExpiresIn"].as_i64().expect("ExpiresIn is a number");
    assert!((3590..=3600).contains(&expires_in), "{expires_in}");
    let expiration = data["Expiration"].as_str().expect("Expiration");
    let left = (rfc3339(expiration) - OffsetDateTime::now_utc()).whole_seconds();
    assert!((3500..=3600).contains(&left), "{expiration}");
    assert_eq!(
        item["Label"],
        format!("aws-vault oidc token for {START_URL} (expires {expiration})")
    );

    // The stored token is the live one: the next role call is made with it.
    w.vault(["export", "dev", "--format", "json"])
        .stdout_has("\"AccessKeyId\"")
        .run();
    let stats = w.sso.stats();
    assert_eq!(
        last_portal_token(&stats),
        token["AccessToken"].as_str().unwrap()
    );
    assert_eq!(count(&stats, "operations", "CreateToken"), 1);
}

#[test]
fn login_stdout_prints_the_console_url_made_from_the_sso_role_credentials() {
    const SIGNIN_TOKEN: &str = "SSO+SIGNIN/TOKEN=TEST";
    let w = world();
    let federation = Federation::start(Answer::Token(SIGNIN_TOKEN));

    // No sign-in yet: --stdout prints the sign-in page (stderr) and opens nothing; the person
    // opens it (the fake browser, started here); then the console URL is printed (stdout).
    let mut child = w
        .vault(["login", "dev", "--stdout"])
        .env("VAULT_FEDERATION_ENDPOINT", federation.endpoint())
        .spawn();
    let (stderr, url) = read_until_url(&mut child);
    assert_eq!(
        stderr,
        "vault: to sign in to IAM Identity Center, open this page on this machine (Ctrl-C cancels):\n"
    );
    assert!(
        url.starts_with(&format!("{}/authorize?response_type=code&", w.sso.endpoint)),
        "{url}"
    );
    let opened = w
        .command(&sso::python().to_string_lossy())
        .arg(support_file("fake_browser.py"))
        .arg(&url)
        .status()
        .unwrap();
    assert!(opened.success());
    let output = child.wait_with_output().unwrap();
    let rest = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(rest, "", "stderr after the URL");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let console = stdout.trim_end();
    assert!(
        console.starts_with(&format!("{}?", federation.endpoint())),
        "{console}"
    );
    let params = query(console);
    assert_eq!(params["Action"], "login");
    assert_eq!(params["Issuer"], "vault");
    assert_eq!(
        params["Destination"],
        "https://us-east-1.console.aws.amazon.com/console/home?region=us-east-1"
    );
    assert_eq!(params["SigninToken"], SIGNIN_TOKEN);
    assert_eq!(w.launches(), 0, "--stdout launches no browser");

    // The session sent to the federation endpoint is the SSO role's credentials: the ones
    // vault cached from GetRoleCredentials, which moto says are the Developer role's.
    let queries = federation.queries();
    assert_eq!(queries.len(), 1, "{queries:?}");
    assert_eq!(queries[0]["Action"], "getSigninToken");
    let sent = json_of(&queries[0]["Session"]);
    let exported = json_of(&w.vault(["export", "dev", "--format", "json"]).run().stdout);
    assert_eq!(sent["sessionId"], exported["AccessKeyId"]);
    assert_eq!(sent["sessionKey"], exported["SecretAccessKey"]);
    assert_eq!(sent["sessionToken"], exported["SessionToken"]);
    let identity = moto::shared().aws(
        (
            sent["sessionId"].as_str().unwrap(),
            sent["sessionKey"].as_str().unwrap(),
        ),
        &["sts", "get-caller-identity"],
    );
    assert!(
        identity["Arn"]
            .as_str()
            .unwrap_or_default()
            .ends_with(":assumed-role/Developer/sso-user"),
        "{identity}"
    );
    // One sign-in (the page the person opened) and one role call made all of it.
    let first = w.sso.stats();
    assert_eq!(
        calls_between(&json!({}), &first),
        json!({"RegisterClient": 1, "authorize": 1, "CreateToken": 1, "GetRoleCredentials": 1})
    );

    // Signed in: a second login prints only the console URL, from the cached credentials,
    // and calls nothing at the stand-in.
    let again = w
        .vault(["login", "dev", "--stdout"])
        .env("VAULT_FEDERATION_ENDPOINT", federation.endpoint())
        .run();
    assert_eq!(again.stdout.lines().count(), 1, "{}", again.stdout);
    assert!(
        again
            .stdout
            .starts_with(&format!("{}?", federation.endpoint()))
    );
    let queries = federation.queries();
    assert_eq!(queries.len(), 2);
    assert_eq!(
        json_of(&queries[1]["Session"])["sessionId"],
        sent["sessionId"]
    );
    assert_eq!(calls_between(&first, &w.sso.stats()), json!({}));
    assert_eq!(w.launches(), 0);
}

/// Reads the child's stderr up to the first line that is a URL: (the lines before it, the
/// URL). The rest is left for `wait_with_output`.
fn read_until_url(child: &mut std::process::Child) -> (String, String) {
    use std::io::Read;
    let stderr = child.stderr.as_mut().expect("piped stderr");
    let mut text = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        assert_eq!(
            stderr.read(&mut byte).expect("read stderr"),
            1,
            "stderr ended before a URL: {}",
            String::from_utf8_lossy(&text)
        );
        text.push(byte[0]);
        if byte[0] == b'\n' {
            let lines = String::from_utf8_lossy(&text).into_owned();
            let last = lines.lines().last().unwrap_or_default();
            if last.starts_with("http://") {
                let url = last.to_owned();
                return (lines[..lines.len() - url.len() - 1].to_owned(), url);
            }
        }
    }
}

#[test]
fn refresh_in_a_hooked_bash_renews_sso_role_credentials_with_the_kept_sign_in() {
    let w = world();
    // Role credentials shorter than the hook's refresh window, as a short role session is.
    w.sso.configure(&json!({"role_credentials_ttl": 400}));
    sign_in(&w);
    let signed_in = w.sso.stats();
    // `use`; `vault refresh` (a second apart, so the new expiry is a later second); then the
    // hook's own refresh, in the window that VAULT_REFRESH_AT=1 opens. Each step prints the
    // key, the expiry and the prompt segment, then the new credentials face moto.
    let script = [
        r#"eval "$("$VAULT" hook bash)"
vault use dev
echo "use|$AWS_VAULT|$AWS_ACCESS_KEY_ID|$VAULT_EXPIRES_AT|$AWS_CREDENTIAL_EXPIRATION|${VAULT_SEGMENT%% *}"
sleep 1.1
vault refresh
echo "refresh|$AWS_VAULT|$AWS_ACCESS_KEY_ID|$VAULT_EXPIRES_AT|$AWS_CREDENTIAL_EXPIRATION|${VAULT_SEGMENT%% *}"
sleep 1.1
"#,
        REFRESH_IN_BASH,
        r#"echo "hook|$AWS_VAULT|$AWS_ACCESS_KEY_ID|$VAULT_EXPIRES_AT|$AWS_CREDENTIAL_EXPIRATION|${VAULT_SEGMENT%% *}|$__vault_refresh_state"
aws sts get-caller-identity --query Arn --output text
"#,
    ]
    .concat();
    let output = w.bash(&script);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stderr, "", "{stdout}");
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    let steps: Vec<&str> = lines[..3].iter().map(|l| l[0]).collect();
    assert_eq!(steps, ["use", "refresh", "hook"], "{stdout}");
    let expiry = |i: usize| -> i64 { lines[i][3].parse().expect("VAULT_EXPIRES_AT") };
    for (i, step) in lines[..3].iter().enumerate() {
        assert_eq!(step[1], "dev", "{stdout}");
        assert!(step[2].starts_with("ASIA"), "{stdout}");
        // AWS_CREDENTIAL_EXPIRATION and VAULT_EXPIRES_AT name the same second.
        assert_eq!(rfc3339(step[4]).unix_timestamp(), expiry(i), "{stdout}");
        assert_eq!(step[5], "dev", "the prompt segment: {stdout}");
    }
    assert_eq!(lines[2][6], "", "no refresh is pending or failed: {stdout}");
    // Each refresh replaced the credentials with new ones that last longer.
    assert_ne!(lines[1][2], lines[0][2], "{stdout}");
    assert_ne!(lines[2][2], lines[1][2], "{stdout}");
    assert!(expiry(1) > expiry(0), "{stdout}");
    assert!(expiry(2) > expiry(1), "{stdout}");
    let lifetime = expiry(0) - OffsetDateTime::now_utc().unix_timestamp();
    assert!((300..=400).contains(&lifetime), "{stdout}");
    assert!(
        lines[3][0].ends_with(":assumed-role/Developer/sso-user"),
        "{stdout}"
    );

    // One GetRoleCredentials per step, each with the kept sign-in: no browser, no new token.
    assert_eq!(
        calls_between(&signed_in, &w.sso.stats()),
        json!({"GetRoleCredentials": 3})
    );
    assert_eq!(w.launches(), 1, "only the sign-in before the shell");
}
