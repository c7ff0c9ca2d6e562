//! State dispatch per query language, and the simple kinds: Pass, Choice,
//! Wait, Succeed, Fail.

use super::io::{self, jeval, states_obj};
use super::{Exec, Frame, StateCtx, Step, state_error};
use crate::choice;
use crate::definition::{Dyn, Kind, WaitFor};
use crate::error::{ExecError, NO_CHOICE_MATCHED, QUERY_EVALUATION_ERROR, RUNTIME};
use crate::value::{Obj, Val};
use crate::value::{Sources, Variables};

impl Exec<'_> {
    pub(crate) async fn run_jsonpath(
        &self,
        sc: &StateCtx<'_>,
        raw: Val,
        vars: &mut Variables,
        prev: &mut u64,
    ) -> Result<Step, ExecError> {
        let st = sc.st;
        match &st.kind {
            Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map(_) => {
                return self.run_action(sc, raw, vars, prev).await;
            }
            _ => {}
        }
        let frame = Frame::default();
        let ctx = self.ctx_for(sc, 0, &frame, None);
        match &st.kind {
            Kind::Pass {
                result,
                result_too_large,
            } => {
                let res = if let Some(r) = result {
                    r.clone()
                } else if let Some(p) = &st.parameters {
                    let eff = io::io_path(&st.input_path, &raw, &ctx, vars)?;
                    crate::limits::check(&st.name, io::template(p, &eff, &ctx, vars)?)?
                } else if matches!(st.input_path, crate::definition::IoPath::Identity)
                    && matches!(st.result_path, crate::definition::ResultPath::Replace)
                    && st.assign.is_none()
                {
                    // Fast path: the input flows through untouched.
                    let out = io::output(&st.output_path, raw, &ctx, vars)?;
                    return Ok(self.finish(st, out, prev, None));
                } else {
                    io::io_path(&st.input_path, &raw, &ctx, vars)?.into_owned()
                };
                if *result_too_large {
                    return Err(crate::limits::data_limit_error(&st.name));
                }
                self.jsonpath_tail(st, raw, res, &ctx, vars, prev)
            }
            Kind::Choice { branches, default } => {
                let eff = io::io_path(&st.input_path, &raw, &ctx, vars)?.into_owned();
                let src = Sources {
                    input: &eff,
                    context: &ctx,
                    vars,
                };
                let mut target = None;
                for b in branches {
                    if let Some(rule) = &b.rule
                        && choice::eval(rule, &src).map_err(io::mark)?
                    {
                        target = Some((b.next, b.assign.as_ref()));
                        break;
                    }
                }
                let (next, branch_assign) = match (target, default) {
                    (Some(t), _) => (t.0, t.1),
                    (None, Some(d)) => (*d, None),
                    (None, None) => {
                        return Err(state_error(NO_CHOICE_MATCHED, "No Matches!").strip_marker());
                    }
                };
                let mut assigned = None;
                for a in [st.assign.as_ref(), branch_assign].into_iter().flatten() {
                    if let Some(m) = io::assign_jsonpath(a, &eff, &ctx, vars)? {
                        assigned.get_or_insert_with(Obj::new).extend(m);
                    }
                }
                let out = io::output(&st.output_path, eff, &ctx, vars)?;
                let detail = assigned.and_then(|m| io::commit(vars, m, self.history.is_some()));
                self.exited(st, &out, prev, detail.as_ref());
                Ok(Step::Next(next, out))
            }
            Kind::Wait(w) => {
                let eff = io::io_path(&st.input_path, &raw, &ctx, vars)?.into_owned();
                let deadline = self.wait_deadline(w, sc.entered_at, &eff, &ctx, vars, None)?;
                self.clock.sleep_until(deadline).await;
                let assigned = match &st.assign {
                    Some(a) => io::assign_jsonpath(a, &eff, &ctx, vars)?,
                    None => None,
                };
                let out = io::output(&st.output_path, eff, &ctx, vars)?;
                let detail = assigned.and_then(|m| io::commit(vars, m, self.history.is_some()));
                Ok(self.finish(st, out, prev, detail.as_ref()))
            }
            Kind::Succeed => {
                let eff = io::io_path(&st.input_path, &raw, &ctx, vars)?.into_owned();
                let out = io::output(&st.output_path, eff, &ctx, vars)?;
                self.exited(st, &out, prev, None);
                Ok(Step::End(out))
            }
            Kind::Fail { error, cause } => {
                let e = self.fail_field(error.as_ref(), "Error", &raw, &ctx, vars)?;
                let c = self.fail_field(cause.as_ref(), "Cause", &raw, &ctx, vars)?;
                Err(ExecError {
                    error: e.unwrap_or_default(),
                    cause: c,
                })
            }
            _ => unreachable_kind(),
        }
    }

    fn fail_field(
        &self,
        d: Option<&Dyn<String>>,
        field: &str,
        raw: &Val,
        ctx: &Val,
        vars: &Variables,
    ) -> Result<Option<String>, ExecError> {
        Ok(match d {
            None => None,
            Some(Dyn::Lit(s)) => Some(s.clone()),
            Some(Dyn::Path(p)) => {
                let src = Sources {
                    input: raw,
                    context: ctx,
                    vars,
                };
                match src.resolve(p) {
                    Some(Val::String(s)) => Some(s.to_string()),
                    Some(other) => Some(io::to_text(&other)),
                    None => {
                        return Err(state_error(
                            RUNTIME,
                            format!(
                                "The JSONPath '{}' specified for the field '{field}Path' could not be found in the input '{}'",
                                p.text,
                                io::to_text(raw)
                            ),
                        ));
                    }
                }
            }
            Some(Dyn::Intrinsic(t)) => {
                let v = io::template(t, raw, ctx, vars)?;
                match v.get("x") {
                    Some(Val::String(s)) => Some(s.to_string()),
                    Some(other) => Some(io::to_text(other)),
                    None => None,
                }
            }
            Some(Dyn::Expr(e)) => {
                let states = states_obj(raw, None, None, Some(ctx.clone()));
                let t = crate::jsonata::JTemplate::Expr(e.clone());
                match jeval(&t, &states, vars, field)? {
                    Val::String(s) => Some(s.to_string()),
                    other => Some(io::to_text(&other)),
                }
            }
        })
    }

    /// Wait deadline in epoch millis; relative waits count from `entered_at`
    /// (the state's entry time as its history records it).
    pub(super) fn wait_deadline(
        &self,
        w: &WaitFor,
        entered_at: i64,
        eff: &Val,
        ctx: &Val,
        vars: &Variables,
        states: Option<&Val>,
    ) -> Result<i64, ExecError> {
        let now = entered_at;
        match w {
            WaitFor::Seconds(d) => {
                let secs = match d {
                    Dyn::Lit(n) => *n,
                    Dyn::Path(p) => {
                        let src = Sources {
                            input: eff,
                            context: ctx,
                            vars,
                        };
                        let v = src.resolve(p).ok_or_else(|| {
                            state_error(RUNTIME, format!("The SecondsPath parameter does not reference an input value: {}", p.text))
                        })?;
                        match v.as_i64() {
                            Some(n) if n >= 0 => n,
                            Some(_) => {
                                return Err(state_error(
                                    RUNTIME,
                                    format!(
                                        "The SecondsPath parameter references a negative value: {} == {}",
                                        p.text,
                                        shown(&v)
                                    ),
                                ));
                            }
                            None => {
                                return Err(state_error(
                                    RUNTIME,
                                    format!(
                                        "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                                        p.text,
                                        shown(&v)
                                    ),
                                ));
                            }
                        }
                    }
                    Dyn::Expr(e) => {
                        let st = states.cloned().unwrap_or(Val::Null);
                        let v = jeval(
                            &crate::jsonata::JTemplate::Expr(e.clone()),
                            &st,
                            vars,
                            "Seconds",
                        )?;
                        match v.as_i64() {
                            Some(n) if n >= 0 => n,
                            _ => {
                                return Err(state_error(
                                    QUERY_EVALUATION_ERROR,
                                    format!(
                                        "The JSONata expression '{}' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '{}' for value: {}",
                                        e.text,
                                        io::type_name(&v),
                                        io::to_text(&v)
                                    ),
                                ));
                            }
                        }
                    }
                    Dyn::Intrinsic(_) => 0,
                };
                Ok(now.saturating_add(secs.saturating_mul(1000)))
            }
            WaitFor::Timestamp(d) => {
                let text = match d {
                    Dyn::Lit(s) => s.clone(),
                    Dyn::Path(p) => {
                        let src = Sources {
                            input: eff,
                            context: ctx,
                            vars,
                        };
                        match src.resolve(p) {
                            Some(Val::String(s)) if choice::parse_timestamp(&s).is_some() => {
                                s.to_string()
                            }
                            Some(v) => {
                                return Err(state_error(
                                    RUNTIME,
                                    format!(
                                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                                        p.text,
                                        shown(&v)
                                    ),
                                ));
                            }
                            None => {
                                return Err(state_error(
                                    RUNTIME,
                                    format!(
                                        "The TimestampPath parameter does not reference an input value: {}",
                                        p.text
                                    ),
                                ));
                            }
                        }
                    }
                    Dyn::Expr(e) => {
                        let st = states.cloned().unwrap_or(Val::Null);
                        match jeval(
                            &crate::jsonata::JTemplate::Expr(e.clone()),
                            &st,
                            vars,
                            "Timestamp",
                        )? {
                            Val::String(s) => s.to_string(),
                            other => io::to_text(&other),
                        }
                    }
                    Dyn::Intrinsic(_) => String::new(),
                };
                match choice::parse_timestamp(&text) {
                    Some(t) => Ok(t.timestamp_millis()),
                    None => Err(state_error(
                        RUNTIME,
                        format!(
                            "The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time format string: {text}"
                        ),
                    )),
                }
            }
        }
    }

    pub(crate) async fn run_jsonata(
        &self,
        sc: &StateCtx<'_>,
        raw: Val,
        vars: &mut Variables,
        prev: &mut u64,
    ) -> Result<Step, ExecError> {
        let st = sc.st;
        match &st.kind {
            Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map(_) => {
                return self.run_action(sc, raw, vars, prev).await;
            }
            _ => {}
        }
        let frame = Frame::default();
        let ctx = if st.uses_context {
            Some(self.context_object(st, sc.entered_at, 0, &frame, None))
        } else {
            None
        };
        let states = states_obj(&raw, None, None, ctx);
        match &st.kind {
            Kind::Pass { .. } | Kind::Wait(_) | Kind::Succeed => {
                if let Kind::Wait(w) = &st.kind {
                    let deadline = self.wait_deadline(
                        w,
                        sc.entered_at,
                        &raw,
                        &Val::Null,
                        vars,
                        Some(&states),
                    )?;
                    self.clock.sleep_until(deadline).await;
                }
                let out = match &st.output {
                    Some(t) => crate::limits::check(&st.name, jeval(t, &states, vars, "Output")?)?,
                    None => raw.clone(),
                };
                let assigned = match &st.assign {
                    Some(a) => io::assign_jsonata(a, &states, vars)?,
                    None => None,
                };
                let detail = assigned.and_then(|m| io::commit(vars, m, self.history.is_some()));
                if matches!(st.kind, Kind::Succeed) {
                    self.exited(st, &out, prev, None);
                    return Ok(Step::End(out));
                }
                Ok(self.finish(st, out, prev, detail.as_ref()))
            }
            Kind::Choice { branches, default } => {
                let mut target = None;
                for b in branches {
                    if let Some(c) = &b.condition {
                        let v = jeval(c, &states, vars, "Condition")?;
                        let Val::Bool(ok) = v else {
                            let text = match c {
                                crate::jsonata::JTemplate::Expr(e) => e.text.clone(),
                                _ => io::to_text(&v),
                            };
                            return Err(state_error(
                                QUERY_EVALUATION_ERROR,
                                format!(
                                    "The JSONata expression '{text}' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '{}' for value: {}",
                                    io::type_name(&v),
                                    io::to_text(&v)
                                ),
                            ));
                        };
                        if ok {
                            target = Some(b);
                            break;
                        }
                    }
                }
                let (next, b_out, b_assign) = match (target, default) {
                    (Some(b), _) => (b.next, b.output.as_ref(), b.assign.as_ref()),
                    (None, Some(d)) => (*d, None, None),
                    (None, None) => return Err(ExecError::new(NO_CHOICE_MATCHED, "No Matches!")),
                };
                let out_t = b_out.or(st.output.as_ref());
                let out = match out_t {
                    Some(t) => crate::limits::check(&st.name, jeval(t, &states, vars, "Output")?)?,
                    None => raw.clone(),
                };
                let mut assigned: Option<Obj> = None;
                for a in [st.assign.as_ref(), b_assign].into_iter().flatten() {
                    if let Some(m) = io::assign_jsonata(a, &states, vars)? {
                        assigned.get_or_insert_with(Obj::new).extend(m);
                    }
                }
                let detail = assigned.and_then(|m| io::commit(vars, m, self.history.is_some()));
                self.exited(st, &out, prev, detail.as_ref());
                Ok(Step::Next(next, out))
            }
            Kind::Fail { error, cause } => {
                let c = ctx_clone(&states);
                let e = self.fail_field(error.as_ref(), "Error", &raw, &c, vars)?;
                let ca = self.fail_field(cause.as_ref(), "Cause", &raw, &c, vars)?;
                Err(ExecError {
                    error: e.unwrap_or_default(),
                    cause: ca,
                })
            }
            _ => unreachable_kind(),
        }
    }
}

/// A value as AWS prints it in these causes: strings raw, the rest as JSON.
fn shown(v: &Val) -> String {
    match v {
        Val::String(s) => s.to_string(),
        other => io::to_text(other),
    }
}

fn ctx_clone(states: &Val) -> Val {
    states.get("context").cloned().unwrap_or(Val::Null)
}

fn unreachable_kind<T>() -> Result<T, ExecError> {
    Err(ExecError::runtime(
        "internal: state kind dispatched to the wrong handler",
    ))
}

trait StripMarker {
    fn strip_marker(self) -> Self;
}

impl StripMarker for ExecError {
    fn strip_marker(mut self) -> Self {
        if let Some(c) = &self.cause {
            self.cause = Some(c.trim_start_matches('\u{0}').to_string());
        }
        self
    }
}
