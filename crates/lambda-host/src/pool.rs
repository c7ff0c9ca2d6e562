//! The processes of one function: warm ones reused last-in first-out, new
//! ones spawned while under `max_concurrency`, callers beyond it queued
//! (FIFO semaphore); and one invocation from offer to answer, timeout or
//! crash.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use wsflow_aws_wire::LambdaInvokeError;

use crate::{
    aws_errors::{self, exit_cause, timeout_cause},
    logs::Report,
    request_id::new_request_id,
    stats::Counters,
    worker::{FunctionCtx, Invocation, Outcome, Worker},
};

mod swap;

/// How often an invocation may find its chosen process dead before it is
/// offered to it and still try another one.
const OFFER_ATTEMPTS: usize = 3;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section below leaves the data consistent, so a
    // poisoned lock (a panic elsewhere) is safe to keep using.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) struct Pool {
    /// The context the function was added with: its name, ARN, log and
    /// host options, which never change (its spec may: see `current`).
    pub(crate) ctx: Arc<FunctionCtx>,
    /// What new processes run: `ctx`, or a copy with a replaced spec (see
    /// `swap`). Processes spawned from an older one are retired.
    current: Mutex<Arc<FunctionCtx>>,
    permits: Arc<Semaphore>,
    /// Warm processes with the time they became idle; the last is the warmest.
    idle: Mutex<Vec<(Arc<Worker>, Instant)>>,
    /// Every live process, for shutdown.
    workers: Mutex<HashMap<u64, Arc<Worker>>>,
    next_id: AtomicU64,
    closed: AtomicBool,
    /// Removed from the host while serving ([`Pool::retire`]): refusals are
    /// `ResourceNotFoundException`, not "shutting down".
    retired: AtomicBool,
    /// Invocations, errors, recent durations (the console's figures).
    pub(crate) stats: Counters,
}

impl Pool {
    pub(crate) fn new(ctx: Arc<FunctionCtx>) -> Arc<Self> {
        let cap = ctx.spec.max_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        Arc::new(Self {
            current: Mutex::new(ctx.clone()),
            ctx,
            permits: Arc::new(Semaphore::new(cap)),
            idle: Mutex::new(Vec::new()),
            workers: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            retired: AtomicBool::new(false),
            stats: Counters::default(),
        })
    }

    /// Runs one invocation and returns the runtime's response body.
    ///
    /// If the caller stops waiting (the future is dropped), the invocation
    /// still runs to completion or timeout, as on Lambda, and its process
    /// (and concurrency slot) is then reused or killed: see [`InFlight`].
    pub(crate) async fn invoke(
        self: &Arc<Self>,
        payload: Bytes,
    ) -> Result<Bytes, LambdaInvokeError> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| {
            if self.retired.load(Ordering::Acquire) {
                // Removed from the template while this call waited: as Lambda answers
                // for a deleted function.
                aws_errors::function_not_found(&self.ctx.arn)
            } else {
                aws_errors::shutting_down()
            }
        })?;
        let request_id = new_request_id();
        let (reply_tx, reply_rx) = oneshot::channel();
        let mut invocation = Invocation {
            request_id: request_id.clone(),
            payload,
            reply: reply_tx,
        };
        let mut attempt = 0;
        let (worker, fresh) = loop {
            let worker = match self.pop_idle() {
                Some(w) => w,
                None => match self.spawn().await {
                    Ok(w) => w,
                    Err(e) => return Err(aws_errors::invalid_entrypoint(&request_id, &e)),
                },
            };
            // Before the offer: once offered, the process may start on it.
            let fresh = !worker.initialized();
            match worker.offer(invocation) {
                Ok(()) => break (worker, fresh),
                Err(back) if attempt + 1 < OFFER_ATTEMPTS => {
                    invocation = back;
                    attempt += 1;
                }
                Err(_) => return Err(aws_errors::exited(&request_id, worker.exited().await)),
            }
        };
        let log = &self.ctx.log;
        log.start(&request_id);
        let started = Instant::now();
        // The configuration the process was started with (a newer one
        // applies to newer processes).
        let spec = &worker.shared.function.spec;
        let timeout = spec.timeout;
        let limit = if fresh {
            self.ctx.options.init_timeout + timeout
        } else {
            timeout
        };
        let mut in_flight = InFlight {
            pool: self.clone(),
            worker: worker.clone(),
            reply: Some(reply_rx),
            deadline: tokio::time::Instant::now() + limit,
            permit: Some(permit),
        };
        let result = match in_flight.wait().await {
            Some(Ok(Ok(outcome))) => {
                self.release(worker.clone());
                match outcome {
                    Outcome::Response(body) => Ok(body),
                    Outcome::Error(payload) => Err(LambdaInvokeError::Function { payload }),
                    Outcome::ResponseTooLarge => Err(aws_errors::response_too_large()),
                }
            }
            Some(Ok(Err(_))) => {
                // The process exited (or posted an init error and was reset).
                let status = worker.exited().await;
                if let Some(payload) = worker.init_error() {
                    Err(LambdaInvokeError::Function { payload })
                } else {
                    let cause = exit_cause(status);
                    log.platform(&format!("RequestId: {request_id} Error: {cause}"));
                    log.platform(aws_errors::RUNTIME_EXIT_ERROR);
                    Err(aws_errors::exited(&request_id, status))
                }
            }
            Some(Err(_)) => {
                worker.kill();
                log.platform(&format!(
                    "RequestId: {request_id} Error: {}",
                    timeout_cause(timeout)
                ));
                Err(aws_errors::timed_out(&request_id, timeout))
            }
            None => Err(aws_errors::shutting_down()),
        };
        // The concurrency slot is free once the worker is back (or dead).
        drop(in_flight);
        self.stats.record(started.elapsed(), result.is_err());
        if log.platform_enabled() {
            log.end(&Report {
                request_id: &request_id,
                duration: started.elapsed(),
                memory_mb: spec.memory_mb,
                max_memory_mb: worker.max_memory_mb(),
                init_duration: if fresh { worker.init_duration() } else { None },
            });
        }
        result
    }

    fn pop_idle(&self) -> Option<Arc<Worker>> {
        let mut idle = lock(&self.idle);
        while let Some((w, _)) = idle.pop() {
            if w.alive() {
                return Some(w);
            }
        }
        None
    }

    fn release(&self, worker: Arc<Worker>) {
        // Under the idle lock: a swap drains the idle list under it too, so
        // no process of a retired executable slips back in.
        let mut idle = lock(&self.idle);
        if !self.is_current(&worker) || self.closed.load(Ordering::Acquire) {
            worker.kill();
        } else if worker.alive() && !self.closed.load(Ordering::Acquire) {
            idle.push((worker, Instant::now()));
        }
    }

    async fn spawn(self: &Arc<Self>) -> std::io::Result<Arc<Worker>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let pool = Arc::downgrade(self);
        let ctx = lock(&self.current).clone();
        let worker = Worker::spawn(ctx, move || {
            if let Some(pool) = pool.upgrade() {
                lock(&pool.workers).remove(&id);
            }
        })
        .await?;
        lock(&self.workers).insert(id, worker.clone());
        // The exit hook may have run before the insert: undo it then.
        if !worker.alive() {
            lock(&self.workers).remove(&id);
        }
        if self.closed.load(Ordering::Acquire) {
            worker.kill();
        }
        Ok(worker)
    }

    /// Kills processes idle for longer than `ttl`.
    pub(crate) fn reap_idle(&self, ttl: Duration) {
        let expired: Vec<Arc<Worker>> = {
            let mut idle = lock(&self.idle);
            let now = Instant::now();
            let (old, fresh): (Vec<_>, Vec<_>) = idle
                .drain(..)
                .partition(|(_, since)| now.duration_since(*since) > ttl);
            *idle = fresh;
            old.into_iter().map(|(w, _)| w).collect()
        };
        for w in expired {
            w.kill();
        }
    }

    /// (live processes, idle ones).
    pub(crate) fn process_counts(&self) -> (usize, usize) {
        let live = lock(&self.workers).values().filter(|w| w.alive()).count();
        (live, lock(&self.idle).len())
    }

    /// Process ids of the live processes.
    pub(crate) fn process_ids(&self) -> Vec<u32> {
        lock(&self.workers)
            .values()
            .filter(|w| w.alive())
            .filter_map(|w| w.pid)
            .collect()
    }

    /// The function was removed: refuses new invocations (and those waiting
    /// for a process), stops idle processes now and busy ones once their
    /// invocation is answered (see `release`).
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Release);
        self.closed.store(true, Ordering::Release);
        self.permits.close();
        let idle: Vec<Arc<Worker>> = lock(&self.idle).drain(..).map(|(w, _)| w).collect();
        for w in idle {
            w.kill();
        }
    }

    /// Refuses new invocations, kills every process and waits until all are
    /// reaped.
    pub(crate) async fn shutdown(&self) {
        self.closed.store(true, Ordering::Release);
        self.permits.close();
        lock(&self.idle).clear();
        loop {
            let workers: Vec<Arc<Worker>> = lock(&self.workers).values().cloned().collect();
            if workers.is_empty() {
                return;
            }
            for w in &workers {
                w.kill();
            }
            for w in &workers {
                w.exited().await;
            }
            // Drop the reaped ones (their exit hooks may not have run yet);
            // loop for any spawned meanwhile.
            lock(&self.workers).retain(|_, w| w.alive());
        }
    }
}

type Waited = Result<Result<Outcome, oneshot::error::RecvError>, tokio::time::error::Elapsed>;

/// An invocation handed to a process, until its answer is in.
///
/// Dropped unanswered (the caller gave up waiting), it lets the invocation
/// finish in the background: the process goes back to the pool when it
/// answers, is killed at the deadline, and the concurrency slot is held
/// until then, so abandoned invocations can neither leak processes nor
/// exceed `max_concurrency`.
struct InFlight {
    pool: Arc<Pool>,
    worker: Arc<Worker>,
    reply: Option<oneshot::Receiver<Outcome>>,
    deadline: tokio::time::Instant,
    permit: Option<OwnedSemaphorePermit>,
}

impl InFlight {
    /// Waits for the answer until the deadline (`None` if already taken).
    async fn wait(&mut self) -> Option<Waited> {
        let reply = self.reply.as_mut()?;
        let waited = tokio::time::timeout_at(self.deadline, reply).await;
        self.reply = None;
        Some(waited)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let (pool, worker, deadline, permit) = (
            self.pool.clone(),
            self.worker.clone(),
            self.deadline,
            self.permit.take(),
        );
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    match tokio::time::timeout_at(deadline, reply).await {
                        Ok(Ok(_)) => pool.release(worker),
                        Ok(Err(_)) => {}
                        Err(_) => worker.kill(),
                    }
                    drop(permit);
                });
            }
            Err(_) => worker.kill(),
        }
    }
}
