//! No panic, no hang, on any input: property tests of the edge's request
//! routing over real HTTP on a served router. Requests are written byte by
//! byte on a raw socket: random methods, paths, `X-Amz-Target` values,
//! content types, form and JSON bodies, and malformed HTTP. Each must get a
//! response (or, for broken HTTP, a closed connection) within a time bound,
//! never a 5xx; a well-formed JSON-protocol or query-protocol request must
//! reach the service it names with its operation and body intact.
//!
//! Case counts: `PROPTEST_CASES` (default per test below), e.g.
//! `PROPTEST_CASES=20000 cargo test -p wsflow-edge --test fuzz_routing --release`.

use axum::{Router, routing::get};
use proptest::prelude::*;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsflow_aws_wire::{
    AwsService, BoxFuture, Protocol, ServiceError, ServiceRequest, ServiceResponse,
};
use wsflow_edge::Edge;
use wsflow_fuzz_kit::{config, generate, preview};

/// A service that records the requests it got and answers 200 (or a client
/// error for operation `Fail`).
struct Recorder {
    prefix: &'static str,
    query: bool,
    seen: Mutex<Vec<(String, Protocol, Vec<u8>)>>,
}

impl Recorder {
    fn new(prefix: &'static str, query: bool) -> Arc<Recorder> {
        Arc::new(Recorder {
            prefix,
            query,
            seen: Mutex::new(Vec::new()),
        })
    }

    /// The request whose operation is `op` (unique per case: the tests run
    /// in parallel on one edge).
    fn find(&self, op: &str) -> Option<(String, Protocol, Vec<u8>)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.0 == op)
            .cloned()
    }
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
    fn call(&self, r: ServiceRequest) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            self.seen
                .lock()
                .unwrap()
                .push((r.operation.clone(), r.protocol, r.body.clone()));
            if r.operation == "Fail" {
                return Err(ServiceError::client("ResourceNotFoundException", "no"));
            }
            Ok(ServiceResponse::json(
                &serde_json::json!({"op": r.operation}),
            ))
        })
    }
}

struct World {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    json: Arc<Recorder>,
    query: Arc<Recorder>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let json = Recorder::new("DynamoDB_20120810", false);
        let query = Recorder::new("AmazonSQS", true);
        let router = Edge::builder()
            .service(json.clone())
            .service(query.clone())
            .endpoint("http://127.0.0.1:3001")
            .fallback(Router::new().route("/api", get(|| async { "gateway" })))
            .build()
            .into_router();
        let addr = rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(l, router).await });
            addr
        });
        World {
            rt,
            addr,
            json,
            query,
        }
    })
}

/// Writes `raw` on a new connection and returns the status of the
/// response, `None` when the server closed without one. Requests carry
/// `Connection: close`; anything else is followed by the end of our writes
/// (hyper closes a half-closed connection).
fn exchange(raw: Vec<u8>) -> Option<u16> {
    let half_close = !raw.windows(19).any(|w| w == b"Connection: close\r\n");
    let w = world();
    let what = format!("request {}", preview(&String::from_utf8_lossy(&raw), 1500));
    let limit = wsflow_fuzz_kit::case_timeout();
    let addr = w.addr;
    let out = w.rt.block_on(async move {
        tokio::time::timeout(limit, async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let _ = s.write_all(&raw).await;
            if half_close {
                let _ = s.shutdown().await;
            }
            let mut resp = Vec::new();
            let _ = s.read_to_end(&mut resp).await;
            resp
        })
        .await
    });
    let resp = out.unwrap_or_else(|_| panic!("HANG: no answer within {limit:?} for {what}"));
    let text = String::from_utf8_lossy(&resp);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse::<u16>().ok());
    if let Some(s) = status {
        assert!(s < 500, "status {s} for {what}: {text}");
    }
    status
}

fn request(method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = r.into_bytes();
    out.extend_from_slice(body);
    out
}

fn header_value() -> impl Strategy<Value = String> {
    // HTTP header values: visible ASCII and spaces (hyper refuses the rest).
    "[ -~]{0,30}".prop_map(|s| s.trim().to_owned())
}

fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ("DynamoDB_20120810|AmazonSQS|AWSStepFunctions|Nope|", "[A-Za-z]{0,12}")
            .prop_map(|(p, o)| format!("{p}.{o}")),
        1 => header_value(),
        1 => Just("DynamoDB_20120810.Fail".to_owned()),
        1 => Just("..".to_owned()),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        generate::json(3).prop_map(|v| v.to_string().into_bytes()),
        generate::soup(
            &[
                "Action=",
                "SendMessage",
                "&",
                "=",
                "QueueUrl=",
                "%",
                "%zz",
                "+",
                "MessageBody=",
                "x"
            ],
            12
        )
        .prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..128),
        generate::deep_json_text().prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(config(1000))]

    /// Requests built from the edge's own vocabulary: every one answered
    /// below 500.
    #[test]
    fn random_requests(
        method in proptest::sample::select(&["POST", "GET", "PUT", "DELETE", "OPTIONS", "PATCH"][..]),
        path in prop_oneof![
            Just("/".to_owned()),
            Just("/api".to_owned()),
            Just("/123456789012/jobs.fifo".to_owned()),
            Just("/api/@connections/abc".to_owned()),
            "/[a-zA-Z0-9%._~@-]{0,20}",
        ],
        target in proptest::option::of(target()),
        content_type in proptest::option::of(proptest::sample::select(&[
            "application/x-amz-json-1.0", "application/x-amz-json-1.1",
            "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
            "text/plain", "multipart/form-data; boundary=x", ""][..])),
        extra in proptest::collection::vec(("[A-Za-z-]{1,12}", header_value()), 0..3),
        body in body(),
    ) {
        let mut headers: Vec<(String, String)> = extra;
        if let Some(t) = target {
            headers.push(("X-Amz-Target".into(), t));
        }
        if let Some(c) = content_type {
            headers.push(("Content-Type".into(), c.to_owned()));
        }
        exchange(request(method, &path, &headers, &body));
    }

    /// Bytes that are not HTTP: the connection ends, nothing breaks.
    #[test]
    fn not_http(
        raw in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256),
            generate::soup(&["POST ", "GET ", "/ ", "HTTP/1.1", "HTTP/9", "\r\n", "\n", ": ", "Content-Length: ",
                "-1", "99999999999999999999", "Transfer-Encoding: chunked", "X-Amz-Target: ", "0\r\n\r\n", "zz\r\n"], 24)
                .prop_map(String::into_bytes),
        ],
    ) {
        exchange(raw);
        // The edge still routes.
        prop_assert_eq!(exchange(request("GET", "/api", &[], b"")), Some(200));
    }

    /// A JSON-protocol request reaches its service with its operation and
    /// body untouched; a query-protocol one with its Action.
    #[test]
    fn requests_reach_their_service(op in "[A-Z][A-Za-z]{0,12}", body in body(), json in any::<bool>()) {
        // Digits make the operation unique: the other tests' have none.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let op = format!("{op}{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let w = world();
        if json {
            let h = vec![("X-Amz-Target".to_owned(), format!("DynamoDB_20120810.{op}")),
                         ("Content-Type".to_owned(), "application/x-amz-json-1.0".to_owned())];
            prop_assert_eq!(exchange(request("POST", "/", &h, &body)), Some(200));
            let got = w.json.find(&op).expect("reached");
            prop_assert_eq!(got, (op, Protocol::Json, body));
        } else {
            let form = format!("Action={op}&MessageBody={}", form_urlencoded::byte_serialize(&body).collect::<String>());
            let h = vec![("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
            prop_assert_eq!(exchange(request("POST", "/123456789012/q", &h, form.as_bytes())), Some(200));
            let (_, protocol, got_body) = w.query.find(&op).expect("reached");
            prop_assert_eq!(protocol, Protocol::Query);
            let params: Vec<(String, Vec<u8>)> = form_urlencoded::parse(&got_body)
                .map(|(k, v)| (k.into_owned(), v.into_owned().into_bytes()))
                .collect();
            let sent: Vec<u8> = String::from_utf8_lossy(&body).into_owned().into_bytes();
            prop_assert!(params.iter().any(|(k, v)| k == "MessageBody" && *v == sent), "{:?}", params);
            prop_assert!(params.iter().any(|(k, v)| k == "QueueUrl" && v == b"http://127.0.0.1:3001/123456789012/q"));
        }
    }
}

#[test]
fn slow_loris_does_not_block_others() {
    // A client that sends half a request and stalls must not stop others.
    let w = world();
    let addr = w.addr;
    let _stalled = w.rt.block_on(async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
            .await
            .unwrap();
        s
    });
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(exchange(request("GET", "/api", &[], b"")), Some(200));
}
