//! A definition's states and transitions, read from the ASL JSON itself.
//!
//! The console only draws: it needs each state's name and type, where each
//! transition goes and why (`Next`, `Default`, a Choice rule, a `Catch`), and
//! the inner states of Map and Parallel. Reading that much from the JSON is
//! shorter than mapping the engine's compiled types (which keep no rule text
//! to label edges with), and draws definitions the engine would reject too.

use serde_json::Value;

/// Why a definition cannot be drawn.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the definition cannot be drawn: {0}")]
pub struct ModelError(pub String);

/// One `StartAt` + `States` block: the machine, a Parallel branch or a Map's
/// item processor.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// The first state.
    pub start_at: String,
    /// The states, in the order the definition lists them.
    pub states: Vec<StateNode>,
}

/// What an edge stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// `Next`.
    Next,
    /// A Choice rule's `Next`.
    Choice,
    /// A Choice state's `Default`.
    Default,
    /// A `Catch` clause.
    Catch,
}

/// A transition.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// Target state (in the same scope).
    pub to: String,
    /// Why.
    pub kind: EdgeKind,
    /// Text drawn on the edge (rule, errors caught); may be empty.
    pub label: String,
}

/// One state.
#[derive(Debug, Clone, PartialEq)]
pub struct StateNode {
    /// Its name.
    pub name: String,
    /// Its `Type`.
    pub kind: String,
    /// `End: true` (or a Succeed/Fail state).
    pub end: bool,
    /// Its transitions.
    pub edges: Vec<Edge>,
    /// Parallel branches, or the Map's one item processor.
    pub children: Vec<Scope>,
}

/// Longest edge label drawn (longer ones end with `…`).
const MAX_LABEL: usize = 36;

/// Parses a definition's JSON text.
pub fn parse(definition: &str) -> Result<Scope, ModelError> {
    let v: Value =
        serde_json::from_str(definition).map_err(|e| ModelError(format!("not JSON: {e}")))?;
    scope(&v, "the definition")
}

fn scope(v: &Value, what: &str) -> Result<Scope, ModelError> {
    let start_at = v
        .get("StartAt")
        .and_then(Value::as_str)
        .ok_or_else(|| ModelError(format!("{what} has no StartAt")))?
        .to_owned();
    let states = v
        .get("States")
        .and_then(Value::as_object)
        .ok_or_else(|| ModelError(format!("{what} has no States object")))?;
    let mut out = Vec::with_capacity(states.len());
    for (name, s) in states {
        out.push(state(name, s)?);
    }
    Ok(Scope {
        start_at,
        states: out,
    })
}

fn state(name: &str, s: &Value) -> Result<StateNode, ModelError> {
    let kind = s
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    let str_field = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut edges = Vec::new();
    if kind == "Choice" {
        for rule in s
            .get("Choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(to) = rule.get("Next").and_then(Value::as_str) {
                edges.push(Edge {
                    to: to.to_owned(),
                    kind: EdgeKind::Choice,
                    label: shorten(&rule_label(rule)),
                });
            }
        }
        if let Some(to) = str_field("Default") {
            edges.push(Edge {
                to,
                kind: EdgeKind::Default,
                label: "Default".into(),
            });
        }
    } else if let Some(to) = str_field("Next") {
        edges.push(Edge {
            to,
            kind: EdgeKind::Next,
            label: String::new(),
        });
    }
    for c in s
        .get("Catch")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(to) = c.get("Next").and_then(Value::as_str) {
            let errors: Vec<&str> = c
                .get("ErrorEquals")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            edges.push(Edge {
                to: to.to_owned(),
                kind: EdgeKind::Catch,
                label: shorten(&format!("Catch {}", errors.join(", "))),
            });
        }
    }
    let mut children = Vec::new();
    match kind.as_str() {
        "Parallel" => {
            for (i, b) in s
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                children.push(scope(b, &format!("branch {} of {name}", i + 1))?);
            }
        }
        "Map" => {
            if let Some(p) = s.get("ItemProcessor").or_else(|| s.get("Iterator")) {
                children.push(scope(p, &format!("the item processor of {name}"))?);
            }
        }
        _ => {}
    }
    let end = s.get("End").and_then(Value::as_bool).unwrap_or(false)
        || kind == "Succeed"
        || kind == "Fail";
    Ok(StateNode {
        name: name.to_owned(),
        kind,
        end,
        edges,
        children,
    })
}

/// A Choice rule as short text: `$.x == "a"`, `And(…)`, a JSONata condition.
fn rule_label(rule: &Value) -> String {
    if let Some(c) = rule.get("Condition").and_then(Value::as_str) {
        return c.to_owned();
    }
    for (op, join) in [("And", " and "), ("Or", " or ")] {
        if let Some(rules) = rule.get(op).and_then(Value::as_array) {
            let parts: Vec<String> = rules.iter().map(rule_label).collect();
            return format!("({})", parts.join(join));
        }
    }
    if let Some(inner) = rule.get("Not") {
        return format!("not {}", rule_label(inner));
    }
    let var = rule.get("Variable").and_then(Value::as_str).unwrap_or("?");
    let Some(obj) = rule.as_object() else {
        return "?".into();
    };
    for (k, v) in obj {
        if matches!(
            k.as_str(),
            "Variable" | "Next" | "Comment" | "Assign" | "Output"
        ) {
            continue;
        }
        let (base, path) = match k.strip_suffix("Path") {
            Some(b) => (b, true),
            None => (k.as_str(), false),
        };
        let op = match ["String", "Numeric", "Boolean", "Timestamp"]
            .iter()
            .fold(base, |b, p| b.strip_prefix(p).unwrap_or(b))
        {
            "Equals" => "==",
            "LessThan" => "<",
            "GreaterThan" => ">",
            "LessThanEquals" => "<=",
            "GreaterThanEquals" => ">=",
            _ => "",
        };
        let value = if path {
            v.as_str().unwrap_or("?").to_owned()
        } else {
            v.to_string()
        };
        return if op.is_empty() {
            format!("{k}({var}, {value})")
        } else {
            format!("{var} {op} {value}")
        };
    }
    var.to_owned()
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= MAX_LABEL {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_LABEL - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_transitions_groups_and_labels() {
        let def = r#"{"StartAt":"C","States":{
            "C":{"Type":"Choice","Choices":[
                {"Variable":"$.n","NumericGreaterThan":3,"Next":"P"},
                {"And":[{"Variable":"$.a","StringEquals":"x"},{"Variable":"$.b","IsPresent":true}],"Next":"M"}],
              "Default":"F"},
            "P":{"Type":"Parallel","Branches":[
                {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
                {"StartAt":"B","States":{"B":{"Type":"Wait","Seconds":1,"End":true}}}],
              "Catch":[{"ErrorEquals":["States.ALL"],"Next":"F"}],"End":true},
            "M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Task","Resource":"x","End":true}}},"Next":"F"},
            "F":{"Type":"Fail"}}}"#;
        let s = parse(def).unwrap();
        assert_eq!(s.start_at, "C");
        let c = &s.states.iter().find(|n| n.name == "C").unwrap();
        assert_eq!(c.edges[0].label, "$.n > 3");
        // Cut at 36 characters.
        assert_eq!(c.edges[1].label, r#"($.a == "x" and IsPresent($.b, true…"#);
        assert_eq!(
            rule_label(&serde_json::json!({"Variable": "$.ok", "BooleanEquals": false})),
            "$.ok == false"
        );
        assert_eq!(c.edges[2].kind, EdgeKind::Default);
        let p = s.states.iter().find(|n| n.name == "P").unwrap();
        assert_eq!(p.children.len(), 2);
        assert_eq!(p.edges[0].label, "Catch States.ALL");
        assert!(p.end);
        let m = s.states.iter().find(|n| n.name == "M").unwrap();
        assert_eq!(m.children[0].states[0].name, "I");
        assert!(s.states.iter().find(|n| n.name == "F").unwrap().end);
    }

    #[test]
    fn broken_definitions_are_errors() {
        assert!(parse("{").is_err());
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"StartAt":"A"}"#).is_err());
        let e = parse(r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{}]}}}"#);
        assert_eq!(e.unwrap_err().0, "branch 1 of P has no StartAt".to_owned());
    }
}
