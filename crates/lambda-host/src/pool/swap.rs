//! Replacing a function's configuration while it serves (`wsflow up
//! --watch` after a rebuild or a template edit): new invocations get
//! processes of the new executable, environment, handler, timeout and
//! memory; idle processes of the old configuration are killed at once, and
//! busy ones finish their invocation and are killed when they come back
//! (see [`Pool::release`]).
//!
//! A process's configuration is the one of the [`FunctionCtx`] it was
//! spawned with, so "which generation is this process" is pointer identity
//! with the pool's current context: no counter to keep in step.

use std::sync::Arc;

use super::{Pool, lock};
use crate::{
    FunctionSpec,
    worker::{FunctionCtx, Worker},
};

impl Pool {
    /// From now on, new processes start with `spec` (its name and
    /// `max_concurrency` are the pool's own and stay); idle processes of the
    /// previous configuration are killed, busy ones once their invocation
    /// is answered.
    pub(crate) fn replace_spec(&self, spec: FunctionSpec) {
        self.update_spec(|current| *current = spec);
    }

    /// [`Self::replace_spec`] with the current configuration changed by
    /// `change`, read and written under the pool's locks in one step, so two
    /// changes made at once (a rebuild's new executable, a template's new
    /// environment) both land.
    pub(crate) fn update_spec(&self, change: impl FnOnce(&mut FunctionSpec)) {
        let retired: Vec<Arc<Worker>> = {
            // The idle lock first, as in `release`.
            let mut idle = lock(&self.idle);
            let mut current = lock(&self.current);
            let mut spec = current.spec.clone();
            change(&mut spec);
            spec.name = self.ctx.spec.name.clone();
            spec.max_concurrency = self.ctx.spec.max_concurrency;
            *current = Arc::new(FunctionCtx {
                spec,
                options: self.ctx.options.clone(),
                arn: self.ctx.arn.clone(),
                arn_header: self.ctx.arn_header.clone(),
                log: self.ctx.log.clone(),
            });
            idle.drain(..).map(|(w, _)| w).collect()
        };
        for w in retired {
            w.kill();
        }
    }

    /// The configuration new processes start with.
    pub(crate) fn current(&self) -> Arc<FunctionCtx> {
        lock(&self.current).clone()
    }

    /// Whether `worker` runs the current configuration.
    pub(super) fn is_current(&self, worker: &Worker) -> bool {
        Arc::ptr_eq(&worker.shared.function, &lock(&self.current))
    }
}
