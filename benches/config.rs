//! Loading and resolving a config of 10,000 profiles (budget: under 50 ms).
//! Run with `cargo bench --bench config`; bench/run.sh runs it with the other budgets.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use vault::Env;
use vault::config::{Config, Overrides};

/// 10,000 profiles in the shapes people write: plain ones with a region, roles sourced from a
/// user, mixins through include_profile, and everything else inheriting `[default]`.
fn config_text(profiles: usize) -> String {
    let mut text = String::from(
        "[default]\nregion = us-east-1\nmfa_serial = arn:aws:iam::111111111111:mfa/me\n\n[profile mixin]\nregion = eu-west-1\n\n",
    );
    for i in 0..profiles {
        match i % 4 {
            0 => write!(text, "[profile user-{i}]\nregion = eu-central-1\n\n"),
            1 => write!(
                text,
                "[profile role-{i}]\nsource_profile = user-{}\nrole_arn = arn:aws:iam::{i:012}:role/admin\nduration_seconds = 3600\n\n",
                i - 1
            ),
            2 => write!(text, "[profile mixed-{i}]\ninclude_profile = mixin\nrole_session_name = me\n\n"),
            _ => write!(text, "[profile plain-{i}]\noutput = json\n\n"),
        }
        .expect("writing to a String cannot fail");
    }
    text
}

fn main() {
    let text = config_text(10_000);
    let env = Env::from_pairs([]);
    let overrides = Overrides::default();
    let mut timings = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let config = Config::parse(PathBuf::from("bench-config"), &text).expect("parses");
        let names: Vec<String> = config.profile_names().map(str::to_owned).collect();
        for name in &names {
            black_box(
                config
                    .resolve_chain(name, &overrides, &env)
                    .expect("resolves"),
            );
        }
        assert_eq!(names.len(), 10_002);
        timings.push(start.elapsed());
    }
    timings.sort();
    println!(
        "config: load + resolve 10,000 profiles: median {:.1} ms, min {:.1} ms, max {:.1} ms (20 runs, budget 50 ms)",
        timings[10].as_secs_f64() * 1e3,
        timings[0].as_secs_f64() * 1e3,
        timings[19].as_secs_f64() * 1e3
    );
}
