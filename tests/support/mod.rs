//! End-to-end harness: starts the real `wsflow up` process on a free port and
//! talks to it with a real WebSocket client and raw AWS JSON requests.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

/// Copies `tests/fixtures/<name>` into a fresh temp dir (outside the repo), for stacks that must
/// start from a directory that is not a cargo project.
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = workspace().join("tests/fixtures").join(name);
    let status = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", src.display()))
        .arg(dir.path())
        .status()
        .expect("cp");
    assert!(status.success());
    dir
}

/// `PATH` without any directory holding `cargo`.
pub fn path_without_cargo() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| !d.join("cargo").exists())
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// The workspace root (where `template.yaml` lives).
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory of the function binaries, built once per test process.
///
/// Each stack would otherwise run `cargo build` itself (which works, cargo
/// releases its lock while tests run, but costs a second per stack).
pub fn functions_dir() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = Command::new(env!("CARGO"))
                .current_dir(workspace())
                .args(["build", "--workspace", "--bins"])
                .status()
                .expect("run cargo build");
            assert!(status.success(), "building the function binaries failed");
            PathBuf::from(env!("CARGO_BIN_EXE_wsflow"))
                .parent()
                .expect("target dir")
                .to_path_buf()
        })
        .clone()
}

/// A running local stack; killed (SIGTERM, then SIGKILL) when dropped.
pub struct Stack {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// The stage from the ready line.
    pub stage: String,
    /// The data directory (kept for the stack's life).
    pub data_dir: tempfile::TempDir,
    /// Lines the stack printed after it was ready (stdout and stderr).
    pub log: mpsc::Receiver<String>,
    /// Lines the stack printed up to and including its ready line.
    pub startup: Vec<String>,
}

/// Options for [`Stack::start_with`].
pub struct StackOptions<'a> {
    /// Template path, relative to the workspace.
    pub template: &'a str,
    /// Time scale for Waits.
    pub time_scale: f64,
    /// Extra CLI arguments.
    pub extra: Vec<String>,
}

impl Default for StackOptions<'_> {
    fn default() -> Self {
        Self {
            template: "template.yaml",
            time_scale: 0.0,
            extra: vec![],
        }
    }
}

impl Stack {
    /// Starts the app's own template with Waits scaled to zero.
    pub fn start() -> Stack {
        Self::start_with(StackOptions::default())
    }

    /// Starts a stack and waits for its ready line.
    pub fn start_with(opts: StackOptions<'_>) -> Stack {
        let data_dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(opts, data_dir)
    }

    /// Starts a stack on an existing data directory (restart tests).
    pub fn start_in(opts: StackOptions<'_>, data_dir: tempfile::TempDir) -> Stack {
        let functions_dir = functions_dir();
        Self::start_from(opts, data_dir, &workspace(), &[], Some(&functions_dir))
    }

    /// Starts a stack from the directory `cwd` (the template path is then
    /// relative to it, or absolute), with extra environment variables, and
    /// `--functions-dir` only when given.
    pub fn start_from(
        opts: StackOptions<'_>,
        data_dir: tempfile::TempDir,
        cwd: &Path,
        env: &[(&str, &str)],
        functions_dir: Option<&Path>,
    ) -> Stack {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsflow"));
        cmd.current_dir(cwd)
            .envs(env.iter().copied())
            .arg("up")
            .args(["--port", "0"])
            .args(["--template", opts.template])
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["--time-scale", &opts.time_scale.to_string()]);
        if let Some(dir) = functions_dir {
            cmd.arg("--functions-dir").arg(dir);
        }
        cmd.args(&opts.extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn wsflow up");
        let (tx, rx) = mpsc::channel::<String>();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    eprintln!("[stack] {line}");
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        // Only the readers hold senders now: once the process exits, the
        // wait below ends instead of running to its deadline.
        drop(tx);
        // Building the functions can take minutes on a cold target dir.
        let deadline = std::time::Instant::now() + Duration::from_secs(900);
        let mut startup = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    startup.push(line.clone());
                    if let Some(url) = ready_url(&line) {
                        let rest = url.trim_start_matches("ws://");
                        let (addr, stage) = rest.split_once('/').unwrap_or((rest, ""));
                        return Stack {
                            child,
                            addr: addr.to_owned(),
                            stage: stage.trim_end_matches('/').to_owned(),
                            data_dir,
                            log: rx,
                            startup,
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("the stack did not print its ready line in time (or exited)");
                }
            }
        }
    }

    /// `ws://127.0.0.1:<port>/<stage>`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/{}", self.addr, self.stage)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends SIGTERM and waits for the process to exit; returns its status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.child.wait().expect("wait")
    }

    /// Takes the data directory for a restart (the stack must be stopped).
    pub fn take_data_dir(&mut self) -> tempfile::TempDir {
        std::mem::replace(&mut self.data_dir, tempfile::tempdir().expect("temp dir"))
    }

    /// Kills the process with SIGKILL (crash tests).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Calls an AWS JSON-protocol operation on the stack's edge port.
    pub async fn aws_json(&self, target: &str, body: Value) -> (u16, Value) {
        aws_json(&self.addr, target, body).await
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// Extracts the WebSocket URL from the stack's ready line.
pub fn ready_url(line: &str) -> Option<String> {
    if !line.contains("ready") {
        return None;
    }
    line.split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .map(str::to_owned)
}

/// A connected WebSocket client.
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects a WebSocket client to `url`.
pub async fn connect(url: &str) -> Client {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    ws
}

/// Sends a text frame.
pub async fn send(ws: &mut Client, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

/// Receives the next text frame within `secs` seconds.
pub async fn recv(ws: &mut Client, secs: u64) -> String {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(secs), ws.next())
            .await
            .unwrap_or_else(|_| panic!("no message within {secs}s"))
            .expect("stream ended")
            .expect("ws error");
        match msg {
            Message::Text(t) => return t.to_string(),
            Message::Binary(b) => return String::from_utf8_lossy(&b).into_owned(),
            Message::Close(frame) => panic!("closed by server: {frame:?}"),
            _ => continue,
        }
    }
}

/// Receives the next text frame and parses it as JSON.
pub async fn recv_json(ws: &mut Client, secs: u64) -> Value {
    let text = recv(ws, secs).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts no message arrives within `millis`.
pub async fn expect_silence(ws: &mut Client, millis: u64) {
    if let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_millis(millis), ws.next()).await
    {
        panic!("unexpected message: {msg:?}");
    }
}

/// One AWS JSON-protocol call over a raw HTTP/1.1 connection.
pub async fn aws_json(addr: &str, target: &str, body: Value) -> (u16, Value) {
    let (status, text) = http(
        addr,
        "POST",
        "/",
        &[
            ("x-amz-target", target),
            ("content-type", "application/x-amz-json-1.0"),
        ],
        body.to_string().as_bytes(),
    )
    .await;
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, value)
}

/// A minimal HTTP/1.1 request (`connection: close`); returns status and body.
pub async fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    s.write_all(body).await.expect("write body");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Polls `f` until it returns `Some`, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {secs}s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Path of a fixture template under `tests/fixtures`.
pub fn fixture(name: &str) -> String {
    Path::new("tests/fixtures").join(name).display().to_string()
}

/// What one `aws` CLI run printed, and how it ended.
pub struct CliOutput {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output (JSON with `--output json`).
    pub stdout: String,
    /// Standard error (the CLI's error messages).
    pub stderr: String,
}

impl CliOutput {
    /// Whether the CLI exited with status 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Standard output as JSON (`Null` when empty); panics, with the
    /// command's stderr, when the CLI failed or printed something else.
    pub fn json(&self, what: &str) -> Value {
        assert!(
            self.success(),
            "{what}: exit {:?}: {}",
            self.code,
            self.stderr
        );
        if self.stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", self.stdout))
    }
}

/// Runs the `aws` CLI against the stack (`--endpoint-url`, region us-east-1,
/// JSON output, fake credentials, no user config files, host prefixes off so
/// `start-sync-execution` reaches 127.0.0.1); `None` when it is not installed.
pub fn aws_cli(stack: &Stack, args: &[&str]) -> Option<CliOutput> {
    let out = Command::new("aws")
        .args(args)
        .args(["--endpoint-url", &stack.http_url()])
        .args(["--region", "us-east-1", "--output", "json"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent/wsflow-aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/wsflow-aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "")
        .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(out) => Some(CliOutput {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("aws: {e}"),
    }
}
