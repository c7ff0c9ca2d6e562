//! The function's configuration: its environment variables and the AWS SDK configuration.
//!
//! Environment variables are read once, at cold start, by each function's `main`; handlers get a
//! [`Settings`] value, so tests never have to mutate the process environment.

use std::time::Duration;

use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;

/// Base URL of the `@connections` API: `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`
/// on AWS, `http://127.0.0.1:{port}/{stage}` in the local stack.
pub const CONNECTIONS_ENDPOINT: &str = "CONNECTIONS_ENDPOINT";
/// Name of the DynamoDB table holding one record per open connection.
pub const TABLE_NAME: &str = "TABLE_NAME";

/// Settings read from the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Value of [`CONNECTIONS_ENDPOINT`], if set and not empty.
    pub connections_endpoint: Option<String>,
    /// Value of [`TABLE_NAME`], if set and not empty.
    pub table_name: Option<String>,
}

/// A setting the function cannot run without is missing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("environment variable {0} is not set")]
pub struct MissingSetting(pub &'static str);

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (a name → value function); empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Self {
            connections_endpoint: get(CONNECTIONS_ENDPOINT),
            table_name: get(TABLE_NAME),
        }
    }

    /// The `@connections` endpoint, required by functions that have no WebSocket event to derive it from.
    pub fn require_connections_endpoint(&self) -> Result<&str, MissingSetting> {
        self.connections_endpoint
            .as_deref()
            .ok_or(MissingSetting(CONNECTIONS_ENDPOINT))
    }

    /// The connections table name.
    pub fn require_table_name(&self) -> Result<&str, MissingSetting> {
        self.table_name.as_deref().ok_or(MissingSetting(TABLE_NAME))
    }
}

/// Connecting to an endpoint may take this long before the attempt fails (and is retried).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// One request attempt may take this long: well under the functions' timeouts, so a hung
/// endpoint becomes a (retryable) error instead of a Lambda timeout.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Loads the AWS SDK configuration the standard way: region, credentials (on Lambda, the
/// function role's keys in `AWS_ACCESS_KEY_ID`...), and the `AWS_ENDPOINT_URL` /
/// `AWS_ENDPOINT_URL_DYNAMODB` overrides the local stack sets; plus [`CONNECT_TIMEOUT`] and
/// [`ATTEMPT_TIMEOUT`].
pub async fn load_sdk_config() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_and_treats_blank_as_unset() {
        let settings = Settings::from_lookup(|name| match name {
            CONNECTIONS_ENDPOINT => Some("http://127.0.0.1:4000/api".into()),
            TABLE_NAME => Some("  ".into()),
            _ => None,
        });
        assert_eq!(
            settings.require_connections_endpoint(),
            Ok("http://127.0.0.1:4000/api")
        );
        assert_eq!(
            settings.require_table_name(),
            Err(MissingSetting(TABLE_NAME))
        );
        assert_eq!(
            settings.require_table_name().unwrap_err().to_string(),
            "environment variable TABLE_NAME is not set"
        );
    }

    #[tokio::test]
    async fn the_sdk_config_bounds_every_attempt() {
        let sdk = load_sdk_config().await;
        let timeouts = sdk.timeout_config().expect("a timeout config");
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
    }
}
