//! `wsflow up --watch` on functions and routes, with one WebSocket client kept
//! open throughout: an edited function source is rebuilt by cargo and its
//! reply changes; a broken edit prints cargo's error and the old binary keeps
//! answering; a template edit pointing a route at another function changes
//! the reply on the same connection; a template the stack cannot serve is
//! refused and the last good routes keep serving.
//!
//! A second test edits the template's resources with the connection open:
//! a table and a route writing to it (DynamoDB service integration) in one
//! save, a queue with an event source feeding a new function, a function's
//! environment, and then the removal of a function, its route and its queue.
//!
//! The app is `tests/fixtures/reload-app` copied to a temporary directory:
//! its own cargo workspace with one std-only function crate, so the rebuilds
//! are real (small) cargo builds.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Client, Stack, StackOptions, aws_cli, connect, eventually, recv, send};

/// A copy of the fixture app; the binary gets a name of its own, so a
/// `--functions-dir` shared by the tests never holds a prebuilt copy of it.
fn app_copy(bin: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = support::workspace().join("tests/fixtures/reload-app");
    std::fs::create_dir(dir.path().join("src")).unwrap();
    for f in ["template.yaml", "Cargo.toml", "src/main.rs"] {
        let text = std::fs::read_to_string(fixture.join(f)).unwrap();
        std::fs::write(dir.path().join(f), text.replace("reload-fn", bin)).unwrap();
    }
    dir
}

/// Rewrites `file`, replacing `from` (which must occur) with `to`.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(file, text.replace(from, to)).unwrap();
}

/// The lines the stack prints up to the first containing `what`.
fn lines_until(stack: &Stack, what: &str, secs: u64) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match stack.log.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(what);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no log line with {what:?} within {secs} s; saw {seen:#?}"),
        }
    }
}

/// Sends `{"action": action}` and returns the reply.
async fn ask(ws: &mut Client, action: &str) -> String {
    send(ws, &format!(r#"{{"action":"{action}"}}"#)).await;
    recv(ws, 30).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_and_template_edits_reload_with_the_connection_open() {
    let bin = format!("reload-fn-{}", std::process::id());
    let app = app_copy(&bin);
    let template = app.path().join("template.yaml");
    let main_rs = app.path().join("src/main.rs");
    let stack = Stack::start_with(StackOptions {
        template: template.to_str().unwrap(),
        time_scale: 0.0,
        extra: vec!["--watch".into()],
    });
    lines_until(&stack, "watching the sources of 1 function binary", 60);
    let mut ws = connect(&stack.ws_url()).await;
    assert_eq!(ask(&mut ws, "hello").await, "v1 from wsflow-FnA");
    assert_eq!(ask(&mut ws, "which").await, "v1 from wsflow-FnA");

    // An edited source: rebuilt, swapped in, both functions of the binary.
    edit(
        &main_rs,
        r#"const REPLY: &str = "v1";"#,
        r#"const REPLY: &str = "v2";"#,
    );
    let line = lines_until(&stack, "reloaded function", 300).pop().unwrap();
    assert!(
        line.contains("FnA") && line.contains("FnB") && line.contains("built in"),
        "{line}"
    );
    assert_eq!(ask(&mut ws, "hello").await, "v2 from wsflow-FnA");

    // A broken edit: cargo's error is printed, the previous binary answers.
    edit(
        &main_rs,
        r#"const REPLY: &str = "v2";"#,
        r#"const REPLY: &str = 3;"#,
    );
    let lines = lines_until(&stack, "rebuild of function", 300);
    let failed = lines.last().unwrap();
    assert!(
        failed.contains("failed") && failed.contains("previous binary keeps serving"),
        "{failed}"
    );
    assert!(
        lines.iter().any(|l| l.contains("error[E0308]")),
        "cargo's error was not printed: {lines:#?}"
    );
    assert_eq!(ask(&mut ws, "hello").await, "v2 from wsflow-FnA");
    edit(
        &main_rs,
        r#"const REPLY: &str = 3;"#,
        r#"const REPLY: &str = "v3";"#,
    );
    lines_until(&stack, "reloaded function", 300);
    assert_eq!(ask(&mut ws, "hello").await, "v3 from wsflow-FnA");

    // A template edit: the `which` route's integration now calls FnB.
    edit(
        &template,
        "${FnA.Arn}/invocations\" # which-target",
        "${FnB.Arn}/invocations\" # which-target",
    );
    let line = lines_until(&stack, "wsflow: reloaded template.yaml", 30)
        .pop()
        .unwrap();
    assert!(line.contains("routes and integrations reloaded"), "{line}");
    assert_eq!(ask(&mut ws, "which").await, "v3 from wsflow-FnB");
    assert_eq!(ask(&mut ws, "hello").await, "v3 from wsflow-FnA");

    // A template the stack cannot serve: the error, and the last good routes.
    edit(
        &template,
        "${FnB.Arn}/invocations\" # which-target",
        "${Missing.Arn}/invocations\" # which-target",
    );
    let line = lines_until(&stack, "reload of template.yaml failed", 30)
        .pop()
        .unwrap();
    assert!(
        line.contains("Missing") && line.contains("last good version keeps serving"),
        "{line}"
    );
    assert_eq!(ask(&mut ws, "which").await, "v3 from wsflow-FnB");
}

/// Rewrites `file`, replacing the first `from` (which must occur) with `to`.
fn edit_first(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// Appends resources to the template (its `Resources` section is last).
fn append(file: &Path, text: &str) {
    let mut all = std::fs::read_to_string(file).unwrap();
    all.push('\n');
    all.push_str(text);
    std::fs::write(file, all).unwrap();
}

/// The next reload line of the template.
fn reload_line(stack: &Stack) -> String {
    lines_until(stack, "wsflow: reloaded template.yaml", 120)
        .pop()
        .unwrap()
}

const TABLE_AND_ROUTE: &str = r#"
  ItemsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: reload-items
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: pk
          AttributeType: S
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
  PutRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: put
      Target: !Sub "integrations/${PutIntegration}"
  PutIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS
      IntegrationMethod: POST
      IntegrationUri: !Sub "arn:aws:apigateway:${AWS::Region}:dynamodb:action/PutItem"
      PassthroughBehavior: NEVER
      TemplateSelectionExpression: \$default
      RequestTemplates:
        $default: !Sub |
          {"TableName": "${ItemsTable}",
           "Item": {"pk": {"S": "$input.path('$.id')"}, "data": {"S": "$input.path('$.data')"}}}
"#;

const BAD_TABLE_AND_ROUTE: &str = r#"
  BadTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: reload-bad
      AttributeDefinitions:
        - AttributeName: other
          AttributeType: S
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
  BadRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: bad
      RouteResponseSelectionExpression: $default
      Target: !Sub "integrations/${BadIntegration}"
  BadIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${FnB.Arn}/invocations"
"#;

const QUEUE_AND_FUNCTION: &str = r#"
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: reload-jobs.fifo
      FifoQueue: true
      ContentBasedDeduplication: true
  FnC:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: reload-fn
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt JobsQueue.Arn
            BatchSize: 1
  CRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: c
      RouteResponseSelectionExpression: $default
      Target: !Sub "integrations/${CIntegration}"
  CIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${FnC.Arn}/invocations"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_queues_and_functions_reload_with_the_connection_open() {
    let bin = format!("reload-res-{}", std::process::id());
    let app = app_copy(&bin);
    let template = app.path().join("template.yaml");
    let stack = Stack::start_with(StackOptions {
        template: template.to_str().unwrap(),
        time_scale: 0.0,
        extra: vec!["--watch".into()],
    });
    lines_until(&stack, "watching the sources of 1 function binary", 60);
    let mut ws = connect(&stack.ws_url()).await;
    assert_eq!(ask(&mut ws, "hello").await, "v1 from wsflow-FnA");

    // One save: a table and a route that writes to it.
    append(&template, &TABLE_AND_ROUTE.replace("reload-fn", &bin));
    let line = reload_line(&stack);
    assert!(
        line.contains("routes and integrations reloaded")
            && line.contains("table(s) reload-items created"),
        "{line}"
    );
    send(
        &mut ws,
        r#"{"action":"put","id":"item-1","data":"written live"}"#,
    )
    .await;
    let item = eventually(10, || async {
        let (_, got) = stack
            .aws_json(
                "DynamoDB_20120810.GetItem",
                json!({"TableName": "reload-items", "Key": {"pk": {"S": "item-1"}}}),
            )
            .await;
        got.get("Item").cloned()
    })
    .await;
    assert_eq!(item["data"]["S"], "written live");
    if let Some(out) = aws_cli(
        &stack,
        &["dynamodb", "scan", "--table-name", "reload-items"],
    ) {
        let scan = out.json("aws dynamodb scan");
        assert_eq!(scan["Items"][0]["pk"]["S"], "item-1", "{scan}");
    }

    // A save the stack cannot serve (a key without an attribute
    // definition) applies nothing, not even the valid route beside it.
    let good = std::fs::read_to_string(&template).unwrap();
    append(&template, BAD_TABLE_AND_ROUTE);
    let line = lines_until(&stack, "reload of template.yaml failed", 60)
        .pop()
        .unwrap();
    assert!(
        (line.contains("reload-bad") || line.contains("BadTable"))
            && line.contains("last good version keeps serving"),
        "{line}"
    );
    assert_eq!(ask(&mut ws, "bad").await, "v1 from wsflow-FnA");
    let (status, _) = stack
        .aws_json(
            "DynamoDB_20120810.DescribeTable",
            json!({"TableName": "reload-bad"}),
        )
        .await;
    assert_eq!(status, 400);
    std::fs::write(&template, good).unwrap();

    // One save: a queue, a new function fed by it (built, registered), its
    // route, and an environment variable for FnA.
    append(&template, &QUEUE_AND_FUNCTION.replace("reload-fn", &bin));
    edit_first(
        &template,
        "      Runtime: provided.al2023\n",
        "      Runtime: provided.al2023\n      Environment:\n        Variables:\n          GREETING: hola\n",
    );
    let line = reload_line(&stack);
    for part in [
        "wsflow-FnC added",
        "wsflow-FnA updated",
        "queue(s) reload-jobs.fifo created",
        "event source mapping(s) 1 started",
    ] {
        assert!(line.contains(part), "{part:?} not in {line}");
    }
    assert_eq!(ask(&mut ws, "hello").await, "v1 from wsflow-FnA (hola)");
    assert_eq!(ask(&mut ws, "c").await, "v1 from wsflow-FnC");
    let (status, url) = stack
        .aws_json(
            "AmazonSQS.GetQueueUrl",
            json!({"QueueName": "reload-jobs.fifo"}),
        )
        .await;
    assert_eq!(status, 200, "{url}");
    let url = url["QueueUrl"].as_str().unwrap().to_owned();
    let (status, sent) = stack
        .aws_json(
            "AmazonSQS.SendMessage",
            json!({"QueueUrl": url, "MessageBody": "job", "MessageGroupId": "g"}),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    // FnC takes it from the queue (its event source runs) and succeeds.
    eventually(20, || async {
        let (_, attrs) = stack
            .aws_json(
                "AmazonSQS.GetQueueAttributes",
                json!({"QueueUrl": url, "AttributeNames": ["All"]}),
            )
            .await;
        let a = &attrs["Attributes"];
        (a["ApproximateNumberOfMessages"] == "0"
            && a["ApproximateNumberOfMessagesNotVisible"] == "0")
            .then_some(())
    })
    .await;

    // One save: FnC, its route and the queue removed; FnB gone too.
    std::fs::write(&template, {
        let text = std::fs::read_to_string(&template).unwrap();
        let cut = text.find("\n  JobsQueue:").unwrap();
        let text = text[..cut].to_owned() + "\n";
        let (before, after) = text.split_once("  FnB:").unwrap();
        let after = &after[after.find("  DefaultRoute:").unwrap()..];
        format!("{before}{after}")
    })
    .unwrap();
    let line = reload_line(&stack);
    for part in [
        "routes and integrations reloaded",
        "function(s) wsflow-FnB, wsflow-FnC removed",
        "queue(s) reload-jobs.fifo deleted",
        "1 stopped",
    ] {
        assert!(line.contains(part), "{part:?} not in {line}");
    }
    // The `c` route is gone: the message takes $default (FnA).
    assert_eq!(ask(&mut ws, "c").await, "v1 from wsflow-FnA (hola)");
    let (status, gone): (u16, Value) = stack
        .aws_json(
            "AmazonSQS.GetQueueUrl",
            json!({"QueueName": "reload-jobs.fifo"}),
        )
        .await;
    assert_eq!(status, 400, "{gone}");
    let (status, _) = support::http(
        &stack.addr,
        "POST",
        "/2015-03-31/functions/wsflow-FnC/invocations",
        &[],
        b"{}",
    )
    .await;
    assert_eq!(status, 404);
    // The table and its item are still there.
    send(&mut ws, r#"{"action":"put","id":"item-2","data":"still"}"#).await;
    eventually(10, || async {
        let (_, got) = stack
            .aws_json(
                "DynamoDB_20120810.GetItem",
                json!({"TableName": "reload-items", "Key": {"pk": {"S": "item-2"}}}),
            )
            .await;
        got.get("Item").cloned()
    })
    .await;
}
