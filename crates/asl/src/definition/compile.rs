//! Definition JSON → [`Machine`], collecting diagnostics on the way.

use super::*;
use crate::choice;
use crate::error::Severity;
use crate::jsonata;
use serde_json::Map;

const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";

struct C {
    diags: Vec<Diagnostic>,
    /// State names across all nested graphs (AWS requires machine-wide uniqueness).
    all_names: std::collections::HashSet<String>,
}

/// Compiles a definition value; returns the machine (if structurally usable) and all findings.
pub fn compile(v: Value) -> (Option<Machine>, Vec<Diagnostic>) {
    let mut c = C {
        diags: Vec::new(),
        all_names: Default::default(),
    };
    let Value::Object(root) = &v else {
        c.err(
            SCHEMA,
            "The state machine definition must be a JSON object",
            "",
        );
        return (None, c.diags);
    };
    for k in root.keys() {
        if !matches!(
            k.as_str(),
            "StartAt" | "States" | "Comment" | "Version" | "TimeoutSeconds" | "QueryLanguage"
        ) {
            c.err(
                SCHEMA,
                format!("These fields are required or not supported: [{k}]"),
                format!("/{k}"),
            );
        }
    }
    let ql = match root.get("QueryLanguage") {
        None => QueryLanguage::JsonPath,
        Some(Value::String(s)) if s == "JSONPath" => QueryLanguage::JsonPath,
        Some(Value::String(s)) if s == "JSONata" => QueryLanguage::JsonAta,
        Some(_) => {
            c.err(
                SCHEMA,
                "Value is not one of: [JSONPath, JSONata]",
                "/QueryLanguage",
            );
            QueryLanguage::JsonPath
        }
    };
    let timeout_seconds = match root.get("TimeoutSeconds") {
        None => None,
        Some(t) => match t.as_u64() {
            Some(n) if n > 0 => Some(n),
            _ => {
                c.err(
                    SCHEMA,
                    "TimeoutSeconds must be a positive integer",
                    "/TimeoutSeconds",
                );
                None
            }
        },
    };
    let graph = c.graph(root, "", ql);
    let m = graph.map(|graph| Machine {
        graph,
        timeout_seconds,
        query_language: ql,
        definition: v.clone(),
    });
    (m, c.diags)
}

fn type_name(t: &str) -> Option<&'static str> {
    Some(match t {
        "Pass" => "Pass",
        "Task" => "Task",
        "Choice" => "Choice",
        "Wait" => "Wait",
        "Succeed" => "Succeed",
        "Fail" => "Fail",
        "Parallel" => "Parallel",
        "Map" => "Map",
        _ => return None,
    })
}

fn allowed(t: &str) -> &'static [&'static str] {
    match t {
        "Pass" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Result",
            "Assign",
            "Output",
        ],
        "Task" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "ResultSelector",
            "Resource",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Retry",
            "Catch",
            "Credentials",
            "Arguments",
            "Output",
            "Assign",
        ],
        "Choice" => &[
            "Choices",
            "Default",
            "InputPath",
            "OutputPath",
            "Assign",
            "Output",
        ],
        "Wait" => &[
            "Next",
            "End",
            "Seconds",
            "SecondsPath",
            "Timestamp",
            "TimestampPath",
            "InputPath",
            "OutputPath",
            "Assign",
            "Output",
        ],
        "Succeed" => &["InputPath", "OutputPath", "Output"],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &[
            "Next",
            "End",
            "Branches",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "ResultSelector",
            "Retry",
            "Catch",
            "Arguments",
            "Output",
            "Assign",
        ],
        "Map" => &[
            "Next",
            "End",
            "Iterator",
            "ItemProcessor",
            "ItemsPath",
            "Items",
            "ItemSelector",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "InputPath",
            "OutputPath",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ItemBatcher",
            "ItemReader",
            "ResultWriter",
            "Label",
            "Retry",
            "Catch",
            "Output",
            "Assign",
            "Arguments",
        ],
        _ => &[],
    }
}

impl C {
    fn err(&mut self, code: &str, msg: impl Into<String>, loc: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, msg, loc));
    }

    fn graph(&mut self, obj: &Map<String, Value>, loc: &str, ql: QueryLanguage) -> Option<Graph> {
        let states = match obj.get("States") {
            Some(Value::Object(s)) => s,
            Some(_) => {
                self.err(SCHEMA, "States must be an object", format!("{loc}/States"));
                return None;
            }
            None => {
                self.err(
                    SCHEMA,
                    "These fields are required: [States]",
                    loc.to_string(),
                );
                return None;
            }
        };
        if states.is_empty() {
            self.err(
                SCHEMA,
                "States must contain at least one state",
                format!("{loc}/States"),
            );
            return None;
        }
        let names: HashMap<String, usize> = states
            .keys()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let start = match obj.get("StartAt") {
            Some(Value::String(s)) => match names.get(s) {
                Some(i) => *i,
                None => {
                    self.err(
                        "MISSING_TRANSITION_TARGET",
                        format!("Missing 'Next' target: {s}"),
                        format!("{loc}/StartAt"),
                    );
                    0
                }
            },
            _ => {
                self.err(
                    SCHEMA,
                    "These fields are required: [StartAt]",
                    loc.to_string(),
                );
                0
            }
        };
        let mut out = Vec::with_capacity(states.len());
        let before = self.diags.len();
        for (name, s) in states {
            let sloc = format!("{loc}/States/{name}");
            if name.is_empty() || name.chars().count() > 80 {
                self.err(
                    "INVALID_STATE_NAME",
                    "State names must be 1 to 80 characters long",
                    sloc.clone(),
                );
            }
            if !self.all_names.insert(name.clone()) {
                self.err(
                    "DUPLICATE_STATE_NAME",
                    format!("Duplicate State name: {name}"),
                    sloc.clone(),
                );
            }
            if let Some(st) = self.state(name, s, &sloc, ql, &names) {
                out.push(st);
            }
        }
        if self.diags[before..]
            .iter()
            .any(|d| d.severity == Severity::Error)
        {
            return None;
        }
        let has_end = out
            .iter()
            .any(|s| s.next.is_none() && !matches!(s.kind, Kind::Choice { .. }));
        if !has_end {
            self.err(
                "MISSING_END_STATE",
                "Workflow has no terminal state",
                loc.to_string(),
            );
        }
        // Reachability (AWS rejects unreachable states).
        let mut seen = vec![false; out.len()];
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            if i >= seen.len() || seen[i] {
                continue;
            }
            seen[i] = true;
            let s = &out[i];
            stack.extend(s.next);
            stack.extend(s.catch.iter().map(|c| c.next));
            if let Kind::Choice { branches, default } = &s.kind {
                stack.extend(branches.iter().map(|b| b.next));
                stack.extend(*default);
            }
        }
        for (i, s) in out.iter().enumerate() {
            if !seen[i] {
                self.err(
                    "UNREACHABLE_STATE",
                    format!("State \"{}\" is not reachable", s.name),
                    format!("{loc}/States/{}", s.name),
                );
            }
        }
        Some(Graph {
            start,
            states: out,
            names,
        })
    }

    fn target(
        &mut self,
        v: Option<&Value>,
        loc: &str,
        names: &HashMap<String, usize>,
    ) -> Option<usize> {
        match v {
            Some(Value::String(s)) => match names.get(s) {
                Some(i) => Some(*i),
                None => {
                    self.err(
                        "MISSING_TRANSITION_TARGET",
                        format!("Missing 'Next' target: {s}"),
                        loc.to_string(),
                    );
                    None
                }
            },
            Some(_) => {
                self.err(SCHEMA, "Next must be a string", loc.to_string());
                None
            }
            None => None,
        }
    }

    fn jpath(&mut self, v: &Value, loc: &str) -> Option<JsonPath> {
        match v {
            Value::String(s) => match JsonPath::parse(s) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.err(
                        SCHEMA,
                        format!(
                            "The value for the field '{}' must be a valid JSONPath: {}",
                            last(loc),
                            e.0
                        ),
                        loc,
                    );
                    None
                }
            },
            _ => {
                self.err(
                    SCHEMA,
                    format!("The value for the field '{}' must be a STRING", last(loc)),
                    loc,
                );
                None
            }
        }
    }

    fn io_path(&mut self, o: &Map<String, Value>, k: &str, loc: &str) -> IoPath {
        match o.get(k) {
            None => IoPath::Identity,
            Some(Value::Null) => IoPath::Null,
            Some(v) => self
                .jpath(v, &format!("{loc}/{k}"))
                .map(IoPath::Path)
                .unwrap_or(IoPath::Identity),
        }
    }

    fn result_path(&mut self, v: Option<&Value>, loc: &str) -> ResultPath {
        match v {
            None => ResultPath::Replace,
            Some(Value::Null) => ResultPath::Discard,
            Some(v) => match self.jpath(v, loc) {
                Some(p) if p.is_root() => ResultPath::Replace,
                Some(p) if p.is_reference_path() && p.root == crate::path::Root::Input => {
                    ResultPath::Path(p)
                }
                Some(_) => {
                    self.err(
                        SCHEMA,
                        "The value for the field 'ResultPath' must be a valid ReferencePath",
                        loc,
                    );
                    ResultPath::Replace
                }
                None => ResultPath::Replace,
            },
        }
    }

    fn template(&mut self, v: Option<&Value>, loc: &str) -> Option<Template> {
        let v = v?;
        match Template::compile(v) {
            Ok(t) => Some(t),
            Err((k, m)) => {
                self.err(SCHEMA, m, format!("{loc}/{k}"));
                None
            }
        }
    }

    fn jtemplate(&mut self, v: Option<&Value>, loc: &str) -> Option<JTemplate> {
        let v = v?;
        match JTemplate::compile(v) {
            Ok(t) => Some(t),
            Err(m) => {
                self.err(SCHEMA, m, loc);
                None
            }
        }
    }

    fn assign(&mut self, v: Option<&Value>, loc: &str, ql: QueryLanguage) -> Option<Assign> {
        let v = v?;
        if !v.is_object() {
            self.err(SCHEMA, "Assign must be an object", loc);
            return None;
        }
        if let Value::Object(o) = v {
            for k in o.keys() {
                let name = k.strip_suffix(".$").unwrap_or(k);
                if name.is_empty()
                    || name.starts_with('$')
                    || name.contains('.')
                    || name.contains(' ')
                {
                    self.err(
                        SCHEMA,
                        format!("The variable name '{name}' is not valid"),
                        format!("{loc}/{k}"),
                    );
                }
            }
        }
        match ql {
            QueryLanguage::JsonPath => self.template(Some(v), loc).map(Assign::Path),
            QueryLanguage::JsonAta => self.jtemplate(Some(v), loc).map(Assign::Ata),
        }
    }

    fn dyn_u64(&mut self, o: &Map<String, Value>, k: &str, loc: &str) -> Option<Dyn<u64>> {
        self.dyn_number(o, k, loc, Value::as_u64, "a non-negative integer")
    }

    fn dyn_f64(&mut self, o: &Map<String, Value>, k: &str, loc: &str) -> Option<Dyn<f64>> {
        self.dyn_number(o, k, loc, Value::as_f64, "a number")
    }

    /// A numeric field with its `…Path` form and JSONata form: `k` as a literal
    /// (read by `literal`, described as `what` in the error), `kPath` as a
    /// reference path, or `{% … %}`.
    fn dyn_number<T>(
        &mut self,
        o: &Map<String, Value>,
        k: &str,
        loc: &str,
        literal: fn(&Value) -> Option<T>,
        what: &str,
    ) -> Option<Dyn<T>> {
        let kp = format!("{k}Path");
        if let Some(v) = o.get(&kp) {
            return self.jpath(v, &format!("{loc}/{kp}")).map(Dyn::Path);
        }
        match o.get(k)? {
            Value::String(s) if jsonata::is_expr(s) => match JExpr::compile_field(s) {
                Ok(e) => Some(Dyn::Expr(e)),
                Err(m) => {
                    self.err(SCHEMA, m, format!("{loc}/{k}"));
                    None
                }
            },
            v => match literal(v) {
                Some(n) => Some(Dyn::Lit(n)),
                None => {
                    self.err(
                        SCHEMA,
                        format!("The value for the field '{k}' must be {what}"),
                        format!("{loc}/{k}"),
                    );
                    None
                }
            },
        }
    }

    fn dyn_string(&mut self, o: &Map<String, Value>, k: &str, loc: &str) -> Option<Dyn<String>> {
        let kp = format!("{k}Path");
        if let Some(v) = o.get(&kp) {
            return match v {
                Value::String(s) if crate::intrinsics::is_intrinsic(s) => {
                    match crate::payload::Template::compile(&serde_json::json!({"x.$": s})) {
                        Ok(t) => Some(Dyn::Intrinsic(t)),
                        Err((_, m)) => {
                            self.err(SCHEMA, m, format!("{loc}/{kp}"));
                            None
                        }
                    }
                }
                _ => self.jpath(v, &format!("{loc}/{kp}")).map(Dyn::Path),
            };
        }
        match o.get(k)? {
            Value::String(s) if jsonata::is_expr(s) => match JExpr::compile_field(s) {
                Ok(e) => Some(Dyn::Expr(e)),
                Err(m) => {
                    self.err(SCHEMA, m, format!("{loc}/{k}"));
                    None
                }
            },
            Value::String(s) => Some(Dyn::Lit(s.clone())),
            _ => {
                self.err(
                    SCHEMA,
                    format!("The value for the field '{k}' must be a STRING"),
                    format!("{loc}/{k}"),
                );
                None
            }
        }
    }

    fn retriers(&mut self, v: Option<&Value>, loc: &str) -> Vec<Retrier> {
        let Some(v) = v else { return vec![] };
        let Value::Array(a) = v else {
            self.err(SCHEMA, "Retry must be an array", loc);
            return vec![];
        };
        let mut out = Vec::new();
        for (i, r) in a.iter().enumerate() {
            let rl = format!("{loc}[{i}]");
            let Value::Object(o) = r else {
                self.err(SCHEMA, "A retrier must be an object", rl);
                continue;
            };
            let error_equals = self.error_equals(o.get("ErrorEquals"), &rl);
            let num = |k: &str| o.get(k).and_then(Value::as_f64);
            let max_attempts = match o.get("MaxAttempts") {
                None => 3,
                Some(v) => match v.as_u64() {
                    Some(n) if n <= 99_999_999 => n as u32,
                    _ => {
                        self.err(
                            SCHEMA,
                            "MaxAttempts must be a non-negative integer",
                            format!("{rl}/MaxAttempts"),
                        );
                        3
                    }
                },
            };
            let backoff_rate = num("BackoffRate").unwrap_or(2.0);
            if backoff_rate < 1.0 {
                self.err(
                    SCHEMA,
                    "BackoffRate must be >= 1.0",
                    format!("{rl}/BackoffRate"),
                );
            }
            let interval_seconds = num("IntervalSeconds").unwrap_or(1.0);
            let full_jitter = match o.get("JitterStrategy") {
                None => false,
                Some(Value::String(s)) if s == "FULL" => true,
                Some(Value::String(s)) if s == "NONE" => false,
                Some(_) => {
                    self.err(
                        SCHEMA,
                        "JitterStrategy must be FULL or NONE",
                        format!("{rl}/JitterStrategy"),
                    );
                    false
                }
            };
            out.push(Retrier {
                error_equals,
                interval_seconds,
                max_attempts,
                backoff_rate,
                max_delay_seconds: num("MaxDelaySeconds"),
                full_jitter,
            });
        }
        out
    }

    fn error_equals(&mut self, v: Option<&Value>, loc: &str) -> Vec<String> {
        match v {
            Some(Value::Array(a)) if !a.is_empty() => {
                let names: Vec<String> = a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect();
                if names.len() != a.len() {
                    self.err(
                        SCHEMA,
                        "ErrorEquals must contain strings",
                        format!("{loc}/ErrorEquals"),
                    );
                }
                if names.iter().any(|n| n == crate::error::ALL) && names.len() > 1 {
                    self.err(
                        SCHEMA,
                        "States.ALL must appear alone in ErrorEquals",
                        format!("{loc}/ErrorEquals"),
                    );
                }
                names
            }
            _ => {
                self.err(
                    SCHEMA,
                    "These fields are required: [ErrorEquals]",
                    loc.to_string(),
                );
                vec![]
            }
        }
    }

    fn catchers(
        &mut self,
        v: Option<&Value>,
        loc: &str,
        names: &HashMap<String, usize>,
        ql: QueryLanguage,
    ) -> Vec<Catcher> {
        let Some(v) = v else { return vec![] };
        let Value::Array(a) = v else {
            self.err(SCHEMA, "Catch must be an array", loc);
            return vec![];
        };
        let mut out = Vec::new();
        for (i, r) in a.iter().enumerate() {
            let cl = format!("{loc}[{i}]");
            let Value::Object(o) = r else {
                self.err(SCHEMA, "A catcher must be an object", cl);
                continue;
            };
            let error_equals = self.error_equals(o.get("ErrorEquals"), &cl);
            let next = match o.get("Next") {
                None => {
                    self.err(SCHEMA, "These fields are required: [Next]", cl.clone());
                    None
                }
                n => self.target(n, &format!("{cl}/Next"), names),
            };
            let result_path = self.result_path(o.get("ResultPath"), &format!("{cl}/ResultPath"));
            let assign = self.assign(o.get("Assign"), &format!("{cl}/Assign"), ql);
            let output = self.jtemplate(o.get("Output"), &format!("{cl}/Output"));
            if let Some(next) = next {
                out.push(Catcher {
                    error_equals,
                    result_path,
                    next,
                    assign,
                    output,
                });
            }
        }
        out
    }

    fn state(
        &mut self,
        name: &str,
        v: &Value,
        loc: &str,
        parent_ql: QueryLanguage,
        names: &HashMap<String, usize>,
    ) -> Option<State> {
        let Value::Object(o) = v else {
            self.err(SCHEMA, "A state must be an object", loc);
            return None;
        };
        let tname = match o.get("Type") {
            Some(Value::String(t)) => match type_name(t) {
                Some(t) => t,
                None => {
                    self.err(
                        SCHEMA,
                        format!("Value is not one of the state types: {t}"),
                        format!("{loc}/Type"),
                    );
                    return None;
                }
            },
            _ => {
                self.err(SCHEMA, "These fields are required: [Type]", loc);
                return None;
            }
        };
        let ql = match o.get("QueryLanguage") {
            None => parent_ql,
            Some(Value::String(s)) if s == "JSONata" => QueryLanguage::JsonAta,
            Some(Value::String(s)) if s == "JSONPath" => {
                if parent_ql == QueryLanguage::JsonAta {
                    self.err(
                        SCHEMA,
                        "A state cannot use JSONPath when the state machine uses JSONata",
                        format!("{loc}/QueryLanguage"),
                    );
                }
                QueryLanguage::JsonPath
            }
            Some(_) => {
                self.err(
                    SCHEMA,
                    "Value is not one of: [JSONPath, JSONata]",
                    format!("{loc}/QueryLanguage"),
                );
                parent_ql
            }
        };
        let allow = allowed(tname);
        for k in o.keys() {
            if !matches!(k.as_str(), "Type" | "Comment" | "QueryLanguage")
                && !allow.contains(&k.as_str())
            {
                self.err(
                    SCHEMA,
                    format!("Field '{k}' is not supported by state type {tname}"),
                    format!("{loc}/{k}"),
                );
            }
        }
        if ql == QueryLanguage::JsonAta {
            for k in [
                "InputPath",
                "OutputPath",
                "ResultPath",
                "Parameters",
                "ResultSelector",
                "ItemsPath",
                "SecondsPath",
                "TimestampPath",
                "ErrorPath",
                "CausePath",
                "Iterator",
            ] {
                if o.contains_key(k) {
                    self.err(
                        SCHEMA,
                        format!("The field '{k}' is not supported with the JSONata query language"),
                        format!("{loc}/{k}"),
                    );
                }
            }
        } else {
            for k in ["Arguments", "Output"] {
                if o.contains_key(k) {
                    self.err(
                        SCHEMA,
                        format!(
                            "The field '{k}' is only supported with the JSONata query language"
                        ),
                        format!("{loc}/{k}"),
                    );
                }
            }
        }
        self.warnings(o, tname, ql, loc);
        for (a, b) in [
            ("Error", "ErrorPath"),
            ("Cause", "CausePath"),
            ("TimeoutSeconds", "TimeoutSecondsPath"),
            ("HeartbeatSeconds", "HeartbeatSecondsPath"),
            ("MaxConcurrency", "MaxConcurrencyPath"),
            ("ToleratedFailureCount", "ToleratedFailureCountPath"),
            (
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
            ),
            ("ItemProcessor", "Iterator"),
            ("ItemSelector", "Parameters"),
        ] {
            if o.contains_key(a) && o.contains_key(b) && !(a == "ItemSelector" && tname != "Map") {
                self.err(
                    SCHEMA,
                    format!("The fields '{a}' and '{b}' cannot both be set"),
                    format!("{loc}/{b}"),
                );
            }
        }
        let terminal = matches!(tname, "Choice" | "Succeed" | "Fail");
        if terminal && (o.contains_key("Next") || o.contains_key("End")) {
            self.err(
                SCHEMA,
                format!("A {tname} state cannot have 'Next' or 'End'"),
                loc,
            );
        }
        let has_end = o.get("End") == Some(&Value::Bool(true));
        let next = if terminal {
            None
        } else {
            match (o.get("Next"), has_end) {
                (Some(_), true) => {
                    self.err(SCHEMA, "A state cannot have both 'Next' and 'End'", loc);
                    None
                }
                (Some(n), false) => self.target(Some(n), &format!("{loc}/Next"), names),
                (None, true) => None,
                (None, false) => {
                    self.err(SCHEMA, "These fields are required: [Next] or [End]", loc);
                    None
                }
            }
        };
        if let Some(e) = o.get("End")
            && !e.is_boolean()
        {
            self.err(SCHEMA, "End must be a boolean", format!("{loc}/End"));
        }
        let kind = match tname {
            "Pass" => Kind::Pass {
                result: o.get("Result").map(crate::value::Val::from),
                result_too_large: o
                    .get("Result")
                    .is_some_and(|r| crate::limits::exceeds(r, crate::limits::MAX_PAYLOAD_BYTES)),
            },
            "Task" => {
                let resource = match o.get("Resource") {
                    Some(Value::String(s)) => s.clone(),
                    _ => {
                        self.err(SCHEMA, "These fields are required: [Resource]", loc);
                        String::new()
                    }
                };
                if !resource.is_empty() && !resource.starts_with("arn:") {
                    self.err(
                        "INVALID_RESOURCE",
                        format!("Resource '{resource}' is not a valid ARN"),
                        format!("{loc}/Resource"),
                    );
                }
                let timeout = self.dyn_u64(o, "TimeoutSeconds", loc);
                let heartbeat = self.dyn_u64(o, "HeartbeatSeconds", loc);
                if let (Some(Dyn::Lit(t)), Some(Dyn::Lit(h))) = (&timeout, &heartbeat)
                    && h >= t
                {
                    self.err(
                        SCHEMA,
                        "HeartbeatSeconds must be smaller than TimeoutSeconds",
                        format!("{loc}/HeartbeatSeconds"),
                    );
                }
                Kind::Task {
                    resource,
                    timeout,
                    heartbeat,
                }
            }
            "Choice" => {
                let mut branches = Vec::new();
                match o.get("Choices") {
                    Some(Value::Array(a)) if !a.is_empty() => {
                        for (i, r) in a.iter().enumerate() {
                            let rl = format!("{loc}/Choices[{i}]");
                            let next = match r.get("Next") {
                                None => {
                                    self.err(
                                        SCHEMA,
                                        "These fields are required: [Next]",
                                        rl.clone(),
                                    );
                                    None
                                }
                                n => self.target(n, &format!("{rl}/Next"), names),
                            };
                            let (rule, condition) = if ql == QueryLanguage::JsonAta {
                                match r.get("Condition") {
                                    Some(c) => {
                                        (None, self.jtemplate(Some(c), &format!("{rl}/Condition")))
                                    }
                                    None => {
                                        self.err(
                                            SCHEMA,
                                            "These fields are required: [Condition]",
                                            rl.clone(),
                                        );
                                        (None, None)
                                    }
                                }
                            } else {
                                match choice::compile(r, &rl) {
                                    Ok(rule) => (Some(rule), None),
                                    Err((l, m)) => {
                                        self.err(SCHEMA, m, l);
                                        (None, None)
                                    }
                                }
                            };
                            let assign = self.assign(r.get("Assign"), &format!("{rl}/Assign"), ql);
                            let output = self.jtemplate(r.get("Output"), &format!("{rl}/Output"));
                            if let Some(next) = next {
                                branches.push(ChoiceBranch {
                                    rule,
                                    condition,
                                    next,
                                    assign,
                                    output,
                                });
                            }
                        }
                    }
                    _ => self.err(
                        SCHEMA,
                        "Choices must be a non-empty array",
                        format!("{loc}/Choices"),
                    ),
                }
                let default = self.target(o.get("Default"), &format!("{loc}/Default"), names);
                Kind::Choice { branches, default }
            }
            "Wait" => {
                let n = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
                    .iter()
                    .filter(|k| o.contains_key(**k))
                    .count();
                if n != 1 {
                    self.err(SCHEMA, "A Wait state must have exactly one of Seconds, SecondsPath, Timestamp, TimestampPath", loc);
                }
                if o.contains_key("Seconds") || o.contains_key("SecondsPath") {
                    let d = match o.get("Seconds") {
                        Some(Value::String(s)) if jsonata::is_expr(s) => {
                            JExpr::compile_field(s).ok().map(Dyn::Expr)
                        }
                        Some(v) => match v.as_i64() {
                            Some(n) if n >= 0 => Some(Dyn::Lit(n)),
                            _ => {
                                self.err(
                                    SCHEMA,
                                    "Seconds must be a non-negative integer",
                                    format!("{loc}/Seconds"),
                                );
                                None
                            }
                        },
                        None => o
                            .get("SecondsPath")
                            .and_then(|p| self.jpath(p, &format!("{loc}/SecondsPath")))
                            .map(Dyn::Path),
                    };
                    Kind::Wait(WaitFor::Seconds(d.unwrap_or(Dyn::Lit(0))))
                } else {
                    let d = self.dyn_string(o, "Timestamp", loc);
                    if let Some(Dyn::Lit(s)) = &d
                        && choice::parse_timestamp(s).is_none()
                    {
                        self.err(
                            SCHEMA,
                            "Timestamp must be an ISO-8601 timestamp",
                            format!("{loc}/Timestamp"),
                        );
                    }
                    Kind::Wait(WaitFor::Timestamp(d.unwrap_or(Dyn::Lit(String::new()))))
                }
            }
            "Succeed" => Kind::Succeed,
            "Fail" => Kind::Fail {
                error: self.dyn_string(o, "Error", loc),
                cause: self.dyn_string(o, "Cause", loc),
            },
            "Parallel" => {
                let mut branches = Vec::new();
                match o.get("Branches") {
                    Some(Value::Array(a)) if !a.is_empty() => {
                        for (i, b) in a.iter().enumerate() {
                            let bl = format!("{loc}/Branches[{i}]");
                            match b {
                                Value::Object(bo) => {
                                    let bql = self.sub_ql(bo, ql, &bl);
                                    if let Some(g) = self.graph(bo, &bl, bql) {
                                        branches.push(g);
                                    }
                                }
                                _ => self.err(SCHEMA, "A branch must be an object", bl),
                            }
                        }
                    }
                    _ => self.err(
                        SCHEMA,
                        "Branches must be a non-empty array",
                        format!("{loc}/Branches"),
                    ),
                }
                Kind::Parallel { branches }
            }
            "Map" => self.map(o, loc, ql)?,
            _ => return None,
        };
        let input_path = self.io_path(o, "InputPath", loc);
        let output_path = self.io_path(o, "OutputPath", loc);
        let result_path = self.result_path(o.get("ResultPath"), &format!("{loc}/ResultPath"));
        let parameters = if tname == "Map" {
            None
        } else {
            self.template(o.get("Parameters"), &format!("{loc}/Parameters"))
        };
        let result_selector =
            self.template(o.get("ResultSelector"), &format!("{loc}/ResultSelector"));
        let arguments = self.jtemplate(o.get("Arguments"), &format!("{loc}/Arguments"));
        let output = self.jtemplate(o.get("Output"), &format!("{loc}/Output"));
        let assign = self.assign(o.get("Assign"), &format!("{loc}/Assign"), ql);
        let retry = if matches!(tname, "Task" | "Parallel" | "Map") {
            self.retriers(o.get("Retry"), &format!("{loc}/Retry"))
        } else {
            vec![]
        };
        let catch = if matches!(tname, "Task" | "Parallel" | "Map") {
            self.catchers(o.get("Catch"), &format!("{loc}/Catch"), names, ql)
        } else {
            vec![]
        };
        Some(State {
            name: name.to_string(),
            type_name: tname,
            ql,
            kind,
            input_path,
            output_path,
            result_path,
            parameters,
            result_selector,
            arguments,
            output,
            assign,
            next,
            retry,
            catch,
            uses_context: {
                let t = v.to_string();
                t.contains("$$") || t.contains("$states")
            },
        })
    }

    fn warn(&mut self, code: &str, msg: String, loc: String) {
        self.diags.push(Diagnostic {
            code: code.into(),
            message: msg,
            location: Some(loc),
            severity: Severity::Warning,
        });
    }

    /// AWS's validation warnings: NO_DOLLAR, PASS_RESULT_IS_STATIC.
    fn warnings(&mut self, o: &Map<String, Value>, tname: &str, ql: QueryLanguage, loc: &str) {
        if ql != QueryLanguage::JsonPath {
            return;
        }
        fn walk(c: &mut C, v: &Value, loc: &str, code: &str) {
            if let Value::Object(m) = v {
                for (k, x) in m {
                    let l = format!("{loc}/{k}");
                    match x {
                        Value::String(s)
                            if code == "NO_DOLLAR"
                                && !k.ends_with(".$")
                                && (s.starts_with("$.")
                                    || s.starts_with("$$.")
                                    || crate::intrinsics::is_intrinsic(s)) =>
                        {
                            c.warn(code, format!("The value of the field '{k}' looks like a JSONPath or an intrinsic function, but the field name does not end with '.$'"), l);
                        }
                        _ if code == "PASS_RESULT_IS_STATIC" && k.ends_with(".$") => {
                            c.warn(code, format!("The field '{k}' of a Pass state's Result is static: paths are not evaluated in Result"), l.clone());
                            walk(c, x, &l, code);
                        }
                        _ => walk(c, x, &l, code),
                    }
                }
            }
        }
        for k in ["Parameters", "ResultSelector", "ItemSelector"] {
            if let Some(v) = o.get(k) {
                walk(self, v, &format!("{loc}/{k}"), "NO_DOLLAR");
            }
        }
        if tname == "Pass"
            && let Some(r) = o.get("Result")
        {
            walk(self, r, &format!("{loc}/Result"), "PASS_RESULT_IS_STATIC");
        }
    }

    fn sub_ql(&mut self, o: &Map<String, Value>, ql: QueryLanguage, loc: &str) -> QueryLanguage {
        match o.get("QueryLanguage") {
            Some(Value::String(s)) if s == "JSONata" => QueryLanguage::JsonAta,
            Some(Value::String(s)) if s == "JSONPath" => QueryLanguage::JsonPath,
            Some(_) => {
                self.err(
                    SCHEMA,
                    "Value is not one of: [JSONPath, JSONata]",
                    format!("{loc}/QueryLanguage"),
                );
                ql
            }
            None => ql,
        }
    }

    fn map(&mut self, o: &Map<String, Value>, loc: &str, ql: QueryLanguage) -> Option<Kind> {
        let (proc_key, proc) = match (o.get("ItemProcessor"), o.get("Iterator")) {
            (Some(p), _) => ("ItemProcessor", p),
            (None, Some(p)) => ("Iterator", p),
            (None, None) => {
                self.err(SCHEMA, "These fields are required: [ItemProcessor]", loc);
                return None;
            }
        };
        let pl = format!("{loc}/{proc_key}");
        let Value::Object(po) = proc else {
            self.err(SCHEMA, "ItemProcessor must be an object", pl);
            return None;
        };
        let mut distributed = false;
        if let Some(Value::Object(cfg)) = po.get("ProcessorConfig")
            && cfg.get("Mode").and_then(Value::as_str) == Some("DISTRIBUTED")
        {
            distributed = true;
        }
        let pql = self.sub_ql(po, ql, &pl);
        let processor = self.graph(po, &pl, pql)?;
        let items_path = match o.get("ItemsPath") {
            Some(v) => self.jpath(v, &format!("{loc}/ItemsPath")),
            None => None,
        };
        let items = self.jtemplate(o.get("Items"), &format!("{loc}/Items"));
        let (item_selector, item_selector_ata) = if ql == QueryLanguage::JsonAta {
            (
                None,
                self.jtemplate(o.get("ItemSelector"), &format!("{loc}/ItemSelector")),
            )
        } else {
            let sel = o.get("ItemSelector").or_else(|| o.get("Parameters"));
            (self.template(sel, &format!("{loc}/ItemSelector")), None)
        };
        let max_concurrency = self.dyn_u64(o, "MaxConcurrency", loc);
        let tolerated_count = self.dyn_f64(o, "ToleratedFailureCount", loc);
        let tolerated_percentage = self.dyn_f64(o, "ToleratedFailurePercentage", loc);
        if let Some(Dyn::Lit(p)) = &tolerated_percentage
            && !(0.0..=100.0).contains(p)
        {
            self.err(
                SCHEMA,
                "ToleratedFailurePercentage must be between 0 and 100",
                format!("{loc}/ToleratedFailurePercentage"),
            );
        }
        let batcher = match o.get("ItemBatcher") {
            Some(Value::Object(b)) => {
                let bl = format!("{loc}/ItemBatcher");
                Some(Batcher {
                    max_items: self.dyn_u64(b, "MaxItemsPerBatch", &bl),
                    max_bytes: self.dyn_u64(b, "MaxInputBytesPerBatch", &bl),
                    batch_input: b.get("BatchInput").cloned(),
                })
            }
            Some(_) => {
                self.err(
                    SCHEMA,
                    "ItemBatcher must be an object",
                    format!("{loc}/ItemBatcher"),
                );
                None
            }
            None => None,
        };
        if let Some(Value::String(l)) = o.get("Label")
            && (l.chars().count() > 40
                || l.chars()
                    .any(|c| " <>{}[]?*\"#%\\^|~`$&,;:/".contains(c) || c.is_control()))
        {
            self.err(
                SCHEMA,
                "Label contains invalid characters or is longer than 40 characters",
                format!("{loc}/Label"),
            );
        }
        Some(Kind::Map(Box::new(MapSpec {
            processor,
            items_path,
            items,
            item_selector,
            item_selector_ata,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
            batcher,
            distributed,
        })))
    }
}

fn last(loc: &str) -> &str {
    loc.rsplit('/').next().unwrap_or(loc)
}
