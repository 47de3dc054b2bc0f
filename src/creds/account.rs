//! The AWS account a profile's credentials belong to, as far as the config tells without a
//! call: SDKs read it (`AccountId`) for account-based endpoints, so the credential server and
//! `export --format json` hand it out. Shared by both, so they agree.

use crate::config::ProfileChain;

/// The account of `chain`'s credentials: the target's role, else its IAM Identity Center
/// account, else the account of an MFA device ARN in the chain (an IAM user's device lives in
/// the user's account). `None` when the config does not say.
pub(crate) fn account_id(chain: &ProfileChain) -> Option<String> {
    let target = chain.target();
    if let Some(role) = &target.role_arn {
        return arn_account(role);
    }
    if let Some(account) = target.sso_account_id.as_deref().filter(|a| is_account(a)) {
        return Some(account.to_owned());
    }
    chain
        .profiles
        .iter()
        .find_map(|profile| profile.mfa_serial.as_deref().and_then(arn_account))
}

/// The account field of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`), when it is
/// one: twelve digits.
pub(crate) fn arn_account(arn: &str) -> Option<String> {
    let mut fields = arn.splitn(6, ':');
    (fields.next() == Some("arn"))
        .then(|| fields.nth(3))
        .flatten()
        .filter(|account| is_account(account) && fields.next().is_some())
        .map(str::to_owned)
}

fn is_account(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_is_read_from_role_and_device_arns() {
        assert_eq!(
            arn_account("arn:aws:iam::123456789012:role/a/b").as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            arn_account("arn:aws-cn:iam::000000000001:mfa/me").as_deref(),
            Some("000000000001")
        );
        for bad in [
            "arn:aws:iam::12345:role/x",
            "arn:aws:iam::123456789012",
            "GAHT12345678",
            "",
            "xarn:aws:iam::123456789012:role/x",
        ] {
            assert_eq!(arn_account(bad), None, "{bad}");
        }
    }
}
