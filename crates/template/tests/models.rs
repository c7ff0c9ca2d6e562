//! Request models (`AWS::ApiGatewayV2::Model`, a route's `RequestModels` and
//! `ModelSelectionExpression`), MOCK integrations with their template selection, and
//! integration responses with response templates; and the errors naming the resource and
//! property a template gets wrong.

use std::collections::BTreeMap;

use serde_json::json;
use wsflow_template::*;

fn ctx() -> LocalContext {
    LocalContext {
        account: wsflow_aws_wire::Account::default(),
        stack_name: "wsflow".into(),
        endpoint: "http://127.0.0.1:3001".into(),
        api_id: "localapi01".into(),
        template_dir: std::env::temp_dir(),
    }
}

/// An API whose `send` route validates with `models` (YAML lines under `Resources:`) and
/// `route_extra` (YAML lines under the route's `Properties:`).
fn template(models: &str, route_extra: &str) -> String {
    format!(
        r#"
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: models
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Other:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: other
      ProtocolType: HTTP
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: dev
  SendRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: send
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${{MockIntegration}}
{route_extra}
  MockIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: MOCK
      TemplateSelectionExpression: \$default
      RequestTemplates:
        $default: '{{"statusCode": 200}}'
  MockResponse:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref Api
      IntegrationId: !Ref MockIntegration
      IntegrationResponseKey: /2\d\d/
      TemplateSelectionExpression: ${{request.body.format}}
      ResponseTemplates:
        $default: '{{"ok": true, "id": "$context.requestId"}}'
        short: ok
{models}
"#
    )
}

const EMAIL: &str = r#"
  EmailModel:
    Type: AWS::ApiGatewayV2::Model
    Properties:
      ApiId: !Ref Api
      Name: emailModel
      ContentType: application/json
      Schema:
        $schema: "http://json-schema.org/draft-04/schema#"
        type: object
        required: [address]
        properties:
          address: {type: string}
  AnyModel:
    Type: AWS::ApiGatewayV2::Model
    Properties:
      ApiId: !Ref Api
      Name: anyObject
      ContentType: application/json
      Schema: '{"type": "object"}'
"#;

fn load(yaml: &str) -> Result<App, TemplateError> {
    load_str(yaml, &[], &ctx())
}

fn send_route(app: &App) -> &Route {
    app.apis[0]
        .routes
        .iter()
        .find(|r| r.route_key == "send")
        .expect("send")
}

fn resource_error(e: TemplateError) -> (String, String, String) {
    match e {
        TemplateError::Resource {
            resource,
            property,
            message,
        } => (resource, property, message),
        e => panic!("not a resource error: {e}"),
    }
}

#[test]
fn request_models_by_name_and_by_ref() {
    let yaml = template(
        EMAIL,
        "      ModelSelectionExpression: ${request.body.messageType}\n      RequestModels:\n        email: emailModel\n        $default: !Ref AnyModel\n",
    );
    let app = load(&yaml).unwrap_or_else(|e| panic!("{e}"));
    let route = send_route(&app);
    assert_eq!(
        route.model_selection_expression.as_deref(),
        Some("${request.body.messageType}")
    );
    let keys: Vec<&str> = route.request_models.keys().map(String::as_str).collect();
    assert_eq!(keys, ["$default", "email"]);
    let email = &route.request_models["email"];
    assert_eq!(email.logical_id, "EmailModel");
    assert_eq!(email.name, "emailModel");
    assert_eq!(email.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        email.schema,
        json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "object",
            "required": ["address"],
            "properties": {"address": {"type": "string"}}
        })
    );
    // A schema given as JSON text is parsed.
    assert_eq!(route.request_models["$default"].name, "anyObject");
    assert_eq!(
        route.request_models["$default"].schema,
        json!({"type": "object"})
    );
}

#[test]
fn mock_and_integration_responses() {
    let app = load(&template("", "")).unwrap_or_else(|e| panic!("{e}"));
    let route = send_route(&app);
    assert!(route.two_way);
    assert_eq!(route.model_selection_expression, None);
    assert!(route.request_models.is_empty());
    assert_eq!(
        route.integration,
        Integration::Mock {
            request_templates: BTreeMap::from([(
                "$default".into(),
                r#"{"statusCode": 200}"#.into()
            )]),
            template_selection_expression: Some("\\$default".into()),
        }
    );
    assert_eq!(
        route.integration_responses,
        [IntegrationResponse {
            key: "/2\\d\\d/".into(),
            templates: BTreeMap::from([
                (
                    "$default".into(),
                    r#"{"ok": true, "id": "$context.requestId"}"#.into()
                ),
                ("short".into(), "ok".into()),
            ]),
            template_selection_expression: Some("${request.body.format}".into()),
            content_handling: None,
        }]
    );
}

#[test]
fn a_schema_that_does_not_compile_names_the_model() {
    for (schema, needle) in [
        ("{type: 12}", "JSON Schema (draft 4)"),
        ("{type: string, pattern: '('}", "JSON Schema (draft 4)"),
        (
            "{$ref: 'https://apigateway.amazonaws.com/restapis/x/models/y'}",
            "JSON Schema (draft 4)",
        ),
        ("'{not json'", "not JSON"),
        ("[1, 2]", "is an object"),
    ] {
        let models = format!(
            "  BadModel:\n    Type: AWS::ApiGatewayV2::Model\n    Properties:\n      ApiId: !Ref Api\n      Name: bad\n      Schema: {schema}\n"
        );
        let e = load(&template(&models, "")).expect_err(schema);
        let (resource, property, message) = resource_error(e);
        assert_eq!(
            (resource.as_str(), property.as_str()),
            ("BadModel", "Schema")
        );
        assert!(message.contains(needle), "{schema}: {message}");
    }
    let missing = "  NoSchema:\n    Type: AWS::ApiGatewayV2::Model\n    Properties:\n      ApiId: !Ref Api\n      Name: none\n";
    let (resource, property, _) = resource_error(load(&template(missing, "")).unwrap_err());
    assert_eq!(
        (resource.as_str(), property.as_str()),
        ("NoSchema", "Schema")
    );
    let unnamed = "  NoName:\n    Type: AWS::ApiGatewayV2::Model\n    Properties:\n      ApiId: !Ref Api\n      Schema: {type: object}\n";
    let (resource, property, _) = resource_error(load(&template(unnamed, "")).unwrap_err());
    assert_eq!((resource.as_str(), property.as_str()), ("NoName", "Name"));
}

#[test]
fn request_models_must_name_a_model_of_the_api() {
    let other_api_model = "  Elsewhere:\n    Type: AWS::ApiGatewayV2::Model\n    Properties:\n      ApiId: !Ref Other\n      Name: elsewhere\n      Schema: {type: object}\n";
    for (models, route_extra) in [
        (
            EMAIL,
            "      ModelSelectionExpression: \\$default\n      RequestModels:\n        $default: nosuchModel\n",
        ),
        (
            other_api_model,
            "      ModelSelectionExpression: \\$default\n      RequestModels:\n        $default: elsewhere\n",
        ),
        (
            other_api_model,
            "      ModelSelectionExpression: \\$default\n      RequestModels:\n        $default: !Ref Elsewhere\n",
        ),
    ] {
        let e = load(&template(models, route_extra)).expect_err(route_extra);
        let (resource, property, message) = resource_error(e);
        assert_eq!(
            (resource.as_str(), property.as_str()),
            ("SendRoute", "RequestModels.$default")
        );
        assert!(
            message.contains("names no AWS::ApiGatewayV2::Model"),
            "{message}"
        );
    }
    let e = load(&template(EMAIL, "      RequestModels: emailModel\n")).unwrap_err();
    let (resource, property, _) = resource_error(e);
    assert_eq!(
        (resource.as_str(), property.as_str()),
        ("SendRoute", "RequestModels")
    );
}

#[test]
fn an_integration_response_needs_a_key() {
    let yaml = template("", "").replace("      IntegrationResponseKey: /2\\d\\d/\n", "");
    let (resource, property, _) = resource_error(load(&yaml).unwrap_err());
    assert_eq!(
        (resource.as_str(), property.as_str()),
        ("MockResponse", "IntegrationResponseKey")
    );
}

#[test]
fn deep_schemas_load_or_fail_without_panicking() {
    // YAML nests at most 255 levels; a schema as deep as that either compiles or is an error,
    // on a 2 MiB stack like the stack's threads.
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            for depth in [50, 120, 250] {
                let mut schema = String::from("{type: object}");
                for _ in 0..depth {
                    schema = format!("{{properties: {{a: {schema}}}}}");
                }
                let models = format!(
                    "  Deep:\n    Type: AWS::ApiGatewayV2::Model\n    Properties:\n      ApiId: !Ref Api\n      Name: deep\n      Schema: {schema}\n"
                );
                match load(&template(&models, "")) {
                    Ok(app) => assert_eq!(app.apis.len(), 1),
                    Err(e) => {
                        let text = e.to_string();
                        assert!(text.contains("Deep") || text.contains("YAML"), "{text}");
                    }
                }
            }
        })
        .unwrap()
        .join()
        .expect("no panic, no stack overflow");
}
