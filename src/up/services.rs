//! The template's tables, queues and state machines as local services, plus
//! the background work they need (SQS event sources, the TTL sweeper).
//! The template-to-spec mappings here are the ones `--watch` reloads with.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use tokio::{sync::watch, task::JoinHandle};
use wsflow_aws_wire::{Account, AwsService, LambdaInvoker};
use wsflow_dynamodb::{DynamoDb, KeyType, TableSpec};
use wsflow_sfn::{MachineSpec, MachineType, SfnBackends, SfnOptions, StepFunctions};
use wsflow_sns::{Sns, SnsBackends, SubscriptionSpec, TopicSpec};
use wsflow_sqs::{EventSourceMapping, QueueSpec, Sqs};
use wsflow_template::{App, FunctionEvent, StateMachineKind};

use super::event_sources::EventSources;

use super::UpArgs;

/// How often expired DynamoDB items are deleted (AWS: within a few days).
const TTL_SWEEP_EVERY: Duration = Duration::from_secs(5);

/// The running local services.
pub struct LocalServices {
    /// Local DynamoDB.
    pub dynamodb: Arc<DynamoDb>,
    /// Local SQS.
    pub sqs: Arc<Sqs>,
    /// Local Step Functions.
    pub sfn: Arc<StepFunctions>,
    /// Local SNS.
    pub sns: Arc<Sns>,
    /// The running SQS event source mappings.
    pub event_sources: Arc<EventSources>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl LocalServices {
    /// Every service, for the edge router and the gateway's integrations.
    pub fn all(&self) -> Vec<Arc<dyn AwsService>> {
        vec![
            self.dynamodb.clone(),
            self.sqs.clone(),
            self.sfn.clone(),
            self.sns.clone(),
        ]
    }

    /// Stops background work and flushes what must be durable.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.event_sources.shutdown().await;
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        self.sfn.shutdown().await;
    }
}

/// Opens the services on `args.data_dir` and starts their background tasks.
pub fn start(
    app: &App,
    args: &UpArgs,
    endpoint: &str,
    account: &Account,
    lambda: Arc<dyn LambdaInvoker>,
) -> anyhow::Result<LocalServices> {
    let tables = app.tables.iter().map(table_spec).collect();
    let dynamodb = Arc::new(
        DynamoDb::open(&args.data_dir, tables, account.clone(), None).context("DynamoDB")?,
    );

    let queues = app.queues.iter().map(queue_spec).collect();
    let sqs = Arc::new(
        Sqs::open(&args.data_dir, queues, account.clone(), endpoint.to_owned()).context("SQS")?,
    );

    let topics = app.topics.iter().map(topic_spec).collect();
    let sns = Sns::new(
        account.clone(),
        endpoint,
        topics,
        SnsBackends {
            sqs: sqs.clone(),
            lambda: lambda.clone(),
        },
    )
    .map_err(|e| anyhow::anyhow!("SNS: {e}"))?;
    let sns = Arc::new(sns);

    let machines = app.state_machines.iter().map(machine_spec).collect();
    let mut options = SfnOptions::new(&args.data_dir);
    options.account = account.clone();
    options.time_scale = args.time_scale;
    options.endpoint = endpoint.to_owned();
    options.mocks = match &args.mocks {
        Some(path) => Some(Arc::new(read_mocks(path)?)),
        None => None,
    };
    let sfn = Arc::new(
        StepFunctions::open(
            options,
            machines,
            SfnBackends {
                lambda: lambda.clone(),
                services: vec![dynamodb.clone(), sqs.clone(), sns.clone()],
            },
        )
        .context("Step Functions")?,
    );

    let (stop, stopped) = watch::channel(false);
    let event_sources = Arc::new(EventSources::new((*sqs).clone(), lambda.clone()));
    event_sources.set(event_source_mappings(app)?);
    let tasks = vec![tokio::spawn(sweep_ttl(dynamodb.clone(), stopped))];
    Ok(LocalServices {
        dynamodb,
        sqs,
        sfn,
        sns,
        event_sources,
        stop,
        tasks,
    })
}

/// A template table as DynamoDB's spec.
pub fn table_spec(t: &wsflow_template::Table) -> TableSpec {
    TableSpec {
        name: t.name.clone(),
        key_schema: t
            .key_schema
            .iter()
            .map(|(name, kind)| {
                let kind = if kind == "RANGE" {
                    KeyType::Range
                } else {
                    KeyType::Hash
                };
                (name.clone(), kind)
            })
            .collect(),
        attribute_definitions: t.attribute_definitions.clone(),
        ttl_attribute: t.ttl_attribute.clone(),
    }
}

/// A template queue as SQS's spec.
pub fn queue_spec(q: &wsflow_template::Queue) -> QueueSpec {
    QueueSpec {
        fifo: q.fifo,
        content_based_deduplication: q.content_based_deduplication,
        visibility_timeout: Duration::from_secs(q.visibility_timeout_seconds),
        message_retention: Duration::from_secs(q.message_retention_seconds),
        ..QueueSpec::new(q.name.clone())
    }
}

/// A template topic as SNS's spec.
pub fn topic_spec(t: &wsflow_template::Topic) -> TopicSpec {
    TopicSpec {
        name: t.name.clone(),
        subscriptions: t
            .subscriptions
            .iter()
            .map(|s| SubscriptionSpec {
                protocol: s.protocol.clone(),
                endpoint: s.endpoint.clone(),
                raw_message_delivery: s.raw_message_delivery,
            })
            .collect(),
    }
}

/// A template state machine as Step Functions' spec.
pub fn machine_spec(m: &wsflow_template::StateMachine) -> MachineSpec {
    MachineSpec {
        name: m.name.clone(),
        kind: match m.kind {
            StateMachineKind::Standard => MachineType::Standard,
            StateMachineKind::Express => MachineType::Express,
        },
        definition: m.definition.clone(),
        role_arn: None,
    }
}

/// The functions' SQS event sources; an error names a function whose
/// event source names a queue the template does not declare.
pub fn event_source_mappings(app: &App) -> anyhow::Result<Vec<EventSourceMapping>> {
    let mut out = Vec::new();
    for f in &app.functions {
        for event in &f.events {
            let FunctionEvent::Sqs {
                queue,
                batch_size,
                maximum_batching_window_seconds,
                report_batch_item_failures,
            } = event;
            let Some(q) = app.queues.iter().find(|q| &q.logical_id == queue) else {
                anyhow::bail!(
                    "Resource {}, property Events: queue {queue} is not in the template",
                    f.logical_id
                );
            };
            out.push(EventSourceMapping {
                queue: q.name.clone(),
                function: f.name.clone(),
                batch_size: *batch_size as usize,
                max_batching_window: Duration::from_secs(u64::from(
                    *maximum_batching_window_seconds,
                )),
                report_batch_item_failures: *report_batch_item_failures,
            });
        }
    }
    Ok(out)
}

async fn sweep_ttl(dynamodb: Arc<DynamoDb>, mut stopped: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(TTL_SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {
                let n = dynamodb.sweep_expired().await;
                if n > 0 {
                    tracing::info!("DynamoDB TTL: deleted {n} expired item(s)");
                }
            }
            _ = stopped.changed() => return,
        }
    }
}

/// Reads and checks a MockConfigFile (`--mocks`): every test case's
/// responses must exist, so a typo is reported at start-up.
fn read_mocks(path: &std::path::Path) -> anyhow::Result<wsflow_asl::mock::MockConfigFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--mocks: cannot read {}", path.display()))?;
    let config = wsflow_asl::mock::MockConfigFile::parse(&text)
        .with_context(|| format!("--mocks {}", path.display()))?;
    for (machine, cases) in &config.state_machines {
        for case in cases.keys() {
            config.invoker(machine, case).with_context(|| {
                format!("--mocks {}: test case {machine}#{case}", path.display())
            })?;
        }
    }
    let cases: usize = config.state_machines.values().map(|c| c.len()).sum();
    eprintln!(
        "wsflow: mocks from {}: {cases} test case(s); start executions on <stateMachineArn>#<TestCaseName>",
        path.display()
    );
    Ok(config)
}
