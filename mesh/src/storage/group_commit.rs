//! Group commit for SQLite. SQLite has one writer, and every statement is a round trip to
//! sqlx's worker thread, so one transaction per request caps a context at a few hundred
//! requests per second under load. Writes submitted while the writer is busy are queued and
//! then run together in one transaction: one BEGIN and one COMMIT for the whole group.
//!
//! A write reports its result only after its group committed. Writes are built so business
//! outcomes are values (`Ok(false)` for "already exists"), not errors: a statement error
//! rolls back the whole group and every write in it reports that error.
use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::storage::store::{Store, Tx};

/// Most writes in one transaction.
const MAX_GROUP: usize = 256;

type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<Finish, sqlx::Error>> + Send>;

/// The queue in front of a store's writer.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the committer task of `store`.
    pub fn start(store: Store) -> GroupCommit {
        let (queue, jobs) = mpsc::channel(4096);
        tokio::spawn(run(store, jobs));
        GroupCommit { queue }
    }

    /// Runs `write` in a transaction shared with other queued writes; answers after commit.
    pub async fn write<T, F>(&self, write: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, sqlx::Error>> + Send + 'static,
    {
        let (done, result) = oneshot::channel::<Result<T, String>>();
        // The write runs on the committer's task: it keeps the submitter's trace, so the
        // events it raises carry the caller's `traceparent`.
        let trace = crate::observe::telemetry::current_traceparent();
        let job: Job = Box::new(move |tx| {
            Box::pin(async move {
                let value = match trace {
                    Some(traceparent) => {
                        crate::observe::telemetry::in_trace(traceparent, write(tx)).await?
                    }
                    None => write(tx).await?,
                };
                let finish: Finish = Box::new(move |committed| {
                    let _ = done.send(committed.map(|()| value));
                });
                Ok(finish)
            })
        });
        self.queue
            .send(job)
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(sqlx::Error::Protocol(format!(
                "group commit failed: {error}"
            ))),
            Err(_) => Err(sqlx::Error::Protocol(
                "write aborted: its group failed".into(),
            )),
        }
    }
}

async fn run(store: Store, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut finishes = Vec::with_capacity(group.len());
        let result = async {
            let mut tx = store.begin().await?;
            for job in group {
                finishes.push(job(&mut tx).await?);
            }
            tx.commit().await
        }
        .await;
        let outcome = result.map_err(|e| e.to_string());
        if let Err(error) = &outcome {
            tracing::error!(error, writes = finishes.len(), "group commit failed");
        }
        for finish in finishes {
            finish(outcome.clone());
        }
    }
}
