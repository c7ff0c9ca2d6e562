//! The template's functions as local processes: which runtime or binary
//! each one is (building Rust ones with cargo only when there are some), and
//! the environment it gets locally.

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
    runtimes::{FunctionCode, RuntimeError, RuntimeKind, node, python},
};
use wsflow_template::{App, Function};

use super::{LOCAL_API_ID, UpArgs};

/// How each Rust function's executable was obtained, for `--watch` to
/// rebuild it the same way.
#[derive(Debug, Clone)]
pub struct Built {
    /// The options the start-up build used (workspace, profile, `--functions-dir`).
    pub options: BuildOptions,
    /// One entry per Rust (cargo or `--functions-dir`) function.
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

/// Sets up every function (its runtime, or its binary, building it when
/// needed) and starts the lambda host. Paths are made absolute first: the
/// function processes run in their own code directories.
pub async fn start(
    app: &App,
    args: &UpArgs,
    template_dir: &Path,
    endpoint: &str,
    account: &Account,
) -> anyhow::Result<(LambdaHost, Built, RuntimeHosts)> {
    let cache_dir = std::path::absolute(&args.data_dir)?.join("runtimes");
    let mut runtimes = RuntimeHosts::new(args)?;
    runtimes.prepare_for(&app.functions).await?;
    let mut specs = Vec::new();
    let mut rust = Vec::new();
    for f in &app.functions {
        let (spec, cargo) = host_spec(f, args, endpoint, account, &cache_dir, &runtimes)?;
        if cargo {
            rust.push(specs.len());
        }
        specs.push(spec);
    }
    let release = !args.debug_functions && !cfg!(debug_assertions);
    let mut built = Built {
        options: BuildOptions::new(std::path::absolute(template_dir)?, release),
        functions: Vec::new(),
    };
    if !rust.is_empty() {
        let rust_fns: Vec<_> = rust.iter().map(|&i| &app.functions[i]).collect();
        let (options, functions) = build_rust(&rust_fns, args, template_dir).await?;
        for (&i, f) in rust.iter().zip(&functions) {
            specs[i].executable = f.executable.clone();
        }
        built.options = options;
        built.functions = functions;
    }
    let options = HostOptions {
        region: account.region.clone(),
        account_id: account.account_id.clone(),
        ..HostOptions::default()
    };
    let host = LambdaHost::start(specs, options)
        .await
        .context("starting the functions")?;
    Ok((host, built, runtimes))
}

/// The Python and Node.js runtimes' one-time set-up (the interpreter found,
/// what the Lambda runtime ships installed: the AWS SDK v3, boto3), done when
/// a function of that runtime first appears: at start-up, or in a `--watch`
/// reload that adds one.
pub struct RuntimeHosts {
    packages_dir: PathBuf,
    node: Option<node::NodeHost>,
    python: Option<python::PythonHost>,
}

impl RuntimeHosts {
    /// Nothing prepared yet; packages go to `--runtime-packages-dir`, else
    /// `<data-dir>/runtimes`.
    pub fn new(args: &UpArgs) -> anyhow::Result<Self> {
        let packages_dir = match &args.runtime_packages_dir {
            Some(dir) => std::path::absolute(dir)?,
            None => std::path::absolute(&args.data_dir)?.join("runtimes"),
        };
        Ok(Self {
            packages_dir,
            node: None,
            python: None,
        })
    }

    /// Prepares, off the async threads, each runtime `functions` use that is
    /// not prepared yet (an install may take a minute), printing what the
    /// user should know.
    pub async fn prepare_for(&mut self, functions: &[Function]) -> anyhow::Result<()> {
        let uses = |kind: RuntimeKind| {
            functions
                .iter()
                .any(|f| RuntimeKind::of(&f.runtime) == kind)
        };
        if self.node.is_none() && uses(RuntimeKind::Node) {
            let host = prepare(&self.packages_dir, node::prepare).await?;
            warn_all(&host.warnings);
            self.node = Some(host);
        }
        if self.python.is_none() && uses(RuntimeKind::Python) {
            let host = prepare(&self.packages_dir, python::prepare).await?;
            warn_all(&host.warnings);
            self.python = Some(host);
        }
        Ok(())
    }
}

fn warn_all(warnings: &[String]) {
    for w in warnings {
        eprintln!("wsflow: warning: {w}");
    }
}

/// Runs a runtime's one-time set-up on a blocking thread.
async fn prepare<T: Send + 'static>(
    packages_dir: &Path,
    prepare: fn(&Path) -> T,
) -> anyhow::Result<T> {
    let dir = packages_dir.to_path_buf();
    tokio::task::spawn_blocking(move || prepare(&dir))
        .await
        .context("preparing a function runtime")
}

/// Locates or builds the executables of the cargo functions `functions`
/// (in order), as at start-up.
pub async fn build_rust(
    functions: &[&Function],
    args: &UpArgs,
    template_dir: &Path,
) -> anyhow::Result<(BuildOptions, Vec<BuiltFunction>)> {
    let (options, executables) = rust_executables(functions, args, template_dir).await?;
    let built = functions
        .iter()
        .zip(executables)
        .map(|(f, (exe, target))| BuiltFunction {
            name: f.name.clone(),
            prebuilt: options
                .prebuilt_dir
                .as_ref()
                .is_some_and(|d| exe == d.join(&target.bin)),
            target,
            executable: exe,
        })
        .collect();
    Ok((options, built))
}

/// The host's configuration of function `f`, and whether its executable is
/// a cargo binary still to be located or built (the spec's `executable` is
/// then a placeholder). A runtime the stack cannot run gives a spec whose
/// invocations fail with the reason (printed here). `runtimes` must have been
/// prepared for `f` ([`RuntimeHosts::prepare_for`]).
pub fn host_spec(
    f: &Function,
    args: &UpArgs,
    endpoint: &str,
    account: &Account,
    cache_dir: &Path,
    runtimes: &RuntimeHosts,
) -> anyhow::Result<(FunctionSpec, bool)> {
    let code_uri = std::path::absolute(&f.code_uri)?;
    let mut spec = FunctionSpec::new(f.name.clone(), code_uri.join("bootstrap"));
    spec.environment = local_environment(&f.environment, endpoint, account);
    spec.timeout = Duration::from_secs(f.timeout_seconds.max(1));
    spec.memory_mb = u32::try_from(f.memory_mb).unwrap_or(u32::MAX);
    spec.handler = f.handler.clone();
    spec.max_concurrency = usize::from(args.function_concurrency);
    let code = FunctionCode {
        function: &f.name,
        runtime: &f.runtime,
        handler: &f.handler,
        code_uri: &code_uri,
        inline_code: f.inline_code.as_deref(),
    };
    let unprepared = || RuntimeError::InterpreterMissing {
        runtime: f.runtime.clone(),
        program: f.runtime.clone(),
        cause: "the runtime was not prepared".into(),
    };
    let launch = match RuntimeKind::of(&f.runtime) {
        RuntimeKind::Provided => {
            // A prebuilt `bootstrap` in CodeUri runs as is; otherwise the
            // function is a cargo binary.
            let cargo = f.binary.is_some() || !spec.executable.is_file();
            return Ok((spec, cargo));
        }
        RuntimeKind::Python => match &runtimes.python {
            Some(host) => python::launch(&code, host, cache_dir),
            None => Err(unprepared()),
        },
        RuntimeKind::Node => match &runtimes.node {
            Some(host) => node::launch(&code, host, cache_dir),
            None => Err(unprepared()),
        },
        RuntimeKind::Unsupported(runtime) => Err(RuntimeError::Unsupported(runtime)),
    };
    match launch {
        Ok(launch) => {
            let mut env = launch.environment;
            env.append(&mut spec.environment);
            spec.environment = env;
            spec.executable = launch.executable;
            spec.args = launch.args;
            spec.working_dir = Some(launch.working_dir);
        }
        Err(e) => {
            let reason = format!("Resource {} (Runtime {}): {e}", f.logical_id, f.runtime);
            eprintln!("wsflow: warning: {reason}; its invocations will fail");
            spec.unavailable = Some(reason);
        }
    }
    Ok((spec, false))
}

/// The executables of the Rust (cargo) functions, in order, with their
/// cargo targets and the options they were found or built with: found in
/// `--functions-dir`, or built in the cargo workspace holding the first
/// function's `CodeUri`.
async fn rust_executables(
    functions: &[&Function],
    args: &UpArgs,
    template_dir: &Path,
) -> anyhow::Result<(BuildOptions, Vec<(PathBuf, BinaryTarget)>)> {
    let release = !args.debug_functions && !cfg!(debug_assertions);
    let cargo_dir = functions
        .iter()
        .map(|f| &f.code_uri)
        .find(|d| d.is_dir())
        .map_or_else(|| std::path::absolute(template_dir), std::path::absolute)?;
    let mut options = BuildOptions::new(&cargo_dir, release);
    let functions_dir = args
        .functions_dir
        .as_ref()
        .map(std::path::absolute)
        .transpose()?;
    options.prebuilt_dir = functions_dir.clone();
    // With prebuilt binaries, a template outside any cargo workspace works as
    // long as each function names its binary.
    let workspace = match build::workspace_binaries(&options).await {
        Ok(bins) => bins,
        Err(e) if functions_dir.is_some() => {
            tracing::debug!(
                "no cargo workspace at {} ({e}); using --functions-dir",
                cargo_dir.display()
            );
            Vec::new()
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)).context(format!(
                "listing the cargo binaries of the workspace at {} (cargo metadata)",
                cargo_dir.display()
            ));
        }
    };

    let mut targets = Vec::new();
    let mut bins = Vec::new();
    for f in functions {
        let bin = match &f.binary {
            Some(bin) => bin.clone(),
            None => {
                // No BuildProperties.Binary: the one bin of the package at CodeUri.
                let code_dir = std::fs::canonicalize(&f.code_uri).unwrap_or(f.code_uri.clone());
                let found: Vec<_> = workspace
                    .iter()
                    .filter(|b| {
                        std::fs::canonicalize(&b.package_dir).ok().as_ref() == Some(&code_dir)
                    })
                    .collect();
                match found.as_slice() {
                    [one] => one.bin.clone(),
                    _ => bail!(
                        "Resource {}, property Metadata.BuildProperties.Binary: set it to the cargo binary of this function ({} binaries found at CodeUri {}, and no file {})",
                        f.logical_id,
                        found.len(),
                        f.code_uri.display(),
                        f.code_uri.join("bootstrap").display()
                    ),
                }
            }
        };
        let package = workspace
            .iter()
            .find(|b| b.bin == bin)
            .map(|b| b.package.clone());
        if package.is_none() {
            match &functions_dir {
                None => bail!(
                    "Resource {}, property Metadata.BuildProperties.Binary: no binary named {bin:?} in the cargo workspace at {}",
                    f.logical_id,
                    cargo_dir.display()
                ),
                Some(dir) if workspace.is_empty() && !dir.join(&bin).is_file() => bail!(
                    "Resource {}: binary {} not found (--functions-dir), and no cargo workspace at {} to build it",
                    f.logical_id,
                    dir.join(&bin).display(),
                    cargo_dir.display()
                ),
                Some(_) => {}
            }
        }
        if !targets.iter().any(|t: &BinaryTarget| t.bin == bin) {
            targets.push(BinaryTarget {
                package,
                bin: bin.clone(),
            });
        }
        bins.push((f.logical_id.clone(), bin));
    }
    let executables = build::locate_or_build(&options, &targets)
        .await
        .context("building the functions")?;
    let found = bins
        .into_iter()
        .map(|(id, bin)| {
            let exe = executables
                .get(&bin)
                .cloned()
                .with_context(|| format!("function {id}: binary {bin} was not built"))?;
            let target = targets
                .iter()
                .find(|t| t.bin == bin)
                .cloned()
                .unwrap_or(BinaryTarget { package: None, bin });
            Ok((exe, target))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((options, found))
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
