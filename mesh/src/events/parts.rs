//! A whole's total kept as the sum of its parts, each part counted at its latest version
//! only (a channel's views are its videos' views, a client's are its channels' totals).
//! Events about a part applied twice or out of order never move a sum twice; a part may
//! move from one whole to another; a part gone (deleted, taken down) counts no more, for
//! good. Redelivered events are already stopped by the inbox: this stops the reordered ones.
//!
//! Each whole's sum is kept beside its parts and moved by the part's change in the same
//! transaction: reading it is one row, where summing the parts on every event made a channel
//! of 40,000 videos scan 40,000 rows per upload.

use crate::storage::sql;
use crate::storage::store::Tx;

pub const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS mesh_parts (
    scope TEXT NOT NULL,
    part TEXT NOT NULL,
    whole TEXT NOT NULL,
    amount BIGINT NOT NULL,
    live BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (scope, part)
);
CREATE TABLE IF NOT EXISTS mesh_wholes (
    scope TEXT NOT NULL,
    whole TEXT NOT NULL,
    total BIGINT NOT NULL,
    parts BIGINT NOT NULL,
    PRIMARY KEY (scope, whole)
);
";

/// Runs once, for a database whose parts were kept before their wholes' sums were.
pub const SUMS_FROM_PARTS: &str = "
INSERT INTO mesh_wholes (scope, whole, total, parts)
SELECT scope, whole, SUM(amount), COUNT(*) FROM mesh_parts WHERE live = 1 GROUP BY scope, whole
";

/// A part as the latest version heard of says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    whole: String,
    amount: i64,
    live: bool,
    version: i64,
}

impl Part {
    /// A part not heard of yet: in no whole, below every real version.
    pub fn unheard() -> Part {
        Part {
            whole: String::new(),
            amount: 0,
            live: false,
            version: 0,
        }
    }

    /// The part as of `version`: in `whole` with `amount` (None: gone). None for a stale or
    /// repeated version, or a part already gone; otherwise the wholes whose sums may have
    /// moved (where it was, where it is).
    pub fn apply(&mut self, version: i64, whole: &str, amount: Option<i64>) -> Option<Vec<String>> {
        let gone = self.version > 0 && !self.live;
        if version <= self.version || gone {
            return None;
        }
        let mut touched = vec![self.whole.clone(), whole.to_owned()];
        touched.retain(|w| !w.is_empty());
        touched.dedup();
        self.whole = whole.to_owned();
        self.amount = amount.unwrap_or(0).max(0);
        self.live = amount.is_some();
        self.version = version;
        Some(touched)
    }
}

/// Sets `part` of `scope` to what its `version` says (`amount` None: gone, for good); the
/// wholes to recount (none when nothing moved). The part's row is locked until the transaction ends: a stand-in is
/// inserted first, so a concurrent first event about the same part waits for this one
/// instead of missing the row.
pub async fn set(
    tx: &mut Tx,
    scope: &str,
    part: &str,
    version: i64,
    whole: &str,
    amount: Option<i64>,
) -> Result<Vec<String>, sqlx::Error> {
    sql::query(
        "INSERT INTO mesh_parts (scope, part, whole, amount, live, version) \
         VALUES ($1, $2, '', 0, 0, 0) ON CONFLICT DO NOTHING",
    )
    .bind(scope.to_owned())
    .bind(part.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sql::query(
        "UPDATE mesh_parts SET version = version WHERE scope = $1 AND part = $2 \
         RETURNING whole, amount, live, version",
    )
    .bind(scope.to_owned())
    .bind(part.to_owned())
    .fetch_one(tx.conn())
    .await?;
    let mut p = Part {
        whole: row.try_get("whole")?,
        amount: row.try_get("amount")?,
        live: row.try_get::<i64, _>("live")? != 0,
        version: row.try_get("version")?,
    };
    let before = p.clone();
    let Some(touched) = p.apply(version, whole, amount) else {
        return Ok(Vec::new());
    };
    sql::query(
        "UPDATE mesh_parts SET whole = $3, amount = $4, live = $5, version = $6 \
         WHERE scope = $1 AND part = $2",
    )
    .bind(scope.to_owned())
    .bind(part.to_owned())
    .bind(p.whole.clone())
    .bind(p.amount)
    .bind(i64::from(p.live))
    .bind(p.version)
    .execute(tx.conn())
    .await?;
    // Wholes in name order: two parts crossing between the same two wholes at once lock
    // their sums in one order (PostgreSQL would otherwise find a deadlock).
    for (whole, total, parts) in moves(&before, &p) {
        sql::query(
            "INSERT INTO mesh_wholes (scope, whole, total, parts) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (scope, whole) DO UPDATE \
             SET total = mesh_wholes.total + excluded.total, \
                 parts = mesh_wholes.parts + excluded.parts",
        )
        .bind(scope.to_owned())
        .bind(whole)
        .bind(total)
        .bind(parts)
        .execute(tx.conn())
        .await?;
    }
    Ok(touched)
}

/// What a part's change does to the sums: (whole, change of total, change of live parts),
/// by whole name, the unchanged left out.
fn moves(before: &Part, after: &Part) -> Vec<(String, i64, i64)> {
    let mut moves: Vec<(String, i64, i64)> = Vec::new();
    let mut add = |whole: &str, total: i64, parts: i64| {
        if whole.is_empty() {
            return;
        }
        match moves.iter_mut().find(|m| m.0 == whole) {
            Some(m) => {
                m.1 += total;
                m.2 += parts;
            }
            None => moves.push((whole.to_owned(), total, parts)),
        }
    };
    if before.live {
        add(&before.whole, -before.amount, -1);
    }
    if after.live {
        add(&after.whole, after.amount, 1);
    }
    moves.retain(|m| m.1 != 0 || m.2 != 0);
    moves.sort();
    moves
}

/// The sum of the amounts of `whole`'s live parts, and how many there are.
pub async fn sum(tx: &mut Tx, scope: &str, whole: &str) -> Result<(i64, i64), sqlx::Error> {
    let row = sql::query("SELECT total, parts FROM mesh_wholes WHERE scope = $1 AND whole = $2")
        .bind(scope.to_owned())
        .bind(whole.to_owned())
        .fetch_optional(tx.conn())
        .await?;
    match row {
        Some(row) => Ok((row.try_get("total")?, row.try_get("parts")?)),
        None => Ok((0, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_counts_at_its_latest_version_only() {
        let mut p = Part::unheard();
        assert_eq!(p.apply(2, "a", Some(5)), Some(vec!["a".to_owned()]));
        assert_eq!(
            p.apply(1, "a", Some(0)),
            None,
            "the older version arrives late"
        );
        assert_eq!(p.apply(2, "a", Some(5)), None, "the same version again");
        assert_eq!(
            p.apply(3, "b", Some(-6)),
            Some(vec!["a".to_owned(), "b".to_owned()]),
            "moved: both wholes are recounted"
        );
        assert_eq!((p.whole.as_str(), p.amount, p.live), ("b", 0, true));
    }

    #[test]
    fn a_change_moves_the_sums_it_touches() {
        let mut p = Part::unheard();
        let before = p.clone();
        p.apply(1, "b", Some(5));
        assert_eq!(moves(&before, &p), vec![("b".to_owned(), 5, 1)], "uploaded");
        let before = p.clone();
        p.apply(2, "b", Some(7));
        assert_eq!(moves(&before, &p), vec![("b".to_owned(), 2, 0)], "edited");
        let before = p.clone();
        p.apply(3, "b", Some(7));
        assert_eq!(moves(&before, &p), vec![], "no change");
        let before = p.clone();
        p.apply(4, "a", Some(7));
        assert_eq!(
            moves(&before, &p),
            vec![("a".to_owned(), 7, 1), ("b".to_owned(), -7, -1)],
            "moved, wholes in name order"
        );
        let before = p.clone();
        p.apply(5, "a", None);
        assert_eq!(moves(&before, &p), vec![("a".to_owned(), -7, -1)], "gone");
    }

    #[test]
    fn a_gone_part_never_counts_again() {
        let mut p = Part::unheard();
        p.apply(1, "a", Some(1));
        assert_eq!(p.apply(3, "a", None), Some(vec!["a".to_owned()]));
        assert_eq!((p.amount, p.live), (0, false));
        assert_eq!(p.apply(4, "a", Some(9)), None, "gone is for good");
        let mut early = Part::unheard();
        assert!(early.apply(4, "c", None).is_some());
        assert_eq!(
            early.apply(2, "c", Some(1)),
            None,
            "its older version arrives late"
        );
    }

    /// A database that kept parts before the wholes' sums were kept gets its sums once, from
    /// its live parts, and changes move them from there.
    #[tokio::test]
    async fn an_older_database_gets_its_sums_from_its_parts() {
        let test = crate::testkit::TestStore::new(&[]).await;
        let store = &test.store;
        // As the previous version left it: parts, no sums, the backfill not run.
        for sql in [
            "DROP TABLE mesh_wholes",
            "DELETE FROM mesh_migrations WHERE version = -3",
            "INSERT INTO mesh_parts VALUES ('v', '1', 'a', 5, 1, 1), ('v', '2', 'a', 7, 1, 3), \
             ('v', '3', 'a', 9, 0, 2), ('v', '4', 'b', 1, 1, 1), ('w', '1', 'a', 100, 1, 1)",
        ] {
            sql::query(sql).execute(store.writer()).await.unwrap();
        }
        crate::events::migrate(store, &[]).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        assert_eq!(sum(&mut tx, "v", "a").await.unwrap(), (12, 2));
        assert_eq!(sum(&mut tx, "v", "b").await.unwrap(), (1, 1));
        assert_eq!(sum(&mut tx, "v", "c").await.unwrap(), (0, 0));
        assert_eq!(sum(&mut tx, "w", "a").await.unwrap(), (100, 1));

        set(&mut tx, "v", "2", 4, "b", Some(8)).await.unwrap();
        set(&mut tx, "v", "1", 2, "a", None).await.unwrap();
        set(&mut tx, "v", "5", 1, "a", Some(3)).await.unwrap();
        set(&mut tx, "v", "4", 1, "b", Some(50)).await.unwrap();
        assert_eq!(sum(&mut tx, "v", "a").await.unwrap(), (3, 1));
        assert_eq!(
            sum(&mut tx, "v", "b").await.unwrap(),
            (9, 2),
            "a stale version moves nothing"
        );
        tx.commit().await.unwrap();
    }
}
