//! wsflow's expansion of SAM resources compared with the SAM transform itself: aws-sam-translator
//! (PyPI, 1.115 or later, which `.ci/run` installs) runs on the same templates through
//! `tests/sam/translate.py`, and every generated `AWS::ApiGatewayV2::*` and
//! `AWS::DynamoDB::Table` resource must be identical, property by property; a template the
//! translator refuses must be refused by wsflow with the translator's text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};
use wsflow_aws_wire::Account;

/// The resource types wsflow generates from SAM resources, compared one to one.
const COMPARED: &[&str] = &[
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::DynamoDB::Table",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sam")
}

/// What the translator printed, or `None` (after saying why) when it is not installed here.
fn translate(template: &Path, parameters: &Value) -> Option<Value> {
    let out = Command::new("python3")
        .arg(fixtures().join("translate.py"))
        .arg(template)
        .arg(parameters.to_string())
        .output();
    let usable = match &out {
        Ok(o) if o.status.success() => {
            let v: Value = serde_json::from_slice(&o.stdout).expect("translate.py prints JSON");
            let version: Vec<u64> = v["version"]
                .as_str()
                .unwrap_or("0")
                .split('.')
                .filter_map(|p| p.parse().ok())
                .collect();
            if version.as_slice() >= [1, 115].as_slice() {
                return Some(v);
            }
            format!("aws-sam-translator {} is older than 1.115", v["version"])
        }
        Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
        Err(e) => e.to_string(),
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "aws-sam-translator >= 1.115 is required on CI (.ci/run installs it): {usable}"
    );
    eprintln!("SKIPPED: aws-sam-translator >= 1.115 is not usable here: {usable}");
    None
}

fn compared(resources: &Map<String, Value>) -> BTreeMap<String, Value> {
    resources
        .iter()
        .filter(|(_, r)| {
            r.get("Type")
                .and_then(Value::as_str)
                .is_some_and(|t| COMPARED.contains(&t))
        })
        .map(|(id, r)| {
            let mut r = r.clone();
            // DependsOn is a set to CloudFormation; the translator lists routes in template
            // order, which a parsed map may not keep.
            if let Some(Value::Array(d)) = r.get_mut("DependsOn") {
                d.sort_by_key(|v| v.to_string());
            }
            (id.clone(), r)
        })
        .collect()
}

fn overrides(parameters: &Value) -> Vec<(String, String)> {
    parameters
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

/// wsflow's expansion, or its error's text.
type Ours = Result<Map<String, Value>, String>;

/// Both expansions of `template`; `None` when the translator is not usable here.
fn both(template: &Path, parameters: &Value) -> Option<(Value, Ours)> {
    let reference = translate(template, parameters)?;
    let text = std::fs::read_to_string(template).unwrap();
    let ours =
        wsflow_template::expand_sam_resources(&text, &overrides(parameters), &Account::default())
            .map_err(|e| e.to_string());
    Some((reference, ours))
}

fn assert_same_resources(template: &Path, parameters: Value) {
    let Some((reference, ours)) = both(template, &parameters) else {
        return;
    };
    let Some(Value::Object(theirs)) = reference.get("resources") else {
        panic!(
            "the translator refused {}: {}",
            template.display(),
            reference["errors"]
        );
    };
    let ours = ours.unwrap_or_else(|e| panic!("wsflow refused {}: {e}", template.display()));
    let (theirs, ours) = (compared(theirs), compared(&ours));
    assert!(
        !theirs.is_empty(),
        "nothing to compare in {}",
        template.display()
    );
    for (id, r) in &theirs {
        assert_eq!(
            ours.get(id),
            Some(r),
            "{} resource {id}: wsflow (left) differs from aws-sam-translator (right)",
            template.display()
        );
    }
    let extra: Vec<&String> = ours.keys().filter(|id| !theirs.contains_key(*id)).collect();
    assert!(
        extra.is_empty(),
        "wsflow generated {extra:?} the translator did not"
    );
}

#[test]
fn every_websocket_api_property_expands_as_the_translator_does() {
    assert_same_resources(
        &fixtures().join("websocket-full.yaml"),
        serde_json::json!({}),
    );
    // The other authorization types, through the Mode parameter.
    for mode in ["AWS_IAM", "NONE"] {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(fixtures().join("websocket-full.yaml"))
            .unwrap()
            .replace(
                "        Name: auth\n        InvokeRole: arn:aws:iam::1:role/r\n        IdentitySource: [route.request.header.Auth]\n",
                "",
            )
            .replace(
                "        AuthArn: !Sub \"arn:${AWS::Partition}:lambda:${AWS::Region}:123456789012:function:${Stage}-auth\"\n",
                "",
            );
        let path = dir.path().join("template.yaml");
        std::fs::write(&path, text).unwrap();
        assert_same_resources(&path, serde_json::json!({"Mode": mode, "Stage": "beta"}));
    }
}

#[test]
fn minimal_and_iam_websocket_apis_expand_as_the_translator_does() {
    assert_same_resources(
        &fixtures().join("websocket-minimal.yaml"),
        serde_json::json!({}),
    );
}

#[test]
fn the_repositorys_sam_fixture_expands_as_the_translator_does() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sam-websocket-auth.yaml");
    assert_same_resources(&fixture, serde_json::json!({}));
}

#[test]
fn simple_tables_expand_as_the_translator_does() {
    assert_same_resources(&fixtures().join("simple-table.yaml"), serde_json::json!({}));
    assert_same_resources(
        &fixtures().join("simple-table.yaml"),
        serde_json::json!({"Name": "other-name"}),
    );
}

/// Templates the translator refuses: wsflow refuses each with the same text.
#[test]
fn invalid_sam_resources_get_the_translators_errors() {
    let websocket = |props: &str| {
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Ws:\n    Type: AWS::Serverless::WebSocketApi\n    Properties:\n{props}"
        )
    };
    let table = |props: &str| {
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  T:\n    Type: AWS::Serverless::SimpleTable\n    Properties:\n{props}"
        )
    };
    let connect = "      Routes: {$connect: {FunctionArn: a}}\n";
    let cases = [
        websocket("      RouteSelectionExpression: x\n      Routes: {}\n"),
        websocket(connect),
        websocket("      RouteSelectionExpression: x\n      Routes: [a]\n"),
        websocket(
            "      RouteSelectionExpression: x\n      Bogus: 1\n      Routes: {e: {FunctionArn: a}}\n",
        ),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      Auth: {{AuthType: custom}}\n"
        )),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      Auth: {{AuthArn: a}}\n"
        )),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      Auth: {{AuthType: CUSTOM}}\n"
        )),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      Auth: {{AuthType: AWS_IAM, Name: a}}\n"
        )),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      Auth: {{AuthType: NONE, Name: a}}\n"
        )),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      Auth: [a]\n"
        )),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      IpAddressType: v6\n"
        )),
        websocket(
            "      RouteSelectionExpression: x\n      Routes: {echo: {FunctionArn: a, RequestParameters: {a: b}}}\n",
        ),
        websocket("      RouteSelectionExpression: x\n      Routes: {echo: {OperationName: a}}\n"),
        websocket("      RouteSelectionExpression: x\n      Routes: {a_b: {FunctionArn: a}}\n"),
        websocket(
            "      RouteSelectionExpression: x\n      Routes: {e: {FunctionArn: a}}\n      Auth: {AuthType: NONE}\n",
        ),
        websocket(
            "      RouteSelectionExpression: x\n      StageName: $default\n      Routes: {e: {FunctionArn: a}}\n",
        ),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      Name: [a]\n"
        )),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      PropagateTags: 1\n"
        )),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      StageName: 3\n"
        )),
        websocket(&format!(
            "      RouteSelectionExpression: x\n{connect}      Tags: [1]\n"
        )),
        table("      PrimaryKey: {Name: k, Type: binary}\n"),
        table("      PrimaryKey: {Type: String}\n"),
        table("      PrimaryKey: {Name: k}\n"),
        table("      PrimaryKey: {Name: k, Type: 3}\n"),
        table("      TableName: 3\n"),
        table("      Tags: x\n"),
        table("      Other: 1\n"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let Some((reference, ours)) = both(&path, &serde_json::json!({})) else {
            return;
        };
        let Some(errors) = reference.get("errors").and_then(Value::as_array) else {
            panic!("the translator accepted case {i}:\n{text}");
        };
        let expected = errors[0].as_str().unwrap();
        match ours {
            Ok(_) => panic!("wsflow accepted case {i} (translator: {expected}):\n{text}"),
            Err(e) => assert!(
                e.ends_with(expected),
                "case {i}:\n{text}\nwsflow:      {e}\ntranslator:  {expected}"
            ),
        }
    }
}
