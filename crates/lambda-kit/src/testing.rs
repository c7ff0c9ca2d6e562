//! A test server speaking the two AWS wire protocols the functions use, on a real loopback socket:
//!
//! * API Gateway's `@connections` API: `POST /{stage}/@connections/{connectionId}` answers `200`
//!   for a connected id, `410` with `x-amzn-ErrorType: GoneException` for any other id (as AWS
//!   does for a closed connection), or a scripted error;
//! * DynamoDB's JSON 1.0 protocol for `Scan` (paged two items at a time, so clients must follow
//!   `LastEvaluatedKey`) and `DeleteItem` on in-memory tables of connection ids.
//!
//! Requests without a SigV4 `Authorization` header are refused with `403`, like AWS. The real
//! local stack (crates/gateway, crates/dynamodb) is exercised by the workspace's end-to-end tests;
//! this server keeps the function crates' tests self-contained and lets them script failures
//! (`500`, `403`, a bare `410`) the real services only produce under load or misconfiguration.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// How the server answers a `PostToConnection` for one connection id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// `200`: the message is delivered.
    Accept,
    /// `410` with `x-amzn-ErrorType: GoneException` (the answer for unknown ids too).
    Gone,
    /// `410` without an error type (a proxy in front of API Gateway could strip it).
    BareGone,
    /// Any other error status with its AWS error code.
    Error {
        /// HTTP status.
        status: u16,
        /// AWS error code sent in `x-amzn-ErrorType`.
        code: &'static str,
    },
}

/// One `PostToConnection` request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// The stage segment of the path.
    pub stage: String,
    /// The connection id (percent-decoded).
    pub connection_id: String,
    /// The message bytes.
    pub data: Vec<u8>,
    /// The status the server answered.
    pub status: u16,
}

impl Post {
    /// The message as text (lossy for non-UTF-8 data).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

#[derive(Default)]
struct Inner {
    replies: HashMap<String, Reply>,
    posts: Vec<Post>,
    tables: HashMap<String, BTreeMap<String, ()>>,
    deleted: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    // A panicking test thread may poison the lock; the data is still consistent for assertions.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running server; stops when dropped.
pub struct FakeAws {
    addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAws {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAws {
    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Shared::default();
        let app = Router::new()
            .route("/{stage}/@connections/{id}", post(post_to_connection))
            .route("/", post(dynamodb))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(%err, "test server stopped");
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:{port}`: the endpoint for DynamoDB (what `AWS_ENDPOINT_URL` would hold).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:{port}/{stage}`: what `CONNECTIONS_ENDPOINT` would hold.
    pub fn connections_endpoint(&self, stage: &str) -> String {
        format!("{}/{stage}", self.url())
    }

    /// An SDK configuration aimed at this server: region `us-east-1`, static test keys, the
    /// server as endpoint, and no SDK retries (so every request the code makes is visible).
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDTESTWSFLOW",
                "test-secret",
                None,
                None,
                "wsflow-testing",
            )))
            .endpoint_url(self.url())
            .retry_config(RetryConfig::disabled())
            .build()
    }

    /// Marks `connection_id` as open (its posts are accepted).
    pub fn connect(&self, connection_id: &str) {
        self.reply(connection_id, Reply::Accept);
    }

    /// Scripts the answer to posts for `connection_id`.
    pub fn reply(&self, connection_id: &str, reply: Reply) {
        lock(&self.shared)
            .replies
            .insert(connection_id.to_owned(), reply);
    }

    /// Creates (or replaces) table `name` holding items for `connection_ids`.
    pub fn create_table(&self, name: &str, connection_ids: &[&str]) {
        let items = connection_ids
            .iter()
            .map(|id| (id.to_string(), ()))
            .collect();
        lock(&self.shared).tables.insert(name.to_owned(), items);
    }

    /// The connection ids left in table `name` (`None` if there is no such table).
    pub fn table_ids(&self, name: &str) -> Option<Vec<String>> {
        lock(&self.shared)
            .tables
            .get(name)
            .map(|t| t.keys().cloned().collect())
    }

    /// Every `PostToConnection` received, in order.
    pub fn posts(&self) -> Vec<Post> {
        lock(&self.shared).posts.clone()
    }

    /// Every `DeleteItem` received, as `(table, connectionid)`, in order.
    pub fn deleted(&self) -> Vec<(String, String)> {
        lock(&self.shared).deleted.clone()
    }
}

fn signed(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 Credential="))
}

fn aws_error(status: u16, code: &str, message: &str, json_type_prefix: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"__type": format!("{json_type_prefix}{code}"), "message": message});
    (
        status,
        [("x-amzn-errortype", code.to_owned())],
        body.to_string(),
    )
        .into_response()
}

fn missing_auth() -> Response {
    aws_error(
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
        "",
    )
}

async fn post_to_connection(
    State(shared): State<Shared>,
    Path((stage, connection_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !signed(&headers) {
        return missing_auth();
    }
    let mut inner = lock(&shared);
    let reply = inner
        .replies
        .get(&connection_id)
        .copied()
        .unwrap_or(Reply::Gone);
    let response = match reply {
        Reply::Accept => StatusCode::OK.into_response(),
        Reply::Gone => aws_error(410, "GoneException", "", ""),
        Reply::BareGone => (StatusCode::GONE, "").into_response(),
        Reply::Error { status, code } => aws_error(status, code, "scripted failure", ""),
    };
    inner.posts.push(Post {
        stage,
        connection_id,
        data: body.to_vec(),
        status: response.status().as_u16(),
    });
    response
}

const DYNAMODB_TYPE: &str = "com.amazonaws.dynamodb.v20120810#";
const PAGE_SIZE: usize = 2;

async fn dynamodb(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if !signed(&headers) {
        return missing_auth();
    }
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return aws_error(
            400,
            "SerializationException",
            "Start of structure or map found where not expected",
            DYNAMODB_TYPE,
        );
    };
    let table = request["TableName"].as_str().unwrap_or_default().to_owned();
    let mut inner = lock(&shared);
    let Some(items) = inner.tables.get_mut(&table) else {
        return aws_error(
            400,
            "ResourceNotFoundException",
            "Requested resource not found",
            DYNAMODB_TYPE,
        );
    };
    match target {
        "DynamoDB_20120810.Scan" => {
            let start = request["ExclusiveStartKey"]["connectionid"]["S"].as_str();
            let page: Vec<&String> = items
                .keys()
                .filter(|id| start.is_none_or(|s| id.as_str() > s))
                .take(PAGE_SIZE + 1)
                .collect();
            let more = page.len() > PAGE_SIZE;
            let page = &page[..page.len().min(PAGE_SIZE)];
            let mut response = json!({
                "Items": page.iter().map(|id| json!({"connectionid": {"S": id}})).collect::<Vec<_>>(),
                "Count": page.len(),
                "ScannedCount": page.len(),
            });
            if let (true, Some(last)) = (more, page.last()) {
                response["LastEvaluatedKey"] = json!({"connectionid": {"S": last}});
            }
            json_response(response)
        }
        "DynamoDB_20120810.DeleteItem" => {
            let Some(id) = request["Key"]["connectionid"]["S"].as_str() else {
                return aws_error(
                    400,
                    "ValidationException",
                    "The provided key element does not match the schema",
                    DYNAMODB_TYPE,
                );
            };
            items.remove(id);
            let id = id.to_owned();
            inner.deleted.push((table, id));
            json_response(json!({}))
        }
        other => aws_error(
            400,
            "UnknownOperationException",
            &format!("unsupported operation {other}"),
            DYNAMODB_TYPE,
        ),
    }
}

fn json_response(body: Value) -> Response {
    (
        [("content-type", "application/x-amz-json-1.0")],
        body.to_string(),
    )
        .into_response()
}

/// The API id, stage and domain of the events [`message_event`] builds.
pub const API_ID: &str = "u9jlm1pv1h";
/// The stage of the events [`message_event`] builds.
pub const STAGE: &str = "api";

/// A `MESSAGE` event for `route_key` from `connection_id` carrying `body`, with every field API
/// Gateway sets for a Lambda proxy integration of a WebSocket route.
pub fn message_event(
    route_key: &str,
    connection_id: &str,
    body: &str,
) -> aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest {
    let event = json!({
        "requestContext": {
            "routeKey": route_key,
            "messageId": "SOqIDdzSoAMCEeg=",
            "eventType": "MESSAGE",
            "extendedRequestId": "SOqIDEacoAMFaHQ=",
            "requestTime": "16/May/2022:17:30:27 +0000",
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": 1_652_722_217_711_u64,
            "requestTimeEpoch": 1_652_722_227_357_u64,
            "identity": {"sourceIp": "203.0.113.7"},
            "requestId": "SOqIDEacoAMFaHQ=",
            "domainName": format!("{API_ID}.execute-api.us-east-1.amazonaws.com"),
            "connectionId": connection_id,
            "apiId": API_ID
        },
        "body": body,
        "isBase64Encoded": false
    });
    // The event above is a fixed, valid WebSocket event: deserialising it cannot fail.
    serde_json::from_value(event).expect("a valid WebSocket event")
}
