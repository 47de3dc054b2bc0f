//! The command line, as clap types only: no I/O here. Names, aliases, flags and environment
//! variables follow aws-vault (docs/aws-vault.md §1) so existing habits and scripts keep working.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;

use crate::complete;

/// The id of the positional PROFILE argument, apart from the global `--profile`.
pub(crate) const PROFILE_ARG: &str = "profile_positional";

#[derive(Debug, Parser)]
#[command(
    name = "vault",
    version,
    about = "Keeps AWS access keys encrypted and hands out short-lived credentials",
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The heading the keystore flags share in `--help`, so each command's own flags stand out.
const KEYSTORE: &str = "Keystore options";

/// Flags that every command accepts, before or after the command name.
// Serialisable: `use --agent` hands them to the agent, which renews with the same keystore.
#[derive(Debug, Clone, Args, serde::Serialize, serde::Deserialize)]
pub(crate) struct GlobalArgs {
    /// Keystore backend: secret-service, keyctl, pass or file [default: the Secret Service
    /// when a session bus has one, else file]
    #[arg(
        help_heading = KEYSTORE,
        long,
        global = true,
        env = "AWS_VAULT_BACKEND",
        value_name = "BACKEND",
        add = ArgValueCompleter::new(complete::backends)
    )]
    pub(crate) backend: Option<String>,
    /// Log what vault does to stderr (never secrets)
    #[arg(long, global = true)]
    pub(crate) debug: bool,
    /// Directory of the file keystore [default: ~/.awsvault/keys]
    #[arg(help_heading = KEYSTORE, long, global = true, env = "AWS_VAULT_FILE_DIR", value_name = "DIR")]
    pub(crate) file_dir: Option<PathBuf>,
    /// aws-vault's macOS keychain name (accepted so scripts keep working; not used yet)
    #[arg(
        help_heading = KEYSTORE,
        long,
        global = true,
        env = "AWS_VAULT_KEYCHAIN_NAME",
        value_name = "NAME"
    )]
    pub(crate) keychain: Option<String>,
    /// Kernel keyring of the keyctl backend: user, usersession, session, process or thread
    /// [default: user]
    #[arg(
        help_heading = KEYSTORE,
        long,
        global = true,
        env = "AWS_VAULT_KEYCTL_SCOPE",
        value_name = "SCOPE"
    )]
    pub(crate) keyctl_scope: Option<String>,
    /// The pass command [default: pass]
    #[arg(
        help_heading = KEYSTORE,
        long,
        global = true,
        env = "AWS_VAULT_PASS_CMD",
        value_name = "COMMAND"
    )]
    pub(crate) pass_cmd: Option<String>,
    /// Password store of the pass backend [default: $PASSWORD_STORE_DIR, else ~/.password-store]
    #[arg(
        help_heading = KEYSTORE,
        long,
        global = true,
        env = "AWS_VAULT_PASS_PASSWORD_STORE_DIR",
        value_name = "DIR"
    )]
    pub(crate) pass_dir: Option<PathBuf>,
    /// Folder inside the password store for vault's entries [default: none]
    #[arg(
        help_heading = KEYSTORE,
        long,
        global = true,
        env = "AWS_VAULT_PASS_PREFIX",
        value_name = "PREFIX"
    )]
    pub(crate) pass_prefix: Option<String>,
    /// The profile a command acts on, instead of naming it after the command
    #[arg(
        long,
        global = true,
        value_name = "PROFILE",
        add = ArgValueCompleter::new(complete::profiles)
    )]
    pub(crate) profile: Option<String>,
    /// How MFA codes are asked for: terminal, kdialog, osascript, wincredui, ykman or zenity
    /// [default: terminal]
    #[arg(
        long,
        global = true,
        env = "AWS_VAULT_PROMPT",
        value_name = "DRIVER",
        add = ArgValueCompleter::new(complete::prompt_drivers)
    )]
    pub(crate) prompt: Option<String>,
    /// Secret Service collection of the secret-service backend [default: awsvault]
    #[arg(
        help_heading = KEYSTORE,
        long,
        global = true,
        env = "AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME",
        value_name = "NAME"
    )]
    pub(crate) secret_service_collection: Option<String>,
    /// Also write IAM Identity Center sign-ins to the AWS CLI's cache (~/.aws/sso/cache), so
    /// SDK-native tools reuse them (plaintext on disk)
    #[arg(long, global = true, env = "AWS_VAULT_SSO_SHARE_CLI_CACHE")]
    pub(crate) share_cli_cache: bool,
}

/// Parses the command line. One thing clap cannot tell: in `vault --profile=dev exec -- aws s3 ls`
/// the first word after `--` is the command, not exec's optional PROFILE.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let (matches, args) = crate::kingpin::get_matches(&Cli::command(), args.into_iter().collect())?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let Command::Exec(exec) = &mut cli.command
        && let Some(profile) = &exec.profile
        && came_after_double_dash(&args, profile)
    {
        let first_word = OsString::from(exec.profile.take().unwrap_or_default());
        exec.command.insert(0, first_word);
    }
    Ok(cli)
}

/// Whether `word` first appears after the first `--` of `args`.
fn came_after_double_dash(args: &[OsString], word: &str) -> bool {
    let dash = args.iter().position(|a| a == "--");
    let first = args.iter().position(|a| a == word);
    matches!((dash, first), (Some(d), Some(f)) if f > d)
}

/// What to add to each shell's startup file, for `vault hook --help`.
const HOOK_LINES: &str = "Add one line to your shell's startup file:
  bash  ~/.bashrc                    eval \"$(vault hook bash)\"
  zsh   ~/.zshrc                     eval \"$(vault hook zsh)\"
  fish  ~/.config/fish/config.fish   vault hook fish | source
  pwsh  $PROFILE                     Invoke-Expression (& vault hook pwsh | Out-String)";

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Store a profile's long-term access keys in the keystore
    Add(AddArgs),
    /// The agent that serves `vault use --agent` shells: status, stop
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Delete cached sessions (all of them, or one profile's)
    Clear(ClearArgs),
    /// Print the tab-completion script for a shell (the hook already includes it)
    Completion(HookArgs),
    /// Check the set-up (hook, completion, keystore, config, environment, STS) and say how to
    /// fix each problem
    Doctor(DoctorArgs),
    /// Run a command with temporary credentials in its environment
    Exec(ExecArgs),
    /// Print temporary credentials for scripts and SDKs
    Export(ExportArgs),
    /// Print the shell integration for eval in a startup file
    #[command(after_help = HOOK_LINES)]
    Hook(HookArgs),
    /// Move long-term keys from ~/.aws/credentials into the keystore
    Import(ImportArgs),
    /// List profiles, stored credentials and cached sessions
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Open the AWS console, signed in with the profile's temporary credentials
    Login(LoginArgs),
    /// Copy stored keys from one keystore backend to another
    Migrate(MigrateArgs),
    /// Print the prompt segment (profile and time left), for prompt frameworks
    Prompt(PromptArgs),
    /// Renew the active profile's credentials in this shell
    Refresh(RefreshArgs),
    /// Remove a profile's long-term access keys from the keystore
    #[command(visible_alias = "rm")]
    Remove(RemoveArgs),
    /// Replace a profile's stored access key with a new one, then delete the old key
    Rotate(RotateArgs),
    /// Sign in to or out of IAM Identity Center (SSO)
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Put back the variables `use` changed in this shell
    Unuse(UnuseArgs),
    /// Put a profile's temporary credentials into this shell (through the shell hook)
    Use(UseArgs),
    /// Print the version
    Version,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AgentCommand {
    /// Run the agent in this process: what `vault use --agent` starts in the background
    #[command(hide = true)]
    Serve,
    /// List the live tokens: profile, shell process id and age (never a secret)
    Status,
    /// Revoke every token and stop the agent
    Stop,
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// Add a [profile NAME] section to the AWS config file when it has none (the default)
    #[arg(long, overrides_with = "no_add_config")]
    pub(crate) add_config: bool,
    /// Read the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead of prompting
    #[arg(long)]
    pub(crate) env: bool,
    /// Leave the AWS config file alone
    #[arg(long, overrides_with = "add_config")]
    pub(crate) no_add_config: bool,
    /// The region a new [profile NAME] section gets, instead of asking [default:
    /// AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1]
    #[arg(long, value_name = "REGION", add = ArgValueCompleter::new(complete::regions))]
    pub(crate) region: Option<String>,
    /// The profile to store keys for
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ClearArgs {
    /// Only this profile's sessions and SSO token
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Print the checks as a JSON array of {check, ok, detail, fix}
    #[arg(long)]
    pub(crate) json: bool,
}

/// How credentials are obtained; shared by `exec` and `export`.
#[derive(Debug, Clone, Args)]
pub(crate) struct CredentialArgs {
    /// Session and role duration, like 1h or 30m (GetSessionToken and AssumeRole)
    #[arg(short, long, env = "AWS_VAULT_DURATION", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) duration: Option<Duration>,
    /// MFA code to use for every MFA call of this run
    #[arg(short = 't', long, value_name = "CODE")]
    pub(crate) mfa_token: Option<String>,
    /// Assume roles without MFA anew each time instead of reusing their cached sessions, as
    /// aws-vault does (AWS_VAULT_NO_ROLE_CACHE=1 makes it the default)
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Never call GetSessionToken; use long-term keys directly
    #[arg(short, long)]
    pub(crate) no_session: bool,
    /// Region for STS and for the credentials, over the profile's and the environment's
    #[arg(long, value_name = "REGION", add = ArgValueCompleter::new(complete::regions))]
    pub(crate) region: Option<String>,
    /// Lifetime of the cached session that feeds the command (GetSessionToken), like 8h;
    /// --duration then applies to roles only
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) session_ttl: Option<Duration>,
    /// Sign in to IAM Identity Center with a code typed on any device, not a browser redirect
    #[arg(long)]
    pub(crate) use_device_code: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    #[command(flatten)]
    pub(crate) credentials: CredentialArgs,
    /// Give the command a local EC2 instance metadata endpoint (IMDSv2) instead of keys
    #[arg(long, conflicts_with_all = ["ecs_server", "server"])]
    pub(crate) ec2_server: bool,
    /// Give the command a local ECS-style credential endpoint instead of keys
    #[arg(long)]
    pub(crate) ecs_server: bool,
    /// With --ec2-server: refuse requests without an IMDSv2 session token
    #[arg(long, requires = "ec2_server")]
    pub(crate) imds_v2_only: bool,
    /// Print the credentials as credential_process JSON instead (same as export --format json)
    #[arg(short, long, hide = true)]
    pub(crate) json: bool,
    /// With a server: fetch credentials at the first request, not before the command starts
    #[arg(long)]
    pub(crate) lazy: bool,
    /// Give the command a local credential endpoint instead of keys, renewed before expiry
    /// (same as --ecs-server)
    #[arg(short, long)]
    pub(crate) server: bool,
    /// Print an IAM Identity Center sign-in URL instead of opening a browser
    #[arg(long, env = "AWS_VAULT_STDOUT")]
    pub(crate) stdout: bool,
    /// The profile whose credentials the command gets
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
    /// The command and its arguments [default: $SHELL]
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub(crate) command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub(crate) credentials: CredentialArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = ExportFormat::Env)]
    pub(crate) format: ExportFormat,
    /// Print an IAM Identity Center sign-in URL instead of opening a browser
    #[arg(long, env = "AWS_VAULT_STDOUT")]
    pub(crate) stdout: bool,
    /// The profile whose credentials to print
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// NAME=value lines
    Env,
    /// export NAME=value lines
    ExportEnv,
    /// A credential_process document
    Json,
    /// A credentials-file section
    Ini,
}

#[derive(Debug, Args)]
pub(crate) struct HookArgs {
    /// The shell to integrate with
    #[arg(value_enum)]
    pub(crate) shell: crate::shell::ShellKind,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Say what would happen, and change nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Leave the keys in the credentials file too
    #[arg(long)]
    pub(crate) keep: bool,
    /// The profiles to import [default: every profile with long-term keys in the file]
    #[arg(value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profiles: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PromptArgs {
    /// Layout: %p is the profile, %t the time left [default: AWS_VAULT_PROMPT_FORMAT, else "%p %t"]
    #[arg(long)]
    pub(crate) format: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RefreshArgs {
    /// Which of the hook's attempts this is (written back into the status file)
    #[arg(long, hide = true, default_value_t = 0)]
    pub(crate) attempt: u64,
    /// The shell hook's background fetch: fill the session cache and write the outcome to
    /// --status-file, printing nothing
    #[arg(long, hide = true, requires = "status_file")]
    pub(crate) background: bool,
    /// Apply what a background fetch cached; any STS call still needed gets one 2 s attempt
    #[arg(long, hide = true)]
    pub(crate) from_cache: bool,
    /// Do nothing unless the credentials are inside their refresh window; never prompt
    #[arg(long)]
    pub(crate) if_needed: bool,
    /// The shell to print code for when the hook is not loaded
    #[arg(long, value_enum)]
    pub(crate) shell: Option<crate::shell::ShellKind>,
    /// Where --background writes its outcome
    #[arg(long, hide = true)]
    pub(crate) status_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct UnuseArgs {
    /// The shell to print code for when the hook is not loaded
    #[arg(long, value_enum)]
    pub(crate) shell: Option<crate::shell::ShellKind>,
}

#[derive(Debug, Args)]
pub(crate) struct UseArgs {
    /// Leave no credentials in the shell: point its SDKs at the per-user agent, which serves
    /// them to this shell alone and renews them in the background
    #[arg(
        long,
        env = "AWS_VAULT_USE_AGENT",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub(crate) agent: bool,
    #[command(flatten)]
    pub(crate) credentials: CredentialArgs,
    /// The shell to print code for when the hook is not loaded (`vault use p --shell bash`)
    #[arg(long, value_enum)]
    pub(crate) shell: Option<crate::shell::ShellKind>,
    /// The profile whose credentials this shell gets
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print only the names of stored long-term credentials (the first of --credentials,
    /// --profiles and --sessions wins, as in aws-vault)
    #[arg(long)]
    pub(crate) credentials: bool,
    /// Print JSON for scripts instead of text
    #[arg(long)]
    pub(crate) json: bool,
    /// Print only the profile names from the AWS config file
    #[arg(long)]
    pub(crate) profiles: bool,
    /// Print only the keystore names of cached sessions
    #[arg(long)]
    pub(crate) sessions: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    #[command(flatten)]
    pub(crate) credentials: CredentialArgs,
    /// The console page to open, such as `s3` or `ec2/home` [default: the console home]
    #[arg(long, value_name = "PATH")]
    pub(crate) path: Option<String>,
    /// Print the sign-in URL (and an IAM Identity Center sign-in URL) instead of opening a
    /// browser
    #[arg(short, long, env = "AWS_VAULT_STDOUT")]
    pub(crate) stdout: bool,
    /// The profile to sign in with [default: credentials from AWS_ACCESS_KEY_ID and friends]
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RotateArgs {
    /// MFA code for the session that signs the IAM calls
    #[arg(short = 't', long, value_name = "CODE")]
    pub(crate) mfa_token: Option<String>,
    /// Sign the IAM calls with the stored keys even when the profile has an mfa_serial
    #[arg(short, long)]
    pub(crate) no_session: bool,
    /// The profile whose stored keys to rotate (or whose source profile's)
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Delete each key from the source once its copy has been read back and compared
    #[arg(long)]
    pub(crate) delete_source: bool,
    /// Say what would be copied, and change nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// The backend to copy keys from
    #[arg(long, value_name = "BACKEND", add = ArgValueCompleter::new(complete::backends))]
    pub(crate) from: String,
    /// Replace keys the target already holds with different values
    #[arg(long)]
    pub(crate) overwrite: bool,
    /// The backend to copy keys to
    #[arg(long, value_name = "BACKEND", add = ArgValueCompleter::new(complete::backends))]
    pub(crate) to: String,
}

#[derive(Debug, Args)]
pub(crate) struct RemoveArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub(crate) force: bool,
    /// Remove only the profile's cached sessions (aws-vault's hidden legacy flag)
    #[arg(short, long, hide = true)]
    pub(crate) sessions_only: bool,
    /// The profile whose keys to remove
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SsoCommand {
    /// Sign in to IAM Identity Center for the profile's start URL, even when signed in already
    Login(SsoLoginArgs),
    /// Sign out: end the sign-in at the service, and remove its token and role credentials
    Logout(SsoLogoutArgs),
    /// Add a profile to the AWS config for every account and role the sign-in can use
    Populate(SsoPopulateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SsoPopulateArgs {
    /// Print the profiles instead of adding them
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// The region each new profile gets [default: the session's sso_region]
    #[arg(long, value_name = "REGION", add = ArgValueCompleter::new(complete::regions))]
    pub(crate) region: Option<String>,
    /// The [sso-session] to list [default: the only one in the config]
    #[arg(long, value_name = "NAME")]
    pub(crate) sso_session: Option<String>,
    /// Print the sign-in URL instead of opening a browser
    #[arg(long, env = "AWS_VAULT_STDOUT")]
    pub(crate) stdout: bool,
    /// How profiles are named, from {account_name}, {account_id}, {role_name} and {session}
    #[arg(
        long,
        value_name = "TEMPLATE",
        default_value = "{account_name}/{role_name}"
    )]
    pub(crate) template: String,
    /// Sign in with a code typed on any device, not a browser redirect
    #[arg(long)]
    pub(crate) use_device_code: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SsoLoginArgs {
    /// Sign in for this [sso-session] instead of a profile's
    #[arg(long, value_name = "NAME", conflicts_with = PROFILE_ARG)]
    pub(crate) sso_session: Option<String>,
    /// Print the sign-in URL instead of opening a browser
    #[arg(long, env = "AWS_VAULT_STDOUT")]
    pub(crate) stdout: bool,
    /// Sign in with a code typed on any device, not a browser redirect
    #[arg(long)]
    pub(crate) use_device_code: bool,
    /// A profile that signs in through IAM Identity Center
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SsoLogoutArgs {
    /// Sign out of this [sso-session] instead of a profile's
    #[arg(long, value_name = "NAME", conflicts_with = PROFILE_ARG)]
    pub(crate) sso_session: Option<String>,
    /// A profile that signs in through IAM Identity Center
    #[arg(id = PROFILE_ARG, value_name = "PROFILE", add = ArgValueCompleter::new(complete::profiles))]
    pub(crate) profile: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    /// The fields of each `struct` or variants of `enum Command` in this file, in order, as
    /// (name, attributes and doc lines above it).
    fn items_of(block_start: &str) -> Vec<Vec<(String, String)>> {
        let source = include_str!("cli.rs");
        let mut blocks = Vec::new();
        let mut lines = source.lines();
        while let Some(line) = lines.next() {
            if !line.starts_with(block_start) || !line.ends_with('{') {
                continue;
            }
            let mut items = Vec::new();
            let mut above = String::new();
            for line in lines.by_ref().take_while(|l| *l != "}") {
                let item = line
                    .strip_prefix("    pub(crate) ")
                    .and_then(|f| f.split_once(':'))
                    .map(|(name, _)| name)
                    .or_else(|| {
                        let variant = line.strip_prefix("    ")?.trim_end_matches(',');
                        let name = variant.split('(').next()?;
                        name.starts_with(char::is_uppercase).then_some(name)
                    });
                match item {
                    Some(name) => items.push((name.to_owned(), std::mem::take(&mut above))),
                    None => above.push_str(line),
                }
            }
            blocks.push(items);
        }
        blocks
    }

    fn assert_sorted(names: &[&str], what: &str) {
        let mut sorted = names.to_vec();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "{what} are not in alphabetical order");
    }

    #[test]
    fn subcommands_and_flag_fields_are_in_alphabetical_order() {
        let commands = items_of("pub(crate) enum Command");
        assert_eq!(commands.len(), 1);
        let names: Vec<&str> = commands[0].iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.len() > 10, "{names:?}");
        assert_sorted(&names, "subcommands");
        let structs = items_of("pub(crate) struct ");
        assert!(structs.len() > 10);
        for fields in structs {
            // Flags sort by name; positionals keep their order, which is their meaning. A flag
            // is a field whose `#[arg(…)]` names `long` or `short` (not its doc comment).
            let is_flag = |above: &str| {
                above.split("#[arg(").skip(1).any(|attribute| {
                    attribute
                        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                        .any(|word| word == "long" || word == "short")
                })
            };
            let flags: Vec<&str> = fields
                .iter()
                .filter(|(_, above)| is_flag(above))
                .map(|(n, _)| n.as_str())
                .collect();
            assert_sorted(&flags, "flag fields");
        }
    }

    #[test]
    fn global_flags_work_after_the_command_and_no_flags_negate() {
        let cli = Cli::try_parse_from(["vault", "add", "p", "--backend=file", "--no-add-config"])
            .unwrap();
        assert_eq!(cli.global.backend.as_deref(), Some("file"));
        let Command::Add(add) = cli.command else {
            panic!("not add")
        };
        assert!(add.no_add_config && !add.add_config);
    }

    fn exec_of(line: &str) -> (Option<String>, Option<String>, Vec<String>) {
        let cli = parse(line.split(' ').map(OsString::from)).unwrap();
        let Command::Exec(exec) = cli.command else {
            panic!("not exec")
        };
        let command = exec
            .command
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect();
        (cli.global.profile, exec.profile, command)
    }

    #[test]
    fn the_first_word_after_double_dash_is_the_command_not_a_profile() {
        assert_eq!(
            exec_of("vault --profile=dev exec -- aws s3 ls"),
            (
                Some("dev".into()),
                None,
                vec!["aws".into(), "s3".into(), "ls".into()]
            )
        );
        assert_eq!(
            exec_of("vault exec --profile dev -- env"),
            (Some("dev".into()), None, vec!["env".into()])
        );
        assert_eq!(
            exec_of("vault exec dev -- aws s3"),
            (None, Some("dev".into()), vec!["aws".into(), "s3".into()])
        );
        // The manual's `exec [profile] [--] command`: the `--` may be left out.
        assert_eq!(
            exec_of("vault exec dev aws s3"),
            (None, Some("dev".into()), vec!["aws".into(), "s3".into()])
        );
        // A command named like the profile does not confuse it.
        assert_eq!(
            exec_of("vault exec dev -- dev"),
            (None, Some("dev".into()), vec!["dev".into()])
        );
    }
}
