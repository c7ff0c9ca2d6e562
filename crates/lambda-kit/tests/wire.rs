//! The kit's clients against a real HTTP server speaking the AWS wire protocols.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequestContext;
use wsflow_lambda_kit::testing::{FakeAws, Reply};
use wsflow_lambda_kit::{ConnectionTable, Connections, Delivery, PostError, RouteConnections};

const STAGE: &str = "api";

async fn server() -> FakeAws {
    FakeAws::start().await.expect("bind a loopback port")
}

#[tokio::test]
async fn post_delivers_to_an_open_connection_with_an_encoded_id() {
    let aws = server().await;
    let id = "SOqGjdZioAMCEeg=";
    aws.connect(id);
    let connections = Connections::new(&aws.sdk_config(), &aws.connections_endpoint(STAGE));

    let delivery = connections
        .post(id, "hello world")
        .await
        .expect("post succeeds");

    assert_eq!(delivery, Delivery::Delivered);
    let posts = aws.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].stage, STAGE);
    assert_eq!(posts[0].connection_id, id);
    assert_eq!(posts[0].text(), "hello world");
}

#[tokio::test]
async fn gone_is_an_outcome_with_or_without_the_error_type() {
    let aws = server().await;
    aws.reply("bare", Reply::BareGone);
    let connections = Connections::new(&aws.sdk_config(), &aws.connections_endpoint(STAGE));

    assert_eq!(
        connections.post("never-connected", "x").await.unwrap(),
        Delivery::Gone
    );
    assert_eq!(connections.post("bare", "x").await.unwrap(), Delivery::Gone);
    assert_eq!(
        aws.posts().iter().map(|p| p.status).collect::<Vec<_>>(),
        vec![410, 410]
    );
}

#[tokio::test]
async fn server_errors_and_throttling_are_transient_refusals_are_not() {
    let aws = server().await;
    aws.reply(
        "broken",
        Reply::Error {
            status: 500,
            code: "InternalServerErrorException",
        },
    );
    aws.reply(
        "busy",
        Reply::Error {
            status: 429,
            code: "LimitExceededException",
        },
    );
    aws.reply(
        "denied",
        Reply::Error {
            status: 403,
            code: "ForbiddenException",
        },
    );
    let connections = Connections::new(&aws.sdk_config(), &aws.connections_endpoint(STAGE));

    let broken = connections.post("broken", "x").await.unwrap_err();
    let busy = connections.post("busy", "x").await.unwrap_err();
    let denied = connections.post("denied", "x").await.unwrap_err();

    assert!(broken.is_transient(), "{broken}");
    assert!(busy.is_transient(), "{busy}");
    assert!(!denied.is_transient(), "{denied}");
    match denied {
        PostError::Rejected {
            code,
            connection_id,
            ..
        } => {
            assert_eq!(code, "ForbiddenException");
            assert_eq!(connection_id, "denied");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient() {
    let aws = server().await;
    let sdk = aws.sdk_config();
    // A port that was just bound and released: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let connections = Connections::new(&sdk, &format!("http://127.0.0.1:{port}/{STAGE}"));

    let err = connections.post("abc", "x").await.unwrap_err();

    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn table_scan_follows_pages_and_remove_deletes() {
    let aws = server().await;
    let ids = ["a=", "b=", "c=", "d=", "e="];
    aws.create_table("Connections", &ids);
    let table = ConnectionTable::new(&aws.sdk_config(), "Connections");

    let mut listed = table.connection_ids().await.expect("scan succeeds");
    listed.sort();
    assert_eq!(listed, ids);

    table.remove("c=").await.expect("delete succeeds");
    assert_eq!(
        aws.table_ids("Connections").unwrap(),
        ["a=", "b=", "d=", "e="]
    );
    assert_eq!(
        aws.deleted(),
        [("Connections".to_string(), "c=".to_string())]
    );
}

#[tokio::test]
async fn table_errors_name_the_operation() {
    let aws = server().await;
    let table = ConnectionTable::new(&aws.sdk_config(), "Missing");

    let err = table.connection_ids().await.unwrap_err();

    assert_eq!(err.operation, "Scan");
    assert!(err.detail.contains("ResourceNotFoundException"), "{err}");
}

fn context(domain: &str, stage: &str) -> ApiGatewayWebsocketProxyRequestContext {
    serde_json::from_value(serde_json::json!({
        "routeKey": "echo",
        "eventType": "MESSAGE",
        "stage": stage,
        "domainName": domain,
        "connectionId": "SOqGjdZioAMCEeg=",
        "requestId": "SOqIDEacoAMFaHQ=",
        "apiId": "u9jlm1pv1h",
        // Required by aws_lambda_events (API Gateway always sends them).
        "connectedAt": 1_652_722_217_711_u64,
        "requestTimeEpoch": 1_652_722_227_357_u64
    }))
    .expect("a valid request context")
}

#[tokio::test]
async fn route_connections_prefer_the_configured_endpoint() {
    let aws = server().await;
    let configured = aws.connections_endpoint("configured");
    let routes = RouteConnections::new(aws.sdk_config(), Some(&configured));

    let client = routes
        .for_request(&context(
            "u9jlm1pv1h.execute-api.us-east-1.amazonaws.com",
            "api",
        ))
        .unwrap();

    assert_eq!(client.endpoint(), configured);
}

#[tokio::test]
async fn route_connections_fall_back_to_the_event() {
    let aws = server().await;
    let routes = RouteConnections::new(aws.sdk_config(), None);

    let client = routes
        .for_request(&context(
            "u9jlm1pv1h.execute-api.us-east-1.amazonaws.com",
            "prod",
        ))
        .unwrap();
    assert_eq!(
        client.endpoint(),
        "https://u9jlm1pv1h.execute-api.us-east-1.amazonaws.com/prod"
    );

    let no_domain: ApiGatewayWebsocketProxyRequestContext = Default::default();
    assert!(routes.for_request(&no_domain).is_err());
}

#[tokio::test]
async fn an_empty_connection_id_is_rejected_without_a_request() {
    let aws = server().await;
    let connections = Connections::new(&aws.sdk_config(), &aws.connections_endpoint(STAGE));

    let err = connections.post("", "x").await.unwrap_err();

    assert!(!err.is_transient(), "{err}");
    assert!(aws.posts().is_empty());
}
