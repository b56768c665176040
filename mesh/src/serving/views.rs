//! Rebuilding a read model: empty the context's view tables and its inbox, drop its durable
//! consumer, and replay the app's stream from the start until the consumer has nothing
//! pending. Run it while the context is stopped; the rebuilt view equals the live one
//! because it is a function of the events alone.
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::context::Context;
use crate::serving::runtime::MeshConfig;
use crate::storage::sql;
use crate::storage::store::Store;

/// Rebuilds the views of `context`; returns how many events were applied.
pub async fn rebuild(config: &MeshConfig, context: Arc<dyn Context>) -> anyhow::Result<u64> {
    let info = context.info();
    anyhow::ensure!(
        !info.views.is_empty(),
        "{} keeps no views to rebuild",
        info.id()
    );
    let nats = crate::events::nats::options(&config.nats_url)?
        .connect(crate::events::nats::servers(&config.nats_url)?)
        .await?;
    let js = async_nats::jetstream::new(nats.clone());
    let stream = crate::events::nats::ensure_stream(&js, info.app, config.stream_replicas).await?;
    let store = Store::open(&config.database, &info.id()).await?;
    crate::events::migrate(&store, info.migrations).await?;
    // Only the consumer replays: the context itself is not started.
    let subscriptions: Vec<_> = crate::context::subscription(context.as_ref())
        .into_iter()
        .collect();

    let mut tx = store.begin().await?;
    for table in info.views {
        sql::query(&format!("DELETE FROM {table}"))
            .execute(tx.conn())
            .await?;
    }
    for sub in &subscriptions {
        sql::query("DELETE FROM mesh_inbox WHERE consumer = $1")
            .bind(sub.durable.clone())
            .execute(tx.conn())
            .await?;
        // Gone already is fine: the next consumer starts from the first event either way.
        let _ = stream.delete_consumer(&sub.durable).await;
    }
    tx.commit().await?;

    let stop = CancellationToken::new();
    let mut replays = Vec::new();
    for sub in subscriptions.clone() {
        replays.push(tokio::spawn(crate::events::consumer::run(
            store.clone(),
            js.clone(),
            sub,
            stop.clone(),
            crate::tasks::Running::default(),
        )));
    }
    for sub in &subscriptions {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            // A replay that died would leave events pending for ever: say so instead.
            if let Some(dead) = replays.iter().position(|r| r.is_finished()) {
                stop.cancel();
                let outcome = replays.swap_remove(dead).await;
                anyhow::bail!(
                    "replay of {} stopped before the end: {outcome:?}",
                    sub.durable
                );
            }
            if let Ok(info) = stream.consumer_info(&sub.durable).await
                && info.num_pending == 0
                && info.num_ack_pending == 0
            {
                break;
            }
        }
    }
    stop.cancel();
    for replay in replays {
        replay.await?;
    }
    let mut applied = 0;
    for sub in &subscriptions {
        let n: i64 = sql::query_scalar("SELECT COUNT(*) FROM mesh_inbox WHERE consumer = $1")
            .bind(sub.durable.clone())
            .fetch_one(store.reader())
            .await?;
        applied += n as u64;
    }
    Ok(applied)
}
