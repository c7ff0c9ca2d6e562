//! Task/Parallel/Map common driver (payload, Retry, Catch, result
//! processing) and the Task invocation itself (task tokens, timeouts, events).

use super::io::{self, jeval, states_obj};
use super::{Ev, Exec, Frame, StateCtx, Step, state_error};
use crate::definition::{Dyn, Kind, QueryLanguage, State};
use crate::error::{ExecError, HEARTBEAT_TIMEOUT, QUERY_EVALUATION_ERROR, RUNTIME, TIMEOUT};
use crate::retry;
use crate::task::TaskCall;
use crate::value::Val;
use crate::value::{Sources, Variables};
use futures::future::{Either, select};
use serde_json::json;

fn secs_to_ms(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1000)
}

/// Splits a resource ARN into AWS's history `resourceType`/`resource`.
fn resource_parts(resource: &str) -> (String, String) {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::") {
        if let Some(sdk) = rest.strip_prefix("aws-sdk:")
            && let Some((svc, action)) = sdk.split_once(':')
        {
            return (format!("aws-sdk:{svc}"), action.to_string());
        }
        if let Some((svc, action)) = rest.split_once(':') {
            return (svc.to_string(), action.to_string());
        }
    }
    ("lambda".into(), resource.to_string())
}

impl Exec<'_> {
    /// A `.waitForTaskToken` token: a digest of the execution ARN, the state,
    /// its input and how many tokens this state has been given for that
    /// input, shaped like a UUID. Unguessable without the execution's ARN and
    /// data, unique within the execution, and the same when a resumed
    /// execution replays its history, so a callback holding the token still
    /// reaches the task after a restart.
    pub(crate) fn task_token(&self, state: &str, input: &Val) -> String {
        use sha2::{Digest, Sha256};
        let key: [u8; 32] = Sha256::new()
            .chain_update(state.as_bytes())
            .chain_update([0])
            .chain_update(input.to_string().as_bytes())
            .finalize()
            .into();
        let n = {
            let mut issued = self.tokens_issued.lock().unwrap_or_else(|p| p.into_inner());
            let n = issued.entry(key).or_insert(0);
            *n += 1;
            *n
        };
        let d = Sha256::new()
            .chain_update(self.ctx.execution_arn.as_bytes())
            .chain_update([0])
            .chain_update(key)
            .chain_update(n.to_be_bytes())
            .finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        crate::intrinsics::functions::uuid_v4_from(b)
    }

    pub(crate) fn dyn_u64(
        &self,
        d: Option<&Dyn<u64>>,
        eff: &Val,
        ctx: &Val,
        vars: &Variables,
        states: &Val,
        field: &str,
    ) -> Result<Option<u64>, ExecError> {
        Ok(match d {
            None => None,
            Some(Dyn::Lit(n)) => Some(*n),
            Some(Dyn::Path(p)) => {
                let src = Sources {
                    input: eff,
                    context: ctx,
                    vars,
                };
                match io::resolve_path(p, &src)?.as_u64() {
                    Some(n) => Some(n),
                    None => {
                        return Err(state_error(
                            RUNTIME,
                            format!(
                                "The {field}Path parameter does not reference a valid positive integer: {}",
                                p.text
                            ),
                        ));
                    }
                }
            }
            Some(Dyn::Expr(e)) => {
                let v = jeval(
                    &crate::jsonata::JTemplate::Expr(e.clone()),
                    states,
                    vars,
                    field,
                )?;
                match v.as_u64() {
                    Some(n) => Some(n),
                    None => {
                        return Err(state_error(
                            QUERY_EVALUATION_ERROR,
                            format!(
                                "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected 'integer', but was '{}' for value: {}",
                                e.text,
                                io::type_name(&v),
                                io::to_text(&v)
                            ),
                        ));
                    }
                }
            }
            Some(Dyn::Intrinsic(_)) => None,
        })
    }

    /// Runs a Task, Parallel or Map state: payload, retries, catchers, result handling.
    pub(super) async fn run_action(
        &self,
        sc: &StateCtx<'_>,
        raw: Val,
        vars: &mut Variables,
        prev: &mut u64,
    ) -> Result<Step, ExecError> {
        let st = sc.st;
        let jsonata = st.ql == QueryLanguage::JsonAta;
        let token = match &st.kind {
            Kind::Task { resource, .. } if resource.ends_with(".waitForTaskToken") => {
                Some(self.task_token(&st.name, &raw))
            }
            _ => None,
        };
        let frame = Frame::default();
        let ctx = self.ctx_for(sc, 0, &frame, token.as_deref());
        let states = if jsonata {
            states_obj(&raw, None, None, st.uses_context.then(|| ctx.clone()))
        } else {
            Val::Null
        };
        // Effective input and payload.
        let (eff, payload) = if jsonata {
            let p = match &st.arguments {
                Some(t) => crate::limits::check(&st.name, jeval(t, &states, vars, "Arguments")?)?,
                None => raw.clone(),
            };
            (raw.clone(), p)
        } else {
            let eff = io::io_path(&st.input_path, &raw, &ctx, vars)?.into_owned();
            let p = match &st.parameters {
                Some(t) => crate::limits::check(&st.name, io::template(t, &eff, &ctx, vars)?)?,
                None => eff.clone(),
            };
            (eff, p)
        };
        let mut counts = vec![0u32; st.retry.len()];
        let mut attempt = 0u32;
        let result: Result<Val, ExecError> = loop {
            let r = match &st.kind {
                Kind::Task {
                    resource,
                    timeout,
                    heartbeat,
                } => {
                    let t = self.dyn_u64(
                        timeout.as_ref(),
                        &eff,
                        &ctx,
                        vars,
                        &states,
                        "TimeoutSeconds",
                    )?;
                    let h = self.dyn_u64(
                        heartbeat.as_ref(),
                        &eff,
                        &ctx,
                        vars,
                        &states,
                        "HeartbeatSeconds",
                    )?;
                    self.invoke_task(
                        st,
                        resource,
                        payload.clone(),
                        token.clone(),
                        t,
                        h,
                        attempt,
                        prev,
                    )
                    .await
                }
                // The aggregated branch/iteration outputs are new data.
                Kind::Parallel { branches } => self
                    .run_parallel(st, branches, payload.clone(), vars, prev)
                    .await
                    .and_then(|v| crate::limits::check(&st.name, v)),
                Kind::Map(spec) => self
                    .run_map(sc, spec, &raw, &eff, &ctx, &states, vars, prev)
                    .await
                    .and_then(|v| crate::limits::check(&st.name, v)),
                _ => Err(ExecError::runtime("internal: not an action state")),
            };
            match r {
                Ok(v) => break Ok(v),
                Err(e) => {
                    let e = sc.decorate(e);
                    if let Some(i) = st
                        .retry
                        .iter()
                        .position(|r| retry::matches(&r.error_equals, &e.error))
                    {
                        let r = &st.retry[i];
                        if counts[i] < r.max_attempts && e.error != RUNTIME {
                            let delay = r.delay_millis(counts[i]);
                            counts[i] += 1;
                            attempt += 1;
                            self.clock
                                .sleep_until(self.clock.now_millis().saturating_add(delay))
                                .await;
                            continue;
                        }
                    }
                    break Err(e);
                }
            }
        };
        match result {
            Ok(result) => {
                if jsonata {
                    let states = states_obj(
                        &raw,
                        Some(&result),
                        None,
                        st.uses_context.then(|| ctx.clone()),
                    );
                    let out = match &st.output {
                        Some(t) => {
                            crate::limits::check(&st.name, jeval(t, &states, vars, "Output")?)?
                        }
                        None => result,
                    };
                    let assigned = match &st.assign {
                        Some(a) => io::assign_jsonata(a, &states, vars)?,
                        None => None,
                    };
                    let detail = assigned.and_then(|m| io::commit(vars, m, self.history.is_some()));
                    Ok(self.finish(st, out, prev, detail.as_ref()))
                } else {
                    let result = match &st.result_selector {
                        Some(t) => io::template(t, &result, &ctx, vars)?,
                        None => result,
                    };
                    self.jsonpath_tail(st, raw, result, &ctx, vars, prev)
                }
            }
            Err(e) => {
                let Some(c) = st
                    .catch
                    .iter()
                    .find(|c| retry::matches(&c.error_equals, &e.error))
                else {
                    return Err(e);
                };
                let errout = io::error_output(&e);
                let (out, assigned) = io::catcher_output(st, c, jsonata, raw, errout, &ctx, vars)?;
                let detail = assigned.and_then(|m| io::commit(vars, m, self.history.is_some()));
                self.exited(st, &out, prev, detail.as_ref());
                Ok(Step::Next(c.next, out))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn invoke_task(
        &self,
        st: &State,
        resource: &str,
        payload: Val,
        token: Option<String>,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
        attempt: u32,
        prev: &mut u64,
    ) -> Result<Val, ExecError> {
        let lambda = resource.starts_with("arn:aws:lambda:");
        let (rtype, rname) = resource_parts(resource);
        if self.history.is_some() {
            if lambda {
                self.event(prev, "LambdaFunctionScheduled", || {
                    let mut d = json!({"resource": resource, "input": io::to_text(&payload), "inputDetails": {"truncated": false}});
                    if let Some(t) = timeout {
                        d["timeoutInSeconds"] = json!(t);
                    }
                    Some(Ev::details("lambdaFunctionScheduledEventDetails", d))
                });
                self.event(prev, "LambdaFunctionStarted", || None);
            } else {
                self.event(prev, "TaskScheduled", || {
                    let mut d = json!({"resourceType": rtype, "resource": rname, "region": "us-east-1", "parameters": io::to_text(&payload)});
                    if let Some(t) = timeout {
                        d["timeoutInSeconds"] = json!(t);
                    }
                    if let Some(h) = heartbeat {
                        d["heartbeatInSeconds"] = json!(h);
                    }
                    Some(Ev::details("taskScheduledEventDetails", d))
                });
                self.event(prev, "TaskStarted", || {
                    Some(Ev::details(
                        "taskStartedEventDetails",
                        json!({"resourceType": rtype, "resource": rname}),
                    ))
                });
            }
        } else {
            self.next_event
                .fetch_add(2, std::sync::atomic::Ordering::Relaxed);
        }
        let call = TaskCall {
            state_name: st.name.clone(),
            resource: resource.to_string(),
            payload: payload.to_json(),
            task_token: token.clone(),
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
            attempt,
        };
        let fut = self.tasks.invoke(call);
        // Heartbeats apply to callback tasks: the invoker reports SendTaskHeartbeat
        // times through `TaskInvoker::last_heartbeat_millis`.
        let hb = if token.is_some() { heartbeat } else { None };
        let to_failure = |f: crate::task::TaskFailure| ExecError {
            error: f.error,
            cause: Some(f.cause.unwrap_or_default()),
        };
        let r = if timeout.is_none() && hb.is_none() {
            fut.await.map_err(to_failure)
        } else {
            let start = self.clock.now_millis();
            let timeout_at = timeout.map(|t| start.saturating_add(secs_to_ms(t)));
            let timer = async move {
                let mut hb_base = start;
                loop {
                    let hb_at = hb.map(|h| hb_base.saturating_add(secs_to_ms(h)));
                    let (deadline, is_heartbeat) = match (timeout_at, hb_at) {
                        (Some(t), Some(h)) if h < t => (h, true),
                        (Some(t), _) => (t, false),
                        (None, Some(h)) => (h, true),
                        (None, None) => return TIMEOUT,
                    };
                    self.clock.sleep_until(deadline).await;
                    if !is_heartbeat {
                        return TIMEOUT;
                    }
                    match token
                        .as_deref()
                        .and_then(|t| self.tasks.last_heartbeat_millis(t))
                    {
                        Some(last) if last > hb_base => hb_base = last,
                        _ => return HEARTBEAT_TIMEOUT,
                    }
                }
            };
            futures::pin_mut!(timer);
            match select(fut, timer).await {
                Either::Left((r, _)) => r.map_err(to_failure),
                Either::Right((err, _)) => Err(ExecError {
                    error: err.into(),
                    cause: Some(String::new()),
                }),
            }
        };
        let r = match r.map(Val::from) {
            Ok(v) if crate::limits::too_large(&v) => Err(crate::limits::data_limit_error(&st.name)),
            other => other,
        };
        if self.history.is_some() {
            let (kind, key) = if lambda {
                ("LambdaFunction", "lambdaFunction")
            } else {
                ("Task", "task")
            };
            match &r {
                Ok(v) => {
                    self.event(prev, &format!("{kind}Succeeded"), || {
                        let mut d = json!({"output": io::to_text(v), "outputDetails": {"truncated": false}});
                        if !lambda {
                            d["resourceType"] = json!(rtype);
                            d["resource"] = json!(rname);
                        }
                        Some(Ev::details(&format!("{key}SucceededEventDetails"), d))
                    });
                }
                Err(e) => {
                    let timed_out = e.error == TIMEOUT || e.error == HEARTBEAT_TIMEOUT;
                    let ty = if timed_out {
                        format!("{kind}TimedOut")
                    } else {
                        format!("{kind}Failed")
                    };
                    let dk = if timed_out {
                        format!("{key}TimedOutEventDetails")
                    } else {
                        format!("{key}FailedEventDetails")
                    };
                    self.event(prev, &ty, || {
                        let mut d = json!({"error": e.error});
                        if let Some(c) = &e.cause {
                            d["cause"] = json!(c);
                        }
                        if !lambda {
                            d["resourceType"] = json!(rtype);
                            d["resource"] = json!(rname);
                        }
                        Some(Ev::details(&dk, d))
                    });
                }
            }
        } else {
            self.next_event
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        r
    }
}
