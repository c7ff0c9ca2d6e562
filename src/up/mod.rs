//! `wsflow up`: the whole application from `template.yaml` on one loopback port.
//!
//! Only wiring lives here: the template model is mapped onto each crate's own
//! configuration ([`functions`], [`services`], [`api`]), the crates are started
//! in dependency order (functions, then services, then the gateway), and a
//! signal stops them in reverse order.

mod api;
mod event_sources;
mod functions;
mod lambda_api;
mod rebuild;
mod services;
mod shutdown;
mod stack_update;
mod watch;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::Args;
use tokio::net::TcpListener;
use wsflow_aws_wire::{Account, LambdaInvoker};
use wsflow_console::{self as console, Console};
use wsflow_edge::Edge;
use wsflow_gateway::{Backends, Gateway};
use wsflow_template::LocalContext;

/// The API id the local WebSocket API answers to (AWS ids are ten lowercase
/// letters and digits).
pub const LOCAL_API_ID: &str = "wsflowlocl";

/// Arguments of `wsflow up`.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Port for everything (WebSocket, @connections, AWS APIs); 0 picks a free one.
    #[arg(long, default_value_t = 3001)]
    pub port: u16,
    /// The SAM template to serve.
    #[arg(long, default_value = "template.yaml")]
    pub template: PathBuf,
    /// Where tables, queues and Standard executions are stored.
    #[arg(long, default_value = ".wsflow")]
    pub data_dir: PathBuf,
    /// Scale for Wait states and retry intervals: 1 = real time, 0 = no waiting.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Template parameters, as `sam deploy` takes them: `Key=Value Key2=Value2`.
    #[arg(long, num_args = 1.., value_delimiter = ' ')]
    pub parameter_overrides: Vec<String>,
    /// Use function binaries from this directory instead of building them.
    #[arg(long)]
    pub functions_dir: Option<PathBuf>,
    /// Where the packages Lambda's runtimes ship are installed, once, for Python and Node.js
    /// functions: the AWS SDK for JavaScript v3 (npm) and, when the machine's python3 lacks it,
    /// boto3 (pip). Default: `<data-dir>/runtimes`; one directory may serve several projects.
    #[arg(long, env = "WSFLOW_RUNTIME_PACKAGES_DIR")]
    pub runtime_packages_dir: Option<PathBuf>,
    /// Build function binaries in the debug profile (default: the profile wsflow itself was built in).
    #[arg(long)]
    pub debug_functions: bool,
    /// At most this many processes (execution environments) per function at once; further
    /// invocations wait for a free one. AWS scales a function up to the account's concurrency
    /// (1,000 by default). `cargo bench -p wsflow --bench soak` compares 64 with 8 on this
    /// machine: 64 stayed the faster default on 2 cores (see README).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub function_concurrency: u16,
    /// Watch template.yaml, the state machine definition files and the functions'
    /// sources: an edit is applied without a restart, as a stack update (definitions as
    /// UpdateStateMachine, routes and integrations with connections kept open, functions,
    /// tables, queues, topics and state machines created, updated and deleted, functions
    /// rebuilt and swapped).
    #[arg(long)]
    pub watch: bool,
    /// An AWS Step Functions Local MockConfigFile: StartExecution and StartSyncExecution
    /// on `<stateMachineArn>#<TestCaseName>` run with that test case's mocked responses.
    #[arg(long, value_name = "MockConfigFile.json")]
    pub mocks: Option<PathBuf>,
    /// Close connections idle for this many seconds (AWS: 600).
    #[arg(long, default_value_t = 600)]
    pub idle_timeout: u64,
    /// Close connections older than this many seconds (AWS: 7200).
    #[arg(long, default_value_t = 7200)]
    pub max_connection_duration: u64,
    /// Access keys an `AWS_IAM` `$connect` accepts SigV4 signatures from, as
    /// `ACCESS_KEY_ID:SECRET_ACCESS_KEY` (repeat the flag, or separate with commas).
    /// Without any, `AWS_IAM` routes do not check signatures.
    #[arg(
        long,
        env = "WSFLOW_IAM_CREDENTIALS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub iam_credentials: Vec<String>,
}

/// Runs the local stack until Ctrl-C or SIGTERM.
pub async fn up(args: UpArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    if !args.time_scale.is_finite() || args.time_scale < 0.0 {
        anyhow::bail!("--time-scale must be a finite number >= 0");
    }
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let port = listener.local_addr()?.port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let account = Account::default();
    let template_dir = args
        .template
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."));
    let ctx = LocalContext {
        account: account.clone(),
        stack_name: "wsflow".into(),
        endpoint: endpoint.clone(),
        api_id: LOCAL_API_ID.into(),
        template_dir: template_dir.clone(),
    };
    let overrides = wsflow_template::parse_overrides(&args.parameter_overrides.join(" "))
        .map_err(|e| anyhow::anyhow!("--parameter-overrides: {e}"))?;
    // The template's errors name the file (or the resource and property).
    let app = wsflow_template::load(&args.template, &overrides, &ctx)?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;

    eprintln!("wsflow: starting {} function(s)", app.functions.len());
    let (host, built, runtimes) =
        functions::start(&app, &args, &template_dir, &endpoint, &account).await?;
    let lambda: Arc<dyn LambdaInvoker> = Arc::new(host.clone());

    let local = services::start(&app, &args, &endpoint, &account, lambda.clone())?;
    let api = api::config(&app, &account, port, &args)?;
    let stage = api.stage.clone();
    let backends = Backends {
        lambda: lambda.clone(),
        services: local.all(),
    };
    let gateway = Gateway::new(api, backends.clone()).context("the WebSocket API")?;

    let lambda_api = lambda_api::new(&app, &account, lambda.clone());
    let mut edge = Edge::builder()
        .endpoint(endpoint.clone())
        .fallback(gateway.router())
        .rest(lambda_api.router());
    for service in local.all() {
        edge = edge.service(service);
    }
    // The console's paths (under /@console/) first; everything else to the edge.
    let console = Console::new(console::Sources {
        gateway: gateway.clone(),
        sfn: local.sfn.clone(),
        lambda: host.clone(),
        dynamodb: local.dynamodb.clone(),
        sqs: local.sqs.clone(),
        account: account.clone(),
    });
    let router = console
        .router()
        .fallback_service(edge.build().into_router());

    eprintln!(
        "wsflow: AWS APIs (DynamoDB, SQS, SNS, Step Functions, Lambda): --endpoint-url {endpoint}"
    );
    eprintln!("wsflow: @connections: {endpoint}/{stage}/@connections/{{connectionId}}");
    eprintln!("wsflow: console: {endpoint}{}/", console::PREFIX);
    for (name, value) in &app.outputs {
        let value = functions::localize_api_urls(value, &endpoint, &account)
            .replace("wss://127.0.0.1:", "ws://127.0.0.1:");
        eprintln!("wsflow: output {name} = {value}");
    }
    println!(
        "wsflow ready in {} ms: ws://127.0.0.1:{port}/{stage}",
        started.elapsed().as_millis()
    );

    if args.watch {
        let rebuilder = rebuild::spawn(host.clone(), built.clone())
            .await
            .context("--watch")?;
        watch::spawn(
            watch::Source {
                template: args.template.clone(),
                overrides: overrides.clone(),
                ctx: ctx.clone(),
            },
            app.clone(),
            stack_update::Live {
                sfn: local.sfn.clone(),
                gateway: gateway.clone(),
                backends,
                host: host.clone(),
                lambda_api,
                dynamodb: local.dynamodb.clone(),
                sqs: local.sqs.clone(),
                sns: local.sns.clone(),
                event_sources: local.event_sources.clone(),
                rebuilder,
                account: account.clone(),
                endpoint: endpoint.clone(),
                port,
                template_dir: template_dir.clone(),
                args: args.clone(),
                runtimes: tokio::sync::Mutex::new(runtimes),
            },
            built,
        )
        .context("--watch")?;
    }

    // Standard executions a crash or a stop left RUNNING continue from their
    // histories; their tasks reach the functions and the port served below.
    match local.sfn.resume_running() {
        Ok(0) => {}
        Ok(n) => eprintln!("wsflow: resumed {n} Standard execution(s) left RUNNING"),
        Err(e) => eprintln!("wsflow: cannot resume RUNNING executions: {e}"),
    }

    let signal = shutdown::signal();
    let serve = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown({
        let gateway = gateway.clone();
        async move {
            signal.await;
            eprintln!("wsflow: shutting down");
            // Open console pages hold streams; end them.
            console.shutdown();
            // $disconnect for every client before the listener goes away.
            gateway.close_all().await;
        }
    });
    serve.await.context("serving")?;
    local.shutdown().await;
    tokio::time::timeout(Duration::from_secs(10), host.shutdown())
        .await
        .ok();
    eprintln!("wsflow: stopped");
    Ok(())
}
