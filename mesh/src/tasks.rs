//! Background tasks that must not die silently. Each relay and consumer runs under a
//! supervisor that restarts it after a panic or an unexpected end (capped backoff), counts the
//! restart, and keeps a `Running` flag that health reads: a context whose relay or consumer is
//! not running answers NOT_SERVING until it runs again.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Whether a supervised task is doing its work. The supervisor sets it around each run; the
/// task clears it itself while it cannot work (broker unreachable, repeated failures).
#[derive(Clone, Debug)]
pub struct Running(Arc<AtomicBool>);

impl Default for Running {
    fn default() -> Self {
        Running(Arc::new(AtomicBool::new(false)))
    }
}

impl Running {
    pub fn set(&self, up: bool) {
        self.0.store(up, Ordering::Relaxed);
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The background tasks a context starts itself (a recovery sweep): supervised like relays
/// and consumers, and stopped and awaited at shutdown, never left running.
#[derive(Clone, Default)]
pub struct Tasks {
    set: Arc<std::sync::Mutex<JoinSet<()>>>,
    stop: CancellationToken,
}

impl Tasks {
    /// Runs `task` until shutdown; it is given the token that says when to stop, and is
    /// restarted if it panics or ends early.
    pub fn spawn<F, Fut>(&self, name: &str, task: F)
    where
        F: Fn(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        let mut set = self.set.lock().expect("tasks lock");
        spawn(
            &mut set,
            name.to_owned(),
            Running::default(),
            stop.clone(),
            move || task(stop.clone()),
        );
    }

    /// Tells every task to stop and waits for them.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let mut set = std::mem::take(&mut *self.set.lock().expect("tasks lock"));
        while set.join_next().await.is_some() {}
    }
}

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs `task` on `set` until `stop`, restarting it whenever it panics or returns early.
pub fn spawn<F, Fut>(
    set: &mut JoinSet<()>,
    name: String,
    running: Running,
    stop: CancellationToken,
    task: F,
) where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    set.spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            running.set(true);
            let outcome = tokio::spawn(task()).await;
            running.set(false);
            if stop.is_cancelled() {
                return;
            }
            match outcome {
                Ok(()) => tracing::error!(task = name, "task ended unexpectedly; restarting"),
                Err(error) if error.is_panic() => {
                    let panic = error.into_panic();
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(task = name, panic = message, "task panicked; restarting");
                }
                Err(_) => return, // cancelled: the runtime is going down
            }
            metrics::counter!(crate::observe::metrics::TASK_RESTARTS, "task" => name.clone())
                .increment(1);
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.cancelled() => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    async fn until(what: &str, check: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn a_task_that_panics_is_restarted_and_seen_down_meanwhile() {
        let runs = Arc::new(AtomicUsize::new(0));
        let running = Running::default();
        let stop = CancellationToken::new();
        let mut set = JoinSet::new();
        let (counter, stopped) = (runs.clone(), stop.clone());
        spawn(
            &mut set,
            "relay test".into(),
            running.clone(),
            stop.clone(),
            move || {
                let run = counter.fetch_add(1, Ordering::SeqCst);
                let stopped = stopped.clone();
                async move {
                    if run == 0 {
                        panic!("invalid header value");
                    }
                    stopped.cancelled().await;
                }
            },
        );
        until("a second run", || runs.load(Ordering::SeqCst) == 2).await;
        until("running again", || running.get()).await;
        stop.cancel();
        set.join_next().await.unwrap().unwrap();
        assert!(!running.get(), "a stopped task is not running");
    }

    #[tokio::test]
    async fn a_task_that_returns_early_is_restarted() {
        let runs = Arc::new(AtomicUsize::new(0));
        let stop = CancellationToken::new();
        let mut set = JoinSet::new();
        let counter = runs.clone();
        spawn(
            &mut set,
            "consumer test".into(),
            Running::default(),
            stop.clone(),
            move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async {}
            },
        );
        until("three runs", || runs.load(Ordering::SeqCst) >= 3).await;
        stop.cancel();
        set.join_next().await.unwrap().unwrap();
    }
}
