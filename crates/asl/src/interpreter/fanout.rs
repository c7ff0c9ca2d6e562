//! Parallel and Map: branches/iterations with copied variable scopes,
//! MaxConcurrency, tolerated failures and item batching.

use super::io::{self, jeval, states_obj};
use super::{Ev, Exec, Frame, StateCtx, state_error};
use crate::definition::{Dyn, Graph, MapSpec, QueryLanguage, State};
use crate::error::{
    EXCEEDED_TOLERATED_FAILURE_THRESHOLD, ExecError, QUERY_EVALUATION_ERROR, RUNTIME,
};
use crate::value::{Obj, Val};
use crate::value::{Sources, Variables};
use futures::StreamExt;
use serde_json::json;

impl Exec<'_> {
    pub(super) async fn run_parallel(
        &self,
        st: &State,
        branches: &[Graph],
        input: Val,
        vars: &Variables,
        prev: &mut u64,
    ) -> Result<Val, ExecError> {
        self.event(prev, "ParallelStateStarted", || None);
        let p = *prev;
        let futs = branches.iter().map(|g| {
            let mut v = vars.clone();
            let inp = input.clone();
            async move { self.run_graph(g, inp, &mut v, p).await.map(|x| x.0) }
        });
        let r = futures::future::try_join_all(futs).await;
        match &r {
            Ok(_) => self.event(prev, "ParallelStateSucceeded", || None),
            Err(_) => self.event(prev, "ParallelStateFailed", || None),
        };
        let _ = st;
        r.map(Val::array)
    }

    #[allow(clippy::too_many_arguments)]
    fn dyn_num(
        &self,
        d: Option<&Dyn<f64>>,
        field: &str,
        eff: &Val,
        ctx: &Val,
        vars: &Variables,
        states: &Val,
        integer: bool,
    ) -> Result<Option<f64>, ExecError> {
        Ok(match d {
            None => None,
            Some(Dyn::Lit(n)) => Some(*n),
            Some(Dyn::Path(p)) => {
                let src = Sources {
                    input: eff,
                    context: ctx,
                    vars,
                };
                let v = io::resolve_path(p, &src)?;
                // Variables are converted like AWS converts them (numeric strings accepted);
                // input paths must reference a JSON number.
                let from_var = matches!(p.root, crate::path::Root::Variable(_));
                let n = match &v {
                    Val::Number(n) if integer => n.as_i64().map(|i| i as f64),
                    Val::Number(n) => n.as_f64(),
                    Val::String(s) if from_var => s.trim().parse::<f64>().ok(),
                    _ => None,
                }
                .filter(|x| !integer || x.fract() == 0.0);
                match n {
                    Some(n) => Some(n),
                    None => {
                        let shown = match &v {
                            Val::String(s) => s.to_string(),
                            other => io::to_text(other),
                        };
                        return Err(state_error(
                            RUNTIME,
                            format!(
                                "The {field}Path field refers to value \"{shown}\" which is not a valid {}: {}",
                                if integer { "integer" } else { "float" },
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
                match v.as_f64() {
                    Some(n) => Some(n),
                    None => {
                        return Err(state_error(
                            QUERY_EVALUATION_ERROR,
                            format!(
                                "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected 'number', but was '{}' for value: {}",
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

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run_map(
        &self,
        sc: &StateCtx<'_>,
        spec: &MapSpec,
        raw: &Val,
        eff: &Val,
        ctx: &Val,
        states: &Val,
        vars: &Variables,
        prev: &mut u64,
    ) -> Result<Val, ExecError> {
        let st = sc.st;
        let jsonata = st.ql == QueryLanguage::JsonAta;
        // Items.
        let items: Val = if jsonata {
            match &spec.items {
                Some(t) => {
                    let v = jeval(t, states, vars, "Items")?;
                    if !v.is_array() {
                        let text = match t {
                            crate::jsonata::JTemplate::Expr(e) => e.text.clone(),
                            _ => io::to_text(&v),
                        };
                        return Err(state_error(
                            QUERY_EVALUATION_ERROR,
                            format!(
                                "The JSONata expression '{text}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {}",
                                io::type_name(&v),
                                io::to_text(&v)
                            ),
                        ));
                    }
                    v
                }
                None => raw.clone(),
            }
        } else {
            match (&spec.items_path, &spec.items) {
                (Some(p), _) => {
                    let src = Sources {
                        input: eff,
                        context: ctx,
                        vars,
                    };
                    io::resolve_path(p, &src)?
                }
                (None, Some(crate::jsonata::JTemplate::Literal(v))) => v.clone(),
                _ => eff.clone(),
            }
        };
        let Val::Array(items) = items else {
            // AWS reports this as a query evaluation error in both query languages.
            return Err(state_error(
                QUERY_EVALUATION_ERROR,
                format!(
                    "Map state input must be an array but was: {}",
                    io::to_text(&items)
                ),
            ));
        };
        let max_conc = self.dyn_num(
            spec.max_concurrency
                .as_ref()
                .map(|d| match d {
                    Dyn::Lit(n) => Dyn::Lit(*n as f64),
                    Dyn::Path(p) => Dyn::Path(p.clone()),
                    Dyn::Expr(e) => Dyn::Expr(e.clone()),
                    Dyn::Intrinsic(t) => Dyn::Intrinsic(t.clone()),
                })
                .as_ref(),
            "MaxConcurrency",
            eff,
            ctx,
            vars,
            states,
            true,
        )?;
        let tol_count = self.dyn_num(
            spec.tolerated_count.as_ref(),
            "ToleratedFailureCount",
            eff,
            ctx,
            vars,
            states,
            true,
        )?;
        let tol_pct = self.dyn_num(
            spec.tolerated_percentage.as_ref(),
            "ToleratedFailurePercentage",
            eff,
            ctx,
            vars,
            states,
            false,
        )?;
        if let Some(p) = tol_pct
            && !(0.0..=100.0).contains(&p)
        {
            return Err(state_error(
                RUNTIME,
                "ToleratedFailurePercentage must be between 0 and 100.",
            ));
        }
        if let Some(c) = tol_count
            && c < 0.0
        {
            return Err(state_error(
                RUNTIME,
                "ToleratedFailureCount cannot be negative.",
            ));
        }
        // Per-item inputs.
        let mut inputs = Vec::with_capacity(items.len());
        for (i, item) in std::sync::Arc::unwrap_or_clone(items)
            .into_items()
            .into_iter()
            .enumerate()
        {
            let v = if let Some(t) = &spec.item_selector {
                let frame = Frame {
                    map_item: Some((i, item)),
                };
                let c = self.context_object(st, sc.entered_at, 0, &frame, None);
                crate::limits::check(&st.name, io::template(t, eff, &c, vars)?)?
            } else if let Some(t) = &spec.item_selector_ata {
                let frame = Frame {
                    map_item: Some((i, item)),
                };
                let c = self.context_object(st, sc.entered_at, 0, &frame, None);
                let s = states_obj(raw, None, None, Some(c));
                crate::limits::check(&st.name, jeval(t, &s, vars, "ItemSelector")?)?
            } else {
                item
            };
            inputs.push(v);
        }
        if let Some(b) = &spec.batcher {
            let max_items = match &b.max_items {
                Some(Dyn::Lit(n)) => *n as usize,
                Some(Dyn::Path(p)) => {
                    let src = Sources {
                        input: eff,
                        context: ctx,
                        vars,
                    };
                    io::resolve_path(p, &src)?.as_u64().unwrap_or(1) as usize
                }
                Some(Dyn::Expr(e)) => jeval(
                    &crate::jsonata::JTemplate::Expr(e.clone()),
                    states,
                    vars,
                    "MaxItemsPerBatch",
                )?
                .as_u64()
                .unwrap_or(1) as usize,
                _ => usize::MAX,
            }
            .max(1);
            let batch_input = match &b.batch_input {
                Some(v) => Some(match crate::payload::Template::compile(v) {
                    Ok(t) if !jsonata => io::template(&t, eff, ctx, vars)?,
                    _ => Val::from(v),
                }),
                None => None,
            };
            inputs = inputs
                .chunks(max_items)
                .map(|c| {
                    let mut m = Obj::with_capacity(2);
                    if let Some(bi) = &batch_input {
                        m.insert("BatchInput", bi.clone());
                    }
                    m.insert("Items", Val::array(c.to_vec()));
                    Val::object(m)
                })
                .collect();
        }
        let n = inputs.len();
        self.event(prev, "MapStateStarted", || {
            Some(Ev::details(
                "mapStateStartedEventDetails",
                json!({"length": n}),
            ))
        });
        let limit = match max_conc {
            Some(c) if c >= 1.0 => c as usize,
            _ => n.max(1),
        };
        let tolerant = tol_count.is_some() || tol_pct.is_some();
        let p0 = *prev;
        let name = st.name.as_str();
        let mut stream = futures::stream::iter(inputs.into_iter().enumerate().map(|(i, inp)| {
            let mut v = vars.clone();
            async move {
                let mut p = p0;
                self.event(&mut p, "MapIterationStarted", || {
                    Some(Ev::details(
                        "mapIterationStartedEventDetails",
                        json!({"name": name, "index": i}),
                    ))
                });
                let r = self.run_graph(&spec.processor, inp, &mut v, p).await;
                let mut p = r.as_ref().map(|x| x.1).unwrap_or(p);
                match &r {
                    Ok(_) => self.event(&mut p, "MapIterationSucceeded", || {
                        Some(Ev::details(
                            "mapIterationSucceededEventDetails",
                            json!({"name": name, "index": i}),
                        ))
                    }),
                    Err(_) => self.event(&mut p, "MapIterationFailed", || {
                        Some(Ev::details(
                            "mapIterationFailedEventDetails",
                            json!({"name": name, "index": i}),
                        ))
                    }),
                };
                r.map(|x| x.0)
            }
        }))
        .buffered(limit);
        let mut out = Vec::with_capacity(n);
        let mut failures = 0usize;
        while let Some(r) = stream.next().await {
            match r {
                Ok(v) => out.push(v),
                Err(e) => {
                    if !tolerant {
                        self.event(prev, "MapStateFailed", || None);
                        return Err(e);
                    }
                    failures += 1;
                    let over_count = tol_count.is_none_or(|c| failures as f64 > c);
                    let over_pct =
                        tol_pct.is_none_or(|p| (failures as f64) * 100.0 / (n.max(1) as f64) > p);
                    if over_count && over_pct {
                        self.event(prev, "MapStateFailed", || None);
                        return Err(ExecError::new(
                            EXCEEDED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold was exceeded",
                        ));
                    }
                    out.push(io::error_output(&e));
                }
            }
        }
        self.event(prev, "MapStateSucceeded", || None);
        Ok(Val::array(out))
    }
}
