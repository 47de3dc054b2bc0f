//! Limits on hostile input: a config that links profiles without end, and an endpoint that
//! answers without end, each end quickly with a clear error instead of exhausting the stack,
//! the time or the memory of every command.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::support::Sandbox;
use crate::support::moto;
use crate::support::proxy::{Mode, Proxy};

#[test]
fn an_endless_source_profile_chain_or_cycle_ends_quickly_with_a_clear_error() {
    let vault = env!("CARGO_BIN_EXE_vault");
    let mut deep = String::new();
    for i in 0..10_000 {
        let _ = writeln!(deep, "[profile p{i}]\nsource_profile = p{}", i + 1);
    }
    let mut cycle = String::new();
    for i in 0..100_000 {
        let _ = writeln!(
            cycle,
            "[profile q{i}]\nsource_profile = q{}",
            (i + 1) % 100_000
        );
    }
    for (config, start) in [(deep, "p0"), (cycle, "q0")] {
        let t = Sandbox::new();
        t.write_config(&config);
        // The budget (under a second) is measured by bench/limits.sh; here, only that it ends.
        let started = Instant::now();
        let done = t
            .program(vault)
            .args(["export", start])
            .status(1)
            .stderr(&format!(
                "vault: error: profile '{start}': its source_profile chain is longer than 64 \
                 profiles ({start} -> {n}1 -> {n}2 -> {n}3 -> {n}4, …); no working setup needs \
                 that many, so check the AWS config file\n",
                n = &start[..1]
            ))
            .run();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "{start}: took {took:?}");
        assert!(done.stdout.is_empty());
    }
}

#[test]
fn an_endless_include_profile_chain_is_a_clear_error() {
    let t = Sandbox::new();
    let config: String = (0..6_000)
        .map(|i| format!("[profile i{i}]\ninclude_profile = i{}\n", i + 1))
        .chain(std::iter::once(
            "[profile i6000]\nregion = us-east-1\n".to_owned(),
        ))
        .collect();
    t.write_config(&config);
    t.vault(["export", "i0"])
        .status(1)
        .stderr_like(
            "vault: error: profile 'i0': its include_profile chain is longer than 64 profiles \
             (i0 -> i1 -> i2 -> i3 -> i4, …); [..]\n",
        )
        .run();
}

/// Peak memory in KB and the run, of `vault ARGS` under GNU time.
fn peak_kb(t: &Sandbox, args: &[&str], stderr_has: &str) -> u64 {
    let done = t
        .program("/usr/bin/time")
        .args(["-f", "peak %M"])
        .arg(env!("CARGO_BIN_EXE_vault"))
        .args(args)
        .status(1)
        .stderr_has(stderr_has)
        .run();
    let last = done.stderr.lines().last().unwrap_or_default();
    last.strip_prefix("peak ")
        .and_then(|kb| kb.parse().ok())
        .unwrap_or_else(|| panic!("no peak in {}", done.stderr))
}

#[test]
fn a_200_mb_sts_answer_is_refused_and_never_held_in_memory() {
    let moto = moto::shared();
    let (_, id, secret) = moto.create_user("huge");
    for declared in [true, false] {
        let proxy = Proxy::start(Mode::Huge {
            bytes: 200 << 20,
            declared,
        });
        let t = Sandbox::new().with_endpoint(proxy.endpoint());
        t.write_config("[default]\nregion = us-east-1\n[profile user]\n");
        t.add("user", &id, &secret);
        let kb = peak_kb(
            &t,
            &["exec", "user", "--", "true"],
            "the answer is longer than the 1 MiB vault reads; check AWS_ENDPOINT_URL and any proxy",
        );
        assert!(kb < 30 * 1024, "declared {declared}: peak {kb} KB");
    }
}
