//! `AWS::Serverless::WebSocketApi` expanded into the plain CloudFormation resources SAM's
//! translator generates (aws-sam-translator 1.115, `SamWebSocketApi` + `WebSocketApiGenerator`).
//!
//! Covered, with the translator's logical ids, properties and texts:
//! * the property checks of the SAM resource ([`super::properties`]);
//! * the API itself (same logical id; `Name` defaults to the logical id; `ProtocolType
//!   WEBSOCKET`, `RouteSelectionExpression`, `ApiKeySelectionExpression`, `Description`,
//!   `DisableExecuteApiEndpoint`, `DisableSchemaValidation`, `IpAddressType` (`ipv4` or
//!   `dualstack`), `Tags` plus SAM's `websocketapi:createdBy: SAM`), with the resource's
//!   `DependsOn`;
//! * the stage: `<Id><StageName>Stage` (`<Id>DefaultStage` when `StageName` is absent or
//!   `default`, the stage then being `default`; `<Id>Stage` when it is an intrinsic);
//!   `StageVariables`, `AccessLogSettings`, `DefaultRouteSettings`, `RouteSettings` (the stage
//!   then depends on the routes), `AutoDeploy`, SAM's tag;
//! * per route key (`$connect` → `Connect`, alphanumeric keys capitalised as Python's
//!   `str.capitalize`): `<Id><Key>Route` (`ApiKeyRequired`, `ModelSelectionExpression`,
//!   `OperationName`, `RequestModels`, `RequestParameters` (`$connect` only),
//!   `RouteResponseSelectionExpression`) and `<Id><Key>Integration` (`AWS_PROXY` to the
//!   route's `FunctionArn`, `TimeoutInMillis` from `IntegrationTimeout`);
//! * `Auth`: `AuthType: CUSTOM` → `<Id>ConnectAuthorizer` (`REQUEST`, `AuthorizerUri` from
//!   `AuthArn`, `IdentitySource`, `Name`, `AuthorizerCredentialsArn` from `InvokeRole`) and
//!   `$connect`'s `AuthorizationType: CUSTOM` + `AuthorizerId`; `AWS_IAM` / `NONE` → that
//!   `AuthorizationType` on `$connect`;
//! * `PropagateTags: true` → `Tags` on the API and the stage (with SAM's tag);
//! * parameter `Ref`s and `${Param}`s in `Fn::Sub` inside `Auth` and `Routes` resolved first,
//!   as the translator does (pseudo parameters `AWS::Region`, `AWS::Partition` included).
//!
//! As in the translator, the SAM resource's `Condition`, `DeletionPolicy`,
//! `UpdateReplacePolicy` and `Metadata` are not carried to the generated resources, and
//! `FailOnWarnings` is accepted and dropped.
//!
//! Not generated (nothing local uses them): the Lambda permissions, and `Domain` (custom
//! domain name, base path mapping, Route 53 records): the local stack serves one loopback
//! endpoint.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::properties::{Kind, Prop, validate};
use super::{invalid, resolve_parameter_refs, truthy};
use crate::TemplateError;

/// The SAM resource type.
pub(crate) const TYPE: &str = "AWS::Serverless::WebSocketApi";

/// SAM's tag on the API and the stage.
const TAG: &str = "websocketapi:createdBy";

/// `SamWebSocketApi.property_types`, in order.
const PROPERTIES: &[Prop] = &[
    prop("ApiKeySelectionExpression", false, Kind::Str),
    prop("AccessLogSettings", false, Kind::Map),
    prop("Auth", false, Kind::Map),
    prop("DefaultRouteSettings", false, Kind::Map),
    prop("Description", false, Kind::Str),
    prop("DisableExecuteApiEndpoint", false, Kind::Bool),
    prop("Domain", false, Kind::Map),
    prop("DisableSchemaValidation", false, Kind::Bool),
    prop("FailOnWarnings", false, Kind::Bool),
    prop("IpAddressType", false, Kind::Str),
    prop("Name", false, Kind::Str),
    prop("PropagateTags", false, Kind::Bool),
    prop("Routes", true, Kind::Map),
    prop("RouteSettings", false, Kind::Map),
    prop("RouteSelectionExpression", true, Kind::Str),
    prop("StageName", false, Kind::StrOrMap),
    prop("StageVariables", false, Kind::Map),
    prop("Tags", false, Kind::Map),
];

const fn prop(name: &'static str, required: bool, kind: Kind) -> Prop {
    Prop {
        name,
        required,
        kind,
    }
}

/// `$connect` → `Connect`; `echo` → `Echo`.
fn sanitize_route_key(id: &str, key: &str) -> Result<String, TemplateError> {
    if matches!(key, "$connect" | "$disconnect" | "$default") {
        return Ok(capitalize(&key[1..]));
    }
    // Python's `str.isalnum` (Unicode letters and digits).
    if !key.is_empty() && key.chars().all(char::is_alphanumeric) {
        return Ok(capitalize(key));
    }
    Err(invalid(
        id,
        &format!(
            "Route key '{key}' must be alphanumeric. Only $connect, $disconnect, and $default special routes are supported."
        ),
    ))
}

/// Python's `str.capitalize`: first letter upper, the rest lower.
fn capitalize(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(f) => f
            .to_uppercase()
            .chain(cs.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// The translator's `_validate_auth`, run for each route when `Auth` is set.
fn validate_auth(id: &str, auth: &Map<String, Value>) -> Result<(), TemplateError> {
    let Some(auth_type) = auth.get("AuthType").filter(|v| truthy(Some(v))) else {
        return Err(invalid(
            id,
            "AuthType must be specified for additional auth configurations.",
        ));
    };
    match auth_type.as_str() {
        Some("CUSTOM") if !truthy(auth.get("AuthArn")) => Err(invalid(
            id,
            "AuthArn must be specified if AuthType is CUSTOM.",
        )),
        Some(t @ ("AWS_IAM" | "NONE")) if auth.len() > 1 => Err(invalid(
            id,
            &format!("No additional configurations supported for AuthType {t}."),
        )),
        Some("CUSTOM" | "AWS_IAM" | "NONE") => Ok(()),
        other => {
            let shown = other.map_or_else(|| auth_type.to_string(), str::to_string);
            Err(invalid(
                id,
                &format!("AuthType '{shown}' is not one of AWS_IAM, CUSTOM or NONE."),
            ))
        }
    }
}

/// Copies `keys` of `from` that are set (not null) into `to`.
fn copy_set(from: &Map<String, Value>, to: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(v) = from.get(*k).filter(|v| !v.is_null()) {
            to.insert((*k).into(), v.clone());
        }
    }
}

fn resource(kind: &str, props: Map<String, Value>) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("Type".into(), kind.into());
    r.insert("Properties".into(), Value::Object(props));
    r
}

/// The resources generated for the WebSocketApi `id`.
pub(crate) fn expand(
    id: &str,
    sam: &Value,
    params: &BTreeMap<String, Value>,
) -> Result<Vec<(String, Value)>, TemplateError> {
    let empty = Map::new();
    let props = sam
        .get("Properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    validate(id, TYPE, props, PROPERTIES)?;
    let auth = props
        .get("Auth")
        .filter(|v| !v.is_null())
        .map(|a| resolve_parameter_refs(a, params));
    let auth = match auth {
        Some(Value::Object(a)) => Some(a),
        Some(_) => return Err(invalid(id, "Property 'Auth' should be a map.")),
        None => None,
    };
    let routes = match props
        .get("Routes")
        .map(|r| resolve_parameter_refs(r, params))
    {
        Some(Value::Object(r)) => r,
        _ => return Err(invalid(id, "Property 'Routes' should be a map.")),
    };
    if routes.is_empty() {
        return Err(invalid(id, "WebSocket API must have at least one route."));
    }
    if let Some(Value::String(ip)) = props.get("IpAddressType")
        && ip != "ipv4"
        && ip != "dualstack"
    {
        return Err(invalid(id, "IpAddressType must be 'ipv4' or 'dualstack'."));
    }
    let mut out = Vec::new();

    // The API.
    let mut api = Map::new();
    copy_set(
        props,
        &mut api,
        &[
            "ApiKeySelectionExpression",
            "Description",
            "DisableExecuteApiEndpoint",
            "DisableSchemaValidation",
            "IpAddressType",
        ],
    );
    if auth.is_some() && !routes.contains_key("$connect") {
        return Err(invalid(
            id,
            "Authorization is only available if there is a $connect route.",
        ));
    }
    api.insert(
        "Name".into(),
        props
            .get("Name")
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| id.into()),
    );
    api.insert(
        "RouteSelectionExpression".into(),
        props["RouteSelectionExpression"].clone(),
    );
    let mut tags = match props.get("Tags") {
        Some(Value::Object(t)) => t.clone(),
        _ => Map::new(),
    };
    tags.insert(TAG.into(), "SAM".into());
    api.insert("Tags".into(), Value::Object(tags.clone()));
    api.insert("ProtocolType".into(), "WEBSOCKET".into());
    let mut api = resource("AWS::ApiGatewayV2::Api", api);
    if let Some(d) = sam.get("DependsOn") {
        api.insert("DependsOn".into(), d.clone());
    }
    out.push((id.to_string(), Value::Object(api)));

    // The stage.
    let stage_name = props
        .get("StageName")
        .filter(|v| !v.is_null())
        .cloned()
        .unwrap_or_else(|| "default".into());
    if stage_name == "$default" {
        return Err(invalid(
            id,
            "Stages cannot be named $default for WebSocket APIs.",
        ));
    }
    let stage_id = match stage_name.as_str() {
        Some("default") => format!("{id}DefaultStage"),
        Some(s) => format!("{id}{s}Stage"),
        None => format!("{id}Stage"),
    };
    let mut stage = Map::new();
    stage.insert("ApiId".into(), json!({"Ref": id}));
    stage.insert("StageName".into(), stage_name);
    copy_set(
        props,
        &mut stage,
        &[
            "StageVariables",
            "AccessLogSettings",
            "DefaultRouteSettings",
        ],
    );
    let propagate =
        props.get("PropagateTags") == Some(&Value::Bool(true)) && truthy(props.get("Tags"));
    let stage_tags = if propagate {
        Value::Object(tags)
    } else {
        json!({TAG: "SAM"})
    };
    stage.insert("Tags".into(), stage_tags);
    stage.insert("AutoDeploy".into(), true.into());
    copy_set(props, &mut stage, &["RouteSettings"]);
    let mut stage = resource("AWS::ApiGatewayV2::Stage", stage);

    // The routes and their integrations.
    let authorizer_id = format!("{id}ConnectAuthorizer");
    let mut authorizer = None;
    let mut route_ids = Vec::new();
    for (key, spec) in &routes {
        let clean = sanitize_route_key(id, key)?;
        let route_id = format!("{id}{clean}Route");
        let integration_id = format!("{id}{clean}Integration");
        let empty = Map::new();
        let spec = spec.as_object().unwrap_or(&empty);
        let mut route = Map::new();
        route.insert("RouteKey".into(), key.as_str().into());
        route.insert("ApiId".into(), json!({"Ref": id}));
        copy_set(
            spec,
            &mut route,
            &[
                "ApiKeyRequired",
                "ModelSelectionExpression",
                "OperationName",
                "RequestModels",
            ],
        );
        if truthy(spec.get("RequestParameters")) {
            if key != "$connect" {
                return Err(invalid(
                    id,
                    "Request parameters are only supported for the $connect route in WebSocket APIs.",
                ));
            }
            route.insert(
                "RequestParameters".into(),
                spec["RequestParameters"].clone(),
            );
        }
        copy_set(spec, &mut route, &["RouteResponseSelectionExpression"]);
        route.insert(
            "Target".into(),
            json!({"Fn::Join": ["/", ["integrations", {"Ref": integration_id}]]}),
        );
        if let Some(a) = &auth {
            validate_auth(id, a)?;
            if key == "$connect" {
                match a.get("AuthType").and_then(Value::as_str) {
                    Some("CUSTOM") => {
                        route.insert("AuthorizationType".into(), "CUSTOM".into());
                        route.insert("AuthorizerId".into(), json!({"Ref": authorizer_id}));
                        authorizer = Some(connect_authorizer(id, &authorizer_id, a));
                    }
                    Some("AWS_IAM") => {
                        route.insert("AuthorizationType".into(), "AWS_IAM".into());
                    }
                    _ => {
                        route.insert("AuthorizationType".into(), "NONE".into());
                    }
                }
            }
        }
        let Some(function_arn) = spec.get("FunctionArn") else {
            return Err(invalid(id, "Route must have associated function."));
        };
        let mut integration = Map::new();
        integration.insert("ApiId".into(), json!({"Ref": id}));
        integration.insert("IntegrationType".into(), "AWS_PROXY".into());
        integration.insert(
            "IntegrationUri".into(),
            json!({"Fn::Sub": [
                "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${FunctionArn}/invocations",
                {"FunctionArn": function_arn}
            ]}),
        );
        if let Some(t) = spec.get("IntegrationTimeout").filter(|v| !v.is_null()) {
            integration.insert("TimeoutInMillis".into(), t.clone());
        }
        out.push((
            route_id.clone(),
            Value::Object(resource("AWS::ApiGatewayV2::Route", route)),
        ));
        out.push((
            integration_id,
            Value::Object(resource("AWS::ApiGatewayV2::Integration", integration)),
        ));
        route_ids.push(Value::String(route_id));
    }
    if truthy(props.get("RouteSettings")) && !route_ids.is_empty() {
        stage.insert("DependsOn".into(), Value::Array(route_ids));
    }
    out.push((stage_id, Value::Object(stage)));
    if let Some(a) = authorizer {
        out.push((authorizer_id, a));
    }
    Ok(out)
}

/// `<Id>ConnectAuthorizer`, the `REQUEST` authorizer `Auth` with `AuthType: CUSTOM` makes.
fn connect_authorizer(id: &str, authorizer_id: &str, auth: &Map<String, Value>) -> Value {
    let mut a = Map::new();
    a.insert("ApiId".into(), json!({"Ref": id}));
    if let Some(role) = auth.get("InvokeRole").filter(|v| !v.is_null()) {
        a.insert("AuthorizerCredentialsArn".into(), role.clone());
    }
    a.insert("AuthorizerType".into(), "REQUEST".into());
    a.insert(
        "AuthorizerUri".into(),
        json!({"Fn::Sub": [
            "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthArn}/invocations",
            {"AuthArn": auth["AuthArn"]}
        ]}),
    );
    if let Some(s) = auth.get("IdentitySource").filter(|v| !v.is_null()) {
        a.insert("IdentitySource".into(), s.clone());
    }
    let name = match auth.get("Name") {
        Some(n) if truthy(Some(n)) => n.clone(),
        _ => authorizer_id.into(),
    };
    a.insert("Name".into(), name);
    Value::Object(resource("AWS::ApiGatewayV2::Authorizer", a))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_and_validation() {
        assert_eq!(sanitize_route_key("A", "$connect").unwrap(), "Connect");
        assert_eq!(
            sanitize_route_key("A", "sendMessage").unwrap(),
            "Sendmessage"
        );
        assert!(sanitize_route_key("A", "sync_sfn").is_err());
        let params = BTreeMap::new();
        let no_connect = json!({"Type": TYPE, "Properties": {
            "RouteSelectionExpression": "$request.body.action",
            "Routes": {"echo": {"FunctionArn": "arn"}},
            "Auth": {"AuthType": "AWS_IAM"}}});
        let e = expand("Ws", &no_connect, &params).unwrap_err().to_string();
        assert!(
            e.contains("only available if there is a $connect route"),
            "{e}"
        );
        let custom_without_arn = json!({"Type": TYPE, "Properties": {
            "RouteSelectionExpression": "$request.body.action",
            "Routes": {"$connect": {"FunctionArn": "arn"}},
            "Auth": {"AuthType": "CUSTOM"}}});
        let e = expand("Ws", &custom_without_arn, &params)
            .unwrap_err()
            .to_string();
        assert!(e.contains("AuthArn must be specified"), "{e}");
        let iam_extra = json!({"Type": TYPE, "Properties": {
            "RouteSelectionExpression": "$request.body.action",
            "Routes": {"$connect": {"FunctionArn": "arn"}},
            "Auth": {"AuthType": "AWS_IAM", "IdentitySource": ["x"]}}});
        assert!(expand("Ws", &iam_extra, &params).is_err());
        let no_routes =
            json!({"Type": TYPE, "Properties": {"RouteSelectionExpression": "x", "Routes": {}}});
        assert!(expand("Ws", &no_routes, &params).is_err());
    }

    #[test]
    fn custom_auth_generates_the_translators_resources() {
        let mut params = BTreeMap::new();
        params.insert("Mode".to_string(), Value::from("CUSTOM"));
        let sam = json!({"Type": TYPE, "Condition": "On", "Properties": {
            "RouteSelectionExpression": "$request.body.action",
            "StageName": "api",
            "Routes": {"$connect": {"FunctionArn": {"Fn::GetAtt": ["F", "Arn"]}},
                       "echo": {"FunctionArn": "arn", "RouteResponseSelectionExpression": "$default"}},
            "Auth": {"AuthType": {"Ref": "Mode"}, "AuthArn": {"Fn::GetAtt": ["A", "Arn"]},
                     "IdentitySource": ["route.request.querystring.token"]}}});
        let out: Map<String, Value> = expand("Ws", &sam, &params).unwrap().into_iter().collect();
        // Sorted: serde_json's map order depends on workspace features (preserve_order).
        let mut ids: Vec<&str> = out.keys().map(String::as_str).collect();
        ids.sort_unstable();
        assert_eq!(
            ids,
            [
                "Ws",
                "WsConnectAuthorizer",
                "WsConnectIntegration",
                "WsConnectRoute",
                "WsEchoIntegration",
                "WsEchoRoute",
                "WsapiStage"
            ]
        );
        let connect = &out["WsConnectRoute"]["Properties"];
        assert_eq!(connect["AuthorizationType"], "CUSTOM");
        assert_eq!(
            connect["AuthorizerId"],
            json!({"Ref": "WsConnectAuthorizer"})
        );
        assert!(
            out["WsEchoRoute"]["Properties"]
                .get("AuthorizationType")
                .is_none()
        );
        let auth = &out["WsConnectAuthorizer"]["Properties"];
        assert_eq!(auth["AuthorizerType"], "REQUEST");
        assert_eq!(auth["Name"], "WsConnectAuthorizer");
        assert_eq!(
            auth["IdentitySource"],
            json!(["route.request.querystring.token"])
        );
        // As in the translator, the SAM resource's Condition is not carried over.
        assert!(out.values().all(|r| r.get("Condition").is_none()));
    }
}
