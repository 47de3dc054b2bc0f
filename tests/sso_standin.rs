//! The IAM Identity Center stand-in (`support/sso_standin.py`), proved with real clients:
//! boto3/botocore and the aws CLI drive its OIDC and portal APIs (botocore parses its answers
//! and error shapes as it parses AWS's), the credentials it hands out work against moto, and
//! a request that breaks the model is refused as the real service refuses it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::sso::{self, SsoStandIn, browser_launches, fake_browser_command};
use crate::support::{Sandbox, moto};

/// Helpers every driver script starts with: `oidc` and `sso` boto3 clients on the stand-in,
/// `error(call, **kw)` (the ClientError a call must raise), `get(url)` (one request, no
/// redirects followed), `control(settings)`, `stats()`, and `out(value)` (the JSON result).
const PRELUDE: &str = r#"
import base64, hashlib, json, os, secrets, time, urllib.error, urllib.parse, urllib.request
import boto3
from botocore.exceptions import ClientError

EP = os.environ["SSO_ENDPOINT"]
oidc = boto3.client("sso-oidc", region_name="us-east-1", endpoint_url=EP)
sso = boto3.client("sso", region_name="us-east-1", endpoint_url=EP)
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
START = "https://example.awsapps.com/start"


def clean(answer):
    answer.pop("ResponseMetadata", None)
    return answer


def error(call, **kw):
    try:
        call(**kw)
    except ClientError as e:
        r = e.response
        return {
            "code": r["Error"]["Code"],
            "status": r["ResponseMetadata"]["HTTPStatusCode"],
            "message": r["Error"].get("Message"),
            "type_header": r["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype"),
            "members": sorted(k for k in r if k not in ("Error", "ResponseMetadata")),
        }
    raise AssertionError(f"{call.__name__} did not fail")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url):
    try:
        with urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({})).open(url) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def control(settings):
    request = urllib.request.Request(EP + "/__control/config", data=json.dumps(settings).encode(), method="POST")
    with urllib.request.urlopen(request) as r:
        return json.load(r)


def stats():
    with urllib.request.urlopen(EP + "/__control/stats") as r:
        return json.load(r)


def device_client(**kw):
    return clean(oidc.register_client(clientName="test", clientType="public", **kw))


def device_token(client):
    """A token through the device grant, approved at the /device page."""
    auth = oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl=START)
    assert get(auth["verificationUriComplete"])[0] == 200
    return clean(oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType=DEVICE, deviceCode=auth["deviceCode"]))


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def out(value):
    print(json.dumps(value, default=str))
"#;

/// Runs a driver script (after [`PRELUDE`]) with the venv's Python against `standin`; it must
/// exit 0 with nothing on stderr. Returns the JSON it printed.
#[track_caller]
fn drive(standin: &SsoStandIn, script: &str) -> Value {
    let t = Sandbox::new();
    let python = sso::python();
    let done = t
        .program(python.to_str().expect("utf-8 path"))
        .arg("-c")
        .arg(format!("{PRELUDE}\n{script}"))
        .env("SSO_ENDPOINT", &standin.endpoint)
        .run();
    let value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|e| panic!("the script printed no JSON ({e}): {}", done.stdout));
    assert_no_internal_errors(standin);
    value
}

#[track_caller]
fn assert_no_internal_errors(standin: &SsoStandIn) {
    let stats = standin.stats();
    assert_eq!(
        stats["internal_errors"],
        json!([]),
        "stand-in stderr:\n{}",
        standin.stderr()
    );
}

fn standin() -> SsoStandIn {
    SsoStandIn::start(&moto::shared().endpoint())
}

#[test]
fn register_client_with_and_without_scopes() {
    let sso = standin();
    let result = drive(
        &sso,
        r#"
plain = device_client()
scoped = clean(oidc.register_client(
    clientName="vault-test", clientType="public", scopes=["sso:account:access"],
    grantTypes=["authorization_code", "refresh_token"], redirectUris=["http://127.0.0.1/oauth/callback"],
    issuerUrl=START,
))
out({
    "plain": sorted(plain), "scoped": sorted(scoped),
    "lifetime": plain["clientSecretExpiresAt"] - plain["clientIdIssuedAt"],
    "fresh": abs(plain["clientIdIssuedAt"] - time.time()) < 60,
    "distinct": plain["clientId"] != scoped["clientId"],
    "private_type": error(oidc.register_client, clientName="x", clientType="confidential"),
    "bad_grant": error(oidc.register_client, clientName="x", clientType="public", grantTypes=["password"]),
    "clients": stats()["clients"],
})
"#,
    );
    let members = json!([
        "clientId",
        "clientIdIssuedAt",
        "clientSecret",
        "clientSecretExpiresAt"
    ]);
    assert_eq!(result["plain"], members);
    assert_eq!(result["scoped"], members);
    assert_eq!(result["lifetime"], 90 * 86400);
    assert_eq!(result["fresh"], true);
    assert_eq!(result["distinct"], true);
    assert_eq!(
        result["private_type"]["code"],
        "InvalidClientMetadataException"
    );
    assert_eq!(result["private_type"]["status"], 400);
    assert_eq!(result["bad_grant"]["code"], "UnsupportedGrantTypeException");
    let clients = result["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 2);
    assert_eq!(clients[0]["scopes"], Value::Null);
    assert_eq!(clients[0]["grantTypes"], Value::Null);
    assert_eq!(clients[1]["scopes"], json!(["sso:account:access"]));
    assert_eq!(
        clients[1]["redirectUris"],
        json!(["http://127.0.0.1/oauth/callback"])
    );
    assert_eq!(clients[1]["issuerUrl"], "https://example.awsapps.com/start");
    assert_eq!(sso.stats()["operations"]["RegisterClient"], 4);
}

#[test]
fn device_flow_pending_slow_down_approval_denial_and_expiry() {
    let sso = standin();
    let result = drive(
        &sso,
        r#"
client = device_client(scopes=["sso:account:access"])
ids = dict(clientId=client["clientId"], clientSecret=client["clientSecret"])
auth = clean(oidc.start_device_authorization(startUrl=START, **ids))
pending = error(oidc.create_token, grantType=DEVICE, deviceCode=auth["deviceCode"], **ids)
too_fast = error(oidc.create_token, grantType=DEVICE, deviceCode=auth["deviceCode"], **ids)
control({"approve_device": auth["userCode"]})
time.sleep(auth["interval"] + 0.1)
token = clean(oidc.create_token(grantType=DEVICE, deviceCode=auth["deviceCode"], **ids))
reused = error(oidc.create_token, grantType=DEVICE, deviceCode=auth["deviceCode"], **ids)

no_scopes = device_client()
token_without_scopes = device_token(no_scopes)

control({"deny_authorization": True})
denied_auth = oidc.start_device_authorization(startUrl=START, **ids)
denied_page = get(denied_auth["verificationUriComplete"])
denied = error(oidc.create_token, grantType=DEVICE, deviceCode=denied_auth["deviceCode"], **ids)
control({"deny_authorization": False, "device_expires_in": 0})
expired_auth = oidc.start_device_authorization(startUrl=START, **ids)
expired = error(oidc.create_token, grantType=DEVICE, deviceCode=expired_auth["deviceCode"], **ids)

code_only = device_client(grantTypes=["authorization_code"], redirectUris=["http://127.0.0.1/cb"])
unauthorized = error(oidc.start_device_authorization, startUrl=START, clientId=code_only["clientId"], clientSecret=code_only["clientSecret"])
wrong_secret = error(oidc.start_device_authorization, startUrl=START, clientId=client["clientId"], clientSecret="nope")
out({
    "auth": auth, "pending": pending, "too_fast": too_fast, "token": token, "reused": reused,
    "token_without_scopes": sorted(token_without_scopes), "denied_page": denied_page[0], "denied": denied,
    "expired": expired, "unauthorized": unauthorized, "wrong_secret": wrong_secret,
})
"#,
    );
    let auth = &result["auth"];
    let user_code = auth["userCode"].as_str().unwrap();
    assert_eq!(auth["expiresIn"], 600);
    assert_eq!(auth["interval"], 1);
    assert_eq!(auth["verificationUri"], format!("{}/device", sso.endpoint));
    assert_eq!(
        auth["verificationUriComplete"],
        format!("{}/device?user_code={user_code}", sso.endpoint)
    );
    assert_eq!(result["pending"]["code"], "AuthorizationPendingException");
    assert_eq!(result["pending"]["status"], 400);
    assert_eq!(
        result["pending"]["type_header"],
        "AuthorizationPendingException"
    );
    // botocore puts the error shape's members beside Error: the OAuth code and description.
    assert_eq!(
        result["pending"]["members"],
        json!(["error", "error_description"])
    );
    assert_eq!(result["too_fast"]["code"], "SlowDownException");
    assert_eq!(result["token"]["tokenType"], "Bearer");
    assert_eq!(result["token"]["expiresIn"], 3600);
    assert!(result["token"]["refreshToken"].is_string(), "{result}");
    assert_eq!(result["reused"]["code"], "InvalidGrantException");
    assert_eq!(
        result["token_without_scopes"],
        json!(["accessToken", "expiresIn", "tokenType"]),
        "no scopes, no refresh token"
    );
    assert_eq!(result["denied_page"], 200);
    assert_eq!(result["denied"]["code"], "AccessDeniedException");
    assert_eq!(result["expired"]["code"], "ExpiredTokenException");
    assert_eq!(
        result["unauthorized"]["code"],
        "UnauthorizedClientException"
    );
    assert_eq!(result["wrong_secret"]["code"], "InvalidClientException");
    assert_eq!(result["wrong_secret"]["status"], 401);
    let stats = sso.stats();
    assert_eq!(stats["device_approvals"], 2);
    assert_eq!(stats["device_denials"], 1);
    assert_eq!(
        stats["create_token"]["urn:ietf:params:oauth:grant-type:device_code"],
        7
    );
    assert_eq!(stats["errors"]["AuthorizationPendingException"], 1);
    assert_eq!(stats["errors"]["SlowDownException"], 1);
}

#[test]
fn pkce_code_flow_checks_redirect_state_and_verifier() {
    let sso = standin();
    let result = drive(
        &sso,
        r#"
client = clean(oidc.register_client(
    clientName="vault-test", clientType="public", scopes=["sso:account:access"],
    grantTypes=["authorization_code", "refresh_token"], redirectUris=["http://127.0.0.1/oauth/callback"],
    issuerUrl=START,
))
ids = dict(clientId=client["clientId"], clientSecret=client["clientSecret"])
verifier, challenge = pkce()
redirect = "http://127.0.0.1:55555/oauth/callback"


def authorize(**changes):
    query = dict(response_type="code", client_id=client["clientId"], redirect_uri=redirect, state="s-1",
                 code_challenge=challenge, code_challenge_method="S256", scopes="sso:account:access")
    query.update(changes)
    return get(EP + "/authorize?" + urllib.parse.urlencode(query))


status, headers, _ = authorize()
location = urllib.parse.urlsplit(headers["Location"])
params = urllib.parse.parse_qs(location.query)
code = params["code"][0]
wrong_verifier = error(oidc.create_token, grantType="authorization_code", code=code, codeVerifier="x" * 43, redirectUri=redirect, **ids)
wrong_redirect = error(oidc.create_token, grantType="authorization_code", code=code, codeVerifier=verifier, redirectUri="http://127.0.0.1:1/oauth/callback", **ids)
token = clean(oidc.create_token(grantType="authorization_code", code=code, codeVerifier=verifier, redirectUri=redirect, **ids))
reused = error(oidc.create_token, grantType="authorization_code", code=code, codeVerifier=verifier, redirectUri=redirect, **ids)

unregistered = authorize(redirect_uri="http://127.0.0.1:55555/elsewhere")[0]
unknown_client = authorize(client_id="nobody")[0]
control({"deny_authorization": True})
denied = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize()[1]["Location"]).query)
device_only = device_client()
no_code_grant = get(EP + "/authorize?" + urllib.parse.urlencode(dict(
    response_type="code", client_id=device_only["clientId"], redirect_uri=redirect, state="s",
    code_challenge=challenge, code_challenge_method="S256")))[0]
out({
    "status": status, "target": f"{location.scheme}://{location.netloc}{location.path}", "params": sorted(params),
    "state": params["state"], "wrong_verifier": wrong_verifier, "wrong_redirect": wrong_redirect,
    "token": sorted(token), "reused": reused, "unregistered": unregistered, "unknown_client": unknown_client,
    "denied": denied, "no_code_grant": no_code_grant,
})
"#,
    );
    assert_eq!(result["status"], 302);
    assert_eq!(result["target"], "http://127.0.0.1:55555/oauth/callback");
    assert_eq!(result["params"], json!(["code", "state"]));
    assert_eq!(result["state"], json!(["s-1"]));
    assert_eq!(result["wrong_verifier"]["code"], "InvalidGrantException");
    assert_eq!(result["wrong_redirect"]["code"], "InvalidGrantException");
    assert_eq!(
        result["token"],
        json!(["accessToken", "expiresIn", "refreshToken", "tokenType"])
    );
    assert_eq!(result["reused"]["code"], "InvalidGrantException");
    assert_eq!(result["unregistered"], 400);
    assert_eq!(result["unknown_client"], 400);
    assert_eq!(
        result["denied"],
        json!({"error": ["access_denied"], "state": ["s-1"]})
    );
    assert_eq!(result["no_code_grant"], 400);
    let stats = sso.stats();
    assert_eq!(stats["authorize"], 5);
    assert_eq!(stats["create_token"]["authorization_code"], 4);
}

#[test]
fn refresh_tokens_rotate_and_can_be_revoked() {
    let sso = standin();
    let result = drive(
        &sso,
        r#"
client = device_client(scopes=["sso:account:access"])
ids = dict(clientId=client["clientId"], clientSecret=client["clientSecret"])
first = device_token(client)
second = clean(oidc.create_token(grantType="refresh_token", refreshToken=first["refreshToken"], **ids))
old_again = error(oidc.create_token, grantType="refresh_token", refreshToken=first["refreshToken"], **ids)
third = clean(oidc.create_token(grantType="refresh_token", refreshToken=second["refreshToken"], **ids))
other = device_client(scopes=["sso:account:access"])
other_client = error(oidc.create_token, grantType="refresh_token", refreshToken=third["refreshToken"],
                     clientId=other["clientId"], clientSecret=other["clientSecret"])
control({"revoke_refresh_tokens": True})
revoked = error(oidc.create_token, grantType="refresh_token", refreshToken=third["refreshToken"], **ids)

device_grant_only = device_client(scopes=["sso:account:access"], grantTypes=[DEVICE])
without_refresh = device_token(device_grant_only)
no_refresh_grant = error(oidc.create_token, grantType="refresh_token", refreshToken="aor-anything",
                         clientId=device_grant_only["clientId"], clientSecret=device_grant_only["clientSecret"])
unsupported = error(oidc.create_token, grantType="password", **ids)
control({"access_token_ttl": 120})
short = clean(oidc.create_token(grantType="refresh_token", refreshToken=device_token(client)["refreshToken"], **ids))
out({
    "distinct": len({first["accessToken"], second["accessToken"], third["accessToken"]}) == 3,
    "rotated": len({first["refreshToken"], second["refreshToken"], third["refreshToken"]}) == 3,
    "old_again": old_again, "other_client": other_client, "revoked": revoked,
    "without_refresh": sorted(without_refresh), "no_refresh_grant": no_refresh_grant,
    "unsupported": unsupported, "short": short["expiresIn"],
})
"#,
    );
    assert_eq!(result["distinct"], true);
    assert_eq!(result["rotated"], true);
    assert_eq!(result["old_again"]["code"], "InvalidGrantException");
    assert_eq!(result["other_client"]["code"], "InvalidGrantException");
    assert_eq!(result["revoked"]["code"], "InvalidGrantException");
    assert_eq!(
        result["without_refresh"],
        json!(["accessToken", "expiresIn", "tokenType"]),
        "a client without the refresh_token grant gets no refresh token"
    );
    assert_eq!(
        result["no_refresh_grant"]["code"],
        "UnauthorizedClientException"
    );
    assert_eq!(
        result["unsupported"]["code"],
        "UnsupportedGrantTypeException"
    );
    assert_eq!(result["short"], 120);
    assert_eq!(sso.stats()["create_token"]["refresh_token"], 7);
}

#[test]
fn role_credentials_come_from_moto_and_work_there() {
    let moto = moto::shared();
    let sso = SsoStandIn::start(&moto.endpoint());
    let result = drive(
        &sso,
        r#"
token = device_token(device_client())["accessToken"]
before = time.time()
answer = clean(sso.get_role_credentials(accessToken=token, accountId="111111111111", roleName="Developer"))
forbidden = error(sso.get_role_credentials, accessToken=token, accountId="111111111111", roleName="Admin")
other_account = error(sso.get_role_credentials, accessToken=token, accountId="222222222222", roleName="Developer")
control({"role_credentials_ttl": 900})
short = sso.get_role_credentials(accessToken=token, accountId="111111111111", roleName="Developer")
control({"expire_access_tokens": True})
expired = error(sso.get_role_credentials, accessToken=token, accountId="111111111111", roleName="Developer")
bogus = error(sso.get_role_credentials, accessToken="not-a-token", accountId="111111111111", roleName="Developer")
creds = answer["roleCredentials"]
out({
    "creds": creds, "lifetime": creds["expiration"] / 1000 - before,
    "short": short["roleCredentials"]["expiration"] / 1000 - before,
    "forbidden": forbidden, "other_account": other_account, "expired": expired, "bogus": bogus,
})
"#,
    );
    let creds = &result["creds"];
    assert!(creds["expiration"].is_i64(), "epoch milliseconds: {creds}");
    let lifetime = result["lifetime"].as_f64().unwrap();
    assert!((3590.0..=3601.0).contains(&lifetime), "{lifetime}");
    let short = result["short"].as_f64().unwrap();
    assert!((890.0..=901.0).contains(&short), "{short}");
    for (name, status) in [("forbidden", 403), ("other_account", 403)] {
        assert_eq!(result[name]["code"], "ForbiddenException");
        assert_eq!(result[name]["status"], status);
        assert_eq!(result[name]["message"], "No access");
    }
    for name in ["expired", "bogus"] {
        assert_eq!(result[name]["code"], "UnauthorizedException");
        assert_eq!(result[name]["status"], 401);
    }

    // The aws CLI, with those credentials, against moto: the assumed role's session.
    let t = Sandbox::new();
    let done = t
        .program("aws")
        .args(["sts", "get-caller-identity", "--output", "json"])
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", creds["accessKeyId"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            creds["secretAccessKey"].as_str().unwrap(),
        )
        .env("AWS_SESSION_TOKEN", creds["sessionToken"].as_str().unwrap())
        .run();
    let identity: Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(
        identity["Arn"],
        "arn:aws:sts::111111111111:assumed-role/Developer/sso-user"
    );
    assert_eq!(identity["Account"], "111111111111");

    let stats = sso.stats();
    assert_eq!(stats["role_credentials"]["111111111111/Developer"], 4);
    assert_eq!(stats["role_credentials"]["111111111111/Admin"], 1);
    assert_eq!(stats["operations"]["GetRoleCredentials"], 6);
}

#[test]
fn accounts_and_roles_are_listed_a_page_at_a_time() {
    let sso = standin();
    sso.configure(&json!({"assignments": [
        {"accountId": "111111111111", "accountName": "dev", "emailAddress": "dev@example.com",
         "roles": ["Developer", "ReadOnly", "Admin"]},
        {"accountId": "222222222222", "accountName": "prod", "emailAddress": "prod@example.com",
         "roles": ["ReadOnly"]},
        {"accountId": "333333333333", "accountName": "audit", "emailAddress": "audit@example.com",
         "roles": ["Auditor"]},
    ]}));
    let result = drive(
        &sso,
        r#"
token = device_token(device_client())["accessToken"]
first = clean(sso.list_accounts(accessToken=token, maxResults=2))
second = clean(sso.list_accounts(accessToken=token, maxResults=2, nextToken=first["nextToken"]))
everything = [a for page in sso.get_paginator("list_accounts").paginate(accessToken=token, PaginationConfig={"PageSize": 1})
              for a in page["accountList"]]
roles = [r for page in sso.get_paginator("list_account_roles").paginate(accessToken=token, accountId="111111111111", PaginationConfig={"PageSize": 2})
         for r in page["roleList"]]
unassigned = error(sso.list_account_roles, accessToken=token, accountId="999999999999")
bad_next = error(sso.list_accounts, accessToken=token, nextToken="garbage")
logged_out = error(sso.list_accounts, accessToken="nope")
out({"first": first, "second": second, "everything": everything, "roles": roles,
     "unassigned": unassigned, "bad_next": bad_next, "logged_out": logged_out})
"#,
    );
    assert_eq!(
        result["first"]["accountList"],
        json!([
            {"accountId": "111111111111", "accountName": "dev", "emailAddress": "dev@example.com"},
            {"accountId": "222222222222", "accountName": "prod", "emailAddress": "prod@example.com"},
        ])
    );
    assert!(result["first"]["nextToken"].is_string());
    assert_eq!(
        result["second"],
        json!({"accountList": [
            {"accountId": "333333333333", "accountName": "audit", "emailAddress": "audit@example.com"},
        ]})
    );
    assert_eq!(result["everything"].as_array().unwrap().len(), 3);
    assert_eq!(
        result["roles"],
        json!([
            {"roleName": "Developer", "accountId": "111111111111"},
            {"roleName": "ReadOnly", "accountId": "111111111111"},
            {"roleName": "Admin", "accountId": "111111111111"},
        ])
    );
    assert_eq!(result["unassigned"]["code"], "ForbiddenException");
    assert_eq!(result["bad_next"]["code"], "InvalidRequestException");
    assert_eq!(result["logged_out"]["code"], "UnauthorizedException");
    let operations = &sso.stats()["operations"];
    assert_eq!(operations["ListAccounts"], 7);
    assert_eq!(operations["ListAccountRoles"], 3);
}

#[test]
fn logout_ends_the_access_token_and_its_refresh_token() {
    let sso = standin();
    let result = drive(
        &sso,
        r#"
client = device_client(scopes=["sso:account:access"])
ids = dict(clientId=client["clientId"], clientSecret=client["clientSecret"])
token = device_token(client)
other = device_token(client)
before = stats()["live_refresh_tokens"]
logout = sso.logout(accessToken=token["accessToken"])
after = stats()["live_refresh_tokens"]
out({
    "logout_status": logout["ResponseMetadata"]["HTTPStatusCode"], "before": before, "after": after,
    "listed": error(sso.list_accounts, accessToken=token["accessToken"]),
    "refresh": error(oidc.create_token, grantType="refresh_token", refreshToken=token["refreshToken"], **ids),
    "again": error(sso.logout, accessToken=token["accessToken"]),
    "other_still_works": len(sso.list_accounts(accessToken=other["accessToken"])["accountList"]),
})
"#,
    );
    assert_eq!(result["logout_status"], 200);
    assert_eq!(result["before"], 2);
    assert_eq!(result["after"], 1);
    assert_eq!(result["listed"]["code"], "UnauthorizedException");
    assert_eq!(result["refresh"]["code"], "InvalidGrantException");
    assert_eq!(result["again"]["code"], "UnauthorizedException");
    assert_eq!(result["other_still_works"], 1);
    assert_eq!(sso.stats()["operations"]["Logout"], 2);
}

#[test]
fn the_aws_cli_is_a_client_too() {
    let sso = standin();
    let t = Sandbox::new();
    // The CLI v1 would otherwise fetch the start URL given as a parameter value.
    t.write_config("[default]\ncli_follow_urlparam = false\n");
    let aws = |args: &[&str]| -> Value {
        let done = t
            .program("aws")
            .args(args)
            .args([
                "--endpoint-url",
                &sso.endpoint,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .run();
        serde_json::from_str(&done.stdout).unwrap()
    };
    let client = aws(&[
        "sso-oidc",
        "register-client",
        "--client-name",
        "cli",
        "--client-type",
        "public",
        "--scopes",
        "sso:account:access",
    ]);
    let (id, secret) = (
        client["clientId"].as_str().unwrap(),
        client["clientSecret"].as_str().unwrap(),
    );
    let auth = aws(&[
        "sso-oidc",
        "start-device-authorization",
        "--client-id",
        id,
        "--client-secret",
        secret,
        "--start-url",
        "https://example.awsapps.com/start",
    ]);
    sso.configure(&json!({"approve_device": auth["userCode"]}));
    let token = aws(&[
        "sso-oidc",
        "create-token",
        "--client-id",
        id,
        "--client-secret",
        secret,
        "--grant-type",
        "urn:ietf:params:oauth:grant-type:device_code",
        "--device-code",
        auth["deviceCode"].as_str().unwrap(),
    ]);
    let access = token["accessToken"].as_str().unwrap();
    let roles = aws(&[
        "sso",
        "list-account-roles",
        "--access-token",
        access,
        "--account-id",
        "111111111111",
    ]);
    assert_eq!(
        roles["roleList"],
        json!([{"roleName": "Developer", "accountId": "111111111111"}])
    );
    t.program("aws")
        .args([
            "sso",
            "get-role-credentials",
            "--access-token",
            access,
            "--account-id",
            "111111111111",
            "--role-name",
            "Admin",
            "--endpoint-url",
            &sso.endpoint,
            "--region",
            "us-east-1",
        ])
        .status(255)
        .stderr(
            "\nAn error occurred (ForbiddenException) when calling the GetRoleCredentials \
             operation: No access\n",
        )
        .run();
    assert_no_internal_errors(&sso);
}

#[test]
fn oidc_requests_that_break_the_model_are_refused_with_invalid_request() {
    let sso = standin();
    let json = [("Content-Type", "application/json")];
    let register = |body: &str| sso.request("POST", "/client/register", &json, body);
    let oidc_cases = [
        ("missing required member", register(r#"{"clientName":"x"}"#)),
        (
            "unknown member",
            register(r#"{"clientName":"x","clientType":"public","bogus":1}"#),
        ),
        (
            "string for a list",
            register(r#"{"clientName":"x","clientType":"public","scopes":"sso:account:access"}"#),
        ),
        (
            "number in a list of strings",
            register(r#"{"clientName":"x","clientType":"public","scopes":[1]}"#),
        ),
        (
            "number for a string",
            register(r#"{"clientName":7,"clientType":"public"}"#),
        ),
        ("not JSON", register("clientName=x&clientType=public")),
        (
            "token request without grantType",
            sso.request(
                "POST",
                "/token",
                &json,
                r#"{"clientId":"a","clientSecret":"b"}"#,
            ),
        ),
        (
            "member in the query instead of the body",
            sso.request(
                "POST",
                "/client/register?clientType=public",
                &json,
                r#"{"clientName":"x"}"#,
            ),
        ),
    ];
    for (case, reply) in &oidc_cases {
        assert_eq!(reply.status, 400, "{case}: {reply:?}");
        assert_eq!(
            reply.header("x-amzn-ErrorType"),
            Some("InvalidRequestException"),
            "{case}: {reply:?}"
        );
        let body = reply.json();
        assert_eq!(body["error"], "invalid_request", "{case}: {reply:?}");
        assert!(body["error_description"].is_string(), "{case}: {reply:?}");
    }
    assert!(
        oidc_cases[0].1.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("'clientType'"),
        "{:?}",
        oidc_cases[0].1
    );
    let stats = sso.stats();
    assert_eq!(stats["errors"]["InvalidRequestException"], oidc_cases.len());
    assert_eq!(stats["operations"]["RegisterClient"], oidc_cases.len() - 1);
    assert_no_internal_errors(&sso);
}

#[test]
fn portal_requests_that_break_the_model_are_refused_with_invalid_request() {
    let sso = standin();
    let token = drive(&sso, r#"out(device_token(device_client())["accessToken"])"#);
    let token = token.as_str().unwrap();
    let bearer = [("x-amz-sso_bearer_token", token)];
    let portal_cases = [
        (
            "no bearer token header",
            sso.request(
                "GET",
                "/federation/credentials?role_name=Developer&account_id=111111111111",
                &[],
                "",
            ),
        ),
        (
            "no account_id",
            sso.request(
                "GET",
                "/federation/credentials?role_name=Developer",
                &bearer,
                "",
            ),
        ),
        (
            "a body member's name in the query",
            sso.request("GET", "/assignment/accounts?maxResults=2", &bearer, ""),
        ),
        (
            "max_result not an integer",
            sso.request("GET", "/assignment/accounts?max_result=two", &bearer, ""),
        ),
        (
            "max_result below the model's minimum",
            sso.request("GET", "/assignment/accounts?max_result=0", &bearer, ""),
        ),
        (
            "a body where none belongs",
            sso.request("POST", "/logout", &bearer, r#"{"accessToken":"x"}"#),
        ),
    ];
    for (case, reply) in &portal_cases {
        assert_eq!(reply.status, 400, "{case}: {reply:?}");
        assert_eq!(
            reply.header("x-amzn-ErrorType"),
            Some("InvalidRequestException"),
            "{case}: {reply:?}"
        );
        let body = reply.json();
        assert!(body["message"].is_string(), "{case}: {reply:?}");
        assert_eq!(body.as_object().unwrap().len(), 1, "{case}: {reply:?}");
    }

    // The same requests made well are answered.
    let fine = sso.request("GET", "/assignment/accounts?max_result=1", &bearer, "");
    assert_eq!(fine.status, 200, "{fine:?}");
    assert_eq!(fine.json()["accountList"][0]["accountId"], "111111111111");
    assert_eq!(
        sso.request("GET", "/nowhere", &[], "").status,
        404,
        "an unknown path"
    );

    let stats = sso.stats();
    assert_eq!(
        stats["errors"]["InvalidRequestException"],
        portal_cases.len()
    );
    let last = stats["requests"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["path"], "/nowhere");
    assert_no_internal_errors(&sso);
}

#[test]
fn fake_browser_follows_authorize_to_the_callback_and_approves_devices() {
    let sso = standin();
    let t = Sandbox::new();
    let log = t.home().join("browser.log");
    let result = drive_with_browser(
        &sso,
        &fake_browser_command(&log),
        r#"
import http.server, shlex, subprocess, threading

got = {}


class Callback(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        got.update(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))
        got["path"] = urllib.parse.urlsplit(self.path).path
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
threading.Thread(target=server.handle_request, daemon=True).start()
redirect = f"http://127.0.0.1:{server.server_port}/oauth/callback"
client = clean(oidc.register_client(
    clientName="vault-test", clientType="public", scopes=["sso:account:access"],
    grantTypes=["authorization_code", "refresh_token"], redirectUris=["http://127.0.0.1/oauth/callback"],
))
verifier, challenge = pkce()
url = EP + "/authorize?" + urllib.parse.urlencode(dict(
    response_type="code", client_id=client["clientId"], redirect_uri=redirect, state="st",
    code_challenge=challenge, code_challenge_method="S256", scopes="sso:account:access"))
browser = shlex.split(os.environ["BROWSER"])
first = subprocess.run(browser + [url], capture_output=True)
token = clean(oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType="authorization_code",
                                code=got["code"][0], codeVerifier=verifier, redirectUri=redirect))

device = device_client()
auth = oidc.start_device_authorization(clientId=device["clientId"], clientSecret=device["clientSecret"], startUrl=START)
second = subprocess.run(browser + [auth["verificationUriComplete"]], capture_output=True)
dtoken = clean(oidc.create_token(clientId=device["clientId"], clientSecret=device["clientSecret"], grantType=DEVICE,
                                 deviceCode=auth["deviceCode"]))
nowhere = subprocess.run(browser + ["http://127.0.0.1:1/closed"], capture_output=True)
out({"callback": got["path"], "state": got["state"], "token": sorted(token), "device_token": sorted(dtoken),
     "runs": [[r.returncode, r.stdout.decode(), r.stderr.decode()] for r in (first, second, nowhere)],
     "urls": [url, auth["verificationUriComplete"]]})
"#,
    );
    assert_eq!(result["callback"], "/oauth/callback");
    assert_eq!(result["state"], json!(["st"]));
    assert!(
        result["token"]
            .as_array()
            .unwrap()
            .contains(&json!("accessToken"))
    );
    assert!(
        result["device_token"]
            .as_array()
            .unwrap()
            .contains(&json!("accessToken"))
    );
    assert_eq!(
        result["runs"],
        json!([[0, "", ""], [0, "", ""], [0, "", ""]]),
        "the browser exits 0 and prints nothing, even for a page that does not answer"
    );
    let urls = result["urls"].as_array().unwrap();
    assert_eq!(
        browser_launches(&log),
        vec![
            urls[0].as_str().unwrap().to_owned(),
            urls[1].as_str().unwrap().to_owned(),
            "http://127.0.0.1:1/closed".to_owned(),
        ]
    );
    let stats = sso.stats();
    assert_eq!(stats["authorize"], 1);
    assert_eq!(stats["device_approvals"], 1);
}

/// [`drive`] with `BROWSER` set.
#[track_caller]
fn drive_with_browser(standin: &SsoStandIn, browser: &str, script: &str) -> Value {
    let t = Sandbox::new();
    let python = sso::python();
    let done = t
        .program(python.to_str().expect("utf-8 path"))
        .arg("-c")
        .arg(format!("{PRELUDE}\n{script}"))
        .env("SSO_ENDPOINT", &standin.endpoint)
        .env("BROWSER", browser)
        .run();
    assert_no_internal_errors(standin);
    serde_json::from_str(&done.stdout)
        .unwrap_or_else(|e| panic!("the script printed no JSON ({e}): {}", done.stdout))
}

#[test]
fn stops_when_stdin_closes_on_sigterm_and_on_drop() {
    fn spawn() -> (std::process::Child, u16) {
        let mut child = Command::new(sso::python())
            .arg(crate::support::support_file("sso_standin.py"))
            .args(["--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python starts");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port = line
            .trim_end()
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("first line: {line:?}"));
        (child, port)
    }
    fn finished(mut child: std::process::Child) -> std::process::Output {
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the stand-in still runs");
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    let (mut child, port) = spawn();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(child.stdin.take());
    let output = finished(child);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    let (child, _) = spawn();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let output = finished(child);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");

    let sso = standin();
    let port = sso.port;
    drop(sso);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
