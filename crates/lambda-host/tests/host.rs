//! The host against a real Lambda binary (`wsflow-fixture-fn`, built on
//! `lambda_runtime`) over real sockets: round trips, environment, errors,
//! timeouts, crashes, init failures, concurrency, logs and shutdown.

use std::{
    collections::BTreeSet,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use wsflow_aws_wire::{LambdaInvokeError, LambdaInvoker};
use wsflow_lambda_host::{FunctionSpec, HostOptions, LambdaHost, LogSink, LogStream};

const FIXTURE: &str = env!("CARGO_BIN_EXE_wsflow-fixture-fn");

fn spec(name: &str) -> FunctionSpec {
    FunctionSpec::new(name, FIXTURE)
}

/// Log lines captured as `(stream, line)` pairs.
type Captured = Arc<Mutex<Vec<(LogStream, String)>>>;

/// Options whose logs are captured.
fn captured() -> (HostOptions, Captured) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let options = HostOptions {
        log_sink: LogSink::Capture(Arc::new(move |l| {
            sink.lock().unwrap().push((l.stream, l.line.to_owned()))
        })),
        ..HostOptions::default()
    };
    (options, lines)
}

async fn host(specs: Vec<FunctionSpec>) -> LambdaHost {
    LambdaHost::start(specs, captured().0).await.unwrap()
}

fn function_payload(e: LambdaInvokeError) -> Value {
    match e {
        LambdaInvokeError::Function { payload } => payload,
        other => panic!("expected a function error, got {other:?}"),
    }
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_round_trip_by_name_and_arn() {
    let host = host(vec![spec("Echo")]).await;
    let event = json!({"action": "echo", "data": "hello", "n": [1, 2, {"x": null}]});
    assert_eq!(host.invoke("Echo", event.clone()).await.unwrap(), event);
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:Echo";
    assert_eq!(host.function_arn("Echo").as_deref(), Some(arn));
    // Through the shared trait, by ARN with a qualifier.
    let invoker: &dyn LambdaInvoker = &host;
    let out = invoker
        .invoke(&format!("{arn}:$LATEST"), event.clone())
        .await
        .unwrap();
    assert_eq!(out, event);
    // One warm process served all of them.
    assert_eq!(host.process_ids("Echo").len(), 1);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_function_is_resource_not_found() {
    let host = host(vec![spec("Echo")]).await;
    let err = host.invoke("Nope", json!({})).await.unwrap_err();
    let LambdaInvokeError::Service(e) = err else {
        panic!("expected a service error")
    };
    assert_eq!(
        (e.status, e.code.as_str()),
        (404, "ResourceNotFoundException")
    );
    assert_eq!(
        e.message,
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope"
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_and_template_environment_are_visible() {
    let mut s = spec("EnvFn");
    s.environment
        .insert("TABLE_NAME".into(), "connections".into());
    s.memory_mb = 256;
    s.timeout = Duration::from_secs(7);
    let host = host(vec![s]).await;
    let names = [
        "TABLE_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "_HANDLER",
        "TZ",
        "AWS_ACCESS_KEY_ID",
        "AWS_SESSION_TOKEN",
        "LAMBDA_TASK_ROOT",
        "AWS_EXECUTION_ENV",
        "HOME",
    ];
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let out = host
        .invoke("EnvFn", json!({"action": "env", "names": names}))
        .await
        .unwrap();
    let env = &out["env"];
    assert_eq!(env["TABLE_NAME"], "connections");
    assert!(
        env["AWS_LAMBDA_RUNTIME_API"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "EnvFn");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "us-east-1");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(env["TZ"], ":UTC");
    assert!(env["AWS_ACCESS_KEY_ID"].is_string());
    assert!(env["AWS_SESSION_TOKEN"].is_string());
    let task_root = Path::new(FIXTURE).parent().unwrap().display().to_string();
    assert_eq!(env["LAMBDA_TASK_ROOT"], task_root.as_str());
    assert_eq!(out["cwd"], task_root.as_str());
    // Not defined for OS-only runtimes, and the host's environment is not inherited.
    assert_eq!(env["AWS_EXECUTION_ENV"], Value::Null);
    assert_eq!(env["HOME"], Value::Null);
    let ctx = &out["context"];
    assert_eq!(
        ctx["invoked_function_arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:EnvFn"
    );
    assert_eq!(ctx["function_name"], "EnvFn");
    assert_eq!(ctx["memory"], 256);
    assert_eq!(ctx["version"], "$LATEST");
    assert_eq!(ctx["log_group"], "/aws/lambda/EnvFn");
    assert!(ctx["log_stream"].as_str().unwrap().contains("/[$LATEST]"));
    assert!(
        ctx["xray_trace_id"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    assert_eq!(ctx["request_id"].as_str().unwrap().len(), 36);
    // The deadline is the function's timeout from now.
    let deadline = ctx["deadline"].as_u64().unwrap();
    assert!(
        deadline >= before + 6_000 && deadline <= before + 60_000,
        "deadline {deadline} vs now {before}"
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_error_is_returned_as_invoke_payload_and_process_stays_warm() {
    let host = host(vec![spec("Fails")]).await;
    let err = host
        .invoke(
            "Fails",
            json!({"action": "error", "message": "no such item"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FixtureError");
    assert_eq!(
        function_payload(err),
        json!({"errorType": "FixtureError", "errorMessage": "no such item"})
    );
    let pids = host.process_ids("Fails");
    // A panic in the handler is reported by the runtime client, not a crash.
    let err = host
        .invoke("Fails", json!({"action": "panic", "message": "oops"}))
        .await
        .unwrap_err();
    let payload = function_payload(err);
    assert!(
        payload["errorMessage"].as_str().unwrap().contains("oops"),
        "{payload}"
    );
    assert_eq!(host.process_ids("Fails"), pids, "same warm process");
    assert_eq!(
        host.invoke("Fails", json!({"ok": 1})).await.unwrap(),
        json!({"ok": 1})
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_the_process_and_reports_sandbox_timedout() {
    let mut s = spec("Slow");
    s.timeout = Duration::from_millis(500);
    let host = host(vec![s]).await;
    // Warm it up so the init allowance does not apply.
    let first = host
        .invoke("Slow", json!({"action": "sleep", "ms": 0}))
        .await
        .unwrap();
    let pid = first["pid"].as_u64().unwrap() as u32;
    let started = Instant::now();
    let err = host
        .invoke("Slow", json!({"action": "sleep", "ms": 60_000}))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(err.error_type(), "Sandbox.Timedout");
    let msg = function_payload(err)["errorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.starts_with("RequestId: "), "{msg}");
    assert!(
        msg.ends_with(" Error: Task timed out after 0.50 seconds"),
        "{msg}"
    );
    // The stuck process is gone; the next invocation gets a fresh one.
    let deadline = Instant::now() + Duration::from_secs(5);
    while pid_alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!pid_alive(pid), "timed-out process {pid} still running");
    let next = host
        .invoke("Slow", json!({"action": "sleep", "ms": 1}))
        .await
        .unwrap();
    assert_ne!(next["pid"].as_u64().unwrap() as u32, pid);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_reports_runtime_exit_error_and_next_invoke_gets_fresh_process() {
    let host = host(vec![spec("Crashy")]).await;
    let first = host
        .invoke("Crashy", json!({"action": "sleep", "ms": 0}))
        .await
        .unwrap();
    let pid = first["pid"].as_u64().unwrap();
    let err = host
        .invoke("Crashy", json!({"action": "exit", "code": 101}))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Runtime.ExitError");
    let msg = function_payload(err)["errorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.starts_with("RequestId: "), "{msg}");
    assert!(
        msg.ends_with(" Error: Runtime exited with error: exit status 101"),
        "{msg}"
    );
    let next = host
        .invoke("Crashy", json!({"action": "sleep", "ms": 0}))
        .await
        .unwrap();
    assert_ne!(next["pid"].as_u64().unwrap(), pid);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_failures_report_aws_errors() {
    let mut exits = spec("InitExit");
    exits
        .environment
        .insert("FIXTURE_INIT".into(), "exit:3".into());
    let mut errors = spec("InitError");
    errors
        .environment
        .insert("FIXTURE_INIT".into(), "error".into());
    let host = host(vec![exits, errors]).await;
    let err = host.invoke("InitExit", json!({})).await.unwrap_err();
    assert_eq!(err.error_type(), "Runtime.ExitError");
    let msg = function_payload(err)["errorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.ends_with("Error: Runtime exited with error: exit status 3"),
        "{msg}"
    );
    // The init error body is what Invoke returns.
    let err = host.invoke("InitError", json!({})).await.unwrap_err();
    assert_eq!(
        function_payload(err),
        json!({"errorType": "Runtime.FixtureInitError", "errorMessage": "fixture init failed"})
    );
    // Every invocation retries init in a fresh process.
    let err = host.invoke("InitError", json!({})).await.unwrap_err();
    assert_eq!(err.error_type(), "Runtime.FixtureInitError");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_executable_is_refused_at_start() {
    let err = LambdaHost::start(
        vec![FunctionSpec::new("Ghost", "/nonexistent/bootstrap")],
        HostOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/bootstrap"), "{err}");
    let err = LambdaHost::start(vec![spec("A"), spec("A")], HostOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("declared twice"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_limits_match_lambda() {
    let host = host(vec![spec("Big")]).await;
    let too_big = json!({ "data": "x".repeat(6 * 1024 * 1024) });
    let LambdaInvokeError::Service(e) = host.invoke("Big", too_big).await.unwrap_err() else {
        panic!("expected a service error")
    };
    assert_eq!(
        (e.status, e.code.as_str()),
        (413, "RequestTooLargeException")
    );
    // A response over 6 MiB + 100 bytes.
    let err = host
        .invoke(
            "Big",
            json!({"action": "big", "bytes": 6 * 1024 * 1024 + 200}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        function_payload(err),
        json!({
            "errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
        })
    );
    // Just under the limit is fine, and the process survived the 413.
    let ok = host
        .invoke("Big", json!({"action": "big", "bytes": 6 * 1024 * 1024}))
        .await
        .unwrap();
    assert_eq!(ok.as_str().map(str::len), Some(6 * 1024 * 1024));
    assert_eq!(host.process_ids("Big").len(), 1);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_spawn_processes_up_to_the_cap() {
    let mut wide = spec("Wide");
    wide.max_concurrency = 64;
    let mut narrow = spec("Narrow");
    narrow.max_concurrency = 3;
    let host = host(vec![wide, narrow]).await;
    for (name, cap) in [("Wide", 20), ("Narrow", 3)] {
        let calls = (0..20).map(|_| {
            let host = host.clone();
            tokio::spawn(async move {
                host.invoke(name, json!({"action": "sleep", "ms": 300}))
                    .await
            })
        });
        let mut pids = BTreeSet::new();
        for call in calls.collect::<Vec<_>>() {
            let out = call.await.unwrap().unwrap();
            assert_eq!(out["slept"], 300);
            pids.insert(out["pid"].as_u64().unwrap());
        }
        assert!(pids.len() > 1, "{name}: one process served all");
        assert!(pids.len() <= cap, "{name}: {} processes", pids.len());
        assert_eq!(host.process_ids(name).len(), pids.len());
    }
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_streamed_with_platform_lines() {
    let (options, lines) = captured();
    let host = LambdaHost::start(vec![spec("Logger")], options)
        .await
        .unwrap();
    host.invoke(
        "Logger",
        json!({"action": "log", "lines": ["hello from fn"]}),
    )
    .await
    .unwrap();
    // Function output is read asynchronously from the pipes.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = lines.lock().unwrap().clone();
        let has = |stream: LogStream, text: &str| {
            got.iter().any(|(s, l)| *s == stream && l.contains(text))
        };
        if has(LogStream::Stdout, "hello from fn")
            && has(LogStream::Stderr, "stderr: hello from fn")
        {
            let platform: Vec<&String> = got
                .iter()
                .filter(|(s, _)| *s == LogStream::Platform)
                .map(|(_, l)| l)
                .collect();
            assert!(platform[0].starts_with("START RequestId: "), "{platform:?}");
            assert!(platform[0].ends_with(" Version: $LATEST"), "{platform:?}");
            assert!(platform[1].starts_with("END RequestId: "), "{platform:?}");
            assert!(
                platform[2].starts_with("REPORT RequestId: "),
                "{platform:?}"
            );
            assert!(platform[2].contains("\tDuration: "), "{platform:?}");
            assert!(
                platform[2].contains("\tMemory Size: 128 MB"),
                "{platform:?}"
            );
            assert!(
                platform[2].contains("\tInit Duration: "),
                "cold start: {platform:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "missing log lines: {got:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_processes_expire_after_ttl() {
    let options = HostOptions {
        idle_process_ttl: Some(Duration::from_millis(200)),
        log_sink: LogSink::Discard,
        ..HostOptions::default()
    };
    let host = LambdaHost::start(vec![spec("Idle")], options)
        .await
        .unwrap();
    let pid = host
        .invoke("Idle", json!({"action": "sleep", "ms": 0}))
        .await
        .unwrap()["pid"]
        .as_u64()
        .unwrap() as u32;
    let deadline = Instant::now() + Duration::from_secs(5);
    while pid_alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!pid_alive(pid), "idle process {pid} outlived its ttl");
    assert!(host.process_ids("Idle").is_empty());
    // And a new one starts on demand.
    assert_eq!(
        host.invoke("Idle", json!({"v": 2})).await.unwrap(),
        json!({"v": 2})
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_kills_and_reaps_every_process() {
    let host = host(vec![spec("Many")]).await;
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let host = host.clone();
            tokio::spawn(async move {
                host.invoke("Many", json!({"action": "sleep", "ms": 200}))
                    .await
            })
        })
        .collect();
    let mut pids = BTreeSet::new();
    for c in calls {
        pids.insert(c.await.unwrap().unwrap()["pid"].as_u64().unwrap() as u32);
    }
    // One more, still running when shutdown starts.
    let busy = {
        let host = host.clone();
        tokio::spawn(async move {
            host.invoke("Many", json!({"action": "sleep", "ms": 10_000}))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    pids.extend(host.process_ids("Many"));
    assert!(pids.len() > 1);
    assert!(pids.iter().all(|&p| pid_alive(p)));
    host.shutdown().await;
    // Reaped: not even zombies are left.
    for p in &pids {
        assert!(!pid_alive(*p), "process {p} survived shutdown");
    }
    assert!(host.process_ids("Many").is_empty());
    let err = busy.await.unwrap().unwrap_err();
    assert_eq!(err.error_type(), "Runtime.ExitError");
    // Invocations after shutdown are refused.
    assert!(matches!(
        host.invoke("Many", json!({})).await,
        Err(LambdaInvokeError::Service(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_invocation_finishes_and_its_process_is_reused() {
    let mut s = spec("Abandoned");
    s.max_concurrency = 1;
    let host = host(vec![s]).await;
    let pid = host
        .invoke("Abandoned", json!({"action": "sleep", "ms": 0}))
        .await
        .unwrap()["pid"]
        .as_u64()
        .unwrap();
    // The caller gives up while the function is still sleeping.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        host.invoke("Abandoned", json!({"action": "sleep", "ms": 400})),
    )
    .await;
    assert!(gave_up.is_err());
    // The slot stays taken until the abandoned invocation is done, then the
    // same warm process serves the next one.
    let started = Instant::now();
    let next = host
        .invoke("Abandoned", json!({"action": "sleep", "ms": 0}))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(next["pid"].as_u64().unwrap(), pid);
    assert_eq!(host.process_ids("Abandoned").len(), 1);
    host.shutdown().await;
}

/// One raw HTTP/1.1 exchange (`Connection: close`), returning the response.
fn http(addr: &str, request_head: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{request_head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_api_rejects_unknown_request_ids_and_paths() {
    let host = host(vec![spec("Api")]).await;
    let out = host
        .invoke(
            "Api",
            json!({"action": "env", "names": ["AWS_LAMBDA_RUNTIME_API"]}),
        )
        .await
        .unwrap();
    let api = out["env"]["AWS_LAMBDA_RUNTIME_API"]
        .as_str()
        .unwrap()
        .to_owned();
    let (bad_id, unknown) = tokio::task::spawn_blocking(move || {
        (
            http(
                &api,
                "POST /2018-06-01/runtime/invocation/not-a-request/response HTTP/1.1",
                "{}",
            ),
            http(&api, "GET /2018-06-01/runtime/nothing-here HTTP/1.1", ""),
        )
    })
    .await
    .unwrap();
    assert!(bad_id.starts_with("HTTP/1.1 400"), "{bad_id}");
    assert!(
        bad_id.ends_with(r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#),
        "{bad_id}"
    );
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
    // The process is unaffected.
    assert_eq!(
        host.invoke("Api", json!({"a": 1})).await.unwrap(),
        json!({"a": 1})
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unstartable_executable_is_runtime_invalid_entrypoint() {
    let path = std::env::temp_dir().join(format!("wsflow-not-executable-{}", std::process::id()));
    std::fs::write(&path, b"not a program").unwrap();
    let host = host(vec![FunctionSpec::new("Broken", &path)]).await;
    let err = host.invoke("Broken", json!({})).await.unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(err.error_type(), "Runtime.InvalidEntrypoint");
    let msg = function_payload(err)["errorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.starts_with("RequestId: "), "{msg}");
    assert!(msg.contains("Error: "), "{msg}");
    host.shutdown().await;
}
