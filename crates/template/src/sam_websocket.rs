//! `AWS::Serverless::WebSocketApi` expanded into the plain CloudFormation resources SAM's
//! translator generates (aws-sam-translator 1.110, `WebSocketApiGenerator`), before anything
//! else reads the template, so the rest of the loader sees only `AWS::ApiGatewayV2::*`.
//!
//! Covered, with the translator's logical ids:
//! * the API itself (same logical id; `Name` defaults to the logical id; `ProtocolType
//!   WEBSOCKET`, `RouteSelectionExpression`, `ApiKeySelectionExpression`);
//! * the stage: `<Id><StageName>Stage` (`<Id>DefaultStage` when `StageName` is absent, the
//!   stage then being `default`); `StageVariables`;
//! * per route key (`$connect` → `Connect`, alphanumeric keys capitalised): `<Id><Key>Route`
//!   and `<Id><Key>Integration` (`AWS_PROXY` to the route's `FunctionArn`), with
//!   `OperationName` and `RouteResponseSelectionExpression`;
//! * `Auth` on `$connect`: `AuthType: CUSTOM` → `<Id>ConnectAuthorizer` (`REQUEST`,
//!   `AuthorizerUri` from `AuthArn`, `IdentitySource`, `Name`), the route's
//!   `AuthorizationType: CUSTOM` and `AuthorizerId`; `AWS_IAM` / `NONE` → that
//!   `AuthorizationType`. `Auth`'s parameter `Ref`s are resolved first, as the translator
//!   does. The translator's validation errors are reproduced (no routes, `Auth` without
//!   `$connect`, an unknown `AuthType`, `CUSTOM` without `AuthArn`, extra keys with
//!   `AWS_IAM`/`NONE`, a non-alphanumeric route key).
//! * a `Condition` on the SAM resource is copied to every generated resource.
//!
//! Not generated (nothing local uses them): Lambda permissions, `Domain`/Route 53, access
//! logs, route settings, tags.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::TemplateError;

const TYPE: &str = "AWS::Serverless::WebSocketApi";

fn invalid(id: &str, message: &str) -> TemplateError {
    TemplateError::Resource {
        resource: id.to_string(),
        property: String::new(),
        message: format!("Resource with id [{id}] is invalid. {message}"),
    }
}

/// Replaces every `AWS::Serverless::WebSocketApi` in `resources` by its expansion.
pub(crate) fn expand(
    resources: &mut Map<String, Value>,
    params: &BTreeMap<String, Value>,
) -> Result<(), TemplateError> {
    let ids: Vec<String> = resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(TYPE))
        .map(|(id, _)| id.clone())
        .collect();
    for id in ids {
        let Some(sam) = resources.remove(&id) else {
            continue;
        };
        for (new_id, resource) in expand_one(&id, &sam, params)? {
            if resources.contains_key(&new_id) {
                return Err(invalid(
                    &id,
                    &format!(
                        "the generated resource {new_id} clashes with a resource of the template"
                    ),
                ));
            }
            resources.insert(new_id, resource);
        }
    }
    Ok(())
}

/// `{"Ref": <parameter>}` anywhere in `v` replaced by the parameter's value.
fn resolve_parameter_refs(v: &Value, params: &BTreeMap<String, Value>) -> Value {
    match v {
        Value::Object(m) if m.len() == 1 => match m.get("Ref").and_then(Value::as_str) {
            Some(name) if params.contains_key(name) => params[name].clone(),
            _ => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), resolve_parameter_refs(x, params)))
                    .collect(),
            ),
        },
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), resolve_parameter_refs(x, params)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| resolve_parameter_refs(x, params))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `$connect` → `Connect`; `echo` → `Echo`.
fn sanitize_route_key(id: &str, key: &str) -> Result<String, TemplateError> {
    if matches!(key, "$connect" | "$disconnect" | "$default") {
        return Ok(capitalize(&key[1..]));
    }
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()) {
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

fn expand_one(
    id: &str,
    sam: &Value,
    params: &BTreeMap<String, Value>,
) -> Result<Vec<(String, Value)>, TemplateError> {
    let empty = Map::new();
    let props = sam
        .get("Properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let condition = sam.get("Condition").cloned();
    let with_condition = |mut r: Value| {
        if let (Some(c), Some(obj)) = (&condition, r.as_object_mut()) {
            obj.insert("Condition".into(), c.clone());
        }
        r
    };
    let routes = match props.get("Routes") {
        Some(Value::Object(r)) if !r.is_empty() => r,
        _ => return Err(invalid(id, "WebSocket API must have at least one route.")),
    };
    let Some(rse) = props.get("RouteSelectionExpression") else {
        return Err(invalid(
            id,
            "Missing required property 'RouteSelectionExpression'.",
        ));
    };
    let auth = props.get("Auth").map(|a| resolve_parameter_refs(a, params));
    let auth = match auth {
        Some(Value::Object(a)) => Some(a),
        Some(_) => return Err(invalid(id, "Property 'Auth' should be a map.")),
        None => None,
    };
    if auth.is_some() && !routes.contains_key("$connect") {
        return Err(invalid(
            id,
            "Authorization is only available if there is a $connect route.",
        ));
    }
    let auth_type = match &auth {
        None => None,
        Some(a) => {
            let Some(t) = a.get("AuthType").and_then(Value::as_str) else {
                return Err(invalid(
                    id,
                    "AuthType must be specified for additional auth configurations.",
                ));
            };
            // Validated upper-cased, applied as written (the translator compares the raw
            // value with CUSTOM / AWS_IAM, so `custom` passes validation and yields NONE).
            let upper = t.to_ascii_uppercase();
            match upper.as_str() {
                "CUSTOM" if !a.contains_key("AuthArn") => {
                    return Err(invalid(
                        id,
                        "AuthArn must be specified if AuthType is CUSTOM.",
                    ));
                }
                "AWS_IAM" | "NONE" if a.len() > 1 => {
                    return Err(invalid(
                        id,
                        &format!("No additional configurations supported for AuthType {upper}."),
                    ));
                }
                "CUSTOM" | "AWS_IAM" | "NONE" => {}
                _ => {
                    return Err(invalid(
                        id,
                        "AuthType is not one of AWS_IAM, CUSTOM or NONE.",
                    ));
                }
            }
            Some(t.to_string())
        }
    };

    let mut out = Vec::new();
    let mut api = Map::new();
    api.insert(
        "Name".into(),
        props.get("Name").cloned().unwrap_or_else(|| id.into()),
    );
    api.insert("ProtocolType".into(), "WEBSOCKET".into());
    api.insert("RouteSelectionExpression".into(), rse.clone());
    for k in [
        "ApiKeySelectionExpression",
        "Description",
        "DisableSchemaValidation",
    ] {
        if let Some(v) = props.get(k) {
            api.insert(k.into(), v.clone());
        }
    }
    out.push((
        id.to_string(),
        with_condition(json!({"Type": "AWS::ApiGatewayV2::Api", "Properties": api})),
    ));

    let stage_name = props.get("StageName").cloned();
    if stage_name.as_ref().and_then(Value::as_str) == Some("$default") {
        return Err(invalid(
            id,
            "Stages cannot be named $default for WebSocket APIs.",
        ));
    }
    let stage_id = match stage_name.as_ref().and_then(Value::as_str) {
        None if stage_name.is_none() => format!("{id}DefaultStage"),
        Some("default") => format!("{id}DefaultStage"),
        Some(s) => format!("{id}{s}Stage"),
        None => format!("{id}Stage"),
    };
    let mut stage = json!({
        "ApiId": {"Ref": id},
        "StageName": stage_name.unwrap_or_else(|| "default".into()),
        "AutoDeploy": true,
    });
    if let Some(v) = props.get("StageVariables") {
        stage["StageVariables"] = v.clone();
    }
    out.push((
        stage_id,
        with_condition(json!({"Type": "AWS::ApiGatewayV2::Stage", "Properties": stage})),
    ));

    let authorizer_id = format!("{id}ConnectAuthorizer");
    for (key, spec) in routes {
        let clean = sanitize_route_key(id, key)?;
        let route_id = format!("{id}{clean}Route");
        let integration_id = format!("{id}{clean}Integration");
        let Some(function_arn) = spec.get("FunctionArn") else {
            return Err(invalid(id, "Route must have associated function."));
        };
        let mut route = json!({
            "ApiId": {"Ref": id},
            "RouteKey": key,
            "Target": {"Fn::Join": ["/", ["integrations", {"Ref": integration_id}]]},
        });
        for k in [
            "OperationName",
            "RouteResponseSelectionExpression",
            "ApiKeyRequired",
        ] {
            if let Some(v) = spec.get(k) {
                route[k] = v.clone();
            }
        }
        if key == "$connect" {
            match auth_type.as_deref() {
                Some("CUSTOM") => {
                    route["AuthorizationType"] = "CUSTOM".into();
                    route["AuthorizerId"] = json!({"Ref": authorizer_id});
                }
                Some("AWS_IAM") => route["AuthorizationType"] = "AWS_IAM".into(),
                Some(_) => route["AuthorizationType"] = "NONE".into(),
                None => {}
            }
        }
        out.push((
            route_id,
            with_condition(json!({"Type": "AWS::ApiGatewayV2::Route", "Properties": route})),
        ));
        let mut integration = json!({
            "ApiId": {"Ref": id},
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": {"Fn::Sub": [
                "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${FunctionArn}/invocations",
                {"FunctionArn": function_arn}
            ]},
        });
        if let Some(t) = spec.get("IntegrationTimeout") {
            integration["TimeoutInMillis"] = t.clone();
        }
        out.push((
            integration_id,
            with_condition(
                json!({"Type": "AWS::ApiGatewayV2::Integration", "Properties": integration}),
            ),
        ));
    }

    if let (Some(a), Some("CUSTOM")) = (&auth, auth_type.as_deref()) {
        let mut authorizer = json!({
            "ApiId": {"Ref": id},
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": {"Fn::Sub": [
                "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthArn}/invocations",
                {"AuthArn": a["AuthArn"]}
            ]},
            "Name": a.get("Name").cloned().unwrap_or_else(|| authorizer_id.clone().into()),
        });
        if let Some(s) = a.get("IdentitySource") {
            authorizer["IdentitySource"] = s.clone();
        }
        if let Some(r) = a.get("InvokeRole") {
            authorizer["AuthorizerCredentialsArn"] = r.clone();
        }
        out.push((
            authorizer_id,
            with_condition(
                json!({"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": authorizer}),
            ),
        ));
    }
    Ok(out)
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
        let e = expand_one("Ws", &no_connect, &params)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("only available if there is a $connect route"),
            "{e}"
        );
        let custom_without_arn = json!({"Type": TYPE, "Properties": {
            "RouteSelectionExpression": "$request.body.action",
            "Routes": {"$connect": {"FunctionArn": "arn"}},
            "Auth": {"AuthType": "CUSTOM"}}});
        let e = expand_one("Ws", &custom_without_arn, &params)
            .unwrap_err()
            .to_string();
        assert!(e.contains("AuthArn must be specified"), "{e}");
        let iam_extra = json!({"Type": TYPE, "Properties": {
            "RouteSelectionExpression": "$request.body.action",
            "Routes": {"$connect": {"FunctionArn": "arn"}},
            "Auth": {"AuthType": "AWS_IAM", "IdentitySource": ["x"]}}});
        assert!(expand_one("Ws", &iam_extra, &params).is_err());
        let no_routes =
            json!({"Type": TYPE, "Properties": {"RouteSelectionExpression": "x", "Routes": {}}});
        assert!(expand_one("Ws", &no_routes, &params).is_err());
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
        let out: Map<String, Value> = expand_one("Ws", &sam, &params)
            .unwrap()
            .into_iter()
            .collect();
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
        assert!(out.values().all(|r| r["Condition"] == "On"));
    }
}
