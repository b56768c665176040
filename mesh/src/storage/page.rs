//! AIP-158 pagination: `page_size` (default 50, at most 100) and an opaque `page_token`
//! that carries the sort key of the previous page's last row (keyset paging; offsets are
//! gone: they were guessable and skipped or repeated rows under concurrent writes).
use crate::error::FieldViolation;
use crate::storage::sql;
use crate::storage::store::Store;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// At most 100 rows a page: with every field bounded (`input`), the largest page still fits
/// the gateway's response buffer.
pub const MAX_PAGE_SIZE: i64 = 100;

/// Tokens longer than this are not ours (a key is a few bounded ids and timestamps).
const MAX_TOKEN: usize = 2048;
/// Keyset tokens start with this, so a token of the old offset scheme (a bare number, still
/// held by clients across an upgrade) is refused as not ours, never misread.
const KEYSET_TAG: &str = "k1";

/// A page of rows in a total order (`ORDER BY` a unique key), continued after the sort key
/// of the previous page's last row: `WHERE (key columns) > (after) ORDER BY key LIMIT n`.
/// A page costs the same at any depth (an index seek, not OFFSET's walk over every row
/// before it), and rows written meanwhile never shift later pages, so none is skipped or
/// repeated. The token is opaque (hex of the key); a forged one only moves where a listing
/// starts within what the caller may list anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub size: i64,
    after: Option<Vec<String>>,
}

impl Keyset {
    /// `parts`: how many columns the listing's sort key has.
    pub fn parse(page_size: i32, page_token: &str, parts: usize) -> Result<Keyset, FieldViolation> {
        if page_size < 0 {
            return Err(FieldViolation::new("page_size", "must not be negative"));
        }
        let size = match i64::from(page_size) {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        if page_token.is_empty() {
            return Ok(Keyset { size, after: None });
        }
        let invalid = || FieldViolation::new("page_token", "is not a token this server issued");
        let hex = page_token
            .strip_prefix(KEYSET_TAG)
            .filter(|_| page_token.len() <= MAX_TOKEN)
            .ok_or_else(invalid)?;
        let text = String::from_utf8(unhex(hex).ok_or_else(invalid)?).map_err(|_| invalid())?;
        let key: Vec<String> = text.split('\u{1f}').map(str::to_owned).collect();
        // Keys are ids and timestamps: a control character (a NUL, which PostgreSQL refuses
        // in text and would turn into a 500) only comes in a forged token.
        if key.len() != parts || key.iter().any(|k| k.chars().any(char::is_control)) {
            return Err(invalid());
        }
        Ok(Keyset {
            size,
            after: Some(key),
        })
    }

    /// The sort key to continue after; None on the first page.
    pub fn after(&self) -> Option<&[String]> {
        self.after.as_deref()
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.size + 1
    }

    /// The key to continue after, or `start` on the first page (for an ascending order a
    /// key that sorts before every row, e.g. empty strings).
    pub fn after_or(&self, start: &[&str]) -> Vec<String> {
        match &self.after {
            Some(key) => key.clone(),
            None => start.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Runs a listing's `statement` on `store`'s readers: `$1` the row limit, then the key
    /// to continue after (`start` on the first page), then the given `filters` in order.
    pub async fn fetch(
        &self,
        store: &Store,
        statement: &str,
        start: &[&str],
        filters: Vec<String>,
    ) -> Result<Vec<sql::Row>, sqlx::Error> {
        let mut query = sql::query(statement).bind(self.fetch_limit());
        for part in self.after_or(start) {
            query = query.bind(part);
        }
        for value in filters {
            query = query.bind(value);
        }
        query.fetch_all(store.reader()).await
    }

    /// Rows fetched with their sort keys (`fetch_limit` of them): this page's rows and the
    /// next page's token (empty on the last page).
    pub fn split<T>(&self, mut rows: Vec<(Vec<String>, T)>) -> (Vec<T>, String) {
        let token = self.finish(&mut rows, |(key, _)| key.clone());
        (rows.into_iter().map(|(_, row)| row).collect(), token)
    }

    /// Trims the extra row and returns the next page's token, the sort key (`key`) of this
    /// page's last row (empty on the last page).
    pub fn finish<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> Vec<String>) -> String {
        if rows.len() as i64 <= self.size {
            return String::new();
        }
        rows.truncate(self.size as usize);
        let last = rows.last().map(key).unwrap_or_default();
        format!("{KEYSET_TAG}{}", hex(last.join("\u{1f}").as_bytes()))
    }
}

/// A row's sort key, read from its `columns` (text columns), for `Keyset::split`.
pub fn key_of(row: &sql::Row, columns: &[&str]) -> Result<Vec<String>, sqlx::Error> {
    columns
        .iter()
        .map(|c| row.try_get::<String, _>(*c))
        .collect()
}

/// A listing's equality filters that were given (an empty value means any), as
/// ` AND column = $n` numbered from `first`, and the values to bind to them in that order.
/// A listing builds its statement from the filters given instead of writing
/// `($n = '' OR column = $n)`: an OR on a parameter keeps SQLite and PostgreSQL from seeking
/// an index on the column (the plan must serve every value), so one customer's rows would be
/// found by walking every row in list order.
pub fn given_filters(first: usize, filters: &[(&str, &str)]) -> (String, Vec<String>) {
    let mut clauses = String::new();
    let mut values = Vec::new();
    for (column, value) in filters.iter().filter(|(_, value)| !value.is_empty()) {
        clauses.push_str(&format!(" AND {column} = ${}", first + values.len()));
        values.push((*value).to_owned());
    }
    (clauses, values)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyset_token_carries_the_last_rows_key() {
        let first = Keyset::parse(2, "", 2).unwrap();
        assert_eq!(first.after(), None);
        let mut rows = vec![("t1", "a"), ("t2", "b"), ("t3", "c")];
        let token = first.finish(&mut rows, |r| vec![r.0.to_owned(), r.1.to_owned()]);
        assert_eq!(rows.len(), 2);
        let next = Keyset::parse(2, &token, 2).unwrap();
        assert_eq!(next.after(), Some(&["t2".to_owned(), "b".to_owned()][..]));
        let mut last = vec![("t3", "c")];
        assert_eq!(next.finish(&mut last, |r| vec![r.0.to_owned()]), "");
    }

    #[test]
    fn page_sizes_default_cap_and_refuse_negatives() {
        assert_eq!(Keyset::parse(0, "", 1).unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(Keyset::parse(1000, "", 1).unwrap().size, MAX_PAGE_SIZE);
        assert_eq!(Keyset::parse(7, "", 1).unwrap().size, 7);
        let refused = Keyset::parse(-1, "", 1).unwrap_err();
        assert_eq!(refused.field, "page_size");
    }

    #[test]
    fn only_given_filters_become_clauses_numbered_in_order() {
        let none = given_filters(4, &[("rsv_id", ""), ("customer_id", "")]);
        assert_eq!(none, (String::new(), vec![]));
        let second = given_filters(4, &[("rsv_id", ""), ("customer_id", "c1")]);
        assert_eq!(second, (" AND customer_id = $4".into(), vec!["c1".into()]));
        let both = given_filters(4, &[("rsv_id", "r1"), ("customer_id", "c1")]);
        let clauses = " AND rsv_id = $4 AND customer_id = $5";
        assert_eq!(both, (clauses.into(), vec!["r1".into(), "c1".into()]));
    }

    #[test]
    fn tokens_not_issued_here_are_refused() {
        for bad in [
            "50",
            "k1zz",
            "k1616",
            "x",
            &format!("k1{}", "61".repeat(2000)),
        ] {
            assert!(Keyset::parse(10, bad, 2).is_err(), "{bad}");
        }
        let nul = format!("k1{}", hex(b"a\0b\x1fc"));
        assert!(Keyset::parse(10, &nul, 2).is_err(), "a NUL in a key");
        let one_part = format!("k1{}", hex(b"t1"));
        assert!(Keyset::parse(10, &one_part, 2).is_err(), "wrong arity");
    }
}
