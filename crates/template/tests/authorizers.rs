//! Authorizers in templates: a plain `AWS::ApiGatewayV2::Authorizer` on `$connect` (switched by
//! a condition, as the app's `AuthMode` does), and SAM's `AWS::Serverless::WebSocketApi` `Auth`.

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

fn load(yaml: &str, overrides: &[(&str, &str)]) -> Result<App, TemplateError> {
    let o: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    load_str(yaml, &o, &ctx())
}

fn connect(app: &App) -> &Route {
    app.apis[0]
        .routes
        .iter()
        .find(|r| r.route_key == "$connect")
        .expect("$connect")
}

const PLAIN: &str = r#"
Parameters:
  AuthMode: {Type: String, Default: none, AllowedValues: [none, jwt]}
Conditions:
  Jwt: !Equals [!Ref AuthMode, jwt]
Resources:
  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}
  Stage: {Type: AWS::ApiGatewayV2::Stage, Properties: {ApiId: !Ref Api, StageName: api}}
  Fn: {Type: AWS::Serverless::Function, Properties: {CodeUri: x, Handler: bootstrap, Runtime: provided.al2023}}
  AuthFn:
    Type: AWS::Serverless::Function
    Condition: Jwt
    Properties: {CodeUri: y, Handler: bootstrap, Runtime: provided.al2023}
  Authorizer:
    Type: AWS::ApiGatewayV2::Authorizer
    Condition: Jwt
    Properties:
      ApiId: !Ref Api
      Name: JwtAuthorizer
      AuthorizerType: REQUEST
      AuthorizerUri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthFn.Arn}/invocations"
      IdentitySource: [route.request.querystring.token]
      AuthorizerResultTtlInSeconds: 0
  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      AuthorizationType: !If [Jwt, CUSTOM, NONE]
      AuthorizerId: !If [Jwt, !Ref Authorizer, !Ref AWS::NoValue]
      Target: !Sub "integrations/${ConnectIntegration}"
  ConnectIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
"#;

#[test]
fn a_conditional_authorizer_on_connect() {
    let off = load(PLAIN, &[]).unwrap();
    let r = connect(&off);
    assert_eq!(r.authorization_type, "NONE");
    assert_eq!(r.authorizer, None);
    assert!(off.functions.iter().all(|f| f.logical_id != "AuthFn"));

    let on = load(PLAIN, &[("AuthMode", "jwt")]).unwrap();
    let r = connect(&on);
    assert_eq!(r.authorization_type, "CUSTOM");
    assert_eq!(
        r.authorizer,
        Some(Authorizer {
            logical_id: "Authorizer".into(),
            name: "JwtAuthorizer".into(),
            authorizer_type: "REQUEST".into(),
            function: "AuthFn".into(),
            identity_sources: vec!["route.request.querystring.token".into()],
            result_ttl_seconds: Some(0),
        })
    );
}

#[test]
fn authorization_errors_name_the_resource() {
    let token = PLAIN.replace("AuthorizerType: REQUEST", "AuthorizerType: TOKEN");
    let e = load(&token, &[("AuthMode", "jwt")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("Authorizer") && e.contains("REQUEST"), "{e}");
    let no_id = PLAIN.replace(
        "AuthorizerId: !If [Jwt, !Ref Authorizer, !Ref AWS::NoValue]",
        "OperationName: x",
    );
    let e = load(&no_id, &[("AuthMode", "jwt")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ConnectRoute") && e.contains("AuthorizerId"),
        "{e}"
    );
    let jwt = PLAIN.replace("!If [Jwt, CUSTOM, NONE]", "JWT");
    let e = load(&jwt, &[]).unwrap_err().to_string();
    assert!(e.contains("HTTP APIs"), "{e}");
}

const SAM: &str = r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Mode: {Type: String, Default: CUSTOM}
Resources:
  Connect: {Type: AWS::Serverless::Function, Properties: {CodeUri: c, Handler: bootstrap, Runtime: provided.al2023}}
  Echo: {Type: AWS::Serverless::Function, Properties: {CodeUri: e, Handler: bootstrap, Runtime: provided.al2023}}
  Auth: {Type: AWS::Serverless::Function, Properties: {CodeUri: a, Handler: bootstrap, Runtime: provided.al2023}}
  Ws:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      StageName: dev
      Auth:
        AuthType: !Ref Mode
        AuthArn: !GetAtt Auth.Arn
        IdentitySource: [route.request.header.Authorization]
      Routes:
        $connect: {FunctionArn: !GetAtt Connect.Arn}
        echo: {FunctionArn: !GetAtt Echo.Arn, RouteResponseSelectionExpression: $default}
"#;

#[test]
fn sam_websocket_api_auth_expands_as_the_translator_does() {
    let app = load(SAM, &[]).unwrap();
    let api = &app.apis[0];
    assert_eq!(api.logical_id, "Ws");
    assert_eq!(api.name, "Ws");
    assert_eq!(api.stage, "dev");
    let r = connect(&app);
    assert_eq!(r.authorization_type, "CUSTOM");
    let a = r.authorizer.as_ref().expect("authorizer");
    assert_eq!(a.logical_id, "WsConnectAuthorizer");
    assert_eq!(a.name, "WsConnectAuthorizer");
    assert_eq!(a.function, "Auth");
    assert_eq!(a.identity_sources, ["route.request.header.Authorization"]);
    assert_eq!(
        r.integration,
        Integration::LambdaProxy {
            function: "Connect".into()
        }
    );
    let echo = api.routes.iter().find(|r| r.route_key == "echo").unwrap();
    assert!(echo.two_way);
    assert_eq!(echo.authorization_type, "NONE");

    let iam = SAM.replace(
        "        AuthArn: !GetAtt Auth.Arn\n        IdentitySource: [route.request.header.Authorization]\n",
        "",
    );
    let app = load(&iam, &[("Mode", "AWS_IAM")]).unwrap();
    assert_eq!(connect(&app).authorization_type, "AWS_IAM");
    assert_eq!(connect(&app).authorizer, None);
    let e = load(&iam, &[("Mode", "BASIC")]).unwrap_err().to_string();
    assert!(
        e.contains("AuthType 'BASIC' is not one of AWS_IAM, CUSTOM or NONE"),
        "{e}"
    );
}
