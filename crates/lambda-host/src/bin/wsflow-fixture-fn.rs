//! A real Lambda function (built on `lambda_runtime`, like the project's
//! functions) for the host's tests and benchmarks. What it does is chosen by
//! the event's `action`:
//!
//! * `echo` (default): returns the event;
//! * `sleep` `{ms}`: sleeps, returns `{"slept": ms, "pid": …}`;
//! * `error` `{message}`: fails with `errorType` `FixtureError`;
//! * `panic` `{message}`: panics in the handler;
//! * `exit` `{code}`: exits the process mid-invocation;
//! * `env` `{names: […]}`: returns those variables and the invocation context;
//! * `log` `{lines: […]}`: prints each line to stdout and to stderr;
//! * `big` `{bytes}`: returns a string of that many bytes.
//!
//! `FIXTURE_LOG_EVENTS` (any value) prints each event as one stdout line,
//! `fixture-event <JSON>`, so end-to-end tests can read events whose results
//! go nowhere (`$disconnect`).
//!
//! `FIXTURE_INIT` makes init fail: `exit:<code>` exits before polling,
//! `error` posts `/runtime/init/error` and exits.

use std::{collections::BTreeMap, io::Write, time::Duration};

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, ctx) = event.into_parts();
    if std::env::var_os("FIXTURE_LOG_EVENTS").is_some() {
        println!("fixture-event {payload}");
    }
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("echo");
    let pid = std::process::id();
    match action {
        "echo" => Ok(payload),
        "sleep" => {
            let ms = payload.get("ms").and_then(Value::as_u64).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(json!({ "slept": ms, "pid": pid }))
        }
        "error" => Err(Diagnostic {
            error_type: "FixtureError".into(),
            error_message: payload
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("fixture error")
                .into(),
        }),
        "panic" => panic!(
            "{}",
            payload
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("fixture panic")
        ),
        "exit" => {
            let code = payload.get("code").and_then(Value::as_i64).unwrap_or(101);
            std::process::exit(i32::try_from(code).unwrap_or(101));
        }
        "env" => {
            let names = payload.get("names").and_then(Value::as_array);
            let env: BTreeMap<String, Option<String>> = names
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|n| (n.to_owned(), std::env::var(n).ok()))
                .collect();
            Ok(json!({
                "pid": pid,
                "env": env,
                "cwd": std::env::current_dir().ok(),
                "context": {
                    "request_id": ctx.request_id,
                    "deadline": ctx.deadline,
                    "invoked_function_arn": ctx.invoked_function_arn,
                    "xray_trace_id": ctx.xray_trace_id,
                    "function_name": ctx.env_config.function_name,
                    "memory": ctx.env_config.memory,
                    "version": ctx.env_config.version,
                    "log_group": ctx.env_config.log_group,
                    "log_stream": ctx.env_config.log_stream,
                },
            }))
        }
        "log" => {
            let lines: Vec<&str> = payload
                .get("lines")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for line in &lines {
                println!("{line}");
                eprintln!("stderr: {line}");
            }
            let _ = std::io::stdout().flush();
            Ok(json!({ "logged": lines.len() }))
        }
        "big" => {
            let n = payload.get("bytes").and_then(Value::as_u64).unwrap_or(0);
            Ok(Value::String("x".repeat(usize::try_from(n).unwrap_or(0))))
        }
        other => Err(Diagnostic {
            error_type: "UnknownAction".into(),
            error_message: format!("unknown action {other}"),
        }),
    }
}

/// Posts `/runtime/init/error` with a plain HTTP/1.1 request (the runtime
/// client does not expose it before `run`).
fn post_init_error() -> std::io::Result<()> {
    use std::io::Read;
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(std::io::Error::other)?;
    let body = r#"{"errorType":"Runtime.FixtureInitError","errorMessage":"fixture init failed"}"#;
    let mut s = std::net::TcpStream::connect(&api)?;
    write!(
        s,
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\nLambda-Runtime-Function-Error-Type: Runtime.FixtureInitError\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    match std::env::var("FIXTURE_INIT").as_deref() {
        Ok("error") => {
            post_init_error()?;
            std::process::exit(1);
        }
        Ok(spec) if spec.starts_with("exit:") => {
            eprintln!("fixture: exiting during init");
            std::process::exit(spec[5..].parse().unwrap_or(1));
        }
        _ => {}
    }
    lambda_runtime::run(service_fn(handler)).await
}
