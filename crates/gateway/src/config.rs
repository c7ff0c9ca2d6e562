//! What the gateway is told: the API, its routes and integrations, limits, and
//! the backends integrations call. Plain data; [`crate::Gateway::new`]
//! compiles it once.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use wsflow_aws_wire::{Account, AwsService, LambdaInvoker};

/// One WebSocket API and its deployed stage.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The API id (`$context.apiId`), e.g. `u9jlm1pv1h`.
    pub api_id: String,
    /// The stage name (`$context.stage`); without [`ApiConfig::url_path_header`]
    /// clients must connect to `/<stage>`.
    pub stage: String,
    /// E.g. `$request.body.action`.
    pub route_selection_expression: String,
    /// All routes, including `$connect`, `$disconnect` and `$default`.
    pub routes: Vec<RouteConfig>,
    /// When set (e.g. `ws-uri`), clients may connect on any path and the
    /// original path (without query) is given to `$connect` in this header,
    /// as the CloudFront Function in front of the real API does. When
    /// `None`, only `/<stage>` and `/<stage>/` upgrade (others get 403).
    pub url_path_header: Option<String>,
    /// Size and time limits.
    pub limits: Limits,
    /// The host clients use (`$context.domainName`), e.g. `127.0.0.1:3001`.
    /// Also the authority of the queue URLs handed to SQS integrations.
    pub domain_name: String,
    /// Region and account the stack presents.
    pub account: Account,
    /// How `$connect` is authorized (the `$connect` route's `AuthorizationType`).
    pub connect_authorization: ConnectAuthorization,
}

/// The `$connect` route's `AuthorizationType` (API Gateway authorizes only
/// `$connect` on WebSocket APIs; later messages inherit the result).
#[derive(Debug, Clone, Default)]
pub enum ConnectAuthorization {
    /// `NONE`: every handshake reaches `$connect`.
    #[default]
    None,
    /// `CUSTOM`: a `REQUEST` Lambda authorizer.
    Lambda(LambdaAuthorizer),
    /// `AWS_IAM`: SigV4 query-string signatures, checked against
    /// [`IamAuthorization::credentials`].
    Iam(IamAuthorization),
}

/// An `AWS::ApiGatewayV2::Authorizer` of type `REQUEST`.
#[derive(Debug, Clone)]
pub struct LambdaAuthorizer {
    /// `Name`.
    pub name: String,
    /// The function to invoke (name or ARN).
    pub function: String,
    /// `IdentitySource`: `route.request.header.X`, `route.request.querystring.Y`,
    /// `stageVariables.Z`, `context.W`. When one is missing or empty the
    /// handshake gets `401` and the function is not called.
    pub identity_sources: Vec<String>,
}

/// `AWS_IAM` on `$connect`.
#[derive(Debug, Clone, Default)]
pub struct IamAuthorization {
    /// Accepted access keys. Empty: signatures are not checked (every
    /// handshake passes), since the local stack has no IAM to ask.
    pub credentials: Vec<IamCredential>,
}

/// One access key pair a SigV4 signature may be made with.
#[derive(Clone)]
pub struct IamCredential {
    /// `AKIA…`.
    pub access_key_id: String,
    /// The secret key (never printed by `Debug`).
    pub secret_access_key: String,
}

impl std::fmt::Debug for IamCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamCredential")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// A route: its key and its integration.
#[derive(Debug, Clone)]
pub struct RouteConfig {
    /// `$connect`, `$disconnect`, `$default` or a custom key.
    pub route_key: String,
    /// What the route calls.
    pub integration: IntegrationConfig,
    /// Whether the route has a route response (`RouteResponseKey: $default`):
    /// the integration's response is then sent back to the client.
    pub two_way: bool,
    /// The integration's `IntegrationResponse`s. They shape what a two-way
    /// route sends for `AWS` and `MOCK` integrations; proxy integrations
    /// have none (their result is the reply), so there they are ignored.
    /// Empty: the integration's response body is sent as it is.
    pub integration_responses: Vec<IntegrationResponseConfig>,
    /// Request validation (`ModelSelectionExpression` and `RequestModels`);
    /// `None` without a model selection expression.
    pub request_validation: Option<RequestValidationConfig>,
}

/// An `AWS::ApiGatewayV2::IntegrationResponse`.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationResponseConfig {
    /// `IntegrationResponseKey`: `$default`, or `/regex/` matched against
    /// the integration's whole status code (e.g. `/2\d\d/`).
    pub key: String,
    /// `ResponseTemplates` by key, raw VTL.
    pub templates: BTreeMap<String, String>,
    /// `TemplateSelectionExpression` (`\$default`, a static key,
    /// `${request.body.x}`, `${integration.response.statuscode}`, …);
    /// `None` selects `$default`.
    pub template_selection_expression: Option<String>,
}

/// A route's `ModelSelectionExpression` and `RequestModels`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestValidationConfig {
    /// E.g. `$request.body.messageType` or `\$default`.
    pub model_selection_expression: String,
    /// Model selection key → model. A key with no model falls back to
    /// `$default`; with no `$default` either, the message fails validation.
    pub models: BTreeMap<String, RequestModel>,
}

/// An `AWS::ApiGatewayV2::Model`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestModel {
    /// `Name`.
    pub name: String,
    /// `Schema`: a JSON Schema, draft 4 (API Gateway's draft).
    pub schema: serde_json::Value,
}

/// A route's integration.
#[derive(Debug, Clone)]
pub enum IntegrationConfig {
    /// `AWS_PROXY` to a Lambda function.
    LambdaProxy {
        /// The function name (or ARN).
        function: String,
    },
    /// `AWS` (non-proxy) integration with an AWS service, driven by request
    /// templates.
    AwsService {
        /// `dynamodb`, `states`, `sqs` (matched against
        /// [`AwsService::integration_name`]).
        service: String,
        /// The operation of an `…:<service>:action/<Operation>` URI.
        action: Option<String>,
        /// The path of an `…:<service>:path/<path>` URI, e.g.
        /// `123456789012/my-queue.fifo` for SQS.
        path: Option<String>,
        /// Request templates by key (`$default`, `application/json`, …), raw VTL.
        request_templates: BTreeMap<String, String>,
        /// E.g. `\$default` or `${request.body.action}`; `None` selects `$default`.
        template_selection_expression: Option<String>,
        /// `WHEN_NO_MATCH` (default), `WHEN_NO_TEMPLATES` or `NEVER`.
        passthrough_behavior: Option<String>,
    },
    /// `MOCK`: the selected request template renders to a JSON object whose
    /// integer `statusCode` is the integration's status (200 when no
    /// template is selected); the status selects the integration response,
    /// whose template renders the reply (the mock has no body of its own).
    Mock {
        /// Request templates by key, raw VTL.
        request_templates: BTreeMap<String, String>,
        /// As for [`IntegrationConfig::AwsService`]; `None` selects `$default`.
        template_selection_expression: Option<String>,
    },
}

/// API Gateway's WebSocket quotas (all fixed at AWS; configurable here for tests).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Message payload size: 128 KB. Larger messages close the connection
    /// with code 1009; larger `@connections` posts get 413.
    pub max_message_bytes: usize,
    /// WebSocket frame size: 32 KB. Larger frames close the connection with 1009.
    pub max_frame_bytes: usize,
    /// Idle connection timeout: 10 minutes without a frame from the client.
    pub idle_timeout: Duration,
    /// Connection duration: 2 hours.
    pub max_connection_duration: Duration,
    /// Integration timeout: 29 seconds.
    pub integration_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 128 * 1024,
            max_frame_bytes: 32 * 1024,
            idle_timeout: Duration::from_secs(10 * 60),
            max_connection_duration: Duration::from_secs(2 * 60 * 60),
            integration_timeout: Duration::from_secs(29),
        }
    }
}

/// What integrations call.
#[derive(Clone)]
pub struct Backends {
    /// Invokes Lambda functions (proxy integrations).
    pub lambda: Arc<dyn LambdaInvoker>,
    /// Local AWS services, picked by [`AwsService::integration_name`].
    pub services: Vec<Arc<dyn AwsService>>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.services.iter().map(|s| s.integration_name()).collect();
        f.debug_struct("Backends")
            .field("services", &names)
            .finish_non_exhaustive()
    }
}
