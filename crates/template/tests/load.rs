//! Loads fixture templates and checks every model field, each intrinsic, parameters,
//! overrides, conditions, substitutions, and the error paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wsflow_template::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn ctx() -> LocalContext {
    LocalContext {
        account: wsflow_aws_wire::Account::default(),
        stack_name: "wsflow".into(),
        endpoint: "http://127.0.0.1:3001".into(),
        api_id: "localapi01".into(),
        template_dir: fixtures(),
    }
}

fn app_with(overrides: &[(&str, &str)]) -> App {
    let o: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    load(&fixtures().join("app.yaml"), &o, &ctx()).unwrap_or_else(|e| panic!("{e}"))
}

fn function<'a>(app: &'a App, id: &str) -> &'a Function {
    app.functions.iter().find(|f| f.logical_id == id).unwrap()
}

fn route<'a>(app: &'a App, key: &str) -> &'a Route {
    app.apis[0]
        .routes
        .iter()
        .find(|r| r.route_key == key)
        .unwrap()
}

#[test]
fn api_stage_and_routes() {
    let app = app_with(&[]);
    assert_eq!(app.apis.len(), 1);
    let api = &app.apis[0];
    assert_eq!(api.logical_id, "WebSocketApi");
    assert_eq!(api.name, "wsflow-WebSocketApi");
    assert_eq!(api.route_selection_expression, "$request.body.action");
    assert_eq!(api.api_key_selection_expression, None);
    assert_eq!(api.stage, "api");
    assert_eq!(api.url_path_header.as_deref(), Some("ws-uri"));
    let mut keys: Vec<&str> = api.routes.iter().map(|r| r.route_key.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["$connect", "$default", "http", "mock", "queue", "sync_sfn"]
    );

    let connect = route(&app, "$connect");
    assert!(connect.two_way, "a RouteResponse makes $connect two-way");
    assert_eq!(connect.operation_name.as_deref(), Some("ConnectRoute"));
    let Integration::AwsService {
        service,
        action,
        path,
        request_templates,
        template_selection_expression,
        passthrough_behavior,
        ..
    } = &connect.integration
    else {
        panic!("{:?}", connect.integration)
    };
    assert_eq!(service, "dynamodb");
    assert_eq!(action.as_deref(), Some("PutItem"));
    assert_eq!(path, &None);
    assert_eq!(template_selection_expression.as_deref(), Some("\\$default"));
    assert_eq!(passthrough_behavior.as_deref(), Some("WHEN_NO_MATCH"));
    let t = &request_templates["$default"];
    assert!(t.contains("\"TableName\": \"wsflow-Connections\""), "{t}");
    assert!(
        t.contains("$context.requestTimeEpoch / 1000 + 86400"),
        "{t}"
    );
    assert_eq!(connect.integration_responses.len(), 1);
    let ir = &connect.integration_responses[0];
    assert_eq!(ir.key, "/200/");
    assert_eq!(
        ir.template_selection_expression.as_deref(),
        Some("\\$default")
    );
    assert_eq!(ir.templates["$default"], r#"{"ok": true}"#);

    let default = route(&app, "$default");
    assert!(default.two_way);
    assert_eq!(
        default.route_response_selection_expression.as_deref(),
        Some("$default")
    );
    assert_eq!(
        default.integration,
        Integration::LambdaProxy {
            function: "DefaultFunction".into()
        }
    );

    let sync = route(&app, "sync_sfn");
    assert!(!sync.two_way);
    let Integration::AwsService {
        service,
        action,
        request_templates,
        ..
    } = &sync.integration
    else {
        panic!()
    };
    assert_eq!(
        (service.as_str(), action.as_deref()),
        ("states", Some("StartSyncExecution"))
    );
    assert!(request_templates["$default"].contains(
        "\"stateMachineArn\": \"arn:aws:states:us-east-1:123456789012:stateMachine:wsflow-SyncStateMachine\""
    ));
    assert!(request_templates["$default"].contains(r#"replaceAll("\\'","'")"#));

    let Integration::AwsService {
        service,
        action,
        path,
        request_parameters,
        ..
    } = &route(&app, "queue").integration
    else {
        panic!()
    };
    assert_eq!(service, "sqs");
    assert_eq!(action, &None);
    assert_eq!(path.as_deref(), Some("123456789012/wsflow-WorkQueue.fifo"));
    assert_eq!(
        request_parameters["integration.request.header.Content-Type"],
        "'application/x-www-form-urlencoded'"
    );
    assert_eq!(
        route(&app, "mock").integration,
        Integration::Mock {
            request_templates: BTreeMap::from([(
                "$default".into(),
                r#"{"statusCode": 200}"#.into()
            )]),
            template_selection_expression: None,
        }
    );
    assert_eq!(
        route(&app, "http").integration,
        Integration::Http {
            uri: "http://127.0.0.1:9/echo".into()
        }
    );
}

#[test]
fn functions_globals_environment_and_intrinsics() {
    let app = app_with(&[]);
    assert_eq!(app.functions.len(), 2);
    let f = function(&app, "DefaultFunction");
    assert_eq!(f.name, "wsflow-DefaultFunction");
    assert_eq!(f.code_uri, fixtures().join("lambdas/default"));
    assert_eq!(f.handler, "bootstrap");
    assert_eq!(f.runtime, "provided.al2023");
    assert_eq!(f.architectures, ["arm64"]);
    assert_eq!((f.timeout_seconds, f.memory_mb), (10, 256));
    assert_eq!(f.build_method.as_deref(), Some("rust-cargolambda"));
    assert_eq!(f.binary.as_deref(), Some("default"));
    assert!(f.events.is_empty());
    let env: BTreeMap<&str, &str> = f
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let expected = BTreeMap::from([
        ("RUST_LOG", "debug"),
        ("TABLE_NAME", "wsflow-Connections"),
        (
            "QUEUE_URL",
            "http://127.0.0.1:3001/123456789012/wsflow-WorkQueue.fifo",
        ),
        (
            "QUEUE_ARN",
            "arn:aws:sqs:us-east-1:123456789012:wsflow-WorkQueue.fifo",
        ),
        (
            "MACHINE",
            "arn:aws:states:us-east-1:123456789012:stateMachine:wsflow-SyncStateMachine",
        ),
        ("MACHINE_NAME", "async-machine"),
        (
            "STREAM",
            "arn:aws:dynamodb:us-east-1:123456789012:table/wsflow-Connections/stream/1970-01-01T00:00:00.000",
        ),
        ("ENDPOINT", "ws://127.0.0.1:3001"),
        ("STAGE", "api"),
        ("RETENTION", "3600"),
        ("ZONE", "us-east-1b"),
        ("SUBNET", "c"),
        ("SPLIT", "y"),
        ("ENCODED", "aGVsbG8="),
        ("MODE", "development"),
        ("PSEUDO", "aws|amazonaws.com|123456789012|${Literal}"),
        (
            "LONG_FORM",
            "dev-arn:aws:dynamodb:us-east-1:123456789012:table/wsflow-Connections",
        ),
        ("CDN", "127.0.0.1:3001"),
    ]);
    assert_eq!(env, expected);

    let w = function(&app, "WorkerFunction");
    assert_eq!(w.name, "wsflow-worker");
    assert_eq!(w.architectures, ["x86_64"]);
    assert_eq!((w.timeout_seconds, w.memory_mb), (30, 256));
    assert_eq!(w.environment["RUST_LOG"], "info");
    assert_eq!(w.build_method, None);
    assert_eq!(
        w.events,
        [FunctionEvent::Sqs {
            queue: "WorkQueue".into(),
            batch_size: 5,
            maximum_batching_window_seconds: 2,
            report_batch_item_failures: true,
        }]
    );
}

#[test]
fn state_machines_inline_file_and_substitutions() {
    let app = app_with(&[]);
    let sm = |id: &str| {
        app.state_machines
            .iter()
            .find(|s| s.logical_id == id)
            .unwrap()
    };
    let sync = sm("SyncStateMachine");
    assert_eq!(sync.kind, StateMachineKind::Express);
    assert_eq!(sync.name, "wsflow-SyncStateMachine");
    let def: serde_json::Value = serde_json::from_str(&sync.definition).unwrap();
    assert_eq!(
        def["States"]["Call"]["Resource"],
        "arn:aws:lambda:us-east-1:123456789012:function:wsflow-DefaultFunction"
    );
    let asy = sm("AsyncStateMachine");
    assert_eq!(
        (asy.kind, asy.name.as_str()),
        (StateMachineKind::Standard, "async-machine")
    );
    let def: serde_json::Value = serde_json::from_str(&asy.definition).unwrap();
    assert_eq!(
        def["States"]["Notify"]["Resource"],
        "arn:aws:lambda:us-east-1:123456789012:function:wsflow-worker"
    );
    assert_eq!(def["States"]["Notify"]["Parameters"]["stage"], "api");
    assert_eq!(def["States"]["Notify"]["Parameters"]["keep"], "${Unknown}");
    let y: serde_json::Value = serde_json::from_str(&sm("YamlStateMachine").definition).unwrap();
    assert_eq!(y["States"]["P"]["Result"], "us-east-1");
    let f: serde_json::Value =
        serde_json::from_str(&sm("FileYamlStateMachine").definition).unwrap();
    assert_eq!(f["States"]["P"]["Type"], "Pass");
}

#[test]
fn tables_and_queues() {
    let app = app_with(&[]);
    assert_eq!(
        app.tables.len(),
        1,
        "ProdOnlyTable is disabled by its condition"
    );
    let t = &app.tables[0];
    assert_eq!(t.logical_id, "ConnectionsTable");
    assert_eq!(t.name, "wsflow-Connections");
    assert_eq!(
        t.key_schema,
        [("connectionid".to_string(), "HASH".to_string())]
    );
    assert_eq!(
        t.attribute_definitions,
        [("connectionid".to_string(), "S".to_string())]
    );
    assert_eq!(t.ttl_attribute.as_deref(), Some("ttl"));
    assert_eq!(t.billing_mode, "PAY_PER_REQUEST");

    let q = app
        .queues
        .iter()
        .find(|q| q.logical_id == "WorkQueue")
        .unwrap();
    assert_eq!(q.name, "wsflow-WorkQueue.fifo");
    assert!(q.fifo && q.content_based_deduplication);
    assert_eq!(q.visibility_timeout_seconds, 60);
    assert_eq!(q.message_retention_seconds, 3600);
    assert_eq!(q.deduplication_scope.as_deref(), Some("messageGroup"));
    assert_eq!(
        q.redrive,
        Some(Redrive {
            dead_letter_queue: "DeadLetterQueue".into(),
            max_receive_count: 3
        })
    );
    let d = app
        .queues
        .iter()
        .find(|q| q.logical_id == "DeadLetterQueue")
        .unwrap();
    assert_eq!(d.name, "dlq.fifo");
    assert!(d.fifo && !d.content_based_deduplication);
    assert_eq!(
        (d.visibility_timeout_seconds, d.message_retention_seconds),
        (30, 345_600)
    );
    assert_eq!(d.redrive, None);
}

/// `AWS::Serverless::SimpleTable` becomes a table of the app, and `!Ref` to it names the table.
#[test]
fn simple_tables_are_tables() {
    let yaml = r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Plain:
    Type: AWS::Serverless::SimpleTable
  Named:
    Type: AWS::Serverless::SimpleTable
    Properties:
      TableName: scores
      PrimaryKey: {Name: player, Type: Number}
      ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: 5}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: x
      Handler: app.handler
      Runtime: python3.12
      Environment:
        Variables: {PLAIN: !Ref Plain, NAMED: !Ref Named}
"#;
    let app = load_str(yaml, &[], &ctx()).unwrap_or_else(|e| panic!("{e}"));
    let table = |id: &str| app.tables.iter().find(|t| t.logical_id == id).unwrap();
    let plain = table("Plain");
    assert!(plain.name.starts_with("wsflow-Plain"), "{}", plain.name);
    assert_eq!(plain.key_schema, [("id".to_string(), "HASH".to_string())]);
    assert_eq!(
        plain.attribute_definitions,
        [("id".to_string(), "S".to_string())]
    );
    assert_eq!(plain.billing_mode, "PAY_PER_REQUEST");
    let named = table("Named");
    assert_eq!(named.name, "scores");
    assert_eq!(
        named.attribute_definitions,
        [("player".to_string(), "N".to_string())]
    );
    assert_eq!(named.billing_mode, "PROVISIONED");
    let env = &app.functions[0].environment;
    assert_eq!(env["PLAIN"], plain.name);
    assert_eq!(env["NAMED"], "scores");
    let e = load_str(
        "Resources:\n  T:\n    Type: AWS::Serverless::SimpleTable\n    Properties:\n      PrimaryKey: {Name: k, Type: Text}\n",
        &[],
        &ctx(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("Resource with id [T] is invalid. Invalid 'Type' \"Text\"."),
        "{e}"
    );
}

#[test]
fn outputs_resolve_where_possible() {
    let app = app_with(&[]);
    let expected: BTreeMap<String, String> = [
        ("ApiEndpoint", "ws://127.0.0.1:3001/api"),
        ("Distribution", "ws://127.0.0.1:3001"),
        ("ConnectionsTableName", "wsflow-Connections"),
        ("Subnets", "a,b,c"),
        ("EdgeAndNotProd", "yes"),
        ("ProdOrEdge", "yes"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(app.outputs, expected);
}

#[test]
fn overrides_and_conditions() {
    let o = parse_overrides(
        "Env=prod EnableEdge=false ParameterKey=ApiStageName,ParameterValue=v1 Subnets='x, y,z'",
    )
    .unwrap();
    let o: Vec<(&str, &str)> = o.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        o,
        [
            ("Env", "prod"),
            ("EnableEdge", "false"),
            ("ApiStageName", "v1"),
            ("Subnets", "x, y,z")
        ]
    );
    let app = app_with(&o);
    assert_eq!(app.apis[0].stage, "v1");
    assert_eq!(
        app.apis[0].url_path_header, None,
        "edge disabled by its condition"
    );
    assert_eq!(app.tables.len(), 2, "ProdOnlyTable enabled");
    let prod = app
        .tables
        .iter()
        .find(|t| t.logical_id == "ProdOnlyTable")
        .unwrap();
    assert_eq!(prod.name, "wsflow-ProdOnlyTable");
    assert_eq!(prod.key_schema[1], ("sk".to_string(), "RANGE".to_string()));
    assert_eq!(prod.billing_mode, "PROVISIONED");
    assert_eq!(prod.ttl_attribute, None);
    let f = function(&app, "DefaultFunction");
    assert_eq!(f.environment["MODE"], "production");
    assert_eq!(f.environment["OPTIONAL"], "yes");
    assert_eq!(f.environment["RETENTION"], "1209600");
    assert_eq!(f.environment["SUBNET"], "z");
    assert!(!app.outputs.contains_key("Distribution"));
    assert_eq!(app.outputs["ProdTable"], "wsflow-ProdOnlyTable");
    assert_eq!(app.outputs["EdgeAndNotProd"], "no");
    assert_eq!(app.outputs["ProdOrEdge"], "yes");
    // The distribution is disabled, so the Fn::If picks the other branch.
    assert_eq!(f.environment["CDN"], "none");
    // Referring to a disabled resource outside an Fn::If is an unresolved dependency.
    let text = std::fs::read_to_string(fixtures().join("app.yaml"))
        .unwrap()
        .replace("Env=", "")
        .replace(
            "CDN: !If [EdgeEnabled, !GetAtt Distribution.DomainName, none]",
            "CDN: !GetAtt Distribution.DomainName",
        );
    let e = load_str(&text, &[("EnableEdge".into(), "false".into())], &ctx()).unwrap_err();
    assert!(e.to_string().contains("[Distribution]"), "{e}");
}

fn load_err(yaml: &str) -> TemplateError {
    match load_str(yaml, &[], &ctx()) {
        Ok(app) => panic!("expected an error, got {app:?}"),
        Err(e) => e,
    }
}

#[test]
fn errors() {
    match load_err("Resources:\n  A: [unclosed\n") {
        TemplateError::Yaml { line, column, .. } => {
            assert!(line >= 2 && column > 0, "{line}:{column}")
        }
        e => panic!("{e}"),
    }
    let e = load_err(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          X: !Ref Nope\n",
    );
    assert_eq!(
        e.to_string(),
        "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template"
    );
    let e = load_err(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          X: !Sub '${Missing.Arn}'\n",
    );
    assert!(e.to_string().contains("[Missing]"), "{e}");
    let e = load_err(
        "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      DefinitionUri: statemachines/missing.asl.json\n",
    );
    match e {
        TemplateError::Resource {
            resource, property, ..
        } => {
            assert_eq!(
                (resource.as_str(), property.as_str()),
                ("M", "DefinitionUri")
            )
        }
        e => panic!("{e}"),
    }
    let e = load_err(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          X: !GetAtt T.Bogus\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: [{AttributeName: k, KeyType: HASH}]\n",
    );
    assert_eq!(
        e.to_string(),
        "Resource F, property Environment.Variables.X: attribute Bogus of T (AWS::DynamoDB::Table) is not available locally"
    );
    let e = load_err(
        "Parameters:\n  P:\n    Type: String\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    assert_eq!(e.to_string(), "Parameters: [P] must have values");
    let e = load_str(
        "Parameters:\n  P:\n    Type: String\n    Default: a\n    AllowedValues: [a, b]\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        &[("P".into(), "c".into())],
        &ctx(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("AllowedValues"), "{e}");
    let e = load_str(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        &[("X".into(), "1".into())],
        &ctx(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("[X] do not exist"), "{e}");
    let e = load_err(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      FifoQueue: true\n      QueueName: notfifo\n",
    );
    assert!(
        matches!(e, TemplateError::Resource { ref property, .. } if property == "QueueName"),
        "{e}"
    );
    let e = load_err(
        "Conditions:\n  A: !Condition B\n  B: !Condition A\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Condition: A\n",
    );
    assert!(e.to_string().contains("refers to itself"), "{e}");
    let e = load_err(
        "Resources:\n  T:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Bogus x\n",
    );
    assert!(e.to_string().contains("unknown tag !Bogus"), "{e}");
    assert!(matches!(
        load_err("Description: nothing\n"),
        TemplateError::Format(_)
    ));
    let missing = load(Path::new("/nonexistent/template.yaml"), &[], &ctx()).unwrap_err();
    assert!(matches!(missing, TemplateError::Io { .. }));
    assert!(parse_overrides("A='unterminated").is_err());
    assert!(parse_overrides("novalue").is_err());
}

#[test]
fn tolerates_unneeded_unresolvable_values() {
    // The IAM role's ImportValue and the unresolvable output do not stop loading.
    let app = app_with(&[]);
    assert!(!app.outputs.contains_key("Unresolvable"));
}

#[test]
fn no_panic_on_truncated_templates() {
    let text = std::fs::read_to_string(fixtures().join("app.yaml")).unwrap();
    let mut step = 0;
    for end in (0..text.len()).step_by(97) {
        if let Some(prefix) = text.get(..end) {
            let _ = load_str(prefix, &[], &ctx());
            step += 1;
        }
    }
    assert!(step > 50);
    for weird in [
        "Resources: 5",
        "Resources:\n  A: 5",
        "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties: [1]",
        "Resources:\n  A:\n    Type: AWS::ApiGatewayV2::Api\n    Properties:\n      ProtocolType: !If [X]",
        "Resources:\n  A:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events: {E: {Type: SQS}}",
        "Resources:\n  A:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment: {Variables: {X: !Select [9, [a]]}}",
        "Resources:\n  A:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment: {Variables: {X: !Join [[], x]}}",
        "[1, 2]",
        "",
    ] {
        let _ = load_str(weird, &[], &ctx());
    }
}

/// The project's real template, when it exists.
#[test]
fn real_template_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    if !path.exists() {
        eprintln!("no {} yet; skipped", path.display());
        return;
    }
    let mut c = ctx();
    c.template_dir = path.parent().unwrap().to_path_buf();
    let app = load(&path, &[], &c).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !app.apis.is_empty(),
        "the real template defines a WebSocket API"
    );
    let keys: Vec<&str> = app.apis[0]
        .routes
        .iter()
        .map(|r| r.route_key.as_str())
        .collect();
    for k in ["$connect", "$disconnect", "$default"] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
}

#[test]
fn lambda_proxy_resolves_the_exact_function() {
    let yaml = r#"
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Echo:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: echo, CodeUri: a}
  EchoAll:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: echo-all, CodeUri: b}
  R:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: all, Target: integrations/I}
  I:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${EchoAll.Arn}/invocations
"#;
    let app = load_str(yaml, &[], &ctx()).unwrap();
    assert_eq!(
        app.apis[0].routes[0].integration,
        Integration::LambdaProxy {
            function: "EchoAll".into()
        }
    );
    assert_eq!(app.apis[0].stage, "");
    let bad = yaml.replace(
        "${EchoAll.Arn}",
        "arn:aws:lambda:us-east-1:1:function:other",
    );
    let e = load_str(&bad, &[], &ctx()).unwrap_err();
    assert!(
        matches!(&e, TemplateError::Resource { resource, property, .. } if resource == "I" && property == "IntegrationUri"),
        "{e}"
    );
}

/// The YAML parser (saphyr) on hostile or unusual input: nesting past its limit, an alias
/// bomb, core-schema tags, anchors; each is a clear result, never a hang or a crash.
#[test]
fn hostile_and_unusual_yaml() {
    let deep = format!(
        "Resources: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    match load_err(&deep) {
        TemplateError::Yaml { message, .. } => assert!(message.contains("recursion"), "{message}"),
        e => panic!("{e}"),
    }
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let prev = ["a", "b", "c", "d", "e", "f", "g", "h"][i];
        let refs = vec![format!("*{prev}"); 10].join(", ");
        bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    let started = std::time::Instant::now();
    match load_err(&bomb) {
        TemplateError::Yaml { message, .. } => assert!(message.contains("alias"), "{message}"),
        e => panic!("{e}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    // Anchors and aliases, `!!str`, and short-form tags inside flow sequences.
    let app = load_str(
        "Parameters:\n  Stage: {Type: String, Default: !!str 1}\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: &props\n      Runtime: provided.al2023\n      Handler: bootstrap\n      CodeUri: lambdas/echo\n      Environment:\n        Variables:\n          STAGE: !Ref Stage\n          JOINED: !Join ['-', [a, !Ref Stage]]\n  G:\n    Type: AWS::Serverless::Function\n    Properties: *props\n",
        &[],
        &ctx(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(app.functions.len(), 2, "{app:?}");
    let env = |name: &str| {
        app.functions
            .iter()
            .find(|f| f.logical_id == name)
            .map(|f| f.environment.clone())
            .unwrap()
    };
    for name in ["F", "G"] {
        let env = env(name);
        assert_eq!(
            env.get("STAGE").map(String::as_str),
            Some("1"),
            "{name}: {env:?}"
        );
        assert_eq!(
            env.get("JOINED").map(String::as_str),
            Some("a-1"),
            "{name}: {env:?}"
        );
    }
}
