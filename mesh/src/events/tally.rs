//! Counting each key exactly once, whatever the order its add and remove arrive in: the
//! compensation pattern of the seeds' review counts ("ReviewDeleted undoes ReviewCreated,
//! correlated by review id"). A remove that arrives before its add leaves a tombstone, so
//! the late add does not count. Redelivered events are already stopped by the inbox.
use crate::storage::sql;
use crate::storage::store::Tx;

pub const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS mesh_tally (
    scope TEXT NOT NULL,
    item TEXT NOT NULL,
    present BIGINT NOT NULL,
    PRIMARY KEY (scope, item)
);
";

/// Records that `item` was added; true if it now counts (and the count should go up).
pub async fn add(tx: &mut Tx, scope: &str, item: &str) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(
        "INSERT INTO mesh_tally (scope, item, present) VALUES ($1, $2, 1) ON CONFLICT DO NOTHING",
    )
    .bind(scope.to_owned())
    .bind(item.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Records that `item` was removed; true if it counted until now (and the count should go
/// down).
///
/// Insert first, then check: on PostgreSQL (READ COMMITTED) an update does not see an add
/// still uncommitted in another transaction, but an insert of the same key waits for it.
/// So the tombstone insert either lands (the item was never added: the late add will not
/// count) or waits for the add to commit and conflicts, and the update then sees it.
pub async fn remove(tx: &mut Tx, scope: &str, item: &str) -> Result<bool, sqlx::Error> {
    let tombstone = sql::query(
        "INSERT INTO mesh_tally (scope, item, present) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
    )
    .bind(scope.to_owned())
    .bind(item.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if tombstone == 1 {
        // Removed before it was added (reordered): the tombstone keeps the add from counting.
        return Ok(false);
    }
    let removed = sql::query(
        "UPDATE mesh_tally SET present = 0 WHERE scope = $1 AND item = $2 AND present = 1",
    )
    .bind(scope.to_owned())
    .bind(item.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(removed == 1)
}
