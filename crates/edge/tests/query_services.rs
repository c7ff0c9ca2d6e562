//! The query protocol on the edge with the real SQS and SNS services behind it: each request
//! reaches the service it is for (by SigV4 scope, else by action), and each error document is in
//! that service's XML namespace.

use std::sync::Arc;

use serde_json::Value;
use wsflow_aws_wire::{Account, BoxFuture, LambdaInvokeError, LambdaInvoker};
use wsflow_edge::Edge;
use wsflow_sns::{Sns, SnsBackends};
use wsflow_sqs::Sqs;

const SQS_NS: &str = "xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"";
const SNS_NS: &str = "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"";

struct NoFunctions;

impl LambdaInvoker for NoFunctions {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        _payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(async move {
            Err(LambdaInvokeError::Service(
                wsflow_aws_wire::ServiceError::client(
                    "ResourceNotFoundException",
                    format!("Function not found: {function}"),
                ),
            ))
        })
    }
}

/// One HTTP/1.1 POST over a raw socket: (status, body).
async fn post(addr: &str, path: &str, scope: Option<&str>, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n",
        body.len()
    );
    if let Some(service) = scope {
        req.push_str(&format!(
            "authorization: AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00\r\n"
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

#[tokio::test]
async fn sqs_and_sns_answer_the_query_protocol_in_their_own_namespaces() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let endpoint = format!("http://{addr}");
    let account = Account::default();
    let sqs =
        Arc::new(Sqs::open(dir.path(), Vec::new(), account.clone(), endpoint.clone()).unwrap());
    let sns = Arc::new(
        Sns::new(
            account,
            endpoint.clone(),
            Vec::new(),
            SnsBackends {
                sqs: sqs.clone(),
                lambda: Arc::new(NoFunctions),
            },
        )
        .unwrap(),
    );
    let router = Edge::builder()
        .service(sqs)
        .service(sns)
        .endpoint(&endpoint)
        .build()
        .into_router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // SQS, unsigned and signed: the service that takes any action.
    let (status, body) = post(&addr, "/", None, "Action=CreateQueue&QueueName=work").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("<CreateQueueResponse {SQS_NS}>")),
        "{body}"
    );
    let (status, body) = post(
        &addr,
        "/123456789012/work",
        Some("sqs"),
        "Action=SendMessage&MessageBody=hello",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<MD5OfMessageBody>5d41402abc4b2a76b9719d911017c592</MD5OfMessageBody>"),
        "{body}"
    );
    let (status, body) = post(
        &addr,
        "/",
        Some("sqs"),
        "Action=GetQueueUrl&QueueName=missing",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(&format!("<ErrorResponse {SQS_NS}>")),
        "{body}"
    );

    // SNS, by its actions when unsigned and by the SigV4 scope when signed.
    let (status, body) = post(&addr, "/", None, "Action=CreateTopic&Name=alerts").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("<CreateTopicResponse {SNS_NS}>")),
        "{body}"
    );
    let (status, body) = post(
        &addr,
        "/",
        Some("sns"),
        "Action=Publish&TopicArn=arn:aws:sns:us-east-1:123456789012:nothing&Message=x",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains(&format!("<ErrorResponse {SNS_NS}>")),
        "{body}"
    );
    assert!(body.contains("<Code>NotFound</Code>"), "{body}");
    // Errors before a service is picked take the namespace of the one the scope names.
    let (status, body) = post(&addr, "/", Some("sns"), "Message=no-action").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(&format!("<ErrorResponse {SNS_NS}>")),
        "{body}"
    );
    assert!(body.contains("<Code>MissingAction</Code>"), "{body}");
    let (status, body) = post(&addr, "/", None, "Message=no-action").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(&format!("<ErrorResponse {SQS_NS}>")),
        "{body}"
    );
}
