//! Task tokens: a `.waitForTaskToken` task parks on its token until
//! SendTaskSuccess / SendTaskFailure arrives; SendTaskHeartbeat records when
//! the worker last showed signs of life.
//!
//! `HeartbeatSeconds` itself is enforced by the engine (one owner for task
//! timing, on the execution's clock): it asks
//! [`Tokens::last_heartbeat_millis`] through `TaskInvoker::last_heartbeat_millis`.
//! Heartbeats are stamped in wall-clock epoch milliseconds, so with a time
//! scale other than 1 the heartbeat window is approximate.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::oneshot;
use wsflow_asl::TaskFailure;
use wsflow_aws_wire::ServiceError;

type Outcome = Result<Value, TaskFailure>;

struct Entry {
    done: oneshot::Sender<Outcome>,
    last_heartbeat_millis: Option<i64>,
}

/// Tokens of the tasks currently waiting for a callback.
#[derive(Default)]
pub(crate) struct Tokens {
    waiting: Mutex<HashMap<String, Entry>>,
}

/// A registered token; dropping it (the execution was stopped) unregisters it.
pub(crate) struct Waiter<'a> {
    tokens: &'a Tokens,
    token: String,
    done: Option<oneshot::Receiver<Outcome>>,
}

fn invalid_token() -> ServiceError {
    ServiceError::client("InvalidToken", "Invalid Token: 'Invalid token'")
}

impl Tokens {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `token` before the task's integration is called (so a
    /// callback that arrives during the call is not lost).
    pub fn register(&self, token: &str) -> Waiter<'_> {
        let (tx, rx) = oneshot::channel();
        self.map().insert(
            token.to_owned(),
            Entry {
                done: tx,
                last_heartbeat_millis: None,
            },
        );
        Waiter {
            tokens: self,
            token: token.to_owned(),
            done: Some(rx),
        }
    }

    /// SendTaskSuccess / SendTaskFailure: completes the waiting task.
    pub fn complete(&self, token: &str, outcome: Outcome) -> Result<(), ServiceError> {
        let entry = self.map().remove(token).ok_or_else(invalid_token)?;
        entry.done.send(outcome).map_err(|_| {
            ServiceError::client(
                "TaskTimedOut",
                "Task Timed Out: 'Provided task does not exist anymore'",
            )
        })
    }

    /// SendTaskHeartbeat, received at `now_millis`.
    pub fn heartbeat(&self, token: &str, now_millis: i64) -> Result<(), ServiceError> {
        let mut map = self.map();
        let entry = map.get_mut(token).ok_or_else(invalid_token)?;
        entry.last_heartbeat_millis = Some(now_millis);
        Ok(())
    }

    /// When the latest heartbeat for `token` arrived, if any.
    pub fn last_heartbeat_millis(&self, token: &str) -> Option<i64> {
        self.map().get(token).and_then(|e| e.last_heartbeat_millis)
    }
}

impl Waiter<'_> {
    /// Waits for the callback (the engine races it against the state's
    /// TimeoutSeconds / HeartbeatSeconds and drops it when they expire).
    pub async fn wait(mut self) -> Outcome {
        let Some(done) = self.done.take() else {
            return Err(TaskFailure::new(
                "States.Runtime",
                "task token already consumed",
            ));
        };
        done.await
            .unwrap_or_else(|_| Err(TaskFailure::new("States.Runtime", "task token dropped")))
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.tokens.map().remove(&self.token);
    }
}
