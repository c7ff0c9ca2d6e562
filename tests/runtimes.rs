//! Templates from outside the workspace, with Python, Node.js and prebuilt
//! `bootstrap` functions (issue 11): each stack is a real `wsflow up`
//! started from a directory that is not a cargo project, with no cargo
//! reachable, driven by a real WebSocket client.

mod support;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::{
    Stack, StackOptions, connect, copy_fixture, path_without_cargo, recv, recv_json, send,
};

/// The runtimes' package cache these tests share (the AWS SDK v3 is
/// installed into it once per target directory; stacks starting together
/// wait for the one installing).
fn packages_dir() -> String {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("runtime-packages")
        .display()
        .to_string()
}

/// Starts `template` from `cwd` with no cargo to be found.
fn start_without_cargo(template: &Path, cwd: &Path, functions_dir: Option<&Path>) -> Stack {
    let path = path_without_cargo();
    let template = template.display().to_string();
    Stack::start_from(
        StackOptions {
            template: &template,
            time_scale: 0.0,
            extra: vec!["--runtime-packages-dir".into(), packages_dir()],
        },
        tempfile::tempdir().expect("data dir"),
        cwd,
        &[("PATH", &path), ("CARGO", "/nonexistent/cargo")],
        functions_dir,
    )
}

/// Waits for a stack log line containing every one of `needles`.
fn wait_log(stack: &Stack, needles: &[&str], secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stack.log.recv_timeout(left) {
            Ok(line) if needles.iter().all(|n| line.contains(n)) => return line,
            Ok(_) => {}
            Err(_) => panic!("no log line with {needles:?} within {secs}s"),
        }
    }
}

/// The JSON object embedded in a log line (the function error payload).
fn embedded_json(line: &str, starting: &str) -> Value {
    let start = line.find(starting).expect("payload in line");
    let mut de = serde_json::Deserializer::from_str(&line[start..]).into_iter::<Value>();
    de.next().expect("a JSON value").expect("valid JSON")
}

/// The fixture app copied outside the workspace, with a real prebuilt
/// Lambda binary (`wsflow-fixture-fn`) as `prebuilt/bootstrap`.
fn polyglot_app() -> tempfile::TempDir {
    let app = copy_fixture("python-node-app");
    let bootstrap = app.path().join("prebuilt/bootstrap");
    // git keeps no empty directory: the fixture has no prebuilt/ of its own.
    std::fs::create_dir_all(app.path().join("prebuilt")).expect("create prebuilt/");
    std::fs::copy(
        support::functions_dir().join("wsflow-fixture-fn"),
        &bootstrap,
    )
    .expect("copy the fixture function");
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn python_node_and_prebuilt_functions_answer_over_websocket() {
    let app = polyglot_app();
    let elsewhere = tempfile::tempdir().unwrap();
    let stack = start_without_cargo(&app.path().join("template.yaml"), elsewhere.path(), None);
    // The unsupported runtime is named at start-up, and did not stop the stack.
    assert!(
        stack
            .startup
            .iter()
            .any(|l| l.contains("warning") && l.contains("JavaFn") && l.contains("java21")),
        "no start-up warning for JavaFn: {:#?}",
        stack.startup
    );
    let mut ws = connect(&stack.ws_url()).await; // $connect: a Python function

    send(&mut ws, r#"{"action":"hello","n":1}"#).await;
    let r = recv_json(&mut ws, 20).await;
    assert_eq!(r["runtime"], "python");
    assert_eq!(r["route"], "$default");
    assert_eq!(r["body"], r#"{"action":"hello","n":1}"#);
    assert_eq!(r["requestId"].as_str().unwrap().len(), 36);
    let function = r["function"].as_str().unwrap();
    assert!(function.ends_with("PyDefault"), "{function}");
    assert_eq!(r["version"], "$LATEST");
    assert_eq!(r["memory"], "256");
    assert_eq!(
        r["arn"],
        format!("arn:aws:lambda:us-east-1:123456789012:function:{function}")
    );
    assert_eq!(r["logGroup"], format!("/aws/lambda/{function}"));
    let remaining = r["remaining"].as_i64().unwrap();
    assert!(remaining > 5_000 && remaining <= 10_000, "{remaining}");
    assert_eq!(r["greeting"], "hello-from-template");
    let task_root = PathBuf::from(r["taskRoot"].as_str().unwrap());
    assert_eq!(
        task_root.canonicalize().unwrap(),
        app.path().join("py").canonicalize().unwrap()
    );

    send(&mut ws, r#"{"action":"cjs"}"#).await;
    let r = recv_json(&mut ws, 20).await;
    assert_eq!(r["runtime"], "node-cjs");
    assert_eq!(r["body"], r#"{"action":"cjs"}"#);
    assert_eq!(r["requestId"].as_str().unwrap().len(), 36);
    assert!(r["fn"].as_str().unwrap().ends_with("NodeCjs"));
    assert!(r["arn"].as_str().unwrap().ends_with("NodeCjs"));
    let remaining = r["remaining"].as_i64().unwrap();
    assert!(remaining > 5_000 && remaining <= 10_000, "{remaining}");

    send(&mut ws, r#"{"action":"esm"}"#).await;
    let r = recv_json(&mut ws, 20).await;
    assert_eq!(r["runtime"], "node-esm");
    assert_eq!(r["file"], "handler.mjs");

    send(&mut ws, r#"{"action":"callback","n":21}"#).await;
    assert_eq!(recv(&mut ws, 20).await, "callback:42");

    send(&mut ws, r#"{"action":"inlinepy"}"#).await;
    let r = recv_json(&mut ws, 20).await;
    assert_eq!(r["runtime"], "python-inline");
    assert_eq!(r["body"], r#"{"action":"inlinepy"}"#);

    send(&mut ws, r#"{"action":"inlinenode"}"#).await;
    let r = recv_json(&mut ws, 20).await;
    assert_eq!(r["runtime"], "node-inline");
    assert!(r["fn"].as_str().unwrap().ends_with("NodeInline"));

    // A prebuilt provided.al2023 bootstrap (the fixture function echoes the
    // event, so the proxy result's body is the message).
    send(&mut ws, r#"{"action":"prebuilt","x":7}"#).await;
    assert_eq!(recv(&mut ws, 20).await, r#"{"action":"prebuilt","x":7}"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn function_errors_have_aws_shapes() {
    let app = polyglot_app();
    let elsewhere = tempfile::tempdir().unwrap();
    let stack = start_without_cargo(&app.path().join("template.yaml"), elsewhere.path(), None);
    let mut ws = connect(&stack.ws_url()).await;

    // The client gets API Gateway's reply; the function error (AWS's
    // payload) is in the gateway's log line.
    let cases: [(&str, &str, &[&str]); 5] = [
        ("failpy", "PyFail", &["\"errorType\":\"ValueError\""]),
        ("failnode", "NodeFail", &["\"errorType\":\"TypeError\""]),
        (
            "pybroken",
            "PyBroken",
            &[
                "Runtime.ImportModuleError",
                "Unable to import module 'broken'",
            ],
        ),
        (
            "awssdk",
            "NodeSdkV2",
            &["Runtime.ImportModuleError", "Cannot find module 'aws-sdk'"],
        ),
        ("java", "JavaFn", &["Runtime.InvalidRuntime", "java21"]),
    ];
    for (action, function, needles) in cases {
        send(&mut ws, &json!({ "action": action }).to_string()).await;
        let reply = recv_json(&mut ws, 20).await;
        assert_eq!(reply["message"], "Internal server error", "{action}");
        let mut all = vec!["integration failed", function];
        all.extend_from_slice(needles);
        let line = wait_log(&stack, &all, 20);
        let payload = embedded_json(&line, "{\"error");
        match action {
            "failpy" => {
                assert_eq!(payload["errorMessage"], "boom from python");
                assert_eq!(payload["requestId"].as_str().unwrap().len(), 36);
                let trace = payload["stackTrace"].as_array().unwrap();
                assert!(
                    trace.len() == 1 && trace[0].as_str().unwrap().contains("app.py"),
                    "{trace:?}"
                );
            }
            "failnode" => {
                assert_eq!(payload["errorMessage"], "boom from node");
                let trace = payload["trace"].as_array().unwrap();
                assert_eq!(trace[0], "TypeError: boom from node");
                assert!(trace[1].as_str().unwrap().contains("cjs.js"), "{trace:?}");
            }
            "pybroken" => assert_eq!(
                payload["errorMessage"],
                "Unable to import module 'broken': No module named 'module_that_does_not_exist'"
            ),
            "awssdk" => assert!(
                payload["errorMessage"]
                    .as_str()
                    .unwrap()
                    .starts_with("Error: Cannot find module 'aws-sdk'"),
                "{payload}"
            ),
            _ => assert!(
                payload["errorMessage"]
                    .as_str()
                    .unwrap()
                    .contains("Resource JavaFn (Runtime java21)"),
                "{payload}"
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn python_boto3_reaches_the_local_services() {
    let app = polyglot_app();
    let elsewhere = tempfile::tempdir().unwrap();
    let stack = start_without_cargo(&app.path().join("template.yaml"), elsewhere.path(), None);
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"store","pk":"from-boto3"}"#).await;
    let r = recv_json(&mut ws, 30).await;
    assert_eq!(
        r["item"],
        json!({"pk": {"S": "from-boto3"}, "by": {"S": "python"}}),
        "{r}"
    );
    assert_eq!(r["queueListed"], true, "{r}");
    // The item is in the stack's DynamoDB, as any client sees it.
    let (_, tables) = stack
        .aws_json("DynamoDB_20120810.ListTables", json!({}))
        .await;
    let table = tables["TableNames"][0].as_str().unwrap().to_owned();
    let (status, got) = stack
        .aws_json(
            "DynamoDB_20120810.GetItem",
            json!({"TableName": table, "Key": {"pk": {"S": "from-boto3"}}}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["Item"]["by"]["S"], "python");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_without_functions_starts_without_cargo() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("template.yaml"),
        r#"
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: nothing
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: bare
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: bare-flow
      DefinitionUri: flows/pass.asl.json
"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    std::fs::write(
        dir.path().join("flows/pass.asl.json"),
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"from":"flows dir"},"End":true}}}"#,
    )
    .unwrap();
    // Started with a relative template path from its own directory.
    let stack = start_without_cargo(Path::new("template.yaml"), dir.path(), None);
    assert_eq!(stack.stage, "bare");
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"anything"}"#).await;
    let reply = recv_json(&mut ws, 10).await;
    assert_eq!(reply["message"], "Forbidden", "{reply}");
    // DefinitionUri resolved against the template's directory.
    let (status, started) = stack
        .aws_json(
            "AWSStepFunctions.StartExecution",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:bare-flow"}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    let output = support::eventually(20, || {
        let arn = arn.clone();
        let stack = &stack;
        async move {
            let (_, d) = stack
                .aws_json(
                    "AWSStepFunctions.DescribeExecution",
                    json!({"executionArn": arn}),
                )
                .await;
            (d["status"] == "SUCCEEDED").then(|| d["output"].as_str().unwrap_or("").to_owned())
        }
    })
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&output).unwrap(),
        json!({"from": "flows dir"})
    );
}

/// A Rust (`provided.al2023`) function outside any cargo workspace, its
/// binary found through a relative `--functions-dir`; a missing binary's
/// error names the path looked at.
#[tokio::test(flavor = "multi_thread")]
async fn relative_functions_dir_and_missing_binary_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bins")).unwrap();
    std::fs::copy(
        support::functions_dir().join("wsflow-fixture-fn"),
        dir.path().join("bins/wsflow-fixture-fn"),
    )
    .unwrap();
    let template = |binary: &str| {
        format!(
            r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Ws:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      StageName: rust
      Routes:
        $default:
          FunctionArn: !GetAtt Echo.Arn
          RouteResponseSelectionExpression: $default
  Echo:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: {binary}
    Properties:
      CodeUri: fn/
      Handler: bootstrap
      Runtime: provided.al2023
"#
        )
    };
    std::fs::create_dir_all(dir.path().join("app/fn")).unwrap();
    std::fs::write(
        dir.path().join("app/template.yaml"),
        template("wsflow-fixture-fn"),
    )
    .unwrap();
    std::fs::write(dir.path().join("app/missing.yaml"), template("no-such-fn")).unwrap();

    // The missing binary: wsflow exits with the path it looked for.
    let out = Command::new(env!("CARGO_BIN_EXE_wsflow"))
        .current_dir(dir.path())
        .args(["up", "--port", "0", "--template", "app/missing.yaml"])
        .args(["--functions-dir", "bins", "--data-dir"])
        .arg(dir.path().join("data-missing"))
        .env("PATH", path_without_cargo())
        .env("CARGO", "/nonexistent/cargo")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let looked_at = dir.path().join("bins/no-such-fn");
    assert!(
        stderr.contains(&looked_at.display().to_string()) && stderr.contains("Echo"),
        "{stderr}"
    );

    let stack = start_without_cargo(
        Path::new("app/template.yaml"),
        dir.path(),
        Some(Path::new("bins")),
    );
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"echo-me"}"#).await;
    assert_eq!(recv(&mut ws, 20).await, r#"{"action":"echo-me"}"#);
}

/// No interpreter on the machine: the stack starts, a warning names the
/// function and its runtime, and its invocations fail saying so.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_interpreter_is_named_with_the_function() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.py"),
        "def handler(event, context):\n    return {}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("template.yaml"),
        r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Ws:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      Routes:
        $default:
          FunctionArn: !GetAtt PyFn.Arn
          RouteResponseSelectionExpression: $default
  PyFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
"#,
    )
    .unwrap();
    let stack = Stack::start_from(
        StackOptions {
            template: "template.yaml",
            time_scale: 0.0,
            extra: vec![],
        },
        tempfile::tempdir().unwrap(),
        dir.path(),
        &[
            ("PATH", "/nonexistent-bin"),
            ("CARGO", "/nonexistent/cargo"),
        ],
        None,
    );
    assert!(
        stack.startup.iter().any(|l| l.contains("warning")
            && l.contains("Resource PyFn (Runtime python3.12)")
            && l.contains("`python3` was not found")),
        "{:#?}",
        stack.startup
    );
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"x"}"#).await;
    assert_eq!(
        recv_json(&mut ws, 20).await["message"],
        "Internal server error"
    );
    let line = wait_log(
        &stack,
        &["integration failed", "Runtime.InvalidRuntime"],
        20,
    );
    let payload = embedded_json(&line, "{\"error");
    assert!(
        payload["errorMessage"].as_str().unwrap().contains(
            "Resource PyFn (Runtime python3.12): runtime python3.12: `python3` was not found"
        ),
        "{payload}"
    );
}

/// The names of the stack's functions by logical id (`<stack>-<LogicalId>`),
/// from the Lambda API's ListFunctions.
async fn function_names(stack: &Stack) -> Vec<String> {
    let mut names = Vec::new();
    let mut marker = String::new();
    loop {
        let (status, body) = support::http(
            &stack.addr,
            "GET",
            &format!("/2015-03-31/functions/?Marker={marker}"),
            &[],
            b"",
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        for f in page["Functions"].as_array().unwrap() {
            names.push(f["FunctionName"].as_str().unwrap().to_owned());
        }
        match page["NextMarker"].as_str() {
            Some(m) => marker = m.to_owned(),
            None => return names,
        }
    }
}

/// Invokes the function whose logical id is `logical_id` through the
/// Lambda API (RequestResponse); returns the status and the raw payload.
async fn invoke(stack: &Stack, names: &[String], logical_id: &str, payload: &str) -> (u16, String) {
    let name = names
        .iter()
        .find(|n| n.ends_with(&format!("-{logical_id}")))
        .unwrap_or_else(|| panic!("no function {logical_id} in {names:?}"));
    support::http(
        &stack.addr,
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations"),
        &[("content-type", "application/json")],
        payload.as_bytes(),
    )
    .await
}

/// The AWS SDK for JavaScript v3 is there for Node.js functions, from an ES
/// module (`import`) and from CommonJS (`require`), and reaches the local
/// services; the v2 SDK is not (see `function_errors_have_aws_shapes`).
#[tokio::test(flavor = "multi_thread")]
async fn node_functions_import_the_aws_sdk_v3() {
    let app = polyglot_app();
    let elsewhere = tempfile::tempdir().unwrap();
    let stack = start_without_cargo(&app.path().join("template.yaml"), elsewhere.path(), None);
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"sdkv3"}"#).await;
    let r = recv_json(&mut ws, 30).await;
    assert_eq!(r["tables"], 1, "{r}");
    assert_eq!(r["queues"], 1, "{r}");
    assert_eq!(r["body"], r#"{"action":"sdkv3"}"#);
}

/// The SDK is installed once per cache, with a progress line; when the
/// registry is not reachable the stack still starts, says so, and the
/// function fails on its `require` with the runtime's own error.
#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_is_installed_once_and_an_unreachable_registry_only_warns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.js"),
        "const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');\n\
         exports.handler = async () => ({ statusCode: 200, body: typeof DynamoDBClient });\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("template.yaml"),
        r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Ws:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      Routes:
        $default:
          FunctionArn: !GetAtt NodeFn.Arn
          RouteResponseSelectionExpression: $default
  NodeFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: nodejs20.x
"#,
    )
    .unwrap();
    let path = path_without_cargo();
    let npm_cache = tempfile::tempdir().unwrap();
    let npm_cache = npm_cache.path().display().to_string();
    let start = |data_dir: tempfile::TempDir, extra_env: &[(&str, &str)]| {
        let mut env = vec![("PATH", path.as_str()), ("CARGO", "/nonexistent/cargo")];
        env.extend_from_slice(extra_env);
        Stack::start_from(
            StackOptions {
                template: "template.yaml",
                time_scale: 0.0,
                extra: vec![],
            },
            data_dir,
            dir.path(),
            &env,
            None,
        )
    };
    let progress = |stack: &Stack| {
        let sdk_dir = stack.data_dir.path().join("runtimes/node-sdk-v3");
        stack.startup.iter().any(|l| {
            l.contains(&format!(
                "installing the AWS SDK for JavaScript v3 into {} (once)",
                sdk_dir.display()
            ))
        })
    };

    // A registry nothing answers on (and an empty npm cache).
    let mut stack = start(
        tempfile::tempdir().unwrap(),
        &[
            ("npm_config_registry", "http://127.0.0.1:9/"),
            ("npm_config_fetch_retries", "0"),
            ("npm_config_cache", &npm_cache),
        ],
    );
    assert!(progress(&stack), "{:#?}", stack.startup);
    assert!(
        stack.startup.iter().any(|l| l.contains("warning")
            && l.contains("the AWS SDK for JavaScript v3 could not be installed")),
        "{:#?}",
        stack.startup
    );
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"x"}"#).await;
    assert_eq!(
        recv_json(&mut ws, 20).await["message"],
        "Internal server error"
    );
    let line = wait_log(
        &stack,
        &["integration failed", "Runtime.ImportModuleError"],
        20,
    );
    let payload = embedded_json(&line, "{\"error");
    assert!(
        payload["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Error: Cannot find module '@aws-sdk/client-dynamodb'"),
        "{payload}"
    );
    drop(ws);
    stack.terminate();
    let data_dir = stack.take_data_dir();

    // The registry reachable: the next start installs it, once.
    let mut stack = start(data_dir, &[]);
    assert!(progress(&stack), "{:#?}", stack.startup);
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"x"}"#).await;
    assert_eq!(recv(&mut ws, 20).await, "function");
    drop(ws);
    stack.terminate();
    let data_dir = stack.take_data_dir();
    assert!(
        data_dir
            .path()
            .join("runtimes/node-sdk-v3/node_modules/@aws-sdk/client-dynamodb")
            .is_dir()
    );
    assert!(
        !data_dir
            .path()
            .join("runtimes/node-sdk-v3/node_modules/aws-sdk")
            .exists()
    );
    let stack = start(data_dir, &[]);
    assert!(!progress(&stack), "{:#?}", stack.startup);
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"x"}"#).await;
    assert_eq!(recv(&mut ws, 20).await, "function");
}

/// Python handler strings import their module as awslambdaric does, and
/// results are marshalled as it does.
#[tokio::test(flavor = "multi_thread")]
async fn python_handlers_and_results_as_awslambdaric() {
    let app = polyglot_app();
    let elsewhere = tempfile::tempdir().unwrap();
    let stack = start_without_cargo(&app.path().join("template.yaml"), elsewhere.path(), None);
    let names = function_names(&stack).await;

    // `handlers/nested.handler` is the module `handlers.nested` (its
    // relative import works); `pkg.mod.handler` is `pkg.mod`.
    let (status, body) = invoke(&stack, &names, "PyNested", "{}").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"module": "handlers.nested", "value": "from-helper"})
    );
    let (_, body) = invoke(&stack, &names, "PyDotted", "{}").await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"module": "pkg.mod", "package": "pkg"})
    );

    // A result JSON cannot represent.
    let (status, body) = invoke(&stack, &names, "PyUnserializable", "{}").await;
    assert_eq!(status, 200, "{body}");
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["errorType"], "Runtime.MarshalError", "{err}");
    assert_eq!(
        err["errorMessage"],
        "Unable to marshal response: Object of type datetime is not JSON serializable"
    );
    assert_eq!(err["stackTrace"], json!([]));
    assert_eq!(err["requestId"].as_str().unwrap().len(), 36);

    // Decimals are numbers; python3.12 writes non-ASCII as is; bytes are
    // returned unchanged.
    let (_, body) = invoke(&stack, &names, "PyDecimals", "{}").await;
    assert_eq!(body, r#"{"whole": 42, "half": 0.5, "text": "é"}"#);
    let (_, body) = invoke(&stack, &names, "PyBytes", "{}").await;
    assert_eq!(body, r#"{"raw": true}"#);
}

/// How Node.js invocations settle, as the Node.js runtime interface client
/// settles them (src/Runtime.js, src/CallbackContext.js).
#[tokio::test(flavor = "multi_thread")]
async fn node_invocations_settle_as_the_ric_does() {
    let app = polyglot_app();
    let elsewhere = tempfile::tempdir().unwrap();
    let stack = start_without_cargo(&app.path().join("template.yaml"), elsewhere.path(), None);
    let names = function_names(&stack).await;
    let cases = [
        // A non-async handler's return value is ignored: null.
        ("NodeSyncValue", "null"),
        // A callback never called: null once the event loop is empty.
        ("NodeNeverCallsBack", "null"),
        // The first of callback and promise wins.
        ("NodeCallbackFirst", r#""from-callback""#),
        ("NodePromiseFirst", r#""from-promise""#),
        // `file.nested.export`.
        ("NodeNested", r#""nested-export""#),
    ];
    for (function, expected) in cases {
        let (status, body) = invoke(&stack, &names, function, "{}").await;
        assert_eq!((status, body.as_str()), (200, expected), "{function}");
    }
    // An async handler whose promise never settles.
    let (_, body) = invoke(&stack, &names, "NodeNeverSettles", "{}").await;
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["errorType"], "Runtime.NodeJsExit", "{err}");
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .contains("This is most commonly caused by a Promise that was never settled"),
        "{err}"
    );
    // A callback's result waits for the event loop to empty (a 1.5 s timer),
    // unless callbackWaitsForEmptyEventLoop is false (a 5 s timer).
    let started = Instant::now();
    let (_, body) = invoke(&stack, &names, "NodeWaitsForTimers", "{}").await;
    assert_eq!(body, r#""after-timers""#);
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let (_, body) = invoke(&stack, &names, "NodeDoesNotWait", "{}").await;
    assert_eq!(body, r#""right-away""#);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

/// A Python function invokes a Node.js function through the Lambda API with
/// boto3 (its name from `!Ref`), synchronously (the route replies with the
/// Node.js result) and with InvocationType Event (202; the Node.js function
/// answers the client over @connections with the SDK v3).
#[tokio::test(flavor = "multi_thread")]
async fn a_python_function_invokes_a_node_function_through_the_lambda_api() {
    let app = polyglot_app();
    let elsewhere = tempfile::tempdir().unwrap();
    let stack = start_without_cargo(&app.path().join("template.yaml"), elsewhere.path(), None);
    let mut ws = connect(&stack.ws_url()).await;

    send(&mut ws, r#"{"action":"invoke","n":21}"#).await;
    let r = recv_json(&mut ws, 30).await;
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["functionError"], Value::Null, "{r}");
    assert_eq!(r["result"]["from"], "node", "{r}");
    assert_eq!(r["result"]["doubled"], 42, "{r}");
    assert!(
        r["result"]["fn"].as_str().unwrap().ends_with("-NodeTarget"),
        "{r}"
    );

    send(&mut ws, r#"{"action":"invokeasync","n":5}"#).await;
    let mut got = vec![recv_json(&mut ws, 30).await, recv_json(&mut ws, 30).await];
    got.sort_by_key(|m| m.get("status").is_none());
    assert_eq!(got[0], json!({"status": 202}), "{got:?}");
    assert_eq!(got[1]["from"], "node", "{got:?}");
    assert_eq!(got[1]["doubled"], 10, "{got:?}");
    assert_eq!(got[1]["async"], true, "{got:?}");
}

/// A `python3` without boto3 (a fresh venv first on `PATH`): the stack
/// installs boto3 once into its package cache, with a progress line, and
/// the function imports it from there (after its own code directory).
#[tokio::test(flavor = "multi_thread")]
async fn boto3_is_installed_once_when_python_lacks_it() {
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    if !created {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 -m venv is required on CI"
        );
        eprintln!("SKIPPED: python3 -m venv is not available");
        return;
    }
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.py"),
        "import boto3\n\n\ndef handler(event, context):\n    return {\"statusCode\": 200, \"body\": boto3.__file__}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("template.yaml"),
        r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Ws:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      Routes:
        $default:
          FunctionArn: !GetAtt PyFn.Arn
          RouteResponseSelectionExpression: $default
  PyFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
"#,
    )
    .unwrap();
    let path = format!("{}:{}", venv.join("bin").display(), path_without_cargo());
    let start = |data_dir: tempfile::TempDir| {
        Stack::start_from(
            StackOptions {
                template: "template.yaml",
                time_scale: 0.0,
                extra: vec![],
            },
            data_dir,
            dir.path(),
            &[("PATH", &path), ("CARGO", "/nonexistent/cargo")],
            None,
        )
    };
    let mut stack = start(tempfile::tempdir().unwrap());
    let cache = stack.data_dir.path().join("runtimes/python-boto3");
    let progress = format!("installing boto3 into {} (once)", cache.display());
    assert!(
        stack.startup.iter().any(|l| l.contains(&progress)),
        "{:#?}",
        stack.startup
    );
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"x"}"#).await;
    let file = recv(&mut ws, 30).await;
    assert_eq!(
        PathBuf::from(&file),
        cache.join("boto3/__init__.py"),
        "boto3 from the cache"
    );
    drop(ws);
    stack.terminate();
    // Once: the next start finds it.
    let stack = start(stack.take_data_dir());
    assert!(
        !stack.startup.iter().any(|l| l.contains("installing boto3")),
        "{:#?}",
        stack.startup
    );
}
