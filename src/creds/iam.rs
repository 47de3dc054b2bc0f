//! The IAM calls `rotate` makes, behind a trait like STS's: `AwsIam` makes them with
//! aws-sdk-iam on the runtime and HTTP client STS uses.

use aws_sdk_iam::Client;
use aws_sdk_iam::config::{BehaviorVersion, Region};

use super::aws::{SdkRuntime, map_service_error, retry_config, sdk_credentials, timeout_config};
use super::chain::configured_endpoint;
use super::credentials::Credentials;
use super::sts::{StsError, Target};
use crate::config::ProfileConfig;
use crate::ctx::Env;
use crate::keystore::MasterCredentials;
use crate::secret::Secret;

pub(crate) trait Iam {
    /// A new access key for `user`.
    fn create_access_key(
        &self,
        target: &Target,
        caller: &Credentials,
        user: &str,
    ) -> Result<MasterCredentials, StsError>;

    fn delete_access_key(
        &self,
        target: &Target,
        caller: &Credentials,
        user: &str,
        access_key_id: &str,
    ) -> Result<(), StsError>;
}

#[derive(Default)]
pub(crate) struct AwsIam {
    sdk: SdkRuntime,
}

impl AwsIam {
    fn client(&self, target: &Target, caller: &Credentials) -> Client {
        let mut config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .http_client(self.sdk.http())
            .interceptor(crate::creds::answer_limit::AnswerSizeLimit)
            .retry_config(retry_config())
            .timeout_config(timeout_config())
            .credentials_provider(sdk_credentials(caller));
        if let Some(endpoint) = &target.endpoint {
            config = config.endpoint_url(endpoint);
        }
        Client::from_conf(config.build())
    }
}

impl Iam for AwsIam {
    fn create_access_key(
        &self,
        target: &Target,
        caller: &Credentials,
        user: &str,
    ) -> Result<MasterCredentials, StsError> {
        let call = self
            .client(target, caller)
            .create_access_key()
            .user_name(user);
        let output = self
            .sdk
            .runtime()?
            .block_on(call.send())
            .map_err(|e| map_service_error(&format!("IAM at {}", iam_address(target)), &e))?;
        let key = output
            .access_key()
            .ok_or_else(|| StsError::Unreachable("IAM answered without a key".to_owned()))?;
        Ok(MasterCredentials {
            access_key_id: key.access_key_id().to_owned(),
            secret_access_key: Secret::new(key.secret_access_key()),
        })
    }

    fn delete_access_key(
        &self,
        target: &Target,
        caller: &Credentials,
        user: &str,
        access_key_id: &str,
    ) -> Result<(), StsError> {
        let call = self
            .client(target, caller)
            .delete_access_key()
            .user_name(user)
            .access_key_id(access_key_id);
        self.sdk
            .runtime()?
            .block_on(call.send())
            .map_err(|e| map_service_error(&format!("IAM at {}", iam_address(target)), &e))?;
        Ok(())
    }
}

/// Where IAM calls go: `AWS_ENDPOINT_URL_IAM`, else `AWS_ENDPOINT_URL`, else the profile's
/// `endpoint_url`, as the SDKs choose; IAM is global, so the region only picks the partition.
pub(crate) fn iam_target(profile: &ProfileConfig, env: &Env) -> Target {
    let endpoint = configured_endpoint("AWS_ENDPOINT_URL_IAM", profile, env);
    Target {
        region: profile
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned()),
        endpoint,
    }
}

/// IAM is global: one endpoint for every region, unless one is configured.
fn iam_address(target: &Target) -> String {
    target
        .endpoint
        .clone()
        .unwrap_or_else(|| "https://iam.amazonaws.com".to_owned())
}
