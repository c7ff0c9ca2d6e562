//! Input/output processing: InputPath, Parameters, ResultSelector, ResultPath,
//! OutputPath and Assign (JSONPath), and Arguments/Output/Assign (JSONata).

use super::{Exec, Frame, StateCtx, state_error};
use crate::definition::{Assign, Catcher, IoPath, ResultPath, State};
use crate::error::{ExecError, QUERY_EVALUATION_ERROR, RESULT_PATH_MATCH_FAILURE, RUNTIME};
use crate::jsonata::{self, JTemplate};
use crate::path::{self, JsonPath};
use crate::payload::Template;
use crate::value::{Obj, Val};
use crate::value::{Sources, Variables};
use serde_json::Value;
use std::borrow::Cow;

/// Compact JSON text.
pub fn to_text(v: &Val) -> String {
    v.to_text()
}

/// ISO-8601 with milliseconds, UTC (`2024-01-01T00:00:00.000Z`).
pub fn iso_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// AWS's cause for a path that selects nothing where the path itself is
/// the field's value (InputPath, OutputPath, ItemsPath, a Task's or Map's
/// `…Path` field): `Invalid path '<path>' : <Jayway's reason>` (see
/// [`JsonPath::not_found_reason`]). Fields with texts of their own (payload
/// templates' `.$` keys, Choice rules, Wait and Fail paths) do not use it.
pub fn invalid_path(p: &JsonPath, src: &Sources<'_>) -> ExecError {
    state_error(
        RUNTIME,
        format!(
            "Invalid path '{}' : {}",
            p.text,
            p.not_found_reason(src.root_of(p))
        ),
    )
}

/// Resolves `p`, failing with [`invalid_path`] when it selects nothing.
pub fn resolve_path(p: &JsonPath, src: &Sources<'_>) -> Result<Val, ExecError> {
    src.resolve(p).ok_or_else(|| invalid_path(p, src))
}

/// Re-marks an error from templates/intrinsics so the state prefix is added.
pub fn mark(e: ExecError) -> ExecError {
    match e.cause {
        Some(c) if !c.starts_with('\u{0}') => state_error(&e.error, c),
        other => ExecError {
            error: e.error,
            cause: other,
        },
    }
}

/// Applies InputPath/OutputPath.
pub fn io_path<'v>(
    p: &IoPath,
    v: &'v Val,
    ctx: &Val,
    vars: &Variables,
) -> Result<Cow<'v, Val>, ExecError> {
    match p {
        IoPath::Identity => Ok(Cow::Borrowed(v)),
        IoPath::Null => Ok(Cow::Owned(Val::empty_object())),
        IoPath::Path(p) => {
            let src = Sources {
                input: v,
                context: ctx,
                vars,
            };
            if p.root == path::Root::Input && p.is_plain() {
                return p
                    .select_ref(v)
                    .map(Cow::Borrowed)
                    .ok_or_else(|| invalid_path(p, &src));
            }
            resolve_path(p, &src).map(Cow::Owned)
        }
    }
}

/// Evaluates a JSONPath template with input `v`.
pub fn template(t: &Template, v: &Val, ctx: &Val, vars: &Variables) -> Result<Val, ExecError> {
    t.eval(&Sources {
        input: v,
        context: ctx,
        vars,
    })
    .map_err(mark)
}

/// Applies ResultPath: merges `result` into `raw`.
pub fn result_path(rp: &ResultPath, raw: Val, result: Val) -> Result<Val, ExecError> {
    match rp {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(raw),
        ResultPath::Path(p) => {
            let mut raw = raw;
            match path::set_reference(&mut raw, p, result) {
                Ok(()) => Ok(raw),
                Err(_) => Err(state_error(
                    RESULT_PATH_MATCH_FAILURE,
                    format!(
                        "Unable to apply step \"{}\" to input {}",
                        p.text,
                        to_text(&raw)
                    ),
                )),
            }
        }
    }
}

/// Evaluates a JSONPath Assign template against `v`; returns the new bindings.
pub fn assign_jsonpath(
    a: &Assign,
    v: &Val,
    ctx: &Val,
    vars: &Variables,
) -> Result<Option<Obj>, ExecError> {
    match a {
        Assign::Path(t) => match template(t, v, ctx, vars)? {
            Val::Object(m) => Ok(Some(std::sync::Arc::unwrap_or_clone(m))),
            _ => Ok(None),
        },
        Assign::Ata(_) => Ok(None),
    }
}

/// Commits assignments and returns the `assignedVariables` detail (text-encoded values).
pub fn commit(vars: &mut Variables, m: Obj, want_detail: bool) -> Option<Value> {
    let detail = want_detail.then(|| {
        Value::Object(
            m.iter()
                .map(|(k, v)| (k.to_string(), Value::String(to_text(v))))
                .collect(),
        )
    });
    for (k, v) in m.entries() {
        vars.insert(k.to_string(), v.clone());
    }
    detail
}

/// `$states` for JSONata.
pub fn states_obj(
    input: &Val,
    result: Option<&Val>,
    error_output: Option<&Val>,
    ctx: Option<Val>,
) -> Val {
    let mut m = Obj::with_capacity(4);
    m.insert("input", input.clone());
    if let Some(r) = result {
        m.insert("result", r.clone());
    }
    if let Some(e) = error_output {
        m.insert("errorOutput", e.clone());
    }
    if let Some(c) = ctx {
        m.insert("context", c);
    }
    Val::object(m)
}

/// Evaluates a JSONata template, mapping failures to States.QueryEvaluationError.
pub fn jeval(t: &JTemplate, states: &Val, vars: &Variables, field: &str) -> Result<Val, ExecError> {
    t.eval(states, vars, field).map_err(|(f, expr, err)| {
        state_error(QUERY_EVALUATION_ERROR, jsonata::cause_text(&f, &expr, &err))
    })
}

/// Evaluates a JSONata Assign.
pub fn assign_jsonata(
    a: &Assign,
    states: &Val,
    vars: &Variables,
) -> Result<Option<Obj>, ExecError> {
    match a {
        Assign::Ata(JTemplate::Object(entries)) => {
            let mut m = Obj::new();
            for (k, t) in entries {
                let v =
                    t.eval(states, vars, &format!("Assign/{k}"))
                        .map_err(|(f, expr, err)| {
                            state_error(
                                QUERY_EVALUATION_ERROR,
                                jsonata::cause_text(&f, &expr, &err),
                            )
                        })?;
                m.insert(k.as_str(), v);
            }
            Ok(Some(m))
        }
        Assign::Ata(JTemplate::Literal(Val::Object(o))) => Ok(Some(Obj::clone(o))),
        _ => Ok(None),
    }
}

/// A matched catcher's output and new bindings: JSONata `Output`/`Assign`
/// over `$states` (with `errorOutput`), or JSONPath `Assign` over the error
/// output and `ResultPath` merging it into the raw input.
pub fn catcher_output(
    st: &State,
    c: &Catcher,
    jsonata: bool,
    raw: Val,
    errout: Val,
    ctx: &Val,
    vars: &Variables,
) -> Result<(Val, Option<Obj>), ExecError> {
    if jsonata {
        let states = states_obj(
            &raw,
            None,
            Some(&errout),
            st.uses_context.then(|| ctx.clone()),
        );
        let out = match &c.output {
            Some(t) => crate::limits::check(&st.name, jeval(t, &states, vars, "Output")?)?,
            None => errout,
        };
        let assigned = match &c.assign {
            Some(a) => assign_jsonata(a, &states, vars)?,
            None => None,
        };
        Ok((out, assigned))
    } else {
        let assigned = match &c.assign {
            Some(a) => assign_jsonpath(a, &errout, ctx, vars)?,
            None => None,
        };
        Ok((result_path(&c.result_path, raw, errout)?, assigned))
    }
}

/// The error output object `{"Error", "Cause"}`.
pub fn error_output(e: &ExecError) -> Val {
    let mut m = Obj::with_capacity(2);
    m.insert("Error", Val::str(&e.error));
    if let Some(c) = &e.cause {
        m.insert("Cause", Val::str(c));
    }
    Val::object(m)
}

/// JError → unsupported-type helper used by typed JSONata fields.
pub fn type_name(v: &Val) -> &'static str {
    match v {
        Val::Null => "null",
        Val::Bool(_) => "boolean",
        Val::Number(_) => "number",
        Val::String(_) => "string",
        Val::Array(_) => "array",
        Val::Object(_) => "object",
    }
}

impl Exec<'_> {
    /// `$$` for a state, built only when the state reads it.
    pub fn ctx_for(
        &self,
        sc: &StateCtx<'_>,
        retry: u32,
        frame: &Frame,
        token: Option<&str>,
    ) -> Val {
        if sc.st.uses_context {
            self.context_object(sc.st, sc.entered_at, retry, frame, token)
        } else {
            Val::Null
        }
    }

    /// JSONPath tail of a state with a result: ResultSelector is applied by the caller;
    /// Assign (on `result`), ResultPath, OutputPath.
    pub fn jsonpath_tail(
        &self,
        st: &State,
        raw: Val,
        result: Val,
        ctx: &Val,
        vars: &mut Variables,
        prev: &mut u64,
    ) -> Result<super::Step, ExecError> {
        let assigned = match &st.assign {
            Some(a) => assign_jsonpath(a, &result, ctx, vars)?,
            None => None,
        };
        // Results and Parameters were measured where they were made; only a
        // ResultSelector or a ResultPath merge can make the output larger.
        let grows = matches!(st.result_path, ResultPath::Path(_)) || st.result_selector.is_some();
        let merged = result_path(&st.result_path, raw, result)?;
        let out = output(&st.output_path, merged, ctx, vars)?;
        if grows {
            crate::limits::check_ref(&st.name, &out)?;
        }
        let detail = assigned.and_then(|m| commit(vars, m, self.history.is_some()));
        Ok(self.finish(st, out, prev, detail.as_ref()))
    }
}

/// Applies OutputPath to an owned value (no clone for the identity).
pub fn output(p: &IoPath, v: Val, ctx: &Val, vars: &Variables) -> Result<Val, ExecError> {
    match p {
        IoPath::Identity => Ok(v),
        p => Ok(io_path(p, &v, ctx, vars)?.into_owned()),
    }
}
