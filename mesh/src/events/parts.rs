//! A whole's total kept as the sum of its parts, each part counted at its latest version
//! only (a channel's views are its videos' views, a client's are its channels' totals).
//! Events about a part applied twice or out of order never move a sum twice; a part may
//! move from one whole to another; a part gone (deleted, taken down) counts no more, for
//! good. Redelivered events are already stopped by the inbox: this stops the reordered ones.
use sqlx::Row;

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
CREATE INDEX IF NOT EXISTS mesh_parts_by_whole ON mesh_parts (scope, whole, live);
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
    sqlx::query(
        "INSERT INTO mesh_parts (scope, part, whole, amount, live, version) \
         VALUES ($1, $2, '', 0, 0, 0) ON CONFLICT DO NOTHING",
    )
    .bind(scope.to_owned())
    .bind(part.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sqlx::query(
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
    let Some(touched) = p.apply(version, whole, amount) else {
        return Ok(Vec::new());
    };
    sqlx::query(
        "UPDATE mesh_parts SET whole = $3, amount = $4, live = $5, version = $6 \
         WHERE scope = $1 AND part = $2",
    )
    .bind(scope.to_owned())
    .bind(part.to_owned())
    .bind(p.whole)
    .bind(p.amount)
    .bind(i64::from(p.live))
    .bind(p.version)
    .execute(tx.conn())
    .await?;
    Ok(touched)
}

/// The sum of the amounts of `whole`'s live parts, and how many there are.
pub async fn sum(tx: &mut Tx, scope: &str, whole: &str) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total, COUNT(*) AS n \
         FROM mesh_parts WHERE scope = $1 AND whole = $2 AND live = 1",
    )
    .bind(scope.to_owned())
    .bind(whole.to_owned())
    .fetch_one(tx.conn())
    .await?;
    Ok((row.try_get("total")?, row.try_get("n")?))
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
}
