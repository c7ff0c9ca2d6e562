//! [`Observer`]: a broadcast of what a service does, for watchers such as the
//! web console, that costs one atomic load per event while nobody watches.
//!
//! A service calls [`Observer::emit`] with a closure on its hot path; the
//! closure (building the event: allocations, clones) only runs while at
//! least one [`Subscription`] is alive. Watchers that fall behind lose the
//! oldest events (`tokio::sync::broadcast` semantics) instead of slowing the
//! service down: [`Subscription::recv`] then reports how many were skipped.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::sync::broadcast;

/// Events kept for a slow watcher before the oldest are dropped.
const CAPACITY: usize = 4096;

/// The sending side: cheap to clone, shared by a service's parts.
#[derive(Debug)]
pub struct Observer<T> {
    tx: broadcast::Sender<T>,
    watchers: Arc<AtomicUsize>,
}

impl<T> Clone for Observer<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            watchers: Arc::clone(&self.watchers),
        }
    }
}

impl<T: Clone> Default for Observer<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Observer<T> {
    /// An observer nobody watches yet.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        Self {
            tx,
            watchers: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Whether anyone watches (one relaxed atomic load).
    #[inline]
    pub fn is_watched(&self) -> bool {
        self.watchers.load(Ordering::Relaxed) > 0
    }

    /// Sends the event `make` builds, if anyone watches; never blocks.
    #[inline]
    pub fn emit(&self, make: impl FnOnce() -> T) {
        if self.is_watched() {
            let _ = self.tx.send(make());
        }
    }

    /// Starts watching: every event emitted from now on, until dropped.
    pub fn subscribe(&self) -> Subscription<T> {
        let rx = self.tx.subscribe();
        self.watchers.fetch_add(1, Ordering::Relaxed);
        Subscription {
            rx,
            watchers: Arc::clone(&self.watchers),
        }
    }
}

/// What a watcher receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed<T> {
    /// The next event.
    Event(T),
    /// This many events were dropped because the watcher fell behind.
    Skipped(u64),
}

/// The receiving side; stops the emission (when it is the last) on drop.
#[derive(Debug)]
pub struct Subscription<T> {
    rx: broadcast::Receiver<T>,
    watchers: Arc<AtomicUsize>,
}

impl<T: Clone> Subscription<T> {
    /// The next event; `None` once every [`Observer`] clone is gone.
    pub async fn recv(&mut self) -> Option<Observed<T>> {
        match self.rx.recv().await {
            Ok(e) => Some(Observed::Event(e)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Observed::Skipped(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<Observed<T>> {
        match self.rx.try_recv() {
            Ok(e) => Some(Observed::Event(e)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Observed::Skipped(n)),
            Err(_) => None,
        }
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        self.watchers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_built_only_while_watched() {
        let obs: Observer<u32> = Observer::new();
        let mut built = 0;
        obs.emit(|| {
            built += 1;
            1
        });
        assert_eq!(built, 0);
        let mut sub = obs.subscribe();
        assert!(obs.is_watched());
        obs.emit(|| {
            built += 1;
            2
        });
        assert_eq!(built, 1);
        assert_eq!(sub.try_recv(), Some(Observed::Event(2)));
        assert_eq!(sub.try_recv(), None);
        drop(sub);
        assert!(!obs.is_watched());
    }

    #[test]
    fn a_slow_watcher_is_told_what_it_missed() {
        let obs: Observer<usize> = Observer::new();
        let mut sub = obs.subscribe();
        for i in 0..CAPACITY + 3 {
            obs.emit(|| i);
        }
        assert_eq!(sub.try_recv(), Some(Observed::Skipped(3)));
        assert_eq!(sub.try_recv(), Some(Observed::Event(3)));
    }

    #[tokio::test]
    async fn watching_ends_when_the_observer_is_gone() {
        let obs: Observer<u8> = Observer::new();
        let mut sub = obs.subscribe();
        obs.emit(|| 7);
        drop(obs);
        assert_eq!(sub.recv().await, Some(Observed::Event(7)));
        assert_eq!(sub.recv().await, None);
    }
}
