//! STS failures: each is a clear error with exit code 1, bounded in time, and leaves the
//! keystore as it was.

use std::time::{Duration, Instant};

use crate::support::Sandbox;
use crate::support::moto::{self, Moto};
use crate::support::proxy::{Mode, Proxy};

const CONFIG: &str = "[default]\nregion = us-east-1\n[profile user]\n\
[profile role]\nsource_profile = user\nrole_arn = arn:aws:iam::123456789012:role/missing\n";

fn sandbox(endpoint: String) -> Sandbox {
    let t = Sandbox::new().with_endpoint(endpoint);
    t.write_config(CONFIG);
    t.add("user", "AKIAUSERKEY000000001", "user-secret");
    t
}

#[test]
fn keys_sts_rejects_are_reported_and_nothing_is_cached() {
    // A moto of our own with authentication on: unknown keys are refused.
    let moto = Moto::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let t = sandbox(moto.endpoint());
    let before = t.files();
    t.vault(["exec", "user", "--", "true"])
        .status(1)
        .stderr(
            "vault: error: profile user: GetSessionToken failed: the request was refused (HTTP \
             403)\n",
        )
        .run();
    assert_eq!(t.files(), before, "a failed call changed the keystore");
}

#[test]
fn an_unreachable_sts_fails_in_bounded_time() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = sandbox(format!("http://127.0.0.1:{closed}"));
    let started = Instant::now();
    t.vault(["exec", "user", "--", "true"])
        .status(1)
        // The rest of the line is the HTTP client's account of the refused connection.
        .stderr_like(
            "vault: error: profile user: GetSessionToken failed: cannot reach STS at [..] after 3 \
             attempts: [..]; check AWS_ENDPOINT_URL, any proxy (HTTPS_PROXY, NO_PROXY) and the \
             network\n",
        )
        .run();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

const INTERNAL_ERROR: &str = "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>\
<Message>injected failure</Message></Error><RequestId>1</RequestId></ErrorResponse>";
const THROTTLED: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
<Message>Rate exceeded</Message></Error><RequestId>2</RequestId></ErrorResponse>";
const NO_SUCH_ROLE: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
<Message>User: arn:aws:iam::123456789012:user/user is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/missing</Message></Error><RequestId>3</RequestId></ErrorResponse>";

#[test]
fn server_errors_and_throttling_are_retried_then_reported() {
    for (status, body, code) in [
        (
            500,
            INTERNAL_ERROR,
            "InternalFailure: injected failure (HTTP 500)",
        ),
        (400, THROTTLED, "Throttling: Rate exceeded (HTTP 400)"),
    ] {
        let stub = Proxy::start(Mode::Fault(status, body));
        let t = sandbox(stub.endpoint());
        let before = t.files();
        t.vault(["export", "user"])
            .status(1)
            .stderr(&format!(
                "vault: error: profile user: GetSessionToken failed: {code}\n"
            ))
            .stdout("")
            .run();
        assert_eq!(
            stub.count("GetSessionToken"),
            3,
            "{code}: not retried 3 times"
        );
        assert_eq!(t.files(), before);
    }
}

#[test]
fn a_role_that_does_not_exist_is_reported_with_aws_words() {
    // moto assumes any role, so the refusal AWS gives is injected for AssumeRole only.
    let proxy = Proxy::start(Mode::FaultOn(
        "AssumeRole",
        403,
        NO_SUCH_ROLE,
        moto::shared().port,
    ));
    let t = sandbox(proxy.endpoint());
    let before = t.files();
    t.vault(["exec", "role", "--", "true"])
        .status(1)
        .stderr(
            "vault: error: profile role: AssumeRole failed: AccessDenied: User: \
             arn:aws:iam::123456789012:user/user is not authorized to perform: sts:AssumeRole on \
             resource: arn:aws:iam::123456789012:role/missing (HTTP 403)\n",
        )
        .run();
    assert_eq!(proxy.count("AssumeRole"), 1, "a refusal is not retried");
    assert_eq!(t.files(), before);
}

#[test]
fn a_broken_credential_process_is_reported() {
    let t = Sandbox::new();
    t.write_config(
        "[profile garbage]\ncredential_process = echo garbage\n\
         [profile failing]\ncredential_process = sh -c 'echo oops >&2; exit 1'\n",
    );
    t.vault(["export", "garbage"])
        .status(1)
        .stderr(
            "vault: error: profile garbage: credential_process `echo garbage` did not print \
             credential_process JSON\n",
        )
        .run();
    t.vault(["export", "failing"])
        .status(1)
        // The process's own stderr comes first, then vault's error.
        .stderr(
            "oops\n\
             vault: error: profile failing: credential_process `sh -c 'echo oops >&2; exit 1'` \
             failed (exit status: 1)\n",
        )
        .run();
}

#[test]
fn a_malformed_mfa_code_is_refused_before_any_call() {
    let proxy = Proxy::start(Mode::Forward(moto::shared().port));
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config("[profile user]\nmfa_serial = arn:aws:iam::123456789012:mfa/user\n");
    t.add("user", "AKIAUSERKEY000000001", "user-secret");
    let before = t.files();
    for (code, problem) in [
        ("", "is empty"),
        ("12345", "is not 6 digits"),
        ("1234567", "is not 6 digits"),
        ("12a456", "is not 6 digits"),
    ] {
        t.vault(["export", "user", "--mfa-token", code])
            .status(1)
            .stderr(&format!(
                "vault: error: MFA for arn:aws:iam::123456789012:mfa/user: the MFA code {problem}\n"
            ))
            .run();
    }
    assert_eq!(proxy.total(), 0, "STS was called");
    assert_eq!(t.files(), before);
}
