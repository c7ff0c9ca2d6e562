//! Shared test scaffolding: in-test backends that record calls and answer,
//! a gateway served on 127.0.0.1:0, and a real WebSocket client.
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};
use wsflow_aws_wire::{
    Account, AwsService, BoxFuture, LambdaInvokeError, LambdaInvoker, ServiceError, ServiceRequest,
    ServiceResponse,
};
use wsflow_gateway::{ApiConfig, Backends, Gateway, IntegrationConfig, Limits, RouteConfig};

pub type Handler = dyn Fn(&str, &Value) -> Result<Value, LambdaInvokeError> + Send + Sync;

/// A Lambda invoker that records every call and answers with `handler`.
pub struct TestLambda {
    pub calls: Mutex<Vec<(String, Value)>>,
    handler: Box<Handler>,
    /// Functions whose answers take this long.
    slow: Option<(String, Duration)>,
}

impl TestLambda {
    pub fn new(
        handler: impl Fn(&str, &Value) -> Result<Value, LambdaInvokeError> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::new(Vec::new()),
            handler: Box::new(handler),
            slow: None,
        })
    }

    /// Like `new`, but `function` answers after `delay`.
    pub fn with_slow(
        function: &str,
        delay: Duration,
        handler: impl Fn(&str, &Value) -> Result<Value, LambdaInvokeError> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::new(Vec::new()),
            handler: Box::new(handler),
            slow: Some((function.to_owned(), delay)),
        })
    }

    pub fn calls_to(&self, function: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(f, _)| f == function)
            .map(|(_, e)| e.clone())
            .collect()
    }
}

impl LambdaInvoker for TestLambda {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        let result = (self.handler)(function, &payload);
        self.calls
            .lock()
            .unwrap()
            .push((function.to_owned(), payload));
        let delay = self
            .slow
            .as_ref()
            .filter(|(f, _)| f == function)
            .map(|(_, d)| *d);
        Box::pin(async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            result
        })
    }
}

pub type ServiceHandler =
    dyn Fn(&ServiceRequest) -> Result<ServiceResponse, ServiceError> + Send + Sync;

/// A local AWS service that records requests and answers with `handler`.
pub struct TestService {
    pub name: &'static str,
    pub calls: Mutex<Vec<ServiceRequest>>,
    handler: Box<ServiceHandler>,
}

impl TestService {
    pub fn new(
        name: &'static str,
        handler: impl Fn(&ServiceRequest) -> Result<ServiceResponse, ServiceError>
        + Send
        + Sync
        + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            name,
            calls: Mutex::new(Vec::new()),
            handler: Box::new(handler),
        })
    }

    pub fn calls(&self) -> Vec<ServiceRequest> {
        self.calls.lock().unwrap().clone()
    }
}

impl AwsService for TestService {
    fn target_prefix(&self) -> &'static str {
        "Test"
    }
    fn integration_name(&self) -> &'static str {
        self.name
    }
    fn error_namespace(&self) -> Option<&'static str> {
        Some("com.amazonaws.test")
    }
    fn call(
        &self,
        request: ServiceRequest,
    ) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        let result = (self.handler)(&request);
        self.calls.lock().unwrap().push(request);
        Box::pin(async move { result })
    }
}

pub fn lambda_route(key: &str, function: &str, two_way: bool) -> RouteConfig {
    RouteConfig {
        route_key: key.into(),
        integration: IntegrationConfig::LambdaProxy {
            function: function.into(),
        },
        two_way,
        integration_responses: Vec::new(),
        request_validation: None,
    }
}

pub fn service_route(
    key: &str,
    service: &str,
    action: Option<&str>,
    path: Option<&str>,
    template: &str,
    two_way: bool,
) -> RouteConfig {
    RouteConfig {
        route_key: key.into(),
        integration: IntegrationConfig::AwsService {
            service: service.into(),
            action: action.map(Into::into),
            path: path.map(Into::into),
            request_templates: BTreeMap::from([("$default".to_owned(), template.to_owned())]),
            template_selection_expression: Some("\\$default".into()),
            passthrough_behavior: None,
        },
        two_way,
        integration_responses: Vec::new(),
        request_validation: None,
    }
}

pub fn api(routes: Vec<RouteConfig>) -> ApiConfig {
    ApiConfig {
        api_id: "u9jlm1pv1h".into(),
        stage: "api".into(),
        route_selection_expression: "$request.body.action".into(),
        routes,
        url_path_header: None,
        limits: Limits::default(),
        domain_name: "127.0.0.1:3001".into(),
        account: Account::default(),
        connect_authorization: Default::default(),
    }
}

pub struct Served {
    pub gateway: Gateway,
    pub addr: SocketAddr,
}

/// Builds the gateway and serves its router on 127.0.0.1:0.
pub async fn serve(
    config: ApiConfig,
    lambda: Arc<TestLambda>,
    services: Vec<Arc<dyn AwsService>>,
) -> Served {
    let gateway = Gateway::new(config, Backends { lambda, services }).expect("gateway config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = gateway
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Served { gateway, addr }
}

pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn connect(addr: SocketAddr, path: &str) -> Client {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
        .await
        .expect("handshake");
    ws
}

/// The HTTP status a refused handshake got.
pub async fn connect_status(addr: SocketAddr, path: &str) -> u16 {
    match tokio_tungstenite::connect_async(format!("ws://{addr}{path}")).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected handshake error {e}"),
    }
}

pub async fn send(ws: &mut Client, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

/// The next frame (text or close), within 5 s.
pub async fn next(ws: &mut Client) -> Message {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("timed out waiting for a frame")
            .expect("stream ended")
            .expect("read error");
        match msg {
            Message::Ping(_) | Message::Pong(_) => continue,
            other => return other,
        }
    }
}

pub async fn next_text(ws: &mut Client) -> String {
    match next(ws).await {
        Message::Text(t) => t.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

pub async fn next_json(ws: &mut Client) -> Value {
    let t = next_text(ws).await;
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("not JSON ({e}): {t}"))
}

/// Polls `f` until it is true or 5 s passed.
pub async fn eventually(mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached within 5 s");
}
