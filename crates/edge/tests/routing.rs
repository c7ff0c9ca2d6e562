//! The edge routes real HTTP requests by protocol to the right place.

use std::sync::{Arc, Mutex};

use axum::{Router, routing::get};
use wsflow_aws_wire::{
    AwsService, BoxFuture, Protocol, ServiceError, ServiceRequest, ServiceResponse,
};
use wsflow_edge::Edge;

/// A service that records what reached it and answers with it.
struct Recorder {
    prefix: &'static str,
    query: bool,
    seen: Mutex<Vec<(String, Protocol, String)>>,
}

impl AwsService for Recorder {
    fn target_prefix(&self) -> &'static str {
        self.prefix
    }
    fn integration_name(&self) -> &'static str {
        "rec"
    }
    fn speaks_query_protocol(&self) -> bool {
        self.query
    }
    fn call(
        &self,
        request: ServiceRequest,
    ) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let body = String::from_utf8_lossy(&request.body).into_owned();
            self.seen.lock().unwrap().push((
                request.operation.clone(),
                request.protocol,
                body.clone(),
            ));
            if request.operation == "Fail" {
                return Err(ServiceError::client(
                    "ResourceNotFoundException",
                    "no such thing",
                ));
            }
            Ok(ServiceResponse::json(
                &serde_json::json!({ "op": request.operation, "body": body }),
            ))
        })
    }
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    // A minimal HTTP/1.1 client over a raw socket keeps this test free of
    // client-library behaviour.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn routes_json_query_and_fallback_requests() {
    let db = Arc::new(Recorder {
        prefix: "DynamoDB_20120810",
        query: false,
        seen: Mutex::default(),
    });
    let sqs = Arc::new(Recorder {
        prefix: "AmazonSQS",
        query: true,
        seen: Mutex::default(),
    });
    let gateway = Router::new().route("/hello", get(|| async { "from gateway" }));
    let base = serve(
        Edge::builder()
            .service(db.clone())
            .service(sqs.clone())
            .endpoint("http://127.0.0.1:9")
            .fallback(gateway)
            .build()
            .into_router(),
    )
    .await;

    let (status, _, body) = post(
        &base,
        &[
            ("x-amz-target", "DynamoDB_20120810.PutItem"),
            ("content-type", "application/x-amz-json-1.0"),
        ],
        r#"{"TableName":"t"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""op":"PutItem""#), "{body}");

    let (status, headers, body) =
        post(&base, &[("x-amz-target", "DynamoDB_20120810.Fail")], "{}").await;
    assert_eq!(status, 400);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    assert!(
        body.contains(r#""__type":"ResourceNotFoundException""#),
        "{body}"
    );

    let (status, _, body) = post(
        &format!("{base}/123456789012/q.fifo"),
        &[("content-type", "application/x-www-form-urlencoded")],
        "Action=SendMessage&MessageBody=hi",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let seen = sqs.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "SendMessage");
    assert_eq!(seen[0].1, Protocol::Query);
    assert!(
        seen[0]
            .2
            .ends_with("QueueUrl=http%3A%2F%2F127.0.0.1%3A9%2F123456789012%2Fq.fifo"),
        "{}",
        seen[0].2
    );

    let (status, headers, body) = post(
        &base,
        &[("content-type", "application/x-www-form-urlencoded")],
        "Action=Fail",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(header(&headers, "content-type"), Some("text/xml"));
    assert!(
        body.contains("<Code>ResourceNotFoundException</Code>"),
        "{body}"
    );

    let (status, _, body) = post(&base, &[("x-amz-target", "Nope.Op")], "{}").await;
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"));

    let resp = tokio::net::TcpStream::connect(base.strip_prefix("http://").unwrap())
        .await
        .unwrap();
    drop(resp);
    let (status, _, body) = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = base.strip_prefix("http://").unwrap();
        let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
        s.write_all(
            format!("GET /hello HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).await.unwrap();
        let status: u16 = buf.split(' ').nth(1).unwrap().parse().unwrap();
        (status, (), buf)
    };
    assert_eq!(status, 200);
    assert!(body.ends_with("from gateway"));
    assert_eq!(db.seen.lock().unwrap().len(), 2);
}
