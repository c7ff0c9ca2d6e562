//! The stack's SQS event source mappings, each with its own stop switch, so
//! a template reload (`--watch`) can start the mappings it gained and stop
//! the ones it lost while the others keep polling.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::{sync::watch, task::JoinHandle};
use wsflow_aws_wire::LambdaInvoker;
use wsflow_sqs::{EventSourceMapping, Sqs};

/// One running mapping.
struct Running {
    mapping: EventSourceMapping,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The running mappings.
pub struct EventSources {
    sqs: Sqs,
    lambda: Arc<dyn LambdaInvoker>,
    running: Mutex<Vec<Running>>,
}

impl EventSources {
    /// No mapping yet.
    pub fn new(sqs: Sqs, lambda: Arc<dyn LambdaInvoker>) -> Self {
        Self {
            sqs,
            lambda,
            running: Mutex::new(Vec::new()),
        }
    }

    fn running(&self) -> MutexGuard<'_, Vec<Running>> {
        // Every critical section leaves the list consistent.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs exactly `mappings`: the ones not running yet start, the ones
    /// not listed stop (a batch being processed finishes first). Returns
    /// how many started and stopped.
    pub fn set(&self, mappings: Vec<EventSourceMapping>) -> (usize, usize) {
        let mut running = self.running();
        let (keep, gone): (Vec<Running>, Vec<Running>) = running
            .drain(..)
            .partition(|r| mappings.contains(&r.mapping));
        *running = keep;
        for r in &gone {
            let _ = r.stop.send(true);
        }
        let mut started = 0;
        for mapping in mappings {
            if running.iter().any(|r| r.mapping == mapping) {
                continue;
            }
            let (stop, stopped) = watch::channel(false);
            let task = wsflow_sqs::spawn_event_source(
                self.sqs.clone(),
                mapping.clone(),
                self.lambda.clone(),
                stopped,
            );
            running.push(Running {
                mapping,
                stop,
                task,
            });
            started += 1;
        }
        (started, gone.len())
    }

    /// Stops every mapping and waits (5 s at most each) for them to end.
    pub async fn shutdown(&self) {
        let all: Vec<Running> = self.running().drain(..).collect();
        for r in &all {
            let _ = r.stop.send(true);
        }
        for r in all {
            let _ = tokio::time::timeout(Duration::from_secs(5), r.task).await;
        }
    }
}
