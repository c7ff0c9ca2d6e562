//! What `GetFunction`, `GetFunctionConfiguration` and `ListFunctions` say
//! about a function: the template's settings in Lambda's
//! `FunctionConfiguration` shape.

use std::collections::BTreeMap;

use serde::Serialize;
use wsflow_aws_wire::Account;

/// One function as the template declares it (the caller maps its template
/// model onto this).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionConfig {
    /// The function's name.
    pub name: String,
    /// `Runtime`, e.g. `provided.al2023`.
    pub runtime: String,
    /// `Handler`.
    pub handler: String,
    /// `Timeout` in seconds.
    pub timeout_seconds: u64,
    /// `MemorySize` in MB.
    pub memory_mb: u64,
    /// `Architectures` (`x86_64`, `arm64`).
    pub architectures: Vec<String>,
    /// `Environment.Variables` as the function sees them.
    pub environment: BTreeMap<String, String>,
    /// Where the function's code is (a `file://` URL of its `CodeUri`), as `GetFunction`'s
    /// `Code.Location` gives it.
    pub code_location: Option<String>,
}

/// Lambda's `FunctionConfiguration`, serialized as the API returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Configuration {
    pub(crate) function_name: String,
    pub(crate) function_arn: String,
    runtime: String,
    handler: String,
    timeout: u64,
    memory_size: u64,
    last_modified: String,
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<Environment>,
    tracing_config: TracingConfig,
    state: &'static str,
    last_update_status: &'static str,
    package_type: &'static str,
    architectures: Vec<String>,
    ephemeral_storage: EphemeralStorage,
    logging_config: LoggingConfig,
    /// `GetFunction`'s `Code.Location` (not part of the configuration).
    #[serde(skip)]
    pub(crate) code_location: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Environment {
    variables: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TracingConfig {
    mode: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EphemeralStorage {
    size: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LoggingConfig {
    log_format: &'static str,
    log_group: String,
}

impl Configuration {
    pub(crate) fn new(f: FunctionConfig, account: &Account, last_modified: &str) -> Self {
        let architectures = if f.architectures.is_empty() {
            vec!["x86_64".to_owned()]
        } else {
            f.architectures
        };
        Self {
            function_arn: account.lambda_function(&f.name),
            logging_config: LoggingConfig {
                log_format: "Text",
                log_group: format!("/aws/lambda/{}", f.name),
            },
            function_name: f.name,
            runtime: f.runtime,
            handler: f.handler,
            timeout: f.timeout_seconds,
            memory_size: f.memory_mb,
            last_modified: last_modified.to_owned(),
            version: "$LATEST",
            environment: (!f.environment.is_empty()).then_some(Environment {
                variables: f.environment,
            }),
            tracing_config: TracingConfig {
                mode: "PassThrough",
            },
            state: "Active",
            last_update_status: "Successful",
            package_type: "Zip",
            architectures,
            ephemeral_storage: EphemeralStorage { size: 512 },
            code_location: f.code_location,
        }
    }
}

/// Now, as Lambda writes `LastModified`: `2026-12-05T12:26:33.123+0000`.
pub(crate) fn last_modified_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}
