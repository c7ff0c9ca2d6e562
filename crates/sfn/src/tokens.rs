//! Task tokens: a `.waitForTaskToken` task parks on its token until
//! SendTaskSuccess / SendTaskFailure arrives; SendTaskHeartbeat keeps it alive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, oneshot};
use wsflow_asl::TaskFailure;
use wsflow_aws_wire::ServiceError;

type Outcome = Result<Value, TaskFailure>;

struct Entry {
    done: oneshot::Sender<Outcome>,
    heartbeat: Arc<Notify>,
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
    heartbeat: Arc<Notify>,
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
        let heartbeat = Arc::new(Notify::new());
        self.map().insert(
            token.to_owned(),
            Entry {
                done: tx,
                heartbeat: heartbeat.clone(),
            },
        );
        Waiter {
            tokens: self,
            token: token.to_owned(),
            done: Some(rx),
            heartbeat,
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

    /// SendTaskHeartbeat.
    pub fn heartbeat(&self, token: &str) -> Result<(), ServiceError> {
        let map = self.map();
        let entry = map.get(token).ok_or_else(invalid_token)?;
        entry.heartbeat.notify_one();
        Ok(())
    }
}

impl Waiter<'_> {
    /// Waits for the callback. With `heartbeat_seconds`, fails with
    /// `States.HeartbeatTimeout` when no heartbeat (or result) arrives within
    /// that many seconds (real time) of the previous one.
    pub async fn wait(mut self, heartbeat_seconds: Option<u64>) -> Outcome {
        let Some(mut done) = self.done.take() else {
            return Err(TaskFailure::new(
                "States.Runtime",
                "task token already consumed",
            ));
        };
        loop {
            let beat = self.heartbeat.notified();
            let window = async {
                match heartbeat_seconds {
                    Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = &mut done => {
                    return r.unwrap_or_else(|_| Err(TaskFailure::new("States.Runtime", "task token dropped")));
                }
                _ = beat => continue,
                _ = window => {
                    return Err(TaskFailure { error: "States.HeartbeatTimeout".into(), cause: None });
                }
            }
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.tokens.map().remove(&self.token);
    }
}
