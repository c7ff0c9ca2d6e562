//! The load: real WebSocket clients (tokio-tungstenite, Nagle off) doing
//! sequential round trips, pipelined throughput runs and idle connections.
//! Every loop is bounded in count and in time.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt, stream};
use tokio::{
    net::TcpStream,
    time::{Instant, timeout, timeout_at},
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, protocol::WebSocketConfig},
};

/// A connected client.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest wait for one handshake (it runs `$connect`, a DynamoDB PutItem).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for one reply in the sequential runs.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a throughput client waits for its last replies after the window.
const DRAIN: Duration = Duration::from_secs(10);

/// Connects with Nagle's algorithm off (small frames, latency measured).
pub async fn connect(url: &str, config: Option<WebSocketConfig>) -> Result<Ws, String> {
    match timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(url, config, true),
    )
    .await
    {
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(e)) => Err(format!("connect {url}: {e}")),
        Err(_) => Err(format!(
            "connect {url}: no handshake in {CONNECT_TIMEOUT:?}"
        )),
    }
}

/// Sends `text` and waits for the next text frame; returns the reply and the
/// round-trip time.
pub async fn round_trip(ws: &mut Ws, text: &str) -> Result<(String, Duration), String> {
    let sent = Instant::now();
    ws.send(Message::text(text))
        .await
        .map_err(|e| format!("send: {e}"))?;
    let deadline = sent + REPLY_TIMEOUT;
    loop {
        match timeout_at(deadline, ws.next()).await {
            Err(_) => return Err(format!("no reply to {text:?} within {REPLY_TIMEOUT:?}")),
            Ok(None) => return Err("the server closed the stream".into()),
            Ok(Some(Err(e))) => return Err(format!("receive: {e}")),
            Ok(Some(Ok(Message::Text(t)))) => return Ok((t.to_string(), sent.elapsed())),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Err(format!("closed by the server: {frame:?}"));
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Result of [`sequential`].
pub struct Sequential {
    /// The first round trip (a cold function process, for Lambda routes).
    pub first: Duration,
    /// Round-trip times after the warm-up.
    pub samples: Vec<Duration>,
}

/// `warmup` then `count` round trips one after the other on one client;
/// `message(i)` is sent, `check(i, reply)` must hold for every reply.
pub async fn sequential(
    url: &str,
    warmup: usize,
    count: usize,
    message: impl Fn(usize) -> String,
    check: impl Fn(usize, &str) -> bool,
) -> Result<Sequential, String> {
    let mut ws = connect(url, None).await?;
    let mut first = None;
    let mut samples = Vec::with_capacity(count);
    for i in 0..warmup + count {
        let text = message(i);
        let (reply, took) = round_trip(&mut ws, &text).await?;
        if !check(i, &reply) {
            return Err(format!("unexpected reply to {text:?}: {reply}"));
        }
        first.get_or_insert(took);
        if i >= warmup {
            samples.push(took);
        }
    }
    let _ = ws.close(None).await;
    Ok(Sequential {
        first: first.unwrap_or_default(),
        samples,
    })
}

/// Result of [`throughput`].
#[derive(Default)]
pub struct Throughput {
    /// Echo replies received inside the measured window.
    pub replies: u64,
    /// Echo replies received at any time (warm-up and drain included).
    pub all_replies: u64,
    /// Replies that were not the echo (e.g. `Internal server error`).
    pub errors: u64,
    /// Requests still unanswered when the clients gave up.
    pub unanswered: u64,
    /// The first non-echo reply or client error, for the report.
    pub first_error: Option<String>,
    /// The measured window.
    pub window: Duration,
}

impl Throughput {
    /// Echo replies per second inside the window.
    pub fn per_second(&self) -> f64 {
        self.replies as f64 / self.window.as_secs_f64()
    }
}

/// `clients` connections each keep up to `depth` `echo` messages in flight
/// for `warmup + window`; replies arriving inside the window are counted.
pub async fn throughput(
    url: &str,
    clients: usize,
    depth: usize,
    warmup: Duration,
    window: Duration,
) -> Result<Throughput, String> {
    let mut sockets = Vec::with_capacity(clients);
    for _ in 0..clients {
        sockets.push(connect(url, None).await?);
    }
    let measure_from = Instant::now() + warmup;
    let stop = measure_from + window;
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, ws)| tokio::spawn(echo_client(i, ws, depth, measure_from, stop)))
        .collect();
    let mut total = Throughput {
        window,
        ..Throughput::default()
    };
    for task in tasks {
        let one = task.await.map_err(|e| format!("client task: {e}"))?;
        total.replies += one.replies;
        total.all_replies += one.all_replies;
        total.errors += one.errors;
        total.unanswered += one.unanswered;
        if total.first_error.is_none() {
            total.first_error = one.first_error;
        }
    }
    Ok(total)
}

/// One pipelining client: fills its window up to `depth`, then sends one
/// more per reply until `stop`, then waits (at most [`DRAIN`]) for the rest.
async fn echo_client(
    client: usize,
    ws: Ws,
    depth: usize,
    measure_from: Instant,
    stop: Instant,
) -> Throughput {
    let (mut sink, mut stream) = ws.split();
    let hard_end = stop + DRAIN;
    let mut out = Throughput::default();
    let mut in_flight = 0usize;
    let mut seq = 0u64;
    'run: loop {
        let now = Instant::now();
        if now >= hard_end {
            out.unanswered = in_flight as u64;
            break;
        }
        if now >= stop && in_flight == 0 {
            break;
        }
        while Instant::now() < stop && in_flight < depth {
            let text = format!(r#"{{"action":"echo","data":"c{client}-{seq}"}}"#);
            match timeout_at(hard_end, sink.send(Message::text(text))).await {
                Ok(Ok(())) => {
                    in_flight += 1;
                    seq += 1;
                }
                Ok(Err(e)) => {
                    failed(&mut out, format!("send: {e}"));
                    out.unanswered = in_flight as u64;
                    break 'run;
                }
                Err(_) => continue 'run,
            }
        }
        let wait_until = if Instant::now() < stop {
            stop
        } else {
            hard_end
        };
        match timeout_at(wait_until, stream.next()).await {
            Err(_) => continue,
            Ok(None) => {
                failed(&mut out, "the server closed the stream".into());
                out.unanswered = in_flight as u64;
                break;
            }
            Ok(Some(Err(e))) => {
                failed(&mut out, format!("receive: {e}"));
                out.unanswered = in_flight as u64;
                break;
            }
            Ok(Some(Ok(Message::Text(t)))) => {
                in_flight = in_flight.saturating_sub(1);
                let at = Instant::now();
                if !t.starts_with('c') {
                    failed(&mut out, format!("reply: {t}"));
                } else {
                    out.all_replies += 1;
                    if at >= measure_from && at < stop {
                        out.replies += 1;
                    }
                }
            }
            Ok(Some(Ok(_))) => {}
        }
    }
    if let Ok(mut ws) = sink.reunite(stream) {
        let _ = timeout(Duration::from_secs(2), ws.close(None)).await;
    }
    out
}

/// Counts a failed request and keeps the first failure's text.
fn failed(out: &mut Throughput, what: String) {
    out.errors += 1;
    out.first_error.get_or_insert(what);
}

/// Result of [`open_idle`].
pub struct Idle {
    /// The open connections (kept open by holding them).
    pub sockets: Vec<Ws>,
    /// Handshakes that failed.
    pub failures: usize,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Time to open them all.
    pub took: Duration,
}

/// Opens `count` connections, `concurrency` handshakes at a time, giving up
/// on the rest after `limit`. Clients use a 4 KiB read buffer so that 10,000
/// of them fit in the bench process (this is the client side only).
pub async fn open_idle(url: &str, count: usize, concurrency: usize, limit: Duration) -> Idle {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let began = Instant::now();
    let deadline = began + limit;
    let mut handshakes = stream::iter(0..count)
        .map(|_| connect(url, Some(config)))
        .buffer_unordered(concurrency);
    let mut idle = Idle {
        sockets: Vec::with_capacity(count),
        failures: 0,
        first_error: None,
        took: Duration::ZERO,
    };
    while let Ok(Some(result)) = timeout_at(deadline, handshakes.next()).await {
        match result {
            Ok(ws) => idle.sockets.push(ws),
            Err(e) => {
                idle.failures += 1;
                idle.first_error.get_or_insert(e);
            }
        }
    }
    idle.took = began.elapsed();
    idle
}
