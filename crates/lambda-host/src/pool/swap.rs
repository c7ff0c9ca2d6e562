//! Replacing a function's executable while it serves (`wsflow up --watch`
//! after a rebuild): new invocations get processes of the new executable,
//! idle processes of the old one are killed at once, and busy ones finish
//! their invocation and are killed when they come back (see
//! [`Pool::release`]).
//!
//! A process's executable is the one of the [`FunctionCtx`] it was spawned
//! with, so "which generation is this process" is pointer identity with the
//! pool's current context: no counter to keep in step.

use std::{path::PathBuf, sync::Arc};

use super::{Pool, lock};
use crate::worker::{FunctionCtx, Worker};

impl Pool {
    /// From now on, new processes run `executable`; idle processes of the
    /// previous one are killed, busy ones once their invocation is answered.
    pub(crate) fn replace_executable(&self, executable: PathBuf) {
        let mut spec = self.ctx.spec.clone();
        spec.executable = executable;
        let next = Arc::new(FunctionCtx {
            spec,
            options: self.ctx.options.clone(),
            arn: self.ctx.arn.clone(),
            arn_header: self.ctx.arn_header.clone(),
            log: self.ctx.log.clone(),
        });
        let retired: Vec<Arc<Worker>> = {
            // The idle lock first, as in `release`.
            let mut idle = lock(&self.idle);
            *lock(&self.current) = next;
            idle.drain(..).map(|(w, _)| w).collect()
        };
        for w in retired {
            w.kill();
        }
    }

    /// Whether `worker` runs the current executable.
    pub(super) fn is_current(&self, worker: &Worker) -> bool {
        Arc::ptr_eq(&worker.shared.function, &lock(&self.current))
    }
}
