//! Hostile values through `use` and `unuse` in real bash, zsh and fish: every value comes back
//! byte for byte, and no payload ever runs.

use std::fmt::Write as _;
use std::path::Path;

use crate::support::Sandbox;

const VAULT: &str = env!("CARGO_BIN_EXE_vault");
const PROFILES: usize = 400;

/// Pieces that mean something to some shell, and text that does not.
fn pieces(canary: &Path) -> Vec<String> {
    let c = canary.display();
    let mut pieces: Vec<String> = [
        "'",
        "\"",
        "$",
        "`",
        "\\",
        "\n",
        ";",
        "%",
        "%s",
        "%n",
        "&",
        "|",
        "<",
        ">",
        "(",
        ")",
        "{",
        "}",
        "*",
        "?",
        "!",
        "#",
        "~",
        "\t",
        "\r",
        "${IFS}",
        "$((1+1))",
        "\\'",
        "\\\"",
        "'\\''",
        "é",
        "日本語",
        "🙂",
        "\u{202e}",
        "\u{2019}",
        "\u{2018}",
        "$HOME",
        "%p",
        "%t",
        "--",
        "-e",
        " ",
        "plain",
        "x=y",
        "\\n",
        "$$",
        "@(1)",
        "[a]",
        "^",
        "\u{0}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for payload in [
        format!("$(touch {c})"),
        format!("`touch {c}`"),
        format!("'; touch {c}; '"),
        format!("\"; touch {c}; \""),
        format!("\n touch {c}\n"),
        format!("(touch {c})"),
        format!("'$(touch {c})'"),
        format!("$(New-Item {c})"),
        format!("\u{2019}; touch {c}; \u{2019}"),
        format!("\\'; touch {c}; echo \\'"),
    ] {
        pieces.push(payload);
    }
    pieces.retain(|p| !p.contains('\u{0}'));
    pieces
}

/// A deterministic stream of hostile strings built from the pieces.
struct Corpus {
    pieces: Vec<String>,
    seed: u64,
}

impl Corpus {
    fn next(&mut self, parts: usize, allowed: impl Fn(&str) -> bool) -> String {
        loop {
            let mut value = String::new();
            for _ in 0..parts {
                self.seed = self
                    .seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let index = usize::try_from(self.seed >> 33).unwrap() % self.pieces.len();
                value.push_str(&self.pieces[index]);
            }
            if allowed(&value) {
                return value;
            }
        }
    }
}

/// Names and regions live in the INI file, which cannot hold every character: no line breaks,
/// no brackets in names, no comment starts, nothing that trims away, no leading dash.
fn ini_safe(value: &str, name: bool) -> bool {
    !value.is_empty()
        && value.trim() == value
        && !value.starts_with('-')
        && !value.chars().any(|c| c.is_control() || c == '\u{202e}')
        && !value.contains(" #")
        && !value.contains(" ;")
        && !value.starts_with(['#', ';', '"', '\''])
        && !value.ends_with(['"', '\''])
        && !value.contains('\\')
        && (!name || !value.contains(['[', ']', '#', ';']))
}

struct Row {
    name: String,
    region: String,
    key_id: String,
    secret: String,
    token: String,
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario, three shells, read top to bottom"
)]
fn two_thousand_hostile_values_round_trip_in_every_shell_and_never_run() {
    let t = Sandbox::new();
    let canary = t.home().join("canary");
    let mut corpus = Corpus {
        pieces: pieces(&canary),
        seed: 0x5eed,
    };
    let processes = t.home().join("processes");
    std::fs::create_dir_all(&processes).unwrap();
    let mut rows = Vec::new();
    let mut config = String::new();
    for i in 0..PROFILES {
        let row = Row {
            name: format!("{i}{}", corpus.next(3, |v| ini_safe(v, true))),
            region: corpus.next(2, |v| ini_safe(v, false)),
            key_id: corpus.next(3, |_| true),
            secret: corpus.next(4, |_| true),
            token: corpus.next(6, |_| true),
        };
        let json = serde_json::json!({
            "Version": 1, "AccessKeyId": row.key_id, "SecretAccessKey": row.secret,
            "SessionToken": row.token, "Expiration": "2099-01-01T00:00:00Z",
        });
        let file = processes.join(format!("{i}.json"));
        std::fs::write(&file, json.to_string()).unwrap();
        let _ = write!(
            config,
            "[profile {}]\nregion = {}\ncredential_process = cat {}\n",
            row.name,
            row.region,
            file.display()
        );
        rows.push(row);
    }
    t.write_config(&config);
    let values = rows.len() * 5;
    assert!(values >= 2000, "only {values} values");

    let list = t.home().join("names");
    let names: Vec<u8> = rows
        .iter()
        .flat_map(|r| r.name.bytes().chain([0]))
        .collect();
    std::fs::write(&list, names).unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = t.home().join(format!("out-{shell}"));
        let script = match shell {
            "fish" => format!(
                "$VAULT hook fish | source\nset -gx AWS_PROFILE orig\n\
                 for name in (string split0 < '{list}')\n\
                   vault use -- $name; or exit 9\n\
                   printf '%s\\0' $AWS_VAULT $AWS_REGION $AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN $VAULT_SEGMENT >> '{out}'\n\
                 end\n\
                 vault unuse\n\
                 printf '%s\\0' $AWS_PROFILE (set -q AWS_VAULT; and echo set; or echo unset) >> '{out}'\n",
                list = list.display(),
                out = out.display()
            ),
            _ => format!(
                "eval \"$(\"$VAULT\" hook {shell})\"\nexport AWS_PROFILE=orig\n\
                 while IFS= read -r -d '' name; do\n\
                   vault use -- \"$name\" || exit 9\n\
                   printf '%s\\0' \"$AWS_VAULT\" \"$AWS_REGION\" \"$AWS_ACCESS_KEY_ID\" \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\" \"$VAULT_SEGMENT\" >> '{out}'\n\
                 done < '{list}'\n\
                 vault unuse\n\
                 printf '%s\\0' \"$AWS_PROFILE\" \"${{AWS_VAULT+set}}${{AWS_VAULT-unset}}\" >> '{out}'\n",
                list = list.display(),
                out = out.display()
            ),
        };
        let args: &[&str] = match shell {
            "bash" => &["--noprofile", "--norc", "-u", "-c"],
            "zsh" => &["--no-rcs", "-u", "-c"],
            _ => &["--no-config", "-c"],
        };
        let run = t
            .command(shell)
            .args(args)
            .arg(&script)
            .env("VAULT", VAULT)
            .output()
            .unwrap();
        assert!(
            run.status.success() && run.stderr.is_empty(),
            "{shell}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let bytes = std::fs::read(&out).unwrap();
        let fields: Vec<String> = bytes
            .split(|b| *b == 0)
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect();
        for (i, row) in rows.iter().enumerate() {
            let got = &fields[i * 6..i * 6 + 6];
            assert_eq!(got[0], row.name, "{shell}: profile name of row {i}");
            assert_eq!(got[1], row.region, "{shell}: region of row {i}");
            assert_eq!(got[2], row.key_id, "{shell}: key id of row {i}");
            assert_eq!(got[3], row.secret, "{shell}: secret of row {i}");
            assert_eq!(got[4], row.token, "{shell}: token of row {i}");
            assert!(
                got[5].starts_with(&format!("{} ", row.name)),
                "{shell}: segment of row {i}: {:?}",
                got[5]
            );
        }
        let tail = &fields[rows.len() * 6..];
        assert_eq!(
            &tail[..2],
            ["orig", "unset"],
            "{shell}: unuse did not restore"
        );
        assert!(!canary.exists(), "{shell} ran a payload");
    }
}
