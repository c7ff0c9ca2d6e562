//! One function process (a Lambda "execution environment"): the child
//! process, its Runtime API listener, its one-slot mailbox, and the
//! supervisor task that reaps it.
//!
//! The mailbox is the only state shared between the invoker and the Runtime
//! API handlers: `pending` holds an invocation not yet fetched by
//! `GET /next`, `current` the one the runtime is working on. When the process
//! exits, the supervisor records the exit status *first* and then drops
//! whatever the mailbox holds, so an invoker whose reply channel closes can
//! always tell why.

use std::{
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex, MutexGuard, OnceLock},
    time::{Duration, Instant},
};

use bytes::Bytes;
use hyper::header::HeaderValue;
use serde_json::Value;
use tokio::{
    net::TcpListener,
    process::Command,
    sync::{Notify, oneshot, watch},
};

use crate::{
    FunctionSpec, HostOptions,
    environment::{lambda_environment, log_stream_name},
    logs::{FunctionLog, LogStream, max_memory_mb, pump},
    runtime_api,
};

/// What every process of one function shares.
#[derive(Debug)]
pub(crate) struct FunctionCtx {
    pub(crate) spec: FunctionSpec,
    pub(crate) options: Arc<HostOptions>,
    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub(crate) arn: String,
    /// The same, ready for the `Lambda-Runtime-Invoked-Function-Arn` header.
    pub(crate) arn_header: HeaderValue,
    pub(crate) log: FunctionLog,
}

/// An event on its way to the runtime.
pub(crate) struct Invocation {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
    pub(crate) reply: oneshot::Sender<Outcome>,
}

/// How the runtime answered an invocation.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// `POST /invocation/{id}/response`.
    Response(Bytes),
    /// `POST /invocation/{id}/error`, as the Invoke API returns it.
    Error(Value),
    /// A response over the payload limit.
    ResponseTooLarge,
}

struct InFlight {
    request_id: String,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct Mailbox {
    pending: Option<Invocation>,
    current: Option<InFlight>,
    init_error: Option<Value>,
    closed: bool,
}

/// What `GET /next` hands the runtime.
pub(crate) struct NextEvent {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
}

/// Why `GET /next` cannot be answered.
pub(crate) enum NextError {
    /// The previous invocation has not been answered yet.
    Busy,
}

/// The part of a worker the Runtime API handlers see.
pub(crate) struct WorkerShared {
    pub(crate) function: Arc<FunctionCtx>,
    mailbox: Mutex<Mailbox>,
    ready: Notify,
    kill: Notify,
    /// `Some(status)` once the process has exited (`status` is `None` when
    /// waiting for it failed).
    exit: watch::Sender<Option<Option<ExitStatus>>>,
    spawned_at: Instant,
    init_duration: OnceLock<Duration>,
}

impl WorkerShared {
    fn mailbox(&self) -> MutexGuard<'_, Mailbox> {
        // A poisoned lock only means another thread panicked while holding
        // it; the mailbox itself is always consistent.
        self.mailbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the next event for `GET /next`, or `None` when there is none
    /// yet (wait on [`Self::notified`] and retry).
    pub(crate) fn take_next(&self) -> Result<Option<NextEvent>, NextError> {
        let _ = self.init_duration.set(self.spawned_at.elapsed());
        let mut mb = self.mailbox();
        if mb.current.is_some() {
            return Err(NextError::Busy);
        }
        Ok(mb.pending.take().map(|inv| {
            mb.current = Some(InFlight {
                request_id: inv.request_id.clone(),
                reply: inv.reply,
            });
            NextEvent {
                request_id: inv.request_id,
                payload: inv.payload,
            }
        }))
    }

    /// Resolves when an event may have been offered.
    pub(crate) async fn notified(&self) {
        self.ready.notified().await
    }

    /// Answers the invocation `request_id`; `false` if it is not the one in
    /// flight.
    pub(crate) fn complete(&self, request_id: &str, outcome: Outcome) -> bool {
        let inflight = {
            let mut mb = self.mailbox();
            match &mb.current {
                Some(c) if c.request_id == request_id => mb.current.take(),
                _ => None,
            }
        };
        match inflight {
            Some(c) => {
                // The invoker may have given up (timeout); nothing to do then.
                let _ = c.reply.send(outcome);
                true
            }
            None => false,
        }
    }

    /// Records a `POST /runtime/init/error` and has the process killed, as
    /// Lambda resets an environment whose init failed.
    pub(crate) fn init_failed(&self, error: Value) {
        self.mailbox().init_error = Some(error);
        self.kill.notify_one();
    }

    /// The function's name (for log lines).
    pub(crate) fn function(&self) -> &FunctionCtx {
        &self.function
    }
}

/// How long a `VmHWM` reading of a process is reused for the `REPORT`
/// lines of its next invocations: reading `/proc/<pid>/status` for every
/// invocation would cost the host more than the rest of its platform lines.
const MEMORY_READING_TTL: Duration = Duration::from_secs(1);

/// A running function process.
pub(crate) struct Worker {
    pub(crate) pid: Option<u32>,
    pub(crate) shared: Arc<WorkerShared>,
    exit_rx: watch::Receiver<Option<Option<ExitStatus>>>,
    /// The last peak-memory reading (when it was taken, in MB).
    memory: Mutex<Option<(Instant, Option<u64>)>>,
}

impl Worker {
    /// Starts a process of `function` with its own Runtime API listener.
    /// `on_exit` runs once the process has been reaped.
    pub(crate) async fn spawn(
        function: Arc<FunctionCtx>,
        on_exit: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<Arc<Worker>> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let api = listener.local_addr()?.to_string();
        let spec = &function.spec;
        let env = lambda_environment(spec, &function.options, &api, &log_stream_name());
        let mut cmd = Command::new(&spec.executable);
        cmd.args(&spec.args)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let dir = spec.task_root();
        if dir.is_dir() {
            cmd.current_dir(dir);
        }
        let mut child = cmd.spawn()?;
        let pid = child.id();
        if let Some(out) = child.stdout.take() {
            tokio::spawn(pump(out, function.log.clone(), LogStream::Stdout));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(pump(err, function.log.clone(), LogStream::Stderr));
        }
        let (exit, exit_rx) = watch::channel(None);
        let shared = Arc::new(WorkerShared {
            function,
            mailbox: Mutex::default(),
            ready: Notify::new(),
            kill: Notify::new(),
            exit,
            spawned_at: Instant::now(),
            init_duration: OnceLock::new(),
        });
        let server = tokio::spawn(runtime_api::serve(listener, shared.clone()));
        let sup = shared.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                s = child.wait() => s,
                _ = sup.kill.notified() => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            sup.exit.send_replace(Some(status.ok()));
            server.abort();
            let (pending, current) = {
                let mut mb = sup.mailbox();
                mb.closed = true;
                (mb.pending.take(), mb.current.take())
            };
            // Dropping the reply senders tells waiting invokers the process is gone.
            drop((pending, current));
            on_exit();
        });
        Ok(Arc::new(Worker {
            pid,
            shared,
            exit_rx,
            memory: Mutex::new(None),
        }))
    }

    /// The process's peak memory in MB, as of at most
    /// [`MEMORY_READING_TTL`] ago.
    pub(crate) fn max_memory_mb(&self) -> Option<u64> {
        let pid = self.pid?;
        // Poisoned: a panic elsewhere left a whole reading; keep it.
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        match *memory {
            Some((at, mb)) if at.elapsed() < MEMORY_READING_TTL => mb,
            _ => {
                let mb = max_memory_mb(pid);
                *memory = Some((Instant::now(), mb));
                mb
            }
        }
    }

    /// Hands `invocation` to the process; gives it back if the process is
    /// gone.
    pub(crate) fn offer(&self, invocation: Invocation) -> Result<(), Invocation> {
        {
            let mut mb = self.shared.mailbox();
            if mb.closed {
                return Err(invocation);
            }
            mb.pending = Some(invocation);
        }
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Whether the process has fetched its first event (finished init).
    pub(crate) fn initialized(&self) -> bool {
        self.shared.init_duration.get().is_some()
    }

    /// How long init took, once known.
    pub(crate) fn init_duration(&self) -> Option<Duration> {
        self.shared.init_duration.get().copied()
    }

    /// Whether the process is still running.
    pub(crate) fn alive(&self) -> bool {
        self.exit_rx.borrow().is_none()
    }

    /// The init error the runtime posted, if any.
    pub(crate) fn init_error(&self) -> Option<Value> {
        self.shared.mailbox().init_error.clone()
    }

    /// Kills the process (it is reaped by its supervisor).
    pub(crate) fn kill(&self) {
        self.shared.kill.notify_one();
    }

    /// Waits until the process has been reaped and returns its status.
    pub(crate) async fn exited(&self) -> Option<ExitStatus> {
        let mut rx = self.exit_rx.clone();
        match rx.wait_for(|s| s.is_some()).await {
            Ok(s) => s.flatten(),
            Err(_) => None,
        }
    }
}
