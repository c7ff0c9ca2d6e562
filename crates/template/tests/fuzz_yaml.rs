//! No panic, no hang, on any input: property tests of template loading
//! (`load_str`, the path every user's `template.yaml` takes): the real
//! templates with lines deleted, duplicated, re-indented or given short-form
//! tags; YAML built from CloudFormation's short tags (`!Ref !Sub !GetAtt !If
//! !Join !Select !Equals …`) nested at random, with anchors and aliases,
//! flow and block styles and random indentation; alias bombs ("billion
//! laughs") and deep nesting, which must end quickly with an error. Each case
//! runs under a watchdog (`wsflow_fuzz_kit::bounded`).
//!
//! Case counts: `PROPTEST_CASES` (default per test below), e.g.
//! `PROPTEST_CASES=20000 cargo test -p wsflow-template --test fuzz_yaml --release`.

use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use wsflow_fuzz_kit::{bounded, config, generate, preview};
use wsflow_template::{LocalContext, load_str};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ctx(dir: PathBuf) -> LocalContext {
    LocalContext {
        account: wsflow_aws_wire::Account::default(),
        stack_name: "wsflow".into(),
        endpoint: "http://127.0.0.1:3001".into(),
        api_id: "localapi01".into(),
        template_dir: dir,
    }
}

/// The two real templates and the directory each resolves files from.
fn templates() -> Vec<(String, PathBuf)> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    vec![
        (
            std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml"),
            root(),
        ),
        (
            std::fs::read_to_string(fixtures.join("app.yaml")).expect("app.yaml"),
            fixtures,
        ),
    ]
}

/// Loads `text` under the watchdog: `Some(true)` loaded, `Some(false)` a
/// clear error (its message non-empty).
fn load(text: String, dir: PathBuf) -> bool {
    let what = format!("template {}", preview(&text, 3000));
    bounded(&what, move || match load_str(&text, &[], &ctx(dir)) {
        Ok(_) => true,
        Err(e) => {
            assert!(!e.to_string().trim().is_empty(), "empty error");
            false
        }
    })
}

// ---------------------------------------------------------------- line mutations

/// What to do to one line of a real template.
#[derive(Debug, Clone)]
enum LineEdit {
    Delete,
    Duplicate,
    Indent(i8),
    Append(String),
    Replace(String),
}

fn line_edit() -> impl Strategy<Value = LineEdit> {
    let fragment = prop_oneof![
        proptest::sample::select(
            &[
                " !Ref",
                " !Sub",
                " !GetAtt",
                " !If",
                " !Join",
                " !Select",
                " !Equals",
                " !Not",
                " !Base64",
                " !FindInMap",
                " !Split",
                " !Condition",
                " !Nope",
                " &a",
                " *a",
                " *undefined",
                " [",
                " {",
                " ]",
                " }",
                ":",
                " - ",
                " |",
                " >-",
                " \"",
                " '",
                " #",
                " ? ",
                " !!binary",
                " <<: *a",
                "\t",
                " ${AWS::Region}",
                " ${Nope}",
                " !Ref [a, b]",
                " !GetAtt [A]",
                " !If [C, 1]"
            ][..],
        )
        .prop_map(str::to_owned),
        generate::text(10),
    ];
    prop_oneof![
        3 => Just(LineEdit::Delete),
        2 => Just(LineEdit::Duplicate),
        2 => (-4i8..=4).prop_map(LineEdit::Indent),
        3 => fragment.clone().prop_map(LineEdit::Append),
        1 => fragment.prop_map(LineEdit::Replace),
    ]
}

fn edit_lines(text: &str, edits: &[(prop::sample::Index, LineEdit)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (at, edit) in edits {
        if lines.is_empty() {
            break;
        }
        let i = at.index(lines.len());
        match edit {
            LineEdit::Delete => {
                lines.remove(i);
            }
            LineEdit::Duplicate => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            LineEdit::Indent(n) => {
                let l = &lines[i];
                lines[i] = if *n >= 0 {
                    format!("{}{l}", " ".repeat(*n as usize))
                } else {
                    l.chars().skip((-*n) as usize).collect()
                };
            }
            LineEdit::Append(s) => lines[i].push_str(s),
            LineEdit::Replace(s) => lines[i] = s.clone(),
        }
    }
    lines.join("\n")
}

// ---------------------------------------------------------------- grammar

/// A YAML value in flow style with CloudFormation short tags nested.
fn flow_value() -> BoxedStrategy<String> {
    let scalar = prop_oneof![
        "[A-Za-z][A-Za-z0-9]{0,6}",
        Just("StageName".to_owned()),
        Just("AWS::Region".to_owned()),
        Just("Fn.Arn".to_owned()),
        Just("\"${AWS::StackName}-${StageName}\"".to_owned()),
        Just("'quoted ''x'''".to_owned()),
        Just("1".to_owned()),
        Just("-0.5e3".to_owned()),
        Just("true".to_owned()),
        Just("~".to_owned()),
        Just("*a".to_owned()),
        Just("&a v".to_owned()),
        generate::text(8).prop_map(|t| serde_json::to_string(&t).unwrap()),
    ];
    scalar
        .prop_recursive(5, 40, 4, |v| {
            let tag = proptest::sample::select(
                &["!Ref", "!Sub", "!GetAtt", "!If", "!Join", "!Select", "!Equals", "!Not", "!And",
                  "!Or", "!Base64", "!Split", "!FindInMap", "!Condition", "!GetAZs", "!ImportValue",
                  "!Cidr", "!Nope", "!!str", "!!map"][..],
            );
            prop_oneof![
                2 => (tag.clone(), v.clone()).prop_map(|(t, x)| format!("{t} {x}")),
                2 => (tag, proptest::collection::vec(v.clone(), 0..4))
                    .prop_map(|(t, xs)| format!("{t} [{}]", xs.join(", "))),
                1 => proptest::collection::vec(v.clone(), 0..4).prop_map(|xs| format!("[{}]", xs.join(", "))),
                1 => proptest::collection::vec(("[A-Za-z]{1,5}", v), 0..4).prop_map(|kv| format!(
                    "{{{}}}",
                    kv.iter().map(|(k, x)| format!("{k}: {x}")).collect::<Vec<_>>().join(", ")
                )),
            ]
        })
        .boxed()
}

/// A template-shaped document in block style whose property values come
/// from [`flow_value`], at random indentation.
fn grammar_template() -> impl Strategy<Value = String> {
    let resource_type = proptest::sample::select(
        &[
            "AWS::Serverless::Function",
            "AWS::Serverless::StateMachine",
            "AWS::ApiGatewayV2::Api",
            "AWS::ApiGatewayV2::Route",
            "AWS::ApiGatewayV2::Integration",
            "AWS::DynamoDB::Table",
            "AWS::SQS::Queue",
            "AWS::ApiGatewayV2::Stage",
            "AWS::Nope::Nope",
        ][..],
    );
    let prop_name = proptest::sample::select(
        &[
            "Name",
            "CodeUri",
            "Handler",
            "Environment",
            "RouteKey",
            "Target",
            "ApiId",
            "IntegrationUri",
            "RequestTemplates",
            "Definition",
            "DefinitionUri",
            "Policies",
            "RouteSelectionExpression",
            "ProtocolType",
            "KeySchema",
            "QueueName",
            "FifoQueue",
            "Events",
            "Condition",
            "DependsOn",
            "Type",
        ][..],
    );
    let resource = (
        "[A-Z][A-Za-z0-9]{0,6}",
        resource_type,
        proptest::collection::vec((prop_name, flow_value()), 0..5),
        1usize..5,
        any::<bool>(),
    )
        .prop_map(|(id, ty, props, ind, condition)| {
            let i = " ".repeat(ind);
            let mut s = format!("{i}{id}:\n{i}{i}Type: {ty}\n");
            if condition {
                s.push_str(&format!("{i}{i}Condition: UrlPathEnabled\n"));
            }
            s.push_str(&format!("{i}{i}Properties:\n"));
            for (k, v) in props {
                s.push_str(&format!("{i}{i}{i}{k}: {v}\n"));
            }
            s
        });
    (
        proptest::collection::vec(resource, 0..5),
        proptest::collection::vec(("[A-Z][a-z]{1,5}", flow_value()), 0..3),
    )
        .prop_map(|(resources, params)| {
            let mut s = String::from(
                "AWSTemplateFormatVersion: \"2010-09-09\"\nTransform: AWS::Serverless-2016-10-31\n",
            );
            s.push_str("Parameters:\n  StageName:\n    Type: String\n    Default: api\n");
            for (p, v) in params {
                s.push_str(&format!("  {p}:\n    Type: String\n    Default: {v}\n"));
            }
            s.push_str(
                "Conditions:\n  UrlPathEnabled: !Equals [!Ref StageName, \"api\"]\nResources:\n",
            );
            for r in resources {
                s.push_str(&r);
            }
            s
        })
}

/// "Billion laughs": each level refers to the previous one `width` times.
fn alias_bomb(levels: usize, width: usize) -> String {
    let mut s = String::from("Resources: {}\nMetadata:\n  a0: &a0 [\"lol\"]\n");
    for l in 1..=levels {
        let refs = vec![format!("*a{}", l - 1); width].join(", ");
        s.push_str(&format!("  a{l}: &a{l} [{refs}]\n"));
    }
    s
}

/// A JSON value whose strings hold only characters YAML may carry raw.
fn yaml_safe(v: Value) -> Value {
    let clean = |s: String| -> String {
        s.chars()
            .filter(|&c| {
                matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
                    && c != '\u{feff}'
            })
            .collect()
    };
    match v {
        Value::String(s) => Value::String(clean(s)),
        Value::Array(a) => Value::Array(a.into_iter().map(yaml_safe).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| (clean(k), yaml_safe(x)))
                .collect(),
        ),
        other => other,
    }
}

proptest! {
    #![proptest_config(config(450))]

    /// The real templates with lines deleted, duplicated, re-indented, or
    /// given tags, anchors, aliases and brackets.
    #[test]
    fn mutated_real_templates(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), line_edit()), 1..6),
    ) {
        let (text, dir) = pick.get(&templates()).clone();
        load(edit_lines(&text, &edits), dir);
    }

    /// Template-shaped documents with short-form tags nested at random.
    #[test]
    fn grammar_templates(text in grammar_template()) {
        load(text, root());
    }

    /// Token soups of YAML's and CloudFormation's syntax.
    #[test]
    fn token_soups(
        text in generate::soup(
            &["Resources:", "\n", "  ", "- ", ": ", "!Ref ", "!Sub ", "!GetAtt ", "!If ", "&a ", "*a",
              "[", "]", "{", "}", ",", "'", "\"", "|\n", ">-\n", "? ", "---\n", "...\n", "%YAML 1.2\n",
              "<<: ", "!!", "#", "Type: ", "AWS::Serverless::Function", "Properties:", "\t"],
            40,
        ),
    ) {
        load(text, root());
    }

    /// The real template keeps loading with any JSON in a resource's
    /// `Metadata` (JSON is YAML).
    #[test]
    fn real_template_with_any_metadata(meta in generate::json(4)) {
        let (text, dir) = templates().swap_remove(0);
        let meta = serde_json::to_string(&yaml_safe(meta)).unwrap();
        let text = text.replacen("Resources:\n", &format!("Metadata:\n  Fuzz: {meta}\nResources:\n"), 1);
        prop_assert!(load(text, dir), "the template stopped loading");
    }
}

proptest! {
    #![proptest_config(config(60))]

    /// Alias bombs and deep nesting end quickly (an error or a small value).
    #[test]
    fn alias_bombs_and_deep_nesting(levels in 1usize..12, width in 1usize..12, depth in 1usize..20_000, kind in 0u8..3) {
        let text = match kind {
            0 => alias_bomb(levels, width),
            1 => format!("Resources: {}\n", generate::nest("[", "1", "]", depth)),
            _ => format!("Resources: {}\n", generate::nest("!Ref ", "x", "", depth)),
        };
        load(text, root());
    }
}

/// The classic bomb (9 levels of 9, ~387 million leaves) is refused, not
/// expanded.
#[test]
fn billion_laughs_is_refused() {
    assert!(!load(alias_bomb(9, 9), root()));
}

/// Found by `alias_bombs_and_deep_nesting` with the earlier parser
/// (unsafe-libyaml scanned flow collections in time quadratic in their
/// depth: 20,000 levels of `[` took 4 s, 200,000 would take minutes). saphyr
/// stops at its nesting limit as it reads; this keeps it that way.
#[test]
fn deep_flow_nesting_is_refused_at_once() {
    let text = format!("Resources: {}\n", generate::nest("[", "1", "]", 200_000));
    let started = std::time::Instant::now();
    let e = load_str(&text, &[], &ctx(root())).expect_err("refused");
    assert!(e.to_string().contains("recursion limit"), "{e}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
