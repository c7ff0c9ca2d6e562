//! Where JSONata expressions run: long-lived `jsonata-rs` evaluators on
//! helper threads, recycled so that memory stays flat.
//!
//! Why: every `JsonAta::evaluate` call binds its ~55 built-in functions as
//! arena values whose `String` names live on the heap, and the arena never
//! runs destructors, so each call leaves about 1.6 KiB behind for good, even
//! with a fresh arena per call. So the engine does not call `evaluate` per
//! expression. Instead, a helper thread calls it once for a native function,
//! `$__wsflow_host()`, that stays inside the call and serves many
//! evaluations, each with the evaluator reachable from its
//! `FunctionContext`. The built-ins are bound once per evaluator, not once
//! per evaluation.
//!
//! Recycling: everything an evaluation allocates goes into the evaluator's
//! arena, so an evaluator is retired (its call returns and the arena is
//! dropped) after [`MAX_EVALS`] evaluations, when its arena passes
//! [`MAX_ARENA_BYTES`], after an evaluation that failed (the crate does not
//! unwind its depth counter on errors), and when it is older than the
//! maximum age (20 s). The age limit comes from the crate's time box, which
//! counts from an evaluator's start, idle time included: the box is 30 s and
//! an evaluator older than 20 s takes no new evaluation, so each evaluation
//! still runs for at least 10 s (as when every evaluation had its own
//! evaluator with a 10 s box) and a runaway one is stopped after 10–30 s.
//! What remains of the leak is one evaluator's bindings per retirement
//! instead of per evaluation: nothing under steady load (retirements follow
//! the arena's size), at most one per 20 s of sporadic use.
//!
//! Isolation: each evaluation binds `$states` and its variables in the
//! evaluator's root frame, after resetting the names the previous one bound
//! to undefined (which reads exactly like an unbound name); names of
//! built-in functions are never rebound, as before, where the built-ins were
//! bound after the variables. Expressions are compiled as blocks (see
//! [`super::JExpr::compile`]), so their own `:=` assignments stay in the
//! block's frame.
//!
//! Sharing: documents reach the evaluator as [`Val`]s, whose arrays and
//! objects are shared (`Arc`) from state to state; the context object's
//! `Execution.Input`, for one, is the same value for every state of an
//! execution. An evaluator converts each large shared array or object into
//! its arena once and reuses the conversion for later evaluations (keyed by
//! the `Arc`'s address, which it keeps alive, so the address cannot be
//! reused for another value while the entry exists).
//!
//! Threads: each thread that evaluates gets its own helper thread (spawned
//! on first use, ended when that thread ends), and waits for the reply, so
//! evaluations run as concurrently, and block their caller as long, as when
//! they ran on the calling thread.

use super::{Body, JError, clean_error, from_jv, register_aws_functions};
use crate::value::{Val, Variables};
use bumpalo::Bump as Arena;
use jsonata_rs::ArrayFlags;
use jsonata_rs::{FunctionContext, JsonAta, Value as JV};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

/// Evaluators started so far (all helper threads).
static STARTED: AtomicU64 = AtomicU64::new(0);

/// How many evaluators the helper threads have started so far.
#[cfg(test)]
pub(super) fn evaluators_started() -> u64 {
    STARTED.load(Ordering::Relaxed)
}

/// Lowers the maximum age (tests of the retirement path; never raised).
#[cfg(test)]
pub(super) fn shorten_max_age(max_age: Duration) {
    MAX_AGE_MILLIS.fetch_min(max_age.as_millis() as u64, Ordering::Relaxed);
}

/// Evaluations one evaluator serves before it is retired.
pub const MAX_EVALS: u64 = 100_000;
/// Arena size past which an evaluator is retired.
pub const MAX_ARENA_BYTES: usize = 4 << 20;
/// Age past which an evaluator takes no new evaluation, milliseconds
/// (`TIME_LIMIT_MS` minus the 10 s each evaluation is guaranteed).
static MAX_AGE_MILLIS: AtomicU64 = AtomicU64::new(20_000);
/// The crate's recursion limit per evaluation.
const MAX_DEPTH: usize = 500;
/// The crate's time box, counted from the evaluator's start (see the module doc).
const TIME_LIMIT_MS: usize = 30_000;
/// Stack of a helper thread (deep expressions recurse deeply).
const STACK_BYTES: usize = 16 << 20;

/// The expression a helper's evaluator runs: it never returns until the
/// evaluator is retired.
const HOST: &str = "$__wsflow_host()";

/// One evaluation to run.
struct Request {
    body: Arc<Body>,
    /// The expression may edit values in place (see [`super::JExpr`]).
    mutating: bool,
    states: Val,
    vars: Variables,
}

type Reply = Result<Val, JError>;

/// The calling thread's line to its helper.
struct Client {
    requests: Sender<Request>,
    replies: Receiver<Reply>,
}

thread_local! {
    /// This thread's helper (on calling threads).
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
    /// The helper's side (on helper threads).
    static SERVER: RefCell<Option<Server>> = const { RefCell::new(None) };
}

/// A helper thread's state across its evaluators.
struct Server {
    requests: Receiver<Request>,
    replies: Sender<Reply>,
    /// A request taken by an evaluator too old to run it, for the next one.
    pending: Option<Request>,
    /// The caller hung up: the helper ends.
    closed: bool,
}

fn could_not() -> JError {
    JError::Threw("The expression could not be evaluated".into())
}

/// Evaluates `body` with `$states` and `vars` on this thread's helper.
pub(super) fn evaluate(body: Arc<Body>, mutating: bool, states: Val, vars: Variables) -> Reply {
    CLIENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        let mut req = Request {
            body,
            mutating,
            states,
            vars,
        };
        // A helper that died (it cannot, short of a bug) is replaced once.
        for _ in 0..2 {
            if slot.is_none() {
                *slot = spawn();
            }
            let Some(client) = slot.as_ref() else {
                return Err(could_not());
            };
            match client.requests.send(req) {
                Ok(()) => {
                    return match client.replies.recv() {
                        Ok(r) => r,
                        Err(_) => {
                            *slot = None;
                            Err(could_not())
                        }
                    };
                }
                Err(back) => {
                    req = back.0;
                    *slot = None;
                }
            }
        }
        Err(could_not())
    })
}

fn spawn() -> Option<Client> {
    let (requests, server_requests) = channel();
    let (server_replies, replies) = channel();
    std::thread::Builder::new()
        .name("wsflow-jsonata".into())
        .stack_size(STACK_BYTES)
        .spawn(move || serve_forever(server_requests, server_replies))
        .ok()?;
    Some(Client { requests, replies })
}

/// A helper thread: evaluators one after the other until the caller hangs up.
fn serve_forever(requests: Receiver<Request>, replies: Sender<Reply>) {
    SERVER.with(|s| {
        *s.borrow_mut() = Some(Server {
            requests,
            replies,
            pending: None,
            closed: false,
        })
    });
    loop {
        let arena = Arena::new();
        let Ok(j) = JsonAta::new(HOST, &arena) else {
            return;
        };
        register_aws_functions(&j);
        j.register_function("__wsflow_host", 0, host);
        STARTED.fetch_add(1, Ordering::Relaxed);
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
            j.evaluate_timeboxed(None, Some(MAX_DEPTH), Some(TIME_LIMIT_MS))
        }));
        if SERVER.with(|s| s.borrow().as_ref().is_none_or(|s| s.closed)) {
            return;
        }
    }
}

/// The next request for an evaluator, or `None` when the caller hung up.
fn next_request() -> Option<Request> {
    SERVER.with(|s| {
        let mut s = s.borrow_mut();
        let s = s.as_mut()?;
        if let Some(r) = s.pending.take() {
            return Some(r);
        }
        match s.requests.recv() {
            Ok(r) => Some(r),
            Err(_) => {
                s.closed = true;
                None
            }
        }
    })
}

fn reply(r: Reply) {
    SERVER.with(|s| {
        if let Some(s) = s.borrow().as_ref() {
            let _ = s.replies.send(r);
        }
    });
}

/// Arrays and objects at least this long (JSON bytes) are converted once per evaluator.
const SHARE_BYTES: usize = 256;

/// Conversions of shared arrays and objects, by `Arc` address (the `Val`
/// kept alongside holds the address).
type Converted<'a> = HashMap<usize, (Val, &'a JV<'a>)>;

/// Converts `v` into the arena, reusing earlier conversions of large shared parts.
fn to_jv<'a>(arena: &'a Arena, v: &Val, done: &mut Converted<'a>) -> &'a JV<'a> {
    let key = match v {
        Val::Array(a) if v.size() >= SHARE_BYTES => Some(Arc::as_ptr(a) as *const u8 as usize),
        Val::Object(o) if v.size() >= SHARE_BYTES => Some(Arc::as_ptr(o) as *const u8 as usize),
        _ => None,
    };
    if let Some(k) = key
        && let Some((_, j)) = done.get(&k)
    {
        return j;
    }
    let j: &'a JV<'a> = match v {
        Val::Null => JV::null(arena),
        Val::Bool(b) => JV::bool(*b),
        Val::Number(n) => JV::number(arena, n.as_f64().unwrap_or(0.0)),
        Val::String(s) => JV::string(arena, s),
        Val::Array(a) => {
            let arr = JV::array_with_capacity(arena, a.len(), ArrayFlags::empty());
            for x in a.iter() {
                arr.push(to_jv(arena, x, done));
            }
            arr
        }
        Val::Object(o) => {
            let obj = JV::object_with_capacity(arena, o.len());
            for (k, x) in o.iter() {
                obj.insert(k, to_jv(arena, x, done));
            }
            obj
        }
    };
    if let Some(k) = key {
        done.insert(k, (v.clone(), j));
    }
    j
}

/// Native `$__wsflow_host()`: serves evaluations until this evaluator retires.
fn host<'a>(ctx: FunctionContext<'a, '_>, _args: &[&'a JV<'a>]) -> jsonata_rs::Result<&'a JV<'a>> {
    let born = Instant::now();
    let mut served = 0u64;
    // Names this evaluator bound for evaluations (reset before each one).
    let mut bound: HashSet<String> = HashSet::new();
    let mut converted = Converted::new();
    while let Some(req) = next_request() {
        // Too old (also after waiting idle): the next evaluator takes it.
        if born.elapsed() > Duration::from_millis(MAX_AGE_MILLIS.load(Ordering::Relaxed)) {
            SERVER.with(|s| {
                if let Some(s) = s.borrow_mut().as_mut() {
                    s.pending = Some(req);
                }
            });
            break;
        }
        let body = req.body;
        let run = ctx.clone();
        // Everything done for the request, binding and conversion included,
        // is inside the guard: whatever panics, the caller gets a reply.
        let out = std::panic::catch_unwind(AssertUnwindSafe(|| {
            for name in &bound {
                ctx.frame.bind(name, JV::undefined());
            }
            // An expression that may edit values in place (a transform)
            // gets conversions of its own, so no cached one is changed.
            let mut own = Converted::new();
            let cache = if req.mutating {
                &mut own
            } else {
                &mut converted
            };
            let mut bind = |name: &str, v: &Val| {
                // A built-in's name keeps the built-in.
                if !bound.contains(name) && ctx.frame.lookup(name).is_some() {
                    return;
                }
                ctx.frame.bind(name, to_jv(ctx.arena, v, cache));
                bound.insert(name.to_string());
            };
            bind("states", &req.states);
            for (k, v) in &req.vars {
                bind(k, v);
            }
            match body(run) {
                Ok(v) => match from_jv(v) {
                    Ok(Some(v)) => (Ok(Val::from(v)), true),
                    Ok(None) => (Err(JError::Undefined), true),
                    Err(e) => (Err(e), true),
                },
                Err(e) => (Err(JError::Threw(clean_error(&e.to_string()))), false),
            }
        }));
        served += 1;
        let (r, healthy) = out.unwrap_or_else(|_| (Err(could_not()), false));
        reply(r);
        if !healthy || served >= MAX_EVALS || ctx.arena.allocated_bytes() > MAX_ARENA_BYTES {
            break;
        }
    }
    Ok(JV::undefined())
}
