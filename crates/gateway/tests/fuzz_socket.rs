//! No panic, no hang, on any input: property tests of what clients send the
//! gateway, over real TCP connections to a served gateway:
//!
//! * route selection expressions (random, from the grammar AWS documents,
//!   and broken ones) given to `Gateway::new`, and when accepted, random
//!   messages routed through them by a real WebSocket client;
//! * messages of every shape (JSON nested to any depth, non-JSON, huge
//!   numbers, unicode) under the template's own expression
//!   `$request.body.action`, checking the route each one takes;
//! * WebSocket frames written byte by byte on a raw socket after a real
//!   upgrade: malformed frames (unmasked, reserved bits and opcodes,
//!   oversize or fragmented control frames, stray continuations, invalid
//!   UTF-8, bad close codes, 63-bit lengths) and random bytes. The gateway
//!   must close such a connection (with a close frame carrying a code a
//!   server may send, or by ending the TCP stream), within a time bound,
//!   and keep serving other clients.
//!
//! Case counts: `PROPTEST_CASES` (default per test below), e.g.
//! `PROPTEST_CASES=5000 cargo test -p wsflow-gateway --test fuzz_socket --release`.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsflow_fuzz_kit::{config, generate, preview};
use wsflow_gateway::{Backends, Gateway};

/// One runtime for the binary; each case blocks on it with a deadline.
fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
}

/// Runs `f` on the shared runtime; a case that does not finish within the
/// watchdog's timeout fails as a hang.
fn run<F: std::future::Future<Output = T> + Send + 'static, T: Send + 'static>(
    what: &str,
    f: F,
) -> T {
    let limit = wsflow_fuzz_kit::case_timeout();
    match rt().block_on(async move { tokio::time::timeout(limit, tokio::spawn(f)).await }) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("PANIC: {e} for {what}"),
        Err(_) => panic!("HANG: no answer within {limit:?} for {what}"),
    }
}

/// Every function answers with its name and the event's route key.
fn lambda() -> Arc<TestLambda> {
    TestLambda::new(|f, ev| {
        Ok(
            json!({"statusCode": 200, "body": json!({"fn": f, "route": ev["requestContext"]["routeKey"]}).to_string()}),
        )
    })
}

const ROUTES: &[&str] = &[
    "echo",
    "sync_sfn",
    "a b",
    "1",
    "true",
    "{\"k\":1}",
    "é",
    "$default",
];

fn routes() -> Vec<wsflow_gateway::RouteConfig> {
    ROUTES
        .iter()
        .map(|k| lambda_route(k, &format!("F{}", k.len()), true))
        .collect()
}

/// The gateway of the template (`$request.body.action`), served once.
fn shared() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| rt().block_on(async { serve(api(routes()), lambda(), vec![]).await.addr }))
}

/// The next text reply as JSON `{"fn", "route"}`, within 5 s.
async fn reply(ws: &mut Client) -> Value {
    let t = next_text(ws).await;
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("reply not JSON ({e}): {t}"))
}

/// A new client on `addr` still gets its message routed.
async fn still_serving(addr: SocketAddr) {
    let mut ws = connect(addr, "/api").await;
    send(&mut ws, r#"{"action":"echo"}"#).await;
    assert_eq!(
        reply(&mut ws).await["route"],
        "echo",
        "gateway stopped routing"
    );
    let _ = ws.close(None).await;
}

// ---------------------------------------------------------------- selection expressions

fn selection_expression() -> impl Strategy<Value = String> {
    let path = proptest::collection::vec(
        prop_oneof![
            4 => "[a-z]{1,6}".prop_map(|k| format!(".{k}")),
            1 => Just(".action".to_owned()),
            1 => (0u32..3).prop_map(|i| format!("[{i}]")),
            1 => Just("['a b']".to_owned()),
            1 => Just("[\"x\"]".to_owned()),
            1 => Just("[".to_owned()),
            1 => Just("..".to_owned()),
            1 => Just("[99999999999999999999]".to_owned()),
        ],
        0..4,
    )
    .prop_map(|v| v.concat());
    let var = path.prop_flat_map(|p| {
        prop_oneof![
            Just(format!("$request.body{p}")),
            Just(format!("${{request.body{p}}}")),
            Just(format!("$request.header{p}")),
            Just(format!("${{request.body{p}")),
        ]
    });
    let part = prop_oneof![
        4 => var,
        1 => Just("\\$default".to_owned()),
        1 => Just("-v1".to_owned()),
        1 => Just("$".to_owned()),
        1 => Just("\\".to_owned()),
        1 => generate::text(4),
    ];
    prop_oneof![
        6 => proptest::collection::vec(part, 1..4).prop_map(|v| v.concat()),
        1 => generate::text(12),
    ]
}

/// A message and the route it must take (`None`: a JSON object nested
/// past serde_json's recursion limit, whose route issue 13 is fixing: either
/// its action's or `$default` for now).
fn message() -> impl Strategy<Value = (String, String)> {
    let expected = |m: &str| -> Option<String> {
        let v: Value = serde_json::from_str(m).ok()?;
        let a = match v.get("action")? {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        ROUTES.contains(&a.as_str()).then_some(a)
    };
    let known = move |m: String| {
        let e = expected(&m).unwrap_or_else(|| "$default".to_owned());
        (m, e)
    };
    prop_oneof![
        4 => (proptest::sample::select(ROUTES), generate::json(4))
            .prop_map(|(a, d)| json!({"action": a, "data": d}).to_string())
            .prop_map(known),
        1 => (generate::json(2), generate::json(3))
            .prop_map(|(a, d)| json!({"action": a, "data": d}).to_string())
            .prop_map(known),
        // Nested up to 5,000 levels: within the 32 KB frame limit.
        2 => (proptest::sample::select(ROUTES), 1usize..5_000, any::<bool>()).prop_map(|(a, depth, arrays)| {
            let data = if arrays {
                generate::nest("[", "1", "]", depth)
            } else {
                generate::nest("{\"a\":", "1", "}", depth)
            };
            let m = format!("{{\"action\":{},\"data\":{data}}}", json!(a));
            // Routing reads the action however deep the data nests.
            (m, a.to_owned())
        }),
        1 => generate::text(40)
            .prop_filter("WebSocket text frames are not empty here", |s| !s.is_empty())
            .prop_map(known),
        // Route selection reads the action without converting numbers, so a
        // number out of f64's range elsewhere in the body does not matter.
        1 => Just(("{\"action\":\"echo\",\"n\":1e999999}".to_owned(), "echo".to_owned())),
        1 => Just("{\"action\":\"echo\",\"action\":\"sync_sfn\"}".to_owned()).prop_map(known),
    ]
}

proptest! {
    #![proptest_config(config(240))]

    /// Random selection expressions: refused with a message when the gateway
    /// is built, or accepted and then routing every message somewhere.
    #[test]
    fn selection_expressions(expr in selection_expression(), msgs in proptest::collection::vec(message(), 1..4)) {
        let msgs: Vec<String> = msgs.into_iter().map(|(m, _)| m).collect();
        let what = format!("expression {expr:?}, messages {}", preview(&msgs.join(" | "), 500));
        run(&what, async move {
            let mut config = api(routes());
            config.route_selection_expression = expr.clone();
            let built = Gateway::new(config.clone(), Backends { lambda: lambda(), services: vec![] });
            let Ok(_) = built else {
                assert!(!built.err().unwrap().to_string().is_empty(), "empty error for {expr:?}");
                return;
            };
            let s = serve(config, lambda(), vec![]).await;
            let mut ws = connect(s.addr, "/api").await;
            for m in &msgs {
                send(&mut ws, m).await;
                let r = reply(&mut ws).await;
                let route = r["route"].as_str().expect("a route key");
                assert!(ROUTES.contains(&route), "routed to {route:?}");
            }
            let _ = ws.close(None).await;
        });
    }

    /// Messages of every shape under `$request.body.action`: a JSON object
    /// whose `action` is a route key goes there; anything else to `$default`.
    #[test]
    fn messages(msgs in proptest::collection::vec(message(), 1..6)) {
        let what = format!("messages {:?}", msgs.iter().map(|(m, _)| preview(m, 300)).collect::<Vec<_>>());
        let addr = shared();
        run(&what, async move {
            let mut ws = connect(addr, "/api").await;
            for (m, expected) in &msgs {
                send(&mut ws, m).await;
                let route = reply(&mut ws).await["route"].as_str().expect("a route").to_owned();
                assert_eq!(&route, expected, "message {}", preview(m, 200));
            }
            let _ = ws.close(None).await;
        });
    }
}

// ---------------------------------------------------------------- raw frames

/// A frame as the wire has it; `len` overrides the encoded payload length.
#[derive(Debug, Clone)]
struct RawFrame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: Vec<u8>,
    len: Option<u64>,
}

impl RawFrame {
    fn text(s: &str) -> RawFrame {
        RawFrame {
            fin: true,
            rsv: 0,
            opcode: 1,
            mask: Some([1, 2, 3, 4]),
            payload: s.as_bytes().to_vec(),
            len: None,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = vec![(u8::from(self.fin) << 7) | ((self.rsv & 7) << 4) | (self.opcode & 15)];
        let len = self.len.unwrap_or(self.payload.len() as u64);
        let m = if self.mask.is_some() { 0x80 } else { 0 };
        if len < 126 {
            out.push(m | len as u8);
        } else if len <= u64::from(u16::MAX) {
            out.push(m | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(m | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
        match self.mask {
            Some(k) => {
                out.extend_from_slice(&k);
                out.extend(self.payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => out.extend_from_slice(&self.payload),
        }
        out
    }
}

/// A sequence of frames that breaks the protocol in one way or another.
fn bad_frames() -> impl Strategy<Value = (String, Vec<RawFrame>)> {
    let text = RawFrame::text;
    prop_oneof![
        Just((
            "unmasked".to_owned(),
            vec![RawFrame {
                mask: None,
                ..text("{\"action\":\"echo\"}")
            }]
        )),
        (1u8..8).prop_map(move |rsv| (format!("rsv {rsv}"), vec![RawFrame { rsv, ..text("x") }])),
        proptest::sample::select(vec![3u8, 4, 5, 6, 7, 11, 12, 13, 14, 15]).prop_map(move |op| (
            format!("opcode {op}"),
            vec![RawFrame {
                opcode: op,
                ..text("x")
            }]
        )),
        (126usize..300).prop_map(move |n| (
            "big ping".to_owned(),
            vec![RawFrame {
                opcode: 9,
                payload: vec![b'p'; n],
                ..text("")
            }]
        )),
        Just((
            "fragmented ping".to_owned(),
            vec![RawFrame {
                opcode: 9,
                fin: false,
                ..text("p")
            }]
        )),
        Just((
            "stray continuation".to_owned(),
            vec![RawFrame {
                opcode: 0,
                ..text("x")
            }]
        )),
        Just((
            "text inside a fragmented text".to_owned(),
            vec![
                RawFrame {
                    fin: false,
                    ..text("a")
                },
                text("b")
            ]
        )),
        // 0xF8..=0xFF never occur in UTF-8: the payload is invalid wherever it is.
        (
            proptest::collection::vec(any::<u8>(), 0..8),
            0xf8u8..=0xff,
            any::<prop::sample::Index>()
        )
            .prop_map(move |(mut b, bad, at)| {
                b.insert(at.index(b.len() + 1), bad);
                (
                    "invalid UTF-8".to_owned(),
                    vec![RawFrame {
                        payload: b,
                        ..text("")
                    }],
                )
            }),
        Just((
            "invalid UTF-8 across fragments".to_owned(),
            vec![
                RawFrame {
                    fin: false,
                    payload: vec![0xe2, 0x82],
                    ..text("")
                },
                RawFrame {
                    opcode: 0,
                    payload: vec![0x28],
                    ..text("")
                },
            ]
        )),
        proptest::sample::select(vec![
            0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535
        ])
        .prop_map(move |c| (
            format!("close code {c}"),
            vec![RawFrame {
                opcode: 8,
                payload: c.to_be_bytes().to_vec(),
                ..text("")
            }]
        )),
        Just((
            "one-byte close".to_owned(),
            vec![RawFrame {
                opcode: 8,
                payload: vec![3],
                ..text("")
            }]
        )),
        Just((
            "close with invalid UTF-8 reason".to_owned(),
            vec![RawFrame {
                opcode: 8,
                payload: vec![3, 232, 0xff, 0xfe],
                ..text("")
            }]
        )),
        proptest::sample::select(vec![1u64 << 63, u64::MAX, 1 << 40, 40 * 1024, 200 * 1024])
            .prop_map(move |l| (
                format!("length {l}"),
                vec![RawFrame {
                    len: Some(l),
                    ..text("x")
                }]
            )),
        Just((
            "oversize message in fragments".to_owned(),
            (0..6)
                .map(|i| RawFrame {
                    fin: i == 5,
                    opcode: if i == 0 { 1 } else { 0 },
                    payload: vec![b'y'; 30 * 1024],
                    ..text("")
                })
                .collect()
        )),
    ]
}

/// Does the upgrade by hand and returns the raw stream.
async fn raw_upgrade(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "GET /api HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write handshake");
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut b).await.expect("read handshake");
        assert!(n == 1, "connection closed during the handshake");
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s
}

/// How the server ended a connection.
#[derive(Debug, PartialEq)]
enum End {
    /// A close frame with this code (None: no status), then the stream ended.
    Close(Option<u16>),
    /// The stream ended without a close frame.
    Eof,
    /// Neither within the time allowed.
    StillOpen,
}

/// Reads what the server sends until it closes or `wait` passes; replies
/// (text frames) are skipped.
async fn ending(s: &mut TcpStream, wait: Duration) -> End {
    let mut buf = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Parse whole server frames (unmasked) from the buffer.
        while buf.len() >= 2 {
            let op = buf[0] & 15;
            let (len, at) = match buf[1] & 127 {
                126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
                127 if buf.len() >= 10 => (
                    u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                126 | 127 => break,
                n => (n as usize, 2),
            };
            if buf.len() < at + len {
                break;
            }
            if op == 8 {
                let p = &buf[at..at + len];
                return End::Close((p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]])));
            }
            buf.drain(..at + len);
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return End::StillOpen,
            Ok(Ok(0)) | Ok(Err(_)) => return End::Eof,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Codes a server may put in a close frame (RFC 6455 §7.4).
fn sendable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999)
}

proptest! {
    #![proptest_config(config(320))]

    /// Malformed frames get the connection closed with a proper code, and
    /// the gateway keeps serving.
    #[test]
    fn malformed_frames((kind, frames) in bad_frames()) {
        let addr = shared();
        let what = format!("{kind}: {frames:?}");
        let end = run(&preview(&what, 600), async move {
            let mut s = raw_upgrade(addr).await;
            for f in &frames {
                if s.write_all(&f.bytes()).await.is_err() {
                    break; // the server already closed
                }
            }
            let end = ending(&mut s, Duration::from_secs(3)).await;
            still_serving(addr).await;
            end
        });
        match end {
            End::Close(Some(code)) => prop_assert!(sendable(code), "{}: close code {}", kind, code),
            other => prop_assert!(false, "{}: expected a close frame with a code, got {:?}", kind, other),
        }
    }

    /// Random bytes after the upgrade (then the client stops writing): the
    /// server ends the connection, and keeps serving others.
    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512), valid_first in any::<bool>()) {
        let addr = shared();
        let what = format!("bytes {bytes:?}");
        let end = run(&preview(&what, 600), async move {
            let mut s = raw_upgrade(addr).await;
            if valid_first {
                let _ = s.write_all(&RawFrame::text("{\"action\":\"echo\"}").bytes()).await;
            }
            let _ = s.write_all(&bytes).await;
            let _ = s.shutdown().await;
            let end = ending(&mut s, Duration::from_secs(3)).await;
            still_serving(addr).await;
            end
        });
        match end {
            End::Close(Some(code)) => prop_assert!(sendable(code), "close code {}", code),
            End::Close(None) | End::Eof => {}
            End::StillOpen => prop_assert!(false, "connection still open after the client's EOF"),
        }
    }
}

/// A well-formed exchange over the raw socket works (the frame builder and
/// reader above are right), and a masked close gets its close answered.
#[test]
fn raw_socket_baseline() {
    let addr = shared();
    let end = run("baseline", async move {
        let mut s = raw_upgrade(addr).await;
        s.write_all(&RawFrame::text("{\"action\":\"echo\"}").bytes())
            .await
            .unwrap();
        let mut hdr = [0u8; 2];
        s.read_exact(&mut hdr).await.unwrap();
        assert_eq!(hdr[0] & 15, 1, "a text reply");
        let mut body = vec![0u8; (hdr[1] & 127) as usize];
        s.read_exact(&mut body).await.unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["route"], "echo");
        let close = RawFrame {
            opcode: 8,
            payload: 1000u16.to_be_bytes().to_vec(),
            ..RawFrame::text("")
        };
        s.write_all(&close.bytes()).await.unwrap();
        ending(&mut s, Duration::from_secs(3)).await
    });
    assert_eq!(end, End::Close(Some(1000)));
}

/// Found by `malformed_frames`: a protocol violation (here an unmasked
/// client frame) or invalid UTF-8 ended the connection with a close frame
/// carrying no status code. They now close with 1002 and 1007 (RFC 6455
/// §7.4.1), as oversize frames already closed with 1009.
#[test]
fn protocol_errors_close_with_their_codes() {
    let addr = shared();
    let text = RawFrame::text;
    let cases = [
        (
            "unmasked",
            vec![RawFrame {
                mask: None,
                ..text("{}")
            }],
            1002,
        ),
        (
            "reserved bits",
            vec![RawFrame {
                rsv: 4,
                ..text("x")
            }],
            1002,
        ),
        (
            "reserved opcode",
            vec![RawFrame {
                opcode: 3,
                ..text("x")
            }],
            1002,
        ),
        (
            "stray continuation",
            vec![RawFrame {
                opcode: 0,
                ..text("x")
            }],
            1002,
        ),
        (
            "fragmented ping",
            vec![RawFrame {
                opcode: 9,
                fin: false,
                ..text("p")
            }],
            1002,
        ),
        (
            "invalid UTF-8",
            vec![RawFrame {
                payload: vec![0xff, 0xfe],
                ..text("")
            }],
            1007,
        ),
        (
            "63-bit length",
            vec![RawFrame {
                len: Some(1 << 63),
                ..text("x")
            }],
            1009,
        ),
    ];
    for (kind, frames, code) in cases {
        let end = run(kind, async move {
            let mut s = raw_upgrade(addr).await;
            for f in &frames {
                let _ = s.write_all(&f.bytes()).await;
            }
            ending(&mut s, Duration::from_secs(3)).await
        });
        assert_eq!(end, End::Close(Some(code)), "{kind}");
    }
}
