//! The typed model of the app: everything the local stack needs from the template, nothing more.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The whole application described by a template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct App {
    /// WebSocket APIs (`AWS::ApiGatewayV2::Api` with `ProtocolType: WEBSOCKET`).
    pub apis: Vec<WebSocketApi>,
    /// Lambda functions (SAM or plain `AWS::Lambda::Function`).
    pub functions: Vec<Function>,
    /// Step Functions state machines.
    pub state_machines: Vec<StateMachine>,
    /// DynamoDB tables.
    pub tables: Vec<Table>,
    /// SQS queues.
    pub queues: Vec<Queue>,
    /// SNS topics (`AWS::SNS::Topic`) with their subscriptions.
    pub topics: Vec<Topic>,
    /// Stack outputs that could be resolved locally.
    pub outputs: BTreeMap<String, String>,
}

/// One WebSocket API with its stage and routes.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSocketApi {
    /// Logical id of the `AWS::ApiGatewayV2::Api`.
    pub logical_id: String,
    /// `Name`.
    pub name: String,
    /// `RouteSelectionExpression`, e.g. `$request.body.action`.
    pub route_selection_expression: String,
    /// `ApiKeySelectionExpression`.
    pub api_key_selection_expression: Option<String>,
    /// `StageName` of the stage attached to this API (empty when none).
    pub stage: String,
    /// Routes, ordered by the logical id of their Route resource.
    pub routes: Vec<Route>,
    /// `Some(header)` when an enabled CloudFront function + distribution copy the URL path into
    /// this request header (the seed's `ws-uri`).
    pub url_path_header: Option<String>,
}

/// One route of a WebSocket API.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// `$connect`, `$disconnect`, `$default` or a custom key.
    pub route_key: String,
    /// Where the route sends its messages.
    pub integration: Integration,
    /// Two-way: `RouteResponseSelectionExpression` is set or a RouteResponse exists.
    pub two_way: bool,
    /// `OperationName`.
    pub operation_name: Option<String>,
    /// `RouteResponseSelectionExpression`.
    pub route_response_selection_expression: Option<String>,
    /// The integration's IntegrationResponses.
    pub integration_responses: Vec<IntegrationResponse>,
    /// `AuthorizationType`: `NONE` (the default), `AWS_IAM` or `CUSTOM`.
    pub authorization_type: String,
    /// The `AWS::ApiGatewayV2::Authorizer` named by `AuthorizerId` (with `CUSTOM`).
    pub authorizer: Option<Authorizer>,
    /// `ModelSelectionExpression` (e.g. `$request.body.messageType`, `\$default`): with it,
    /// messages are validated against [`Route::request_models`].
    pub model_selection_expression: Option<String>,
    /// `RequestModels`: model selection key → the model it names.
    pub request_models: BTreeMap<String, Model>,
}

/// An `AWS::ApiGatewayV2::Model` of the route's API.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Logical id.
    pub logical_id: String,
    /// `Name` (what `RequestModels` name it by).
    pub name: String,
    /// `ContentType` (e.g. `application/json`).
    pub content_type: Option<String>,
    /// `Schema`: a JSON Schema, draft 4, checked to compile when the template loads.
    pub schema: serde_json::Value,
}

/// An `AWS::ApiGatewayV2::Authorizer` (WebSocket APIs: `REQUEST`, backed by a Lambda function).
#[derive(Debug, Clone, PartialEq)]
pub struct Authorizer {
    /// Logical id.
    pub logical_id: String,
    /// `Name`.
    pub name: String,
    /// `AuthorizerType` (`REQUEST`).
    pub authorizer_type: String,
    /// Logical id of the function `AuthorizerUri` invokes.
    pub function: String,
    /// `IdentitySource`, e.g. `route.request.querystring.token`.
    pub identity_sources: Vec<String>,
    /// `AuthorizerResultTtlInSeconds` (the local stack does not cache results).
    pub result_ttl_seconds: Option<u64>,
}

/// An `AWS::ApiGatewayV2::IntegrationResponse`.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationResponse {
    /// `IntegrationResponseKey` (`$default`, `/200/`, ...).
    pub key: String,
    /// `ResponseTemplates`.
    pub templates: BTreeMap<String, String>,
    /// `TemplateSelectionExpression`.
    pub template_selection_expression: Option<String>,
    /// `ContentHandlingStrategy`.
    pub content_handling: Option<String>,
}

/// What a route is integrated with.
#[derive(Debug, Clone, PartialEq)]
pub enum Integration {
    /// `AWS_PROXY` to a Lambda function.
    LambdaProxy {
        /// Logical id of the function.
        function: String,
    },
    /// `AWS` service integration (DynamoDB, Step Functions, SQS) through mapping templates.
    AwsService {
        /// `dynamodb`, `states`, `sqs`, ...
        service: String,
        /// `action/<Action>` form: the action, e.g. `PutItem`.
        action: Option<String>,
        /// `path/<path>` form: the path, e.g. `123456789012/queue.fifo`.
        path: Option<String>,
        /// `RequestTemplates`.
        request_templates: BTreeMap<String, String>,
        /// `TemplateSelectionExpression` (kept as written, e.g. `\$default`: the selection expression's own escape, which the gateway interprets as AWS does).
        template_selection_expression: Option<String>,
        /// `PassthroughBehavior`.
        passthrough_behavior: Option<String>,
        /// `RequestParameters`.
        request_parameters: BTreeMap<String, String>,
        /// `ContentHandlingStrategy`.
        content_handling: Option<String>,
    },
    /// `MOCK`.
    Mock {
        /// `RequestTemplates` (each renders `{"statusCode": <integer>}`).
        request_templates: BTreeMap<String, String>,
        /// `TemplateSelectionExpression` (kept as written, e.g. `\$default`).
        template_selection_expression: Option<String>,
    },
    /// `HTTP` / `HTTP_PROXY`.
    Http {
        /// `IntegrationUri`.
        uri: String,
    },
}

/// A Lambda function.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Logical id.
    pub logical_id: String,
    /// Function name (`FunctionName` or `<stack>-<LogicalId>`).
    pub name: String,
    /// `CodeUri`, joined to the template directory.
    pub code_uri: PathBuf,
    /// `Handler`.
    pub handler: String,
    /// `Runtime`, e.g. `provided.al2023`, `python3.12`, `nodejs20.x`.
    pub runtime: String,
    /// `InlineCode` (SAM) or `Code.ZipFile` (CloudFormation): the handler's
    /// source, written to a file named `index.<ext>` as Lambda does.
    pub inline_code: Option<String>,
    /// `Architectures` (default `["x86_64"]`).
    pub architectures: Vec<String>,
    /// `Timeout` (default 3).
    pub timeout_seconds: u64,
    /// `MemorySize` (default 128).
    pub memory_mb: u64,
    /// `Environment.Variables`, resolved.
    pub environment: BTreeMap<String, String>,
    /// `Metadata.BuildMethod` (e.g. `rust-cargolambda`).
    pub build_method: Option<String>,
    /// `Metadata.BuildProperties.Binary`.
    pub binary: Option<String>,
    /// Event sources the local stack runs (SQS).
    pub events: Vec<FunctionEvent>,
}

/// An event source mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionEvent {
    /// SAM `Type: SQS`.
    Sqs {
        /// Logical id of the queue.
        queue: String,
        /// `BatchSize` (default 10).
        batch_size: u32,
        /// `MaximumBatchingWindowInSeconds` (default 0).
        maximum_batching_window_seconds: u32,
        /// `FunctionResponseTypes` contains `ReportBatchItemFailures`.
        report_batch_item_failures: bool,
    },
}

/// Standard or Express.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateMachineKind {
    /// `STANDARD`.
    Standard,
    /// `EXPRESS`.
    Express,
}

/// A state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachine {
    /// Logical id.
    pub logical_id: String,
    /// Name (`Name` / `StateMachineName` or `<stack>-<LogicalId>`).
    pub name: String,
    /// Standard or Express.
    pub kind: StateMachineKind,
    /// ASL definition as JSON text, substitutions applied.
    pub definition: String,
    /// The file it was read from (`DefinitionUri`, resolved against the
    /// template's directory), if any.
    pub definition_file: Option<std::path::PathBuf>,
}

/// A DynamoDB table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Logical id.
    pub logical_id: String,
    /// Table name.
    pub name: String,
    /// `(AttributeName, HASH|RANGE)`.
    pub key_schema: Vec<(String, String)>,
    /// `(AttributeName, S|N|B)`.
    pub attribute_definitions: Vec<(String, String)>,
    /// TTL attribute when `TimeToLiveSpecification.Enabled`.
    pub ttl_attribute: Option<String>,
    /// `BillingMode` (default `PROVISIONED`).
    pub billing_mode: String,
}

/// An SNS topic and its subscriptions (its inline `Subscription` list and
/// the `AWS::SNS::Subscription`s whose `TopicArn` names it).
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// Logical id.
    pub logical_id: String,
    /// `TopicName` (or `<stack>-<LogicalId>`).
    pub name: String,
    /// Its subscriptions.
    pub subscriptions: Vec<TopicSubscription>,
}

/// One subscription of a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicSubscription {
    /// `Protocol` (`sqs`, `lambda`, …).
    pub protocol: String,
    /// `Endpoint`: the queue or function ARN.
    pub endpoint: String,
    /// `RawMessageDelivery`.
    pub raw_message_delivery: bool,
}

/// An SQS queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    /// Logical id.
    pub logical_id: String,
    /// Queue name (FIFO names end in `.fifo`).
    pub name: String,
    /// `FifoQueue`.
    pub fifo: bool,
    /// `ContentBasedDeduplication`.
    pub content_based_deduplication: bool,
    /// `VisibilityTimeout` (default 30).
    pub visibility_timeout_seconds: u64,
    /// `MessageRetentionPeriod` (default 345600).
    pub message_retention_seconds: u64,
    /// `DeduplicationScope`.
    pub deduplication_scope: Option<String>,
    /// `RedrivePolicy`.
    pub redrive: Option<Redrive>,
}

/// Dead-letter settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Redrive {
    /// Logical id of the dead-letter queue (or its ARN when it is not in this template).
    pub dead_letter_queue: String,
    /// `maxReceiveCount`.
    pub max_receive_count: u32,
}
