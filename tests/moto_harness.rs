//! The moto harness the credential tests build on: it starts on a free port, answers STS
//! through the aws CLI, and stops by PID.

use crate::support::Sandbox;
use crate::support::moto::Moto;

#[test]
fn moto_starts_answers_sts_and_stops() {
    let moto = Moto::start(&[]);
    let t = Sandbox::new();
    let output = t
        .command("aws")
        .args(["sts", "get-caller-identity", "--output", "json"])
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("the aws CLI runs (pip install awscli)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let identity: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(identity["Account"], "123456789012");
    let (port, pid) = (moto.port, moto.pid());
    drop(moto);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z ")),
        "moto still runs"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still answers"
    );
}
