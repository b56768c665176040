//! Group commit. Every statement is a round trip (to sqlx's worker thread on SQLite, to the
//! server on PostgreSQL) and every transaction adds a BEGIN, a COMMIT and a log flush, so one
//! transaction per request caps a context long before its database does. Writes submitted
//! while the committers are busy are queued and then run together in one transaction: one
//! BEGIN, one COMMIT and one flush for the whole group.
//!
//! A write reports its result only after its group committed. If the group fails (a write's
//! statement error, a PostgreSQL deadlock between a group and another transaction), nothing
//! of it is kept and each of its writes runs again alone, in its own transaction, and answers
//! for itself: one bad write never fails the others. A write is therefore a closure that can
//! run more than once; each run starts from the same state, since a failed run left nothing.
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::storage::sql;
use crate::storage::store::{Store, Tx, is_transient};

/// Most writes in one transaction.
const MAX_GROUP: usize = 256;

type Run = Box<dyn for<'t> FnMut(&'t mut Tx) -> BoxFuture<'t, Result<(), sqlx::Error>> + Send>;

/// A queued write: what it does (keeping its value aside), and whom to answer.
struct Job {
    run: Run,
    finish: Box<dyn FnOnce(Result<(), sqlx::Error>) + Send>,
}

/// The queue in front of a store's committers.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the committer of `store`. One, on PostgreSQL too: two groups committing at
    /// once would each hold row locks (an idempotency key, a seat tally) the other waits
    /// for, a deadlock the server breaks only after its `deadlock_timeout` (1 s), long past a
    /// caller's deadline.
    pub fn start(store: Store) -> GroupCommit {
        let (queue, jobs) = mpsc::channel(4096);
        tokio::spawn(run(store, jobs));
        GroupCommit { queue }
    }

    /// Runs `write` in a transaction shared with other queued writes; answers after commit.
    pub async fn write<T, F>(&self, mut write: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'t> FnMut(&'t mut Tx) -> BoxFuture<'t, Result<T, sqlx::Error>> + Send + 'static,
    {
        let (done, result) = oneshot::channel::<Result<T, sqlx::Error>>();
        let value: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
        // The write runs on a committer's task: it keeps the submitter's trace, so the events
        // it raises carry the caller's `traceparent`.
        let trace = crate::observe::telemetry::current_traceparent();
        let kept = value.clone();
        let run: Run = Box::new(move |tx| {
            let future = write(tx);
            let (kept, trace) = (kept.clone(), trace.clone());
            Box::pin(async move {
                // A write that panics fails alone: unwinding would end the committer, and
                // with it every later write of the context.
                let future = std::panic::AssertUnwindSafe(future).catch_unwind();
                let ran = match trace {
                    Some(traceparent) => {
                        crate::observe::telemetry::in_trace(traceparent, future).await
                    }
                    None => future.await,
                };
                let value =
                    ran.map_err(|_| sqlx::Error::AnyDriverError("the write panicked".into()))??;
                *kept.lock().expect("write value") = Some(value);
                Ok(())
            })
        });
        let finish = Box::new(move |committed: Result<(), sqlx::Error>| {
            let answer =
                committed.and_then(|()| {
                    value.lock().expect("write value").take().ok_or_else(|| {
                        sqlx::Error::Protocol("write committed without a value".into())
                    })
                });
            let _ = done.send(answer);
        });
        self.queue
            .send(Job { run, finish })
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        result
            .await
            .unwrap_or_else(|_| Err(sqlx::Error::Protocol("write aborted".into())))
    }
}

async fn run(store: Store, mut jobs: mpsc::Receiver<Job>) {
    while let Some(mut group) = next_group(&mut jobs).await {
        // A relay far behind holds the next group back (storage::backlog).
        store.backlog().admit().await;
        if group.len() == 1 {
            let mut job = group.pop().expect("one job");
            let committed = commit(&store, std::slice::from_mut(&mut job))
                .await
                .map_err(Failed::error);
            (job.finish)(committed);
            continue;
        }
        match commit(&store, &mut group).await {
            Ok(()) => {
                for job in group {
                    (job.finish)(Ok(()));
                }
            }
            Err(Failed::Begin(error)) if is_transient(&error) => {
                // No write ran: the store is busy (another process holds SQLite's lock past
                // its wait, no connection came). Alone, each would wait as long again, one
                // after another; every one is answered busy now and may retry.
                tracing::warn!(%error, writes = group.len(), "group could not begin");
                let mut errors = std::iter::once(error)
                    .chain(std::iter::repeat_with(|| sqlx::Error::PoolTimedOut));
                for job in group {
                    (job.finish)(Err(errors.next().expect("endless")));
                }
            }
            Err(Failed::Begin(error) | Failed::Write(error)) => {
                tracing::warn!(%error, writes = group.len(), "group failed; its writes run alone");
                for mut job in group {
                    let committed = commit(&store, std::slice::from_mut(&mut job))
                        .await
                        .map_err(Failed::error);
                    (job.finish)(committed);
                }
            }
        }
    }
}

/// What is queued now (at least one write, at most `MAX_GROUP`); None once the queue closed.
async fn next_group(jobs: &mut mpsc::Receiver<Job>) -> Option<Vec<Job>> {
    let mut group = vec![jobs.recv().await?];
    while group.len() < MAX_GROUP {
        match jobs.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    Some(group)
}

/// How long a group waits for a row lock on PostgreSQL before it gives up and its writes run
/// alone: a group holds the locks of all its writes, so waiting on another replica's group
/// (or a consumer) that waits on it is a deadlock the server breaks only after its
/// `deadlock_timeout` (1 s by default), long past a caller's deadline. Alone, a write waits
/// for locks as long as it takes, as it did before groups.
const GROUP_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '100ms'";

/// Why a group kept nothing: its transaction never began, or a write or the commit failed.
enum Failed {
    Begin(sqlx::Error),
    Write(sqlx::Error),
}

impl Failed {
    fn error(self) -> sqlx::Error {
        match self {
            Failed::Begin(error) | Failed::Write(error) => error,
        }
    }
}

impl From<sqlx::Error> for Failed {
    fn from(error: sqlx::Error) -> Failed {
        Failed::Write(error)
    }
}

/// Runs `group` in one transaction and commits it; on any error nothing of it is kept.
async fn commit(store: &Store, group: &mut [Job]) -> Result<(), Failed> {
    let mut tx = store.begin().await.map_err(Failed::Begin)?;
    if group.len() > 1 && store.is_postgres() {
        sql::query(GROUP_LOCK_TIMEOUT).execute(tx.conn()).await?;
    }
    for job in group.iter_mut() {
        (job.run)(&mut tx).await?;
    }
    Ok(tx.commit().await?)
}

#[cfg(test)]
impl GroupCommit {
    /// Writes waiting for a committer.
    fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::Notify;

    use super::*;

    async fn insert(tx: &mut Tx, table: &str, n: i64) -> Result<i64, sqlx::Error> {
        sql::query(&format!("INSERT INTO {table} (n) VALUES ($1)"))
            .bind(n)
            .execute(tx.conn())
            .await?;
        Ok(n)
    }

    /// A write that panics answers an error; the committer lives on for the next writes.
    #[tokio::test]
    async fn a_panicking_write_fails_alone() {
        let test =
            crate::testkit::TestStore::new(&["CREATE TABLE kept (n BIGINT PRIMARY KEY)"]).await;
        let group = GroupCommit::start(test.store.clone());
        let panicked = group
            .write(|_tx| -> BoxFuture<'_, Result<i64, sqlx::Error>> {
                Box::pin(async { panic!("a bug in a write") })
            })
            .await;
        assert!(panicked.is_err());
        let next = group
            .write(|tx| Box::pin(async move { insert(tx, "kept", 1).await }))
            .await;
        assert_eq!(next.unwrap(), 1, "the committer is still there");
    }

    /// Writes queued behind a busy committer go in one group; one of them failing leaves
    /// the others committed, each answering for itself.
    #[tokio::test]
    async fn a_failing_write_never_fails_the_writes_grouped_with_it() {
        let test =
            crate::testkit::TestStore::new(&["CREATE TABLE kept (n BIGINT PRIMARY KEY)"]).await;
        let store = test.store.clone();
        let group = GroupCommit::start(store.clone());

        // The committer is held inside a first write while the others queue up.
        let (started, gate) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let first = tokio::spawn({
            let (group, started, gate) = (group.clone(), started.clone(), gate.clone());
            async move {
                group
                    .write(move |tx| {
                        let (started, gate) = (started.clone(), gate.clone());
                        Box::pin(async move {
                            started.notify_one();
                            gate.notified().await;
                            insert(tx, "kept", 0).await
                        })
                    })
                    .await
            }
        });
        started.notified().await;
        let writes: Vec<_> = (1..=9)
            .map(|n| {
                let group = group.clone();
                // Write 5 names a table that does not exist: its statement fails.
                let table = if n == 5 { "missing" } else { "kept" };
                tokio::spawn(async move {
                    group
                        .write(move |tx| Box::pin(async move { insert(tx, table, n).await }))
                        .await
                })
            })
            .collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while group.queued() < 9 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "writes never queued"
            );
            tokio::task::yield_now().await;
        }
        gate.notify_one();

        assert_eq!(first.await.unwrap().unwrap(), 0);
        for (n, write) in (1..=9).zip(writes) {
            let answer = write.await.unwrap();
            if n == 5 {
                assert!(answer.is_err(), "the bad write answers its own error");
            } else {
                assert_eq!(answer.unwrap(), n, "write {n} committed despite write 5");
            }
        }
        let kept: Vec<i64> = sql::query_scalar("SELECT n FROM kept ORDER BY n")
            .fetch_all(store.reader())
            .await
            .unwrap();
        assert_eq!(kept, [0, 1, 2, 3, 4, 6, 7, 8, 9]);
    }

    /// A group whose transaction cannot begin (another process holds SQLite's write lock
    /// past the wait) answers all its writes busy at once: alone, each would wait as long
    /// again, one after another (four writes took five waits).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_that_cannot_begin_are_answered_busy_without_waiting_again() {
        use crate::storage::sqlite::LOCK_WAIT;
        let test =
            crate::testkit::TestStore::new(&["CREATE TABLE kept (n BIGINT PRIMARY KEY)"]).await;
        let group = GroupCommit::start(test.store.clone());
        let other = rusqlite::Connection::open(test.file()).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = tokio::time::Instant::now();
        let writes: Vec<_> = (0..4)
            .map(|n| {
                let group = group.clone();
                tokio::spawn(async move {
                    group
                        .write(move |tx| Box::pin(async move { insert(tx, "kept", n).await }))
                        .await
                })
            })
            .collect();
        for write in writes {
            let answer = write.await.unwrap();
            let error = answer.expect_err("the lock is held");
            assert!(is_transient(&error), "busy, to retry: {error}");
        }
        let took = started.elapsed();
        assert!(
            took < LOCK_WAIT * 5 / 2,
            "at most two waits (the first write, then the rest together): {took:?}"
        );
        other.execute_batch("COMMIT").unwrap();
        let after = group
            .write(|tx| Box::pin(async move { insert(tx, "kept", 9).await }))
            .await;
        assert_eq!(after.unwrap(), 9, "writes go through once the lock is free");
    }

    /// Writes wait while their relay is more than a batch behind, and go in once it caught
    /// up (the committer asks `storage::backlog` before each group).
    #[tokio::test]
    async fn writes_wait_while_the_relay_is_behind() {
        let test =
            crate::testkit::TestStore::new(&["CREATE TABLE kept (n BIGINT PRIMARY KEY)"]).await;
        let store = test.store.clone();
        store.backlog().relay_up(true);
        store
            .backlog()
            .raised(crate::storage::backlog::HIGH_WATER as usize + 1);
        let write = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(|tx| Box::pin(async move { insert(tx, "kept", 1).await }))
                    .await
            }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!write.is_finished(), "the write waits for the relay");
        store.backlog().relayed(0, true);
        assert_eq!(
            write.await.unwrap().unwrap(),
            1,
            "and goes in once it caught up"
        );
    }
}
