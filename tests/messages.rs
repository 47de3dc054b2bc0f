//! Messages a person can act on: a typo in a config link names the close name instead of
//! advising to store keys for the typo.

use crate::support::Sandbox;

const CONFIG: &str = "[profile user]\n\
[profile role]\nsource_profile = usr\nrole_arn = arn:aws:iam::123456789012:role/r\n\
[profile inc]\ninclude_profile = usre\n\
[profile s]\nsso_session = corpp\nsso_account_id = 123456789012\nsso_role_name = r\n\
[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";

#[test]
fn a_typo_in_source_profile_include_profile_or_sso_session_suggests_the_close_name() {
    let t = Sandbox::new();
    t.write_config(CONFIG);
    t.add("user", "AKIAUSER", "s");
    let config = t.config_path().display().to_string();
    for (profile, says) in [
        (
            "role",
            format!(
                "profile role has source_profile = usr, but there is no profile usr in {config} \
                 and no keys are stored for it; did you mean 'user'?"
            ),
        ),
        (
            "inc",
            format!(
                "profile 'inc' has include_profile = usre, but {config} has no such profile; did \
                 you mean 'user'?"
            ),
        ),
        (
            "s",
            format!(
                "profile 's' uses sso_session 'corpp', but {config} has no [sso-session corpp] \
                 section; did you mean 'corp'?"
            ),
        ),
    ] {
        t.vault(["export", profile])
            .status(1)
            .stderr(&format!("vault: error: {says}\n"))
            .run();
    }
}
