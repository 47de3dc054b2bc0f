//! What aws-vault's parser (kingpin) accepts and clap does not, so scripts written for
//! aws-vault keep working (docs/aws-vault.md §1.1): `--no-FLAG` for every boolean flag,
//! `--help-long`, and `--help-man`, the manual page rendered from the same definitions.

use std::ffi::OsString;

use clap::{Arg, ArgAction, ArgMatches, Command};

/// `cmd` and its subcommands with a hidden `--no-FLAG` for each boolean `--FLAG` that has no
/// such flag already (so `--no-session` is a flag and `--no-no-session` its negation). The
/// later of the two wins, as in kingpin. A negation given in `args` also beats the flag's
/// environment variable, as an explicit flag does.
pub(crate) fn with_negations(mut cmd: Command, args: &[OsString]) -> Command {
    let negatable: Vec<(String, String, bool)> = cmd
        .get_arguments()
        .filter(|arg| matches!(arg.get_action(), ArgAction::SetTrue))
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let taken = cmd
                .get_arguments()
                .any(|other| other.get_long() == Some(&format!("no-{long}")));
            (!taken).then(|| {
                (
                    arg.get_id().to_string(),
                    long.to_owned(),
                    arg.is_global_set(),
                )
            })
        })
        .collect();
    for (id, long, global) in negatable {
        let negation = format!("no-{long}");
        let negation_id = format!("kingpin-{negation}");
        let given = given_before_double_dash(args, &negation);
        cmd = cmd.mut_arg(&id, |arg| {
            let arg = arg.overrides_with(negation_id.clone());
            if given { arg.env(None) } else { arg }
        });
        cmd = cmd.arg(
            Arg::new(negation_id)
                .long(negation)
                .action(ArgAction::SetTrue)
                .hide(true)
                .global(global)
                .overrides_with(id),
        );
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| with_negations(sub, args));
    }
    cmd.arg(
        Arg::new("kingpin-help-long")
            .long("help-long")
            .action(ArgAction::HelpLong)
            .global(true)
            .hide(true),
    )
}

/// Parses `args` with the negations of `cmd`. A global `--FLAG` and its `--no-FLAG` given at
/// different levels (`vault --debug list --no-debug`) both survive clap's parse, because its
/// overrides act within one level and its propagation of global flags then copies both
/// everywhere; so the loser's words are dropped and the line parsed again, and the later of
/// the two wins, as in kingpin. Returns the matches and the words they were parsed from.
pub(crate) fn get_matches(
    cmd: &Command,
    args: Vec<OsString>,
) -> Result<(ArgMatches, Vec<OsString>), clap::Error> {
    // Most command lines use neither: they skip building the negations, which every command,
    // `vault --version` and the prompt included, would otherwise pay for at start-up.
    let kingpin_only = |a: &OsString| {
        a.to_str()
            .is_some_and(|a| a.starts_with("--no-") || a == "--help-long")
    };
    if !args.iter().any(kingpin_only) {
        let matches = cmd.clone().try_get_matches_from(&args)?;
        return Ok((matches, args));
    }
    let negated = with_negations(cmd.clone(), &args);
    let matches = negated.clone().try_get_matches_from(&args)?;
    let end = options_end(&negated, &matches, &args);
    let mut kept = args.clone();
    for arg in negated.get_arguments().filter(|a| a.is_global_set()) {
        let (Some(long), ArgAction::SetTrue) = (arg.get_long(), arg.get_action()) else {
            continue;
        };
        let negation_id = format!("kingpin-no-{long}");
        let both = matches.get_flag(arg.get_id().as_str())
            && matches.try_get_one::<bool>(&negation_id).ok().flatten() == Some(&true);
        if !both {
            continue;
        }
        let (on, off) = (format!("--{long}"), format!("--no-{long}"));
        let last = args[..end].iter().rev().find(|a| **a == *on || **a == *off);
        let loser = if last.is_some_and(|a| *a == *on) {
            &off
        } else {
            &on
        };
        let mut at = 0;
        kept.retain(|word| {
            at += 1;
            at > end || *word != **loser
        });
    }
    if kept.len() == args.len() {
        return Ok((matches, args));
    }
    let matches = with_negations(cmd.clone(), &kept).try_get_matches_from(&kept)?;
    Ok((matches, kept))
}

/// Where the options of `args` end: at the first `--`, or where the trailing command of the
/// deepest subcommand (exec's CMD) starts, whichever comes first.
fn options_end(cmd: &Command, matches: &ArgMatches, args: &[OsString]) -> usize {
    let mut end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let (mut cmd, mut matches) = (cmd, matches);
    while let Some((name, sub_matches)) = matches.subcommand() {
        let Some(sub) = cmd.find_subcommand(name) else {
            break;
        };
        (cmd, matches) = (sub, sub_matches);
    }
    for arg in cmd.get_arguments().filter(|a| a.is_trailing_var_arg_set()) {
        let words = matches
            .get_raw(arg.get_id().as_str())
            .map_or(0, Iterator::count);
        end = end.min(args.len().saturating_sub(words));
    }
    end
}

/// Whether `--FLAG` (or `--FLAG=…`) is among the options, before any `--`.
fn given_before_double_dash(args: &[OsString], flag: &str) -> bool {
    args.iter().take_while(|a| *a != "--").any(|a| {
        a.to_str()
            .is_some_and(|a| a.strip_prefix("--") == Some(flag))
    })
}

/// Whether the command line asks for the manual page (`--help-man`, anywhere before `--`).
pub(crate) fn wants_man_page(args: &[OsString]) -> bool {
    given_before_double_dash(args, "help-man")
}

/// The manual page of `cmd`: the usual sections, then one per subcommand with its synopsis,
/// what it does and its options.
pub(crate) fn man_page(cmd: Command) -> String {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let render = |write: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut out = Vec::new();
        write(&mut out).expect("writing to a Vec cannot fail");
        String::from_utf8_lossy(&out).into_owned()
    };
    let mut text = render(&|out| clap_mangen::Man::new(cmd.clone()).render(out));
    for sub in cmd.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_uppercase();
        let man = clap_mangen::Man::new(sub.clone());
        let synopsis = render(&|out| man.render_synopsis_section(out));
        text.push_str(&synopsis.replacen(".SH SYNOPSIS", &format!(".SH \"{name}\""), 1));
        if let Some(about) = sub.get_about() {
            text.push_str(".PP\n");
            text.push_str(&escape(&about.to_string()));
            text.push('\n');
        }
        let options = render(&|out| man.render_options_section(out));
        text.push_str(&options.replacen(".SH OPTIONS\n", "", 1));
    }
    text
}

/// Text safe on a roff line: no leading control character, and backslashes doubled.
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e");
    match text.chars().next() {
        Some('.' | '\'') => format!("\\&{text}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    /// The value the derive would read for `id` after parsing `words`.
    fn flag_after(words: &[&str], path: &[String], id: &str) -> bool {
        let args = os(words);
        let matches = with_negations(Cli::command(), &args)
            .try_get_matches_from(&args)
            .unwrap_or_else(|e| panic!("{words:?}: {e}"));
        let mut at = &matches;
        for name in path {
            at = at.subcommand_matches(name).expect("the subcommand matched");
        }
        at.get_flag(id)
    }

    /// Every boolean flag of every command, from the clap definition: a new flag is covered
    /// the moment it exists.
    #[test]
    fn every_boolean_flag_of_every_command_has_a_working_negation() {
        let mut root = Cli::command();
        root.build();
        let mut checked = 0;
        let mut todo: Vec<(Vec<String>, &Command)> = root
            .get_subcommands()
            .map(|sub| (vec![sub.get_name().to_owned()], sub))
            .collect();
        while let Some((path, sub)) = todo.pop() {
            todo.extend(sub.get_subcommands().map(|s| {
                let mut deeper = path.clone();
                deeper.push(s.get_name().to_owned());
                (deeper, s)
            }));
            if sub.has_subcommands() {
                continue;
            }
            // A command's required arguments, so that it parses.
            let mut words: Vec<String> = vec!["vault".to_owned()];
            words.extend(path.iter().cloned());
            for arg in sub.get_arguments().filter(|a| a.is_required_set()) {
                let value = arg
                    .get_possible_values()
                    .first()
                    .map_or_else(|| "x".to_owned(), |v| v.get_name().to_owned());
                if let Some(long) = arg.get_long() {
                    words.push(format!("--{long}"));
                }
                words.push(value);
            }
            for arg in sub
                .get_arguments()
                .filter(|a| matches!(a.get_action(), ArgAction::SetTrue))
            {
                let (Some(long), id) = (arg.get_long(), arg.get_id().as_str()) else {
                    continue;
                };
                // Flags that only work with another.
                let companions: &[&str] = match id {
                    "imds_v2_only" => &["--ec2-server"],
                    "background" => &["--status-file", "x"],
                    _ => &[],
                };
                let line = |extra: &[&str]| {
                    let mut all: Vec<&str> = words.iter().map(String::as_str).collect();
                    all.extend_from_slice(companions);
                    all.extend_from_slice(extra);
                    all.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>()
                };
                let on = format!("--{long}");
                let off = format!("--no-{long}");
                let parse = |extra: &[&str]| {
                    let words = line(extra);
                    let words: Vec<&str> = words.iter().map(String::as_str).collect();
                    flag_after(&words, &path, id)
                };
                assert!(parse(&[&on]), "{path:?} {on}");
                assert!(!parse(&[&on, &off]), "{path:?} {on} {off}");
                assert!(parse(&[&off, &on]), "{path:?} {off} {on}");
                checked += 1;
            }
        }
        assert!(checked > 20, "only {checked} flags were checked");
    }

    #[test]
    fn the_later_of_a_global_flag_and_its_negation_wins_across_commands() {
        let debug = |line: &str| {
            let args = os(&line.split(' ').collect::<Vec<_>>());
            let (matches, _) = get_matches(&Cli::command(), args).unwrap();
            matches.get_flag("debug")
        };
        assert!(!debug("vault --debug list --no-debug"));
        assert!(debug("vault --no-debug list --debug"));
        assert!(!debug("vault --debug --no-debug list"));
        assert!(!debug("vault list --debug --no-debug"));
        // The command's own words are not vault's.
        assert!(debug("vault --debug exec p -- env --no-debug"));
        assert!(!debug("vault --debug exec --no-debug p env --debug"));
        let (_, words) = get_matches(
            &Cli::command(),
            os(&[
                "vault",
                "--debug",
                "exec",
                "--no-debug",
                "p",
                "env",
                "--debug",
            ]),
        )
        .unwrap();
        assert_eq!(
            words,
            os(&["vault", "exec", "--no-debug", "p", "env", "--debug"])[..]
        );
    }

    #[test]
    fn a_negation_beats_the_flags_environment_variable() {
        let args = os(&["vault", "exec", "p", "--no-stdout"]);
        let cmd = with_negations(Cli::command(), &args);
        let exec = cmd.find_subcommand("exec").unwrap();
        let stdout = exec
            .get_arguments()
            .find(|a| a.get_id() == "stdout")
            .unwrap();
        assert_eq!(stdout.get_env(), None);
        let plain = with_negations(Cli::command(), &os(&["vault", "exec", "p"]));
        let exec = plain.find_subcommand("exec").unwrap();
        let stdout = exec
            .get_arguments()
            .find(|a| a.get_id() == "stdout")
            .unwrap();
        assert_eq!(
            stdout.get_env(),
            Some(std::ffi::OsStr::new("AWS_VAULT_STDOUT"))
        );
    }

    #[test]
    fn the_man_page_has_a_section_for_each_command() {
        let page = man_page(Cli::command());
        assert!(
            page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH vault 1"),
            "{}",
            &page[..200]
        );
        for section in [
            ".SH \"VAULT EXEC\"",
            ".SH \"VAULT USE\"",
            ".SH \"VAULT LIST\"",
        ] {
            assert!(page.contains(section), "{section} missing");
        }
        assert!(page.contains("no\\-session"), "exec's flags are listed");
    }
}
