//! The local Lambda service: runs each function of the template as its real
//! binary (the same executable `cargo lambda` deploys) behind a real
//! [Lambda Runtime API](https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
//!
//! What this crate owns:
//!
//! * [`LambdaHost`]: the functions, their warm process pools, and
//!   [`LambdaHost::invoke`] (also exposed as [`wsflow_aws_wire::LambdaInvoker`]);
//! * the Runtime API each function process talks to (`runtime_api`);
//! * the process environment Lambda gives `provided.al2023` functions
//!   (`environment`);
//! * AWS's error payloads for timeouts, crashes, init failures and oversized
//!   payloads (`aws_errors`);
//! * the function logs, with Lambda's `START`/`END`/`REPORT` lines (`logs`);
//! * locating or building the function binaries with cargo ([`build`]);
//! * Python and Node.js functions, the packages their runtimes ship (the
//!   AWS SDK for JavaScript v3, boto3: installed once, `runtimes::packages`),
//!   and the runtimes it cannot run ([`runtimes`]);
//! * changing the set of functions and their configuration while it serves
//!   ([`LambdaHost::add_function`], [`LambdaHost::remove_function`],
//!   [`LambdaHost::update_function`], [`LambdaHost::replace_executable`],
//!   `pool/swap.rs`): old processes retire once idle.
//!
//! # Design
//!
//! Each function process gets **its own Runtime API listener** on an
//! ephemeral loopback port, exported to it as `AWS_LAMBDA_RUNTIME_API`.
//! Lambda's protocol has no notion of "which sandbox is asking": a
//! `GET /runtime/invocation/next` is answered with the next event *of that
//! sandbox*. With one listener per process the connection itself says which
//! process is polling, so every runtime client works unchanged. The
//! alternative (one shared listener with a per-process path prefix hidden in
//! `AWS_LAMBDA_RUNTIME_API`) relies on every runtime client concatenating the
//! variable verbatim, which is not part of the contract. A listener costs one
//! socket and one accept task per process, nothing per invocation.
//!
//! The invoke path is lean: an idle process is popped from a LIFO list (no
//! spawn, a few small allocations: request id, trace header, a oneshot
//! channel), handed the event through a one-slot mailbox that its pending
//! `next` long-poll is waiting on, and the answer comes back on the same
//! keep-alive HTTP/1.1 connection (hyper, no router). Concurrency is bounded
//! per function by a FIFO semaphore (`max_concurrency`): invocations beyond
//! the cap queue (Lambda would throttle; locally, waiting is friendlier).
//!
//! Timing: the function's `Timeout` runs from the moment the event is handed
//! to a warm process; a cold process additionally gets
//! [`HostOptions::init_timeout`] to reach its first `next`, as Lambda's init
//! phase has its own limit. A timed-out process is killed (SIGKILL); a
//! crashed one is reaped; either way the next invocation gets a fresh
//! process. `RequestResponse` is the only invocation type: asynchronous
//! `Event` invocations are the callers' business (spawn and ignore).
#![warn(missing_docs)]

mod aws_errors;
pub mod build;
mod environment;
mod host;
mod logs;
mod pool;
mod request_id;
mod runtime_api;
pub mod runtimes;
mod spec;
mod stats;
mod worker;

pub use host::{HostError, LambdaHost};
pub use logs::{LogLine, LogSink, LogStream};
pub use spec::{FunctionSpec, HostOptions};
pub use stats::FunctionStats;
