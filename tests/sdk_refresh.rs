//! vault's answers against the SDKs' own refresh windows: botocore (boto3, the aws CLI) runs
//! `credential_process` again on every call once fewer than 15 minutes are left, so vault must
//! not hand it a cached session inside that window when a longer one can be had.

use crate::support::Sandbox;
use crate::support::moto;
use crate::support::proxy::{Mode, Proxy};

#[test]
fn boto3_making_100_calls_through_credential_process_starts_vault_a_handful_of_times() {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let (_, id, secret) = moto.create_user("window");
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    let starts = t.home().join("starts");
    let vault = env!("CARGO_BIN_EXE_vault");
    t.write_config(&format!(
        "[default]\nregion = us-east-1\n[profile user]\n\
         [profile viaprocess]\nregion = us-east-1\n\
         credential_process = /bin/sh -c 'echo started >> {starts} && exec {vault} export --format json user'\n",
        starts = starts.display()
    ));
    t.add("user", &id, &secret);
    // A cached session with 15 minutes left: inside botocore's window, outside AWS_MIN_TTL's.
    t.vault(["export", "user"])
        .env("AWS_SESSION_TOKEN_TTL", "15m")
        .run();
    assert_eq!(proxy.count("GetSessionToken"), 1);

    let script = "import boto3\n\
        client = boto3.Session(profile_name='viaprocess').client('sts')\n\
        for _ in range(100):\n    client.get_caller_identity()\n\
        print('done')\n";
    let done = t.program("python3").args(["-c", script]).run();
    assert_eq!(done.stdout, "done\n");
    let started = std::fs::read_to_string(&starts)
        .unwrap_or_default()
        .lines()
        .count();
    assert!(
        (1..=3).contains(&started),
        "vault was started {started} times for 100 calls"
    );
    assert_eq!(
        proxy.count("GetSessionToken"),
        2,
        "the 15-minute session was not replaced by a longer one"
    );
    assert_eq!(proxy.count("GetCallerIdentity"), 100);
}

#[test]
fn export_json_carries_the_roles_account_id_and_boto3_takes_it() {
    let moto = moto::shared();
    let (_, id, secret) = moto.create_user("account");
    let t = Sandbox::new().with_endpoint(moto.endpoint());
    let vault = env!("CARGO_BIN_EXE_vault");
    t.write_config(&format!(
        "[default]\nregion = us-east-1\n[profile user]\n\
         [profile role]\nsource_profile = user\nrole_arn = arn:aws:iam::210987654321:role/r\n\
         [profile viaprocess]\nregion = us-east-1\n\
         credential_process = {vault} export --format json role\n"
    ));
    t.add("user", &id, &secret);
    let done = t.vault(["export", "role", "--format", "json"]).run();
    let json: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(json["AccountId"], "210987654321", "{}", done.stdout);
    // A user without a role or MFA device: the config does not say, so nothing is claimed.
    let done = t.vault(["export", "user", "--format", "json"]).run();
    assert!(!done.stdout.contains("AccountId"), "{}", done.stdout);
    let script = "import boto3\n\
        creds = boto3.Session(profile_name='viaprocess').get_credentials()\n\
        print(getattr(creds, 'account_id', None) or 'no account')\n\
        boto3.Session(profile_name='viaprocess').client('sts').get_caller_identity()\n";
    t.program("python3")
        .args(["-c", script])
        .stdout("210987654321\n")
        .run();
}
