//! Backpressure from the outbox. A context whose writes raise events faster than its relay
//! publishes them (two saturated cores, a fast write path) would let the events' lag grow
//! for as long as the load lasts. The group committer holds the next group back while more
//! than `HIGH_WATER` committed rows wait for the relay, so the writes' rate meets the
//! relay's and the lag stays bounded. Never while the relay is down (the broker away): the
//! outbox exists so that writes go on then; and never longer than `LONGEST_HOLD` a group.
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// Rows waiting for the relay past which writers wait: one relay batch.
pub const HIGH_WATER: i64 = 512;
/// The longest a group is held back (a relay slowed, not stopped, by something else).
#[cfg(not(test))]
const LONGEST_HOLD: Duration = Duration::from_millis(250);
/// Long in this crate's tests, which assert that a writer is held.
#[cfg(test)]
const LONGEST_HOLD: Duration = Duration::from_secs(5);

/// Outbox rows committed and not yet relayed, as this process counts them.
pub struct Backlog {
    rows: AtomicI64,
    drained: Notify,
    relay_up: AtomicBool,
}

impl Default for Backlog {
    fn default() -> Backlog {
        Backlog {
            rows: AtomicI64::new(0),
            drained: Notify::new(),
            // Until a relay says it publishes: a store without one (a test's, a command's)
            // never holds writers back.
            relay_up: AtomicBool::new(false),
        }
    }
}

impl Backlog {
    /// A transaction committed `n` outbox rows.
    pub fn raised(&self, n: usize) {
        self.rows.fetch_add(n as i64, Ordering::Relaxed);
    }

    /// The relay settled `n` rows (published or dead-lettered); `empty`: it found none left,
    /// which corrects any drift (rows another replica relayed, a count lost to a crash).
    pub fn relayed(&self, n: usize, empty: bool) {
        if empty {
            self.rows.store(0, Ordering::Relaxed);
        } else {
            let _ = self
                .rows
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| {
                    Some((r - n as i64).max(0))
                });
        }
        self.drained.notify_waiters();
    }

    /// Whether the relay is publishing; while it is not, nobody is held back.
    pub fn relay_up(&self, up: bool) {
        self.relay_up.store(up, Ordering::Relaxed);
        self.drained.notify_waiters();
    }

    /// Waits while too many rows wait for the relay (see the module).
    pub async fn admit(&self) {
        let until = tokio::time::Instant::now() + LONGEST_HOLD;
        loop {
            let drained = self.drained.notified();
            if self.rows.load(Ordering::Relaxed) <= HIGH_WATER
                || !self.relay_up.load(Ordering::Relaxed)
            {
                return;
            }
            if tokio::time::timeout_at(until, drained).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Past the high-water mark a writer waits for the relay, and goes on once it drained;
    /// with the relay down it does not wait at all.
    #[tokio::test]
    async fn writers_wait_for_a_relay_that_is_behind_but_not_for_one_that_is_down() {
        let backlog = Arc::new(Backlog::default());
        backlog.relay_up(true);
        backlog.raised(HIGH_WATER as usize);
        tokio::time::timeout(Duration::from_secs(1), backlog.admit())
            .await
            .expect("at the mark, nobody waits");
        backlog.raised(10);
        let waiting = tokio::spawn({
            let backlog = backlog.clone();
            async move { backlog.admit().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "past the mark a writer waits");
        backlog.relayed(20, false);
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the relay drained below the mark")
            .unwrap();
        backlog.raised(100);
        backlog.relay_up(false);
        tokio::time::timeout(Duration::from_secs(1), backlog.admit())
            .await
            .expect("a relay that is down holds nobody back");
    }
}
