//! The template's functions as local processes: which binary each one is,
//! building it when needed, and the environment it gets locally.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, bail};
use wsflow_aws_wire::Account;
use wsflow_lambda_host::{
    FunctionSpec, HostOptions, LambdaHost,
    build::{self, BinaryTarget, BuildOptions},
};
use wsflow_template::App;

use super::{LOCAL_API_ID, UpArgs};

/// How each function's executable was obtained, for `--watch` to rebuild it
/// the same way.
#[derive(Debug, Clone)]
pub struct Built {
    /// The options the start-up build used (workspace, profile, `--functions-dir`).
    pub options: BuildOptions,
    /// One entry per function.
    pub functions: Vec<BuiltFunction>,
}

/// One function's executable.
#[derive(Debug, Clone)]
pub struct BuiltFunction {
    /// The function's name in the host.
    pub name: String,
    /// Its cargo binary.
    pub target: BinaryTarget,
    /// The executable serving it.
    pub executable: PathBuf,
    /// Taken from `--functions-dir` (not built by cargo).
    pub prebuilt: bool,
}

/// Builds (or finds) every function's binary and starts the lambda host.
pub async fn start(
    app: &App,
    args: &UpArgs,
    template_dir: &Path,
    endpoint: &str,
    account: &Account,
) -> anyhow::Result<(LambdaHost, Built)> {
    let release = !args.debug_functions && !cfg!(debug_assertions);
    let mut options = BuildOptions::new(template_dir, release);
    options.prebuilt_dir = args.functions_dir.clone();
    // With prebuilt binaries, a template outside any cargo workspace works as
    // long as each function names its binary.
    let workspace = match build::workspace_binaries(&options).await {
        Ok(bins) => bins,
        Err(e) if args.functions_dir.is_some() => {
            tracing::debug!("no cargo workspace around the template ({e}); using --functions-dir");
            Vec::new()
        }
        Err(e) => {
            return Err(anyhow::Error::new(e))
                .context("listing the workspace's binaries (cargo metadata)");
        }
    };

    let mut targets = Vec::new();
    let mut bin_of = BTreeMap::new();
    for f in &app.functions {
        let bin = match &f.binary {
            Some(bin) => bin.clone(),
            None => {
                // No BuildProperties.Binary: the one bin of the package at CodeUri.
                let code_dir = std::fs::canonicalize(&f.code_uri).unwrap_or(f.code_uri.clone());
                let bins: Vec<_> = workspace
                    .iter()
                    .filter(|b| {
                        std::fs::canonicalize(&b.package_dir).ok().as_ref() == Some(&code_dir)
                    })
                    .collect();
                match bins.as_slice() {
                    [one] => one.bin.clone(),
                    _ => bail!(
                        "Resource {}, property Metadata.BuildProperties.Binary: set it to the cargo binary of this function ({} binaries found at CodeUri {})",
                        f.logical_id,
                        bins.len(),
                        f.code_uri.display()
                    ),
                }
            }
        };
        let package = workspace
            .iter()
            .find(|b| b.bin == bin)
            .map(|b| b.package.clone());
        if package.is_none() && args.functions_dir.is_none() {
            bail!(
                "Resource {}, property Metadata.BuildProperties.Binary: no binary named {bin:?} in the cargo workspace",
                f.logical_id
            );
        }
        if !targets.iter().any(|t: &BinaryTarget| t.bin == bin) {
            targets.push(BinaryTarget {
                package,
                bin: bin.clone(),
            });
        }
        bin_of.insert(f.logical_id.clone(), bin);
    }
    let executables = build::locate_or_build(&options, &targets)
        .await
        .context("building the functions")?;

    let mut specs = Vec::new();
    let mut built = Built {
        options: options.clone(),
        functions: Vec::new(),
    };
    for f in &app.functions {
        let bin = &bin_of[&f.logical_id];
        let Some(executable) = executables.get(bin) else {
            bail!("function {}: binary {bin} was not built", f.logical_id);
        };
        built.functions.push(BuiltFunction {
            name: f.name.clone(),
            target: targets
                .iter()
                .find(|t| &t.bin == bin)
                .cloned()
                .unwrap_or_else(|| BinaryTarget {
                    package: None,
                    bin: bin.clone(),
                }),
            executable: executable.clone(),
            prebuilt: options
                .prebuilt_dir
                .as_ref()
                .is_some_and(|d| executable == &d.join(bin)),
        });
        let mut spec = FunctionSpec::new(f.name.clone(), executable.clone());
        spec.environment = local_environment(&f.environment, endpoint, account);
        spec.timeout = Duration::from_secs(f.timeout_seconds.max(1));
        spec.memory_mb = u32::try_from(f.memory_mb).unwrap_or(u32::MAX);
        spec.handler = f.handler.clone();
        spec.max_concurrency = usize::from(args.function_concurrency);
        specs.push(spec);
    }
    let options = HostOptions {
        region: account.region.clone(),
        account_id: account.account_id.clone(),
        ..HostOptions::default()
    };
    let host = LambdaHost::start(specs, options)
        .await
        .context("starting the functions")?;
    Ok((host, built))
}

/// A function's environment on the local stack: the template's variables,
/// with URLs of the deployed API pointed at the local port, plus
/// `AWS_ENDPOINT_URL` so the AWS SDKs inside the function call the local
/// services.
fn local_environment(
    template_env: &BTreeMap<String, String>,
    endpoint: &str,
    account: &Account,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = template_env
        .iter()
        .map(|(k, v)| (k.clone(), localize_api_urls(v, endpoint, account)))
        .collect();
    env.entry("AWS_ENDPOINT_URL".into())
        .or_insert_with(|| endpoint.to_owned());
    env
}

/// Rewrites `https://<api>.execute-api.<region>.amazonaws.com` (and `wss://`)
/// to the local endpoint: what `!Sub` built for AWS points here locally.
pub fn localize_api_urls(value: &str, endpoint: &str, account: &Account) -> String {
    let host = format!(
        "{LOCAL_API_ID}.execute-api.{}.amazonaws.com",
        account.region
    );
    let ws_endpoint = endpoint.replacen("http://", "ws://", 1);
    value
        .replace(&format!("https://{host}"), endpoint)
        .replace(&format!("wss://{host}"), &ws_endpoint)
        .replace(&format!("http://{host}"), endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_point_at_the_local_port() {
        let acct = Account::default();
        let url = format!("https://{LOCAL_API_ID}.execute-api.us-east-1.amazonaws.com/prod");
        assert_eq!(
            localize_api_urls(&url, "http://127.0.0.1:9", &acct),
            "http://127.0.0.1:9/prod"
        );
        let ws = format!("wss://{LOCAL_API_ID}.execute-api.us-east-1.amazonaws.com/prod");
        assert_eq!(
            localize_api_urls(&ws, "http://127.0.0.1:9", &acct),
            "ws://127.0.0.1:9/prod"
        );
        assert_eq!(localize_api_urls("plain", "http://x", &acct), "plain");
        let env = local_environment(&BTreeMap::new(), "http://127.0.0.1:9", &acct);
        assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:9");
    }
}
