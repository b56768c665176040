//! SQLite connections that run statements on the calling thread. A statement on a local file
//! takes microseconds, less than handing it to another thread and back. A commit writes the
//! log to the OS's cache; only under `synchronous=FULL` does it wait for the disk, and then
//! it runs off the async workers (`Writer::commit`).
use std::path::Path;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::storage::sql::{Output, Row, Statement, Value, Want};

/// Prepared statements kept per connection: every statement text of a context fits.
const STATEMENT_CACHE: usize = 256;

/// How long a write waits for another process's write lock: a `mediamesh deadletters`
/// command on the same files, or the process a rolling restart replaces.
#[cfg(not(test))]
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Shorter in this crate's tests, which wait it out.
#[cfg(test)]
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(1);

/// Opens a connection to the context's file, creating it when `writer`; readers only read.
pub fn open(path: &Path, writer: bool, synchronous_full: bool) -> rusqlite::Result<Connection> {
    let flags = if writer {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    // While opening (WAL recovery after a crash may hold the file briefly).
    conn.busy_timeout(LOCK_WAIT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // As sqlx did: foreign keys are enforced.
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if writer {
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
        let synchronous = if synchronous_full { "FULL" } else { "NORMAL" };
        conn.pragma_update(None, "synchronous", synchronous)?;
        // The writer never waits for a lock on an async worker: see `patiently`.
        conn.busy_timeout(Duration::ZERO)?;
    } else {
        // WAL readers wait only for another process's recovery of the log, rare and short;
        // bounded so that it never holds an async worker long.
        conn.busy_timeout(Duration::from_millis(200))?;
    }
    Ok(conn)
}

/// The read-only connections of a store. WAL lets them read committed state while the one
/// writer works. A statement holds a connection only while it runs (it never waits for
/// anything else), so a few serve every task of the process.
///
/// A read starts on the async worker that asked for it: nearly every read is a seek of
/// microseconds. One that runs past `READ_BUDGET` (a scan nobody indexed for, a huge page)
/// is interrupted and runs again off the workers, so it never holds up the other tasks of
/// the process; a read changes nothing, so running it again is safe.
pub struct Readers {
    conns: Box<[Mutex<Reader>]>,
    next: AtomicUsize,
}

/// How long a read may run on an async worker.
const READ_BUDGET: Duration = Duration::from_millis(2);

/// A reader connection and when its current statement must give up the worker.
struct Reader {
    conn: Connection,
    /// Nanoseconds since `epoch()` past which SQLite interrupts the statement; never if 0.
    deadline: Arc<AtomicU64>,
}

fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

fn nanos_since_epoch() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

impl Reader {
    fn new(conn: Connection) -> Reader {
        let deadline = Arc::new(AtomicU64::new(0));
        let watched = deadline.clone();
        // Every 1,000 virtual-machine steps (a few microseconds): past the deadline?
        conn.progress_handler(
            1000,
            Some(move || {
                let at = watched.load(Ordering::Relaxed);
                at != 0 && nanos_since_epoch() > at
            }),
        );
        Reader { conn, deadline }
    }

    fn run(
        &self,
        statement: &Statement<'_>,
        budget: Option<Duration>,
    ) -> Result<Output, sqlx::Error> {
        let at = budget.map_or(0, |b| nanos_since_epoch() + b.as_nanos() as u64);
        self.deadline.store(at, Ordering::Relaxed);
        let output = run(&self.conn, statement);
        self.deadline.store(0, Ordering::Relaxed);
        output
    }
}

impl Readers {
    pub fn new(conns: Vec<Connection>) -> Readers {
        Readers {
            conns: conns
                .into_iter()
                .map(|c| Mutex::new(Reader::new(c)))
                .collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Runs on a free connection within the budget, else off the workers (see `Readers`).
    pub fn run(&self, statement: Statement<'_>) -> Result<Output, sqlx::Error> {
        let n = self.conns.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let free = (0..n).find_map(|i| self.conns[(start + i) % n].try_lock().ok());
        if let Some(reader) = free {
            match reader.run(&statement, Some(READ_BUDGET)) {
                Err(e) if is_interrupted(&e) => {}
                done => return done,
            }
            drop(reader);
        }
        // Every connection busy (slow reads hold them), or this read is a slow one.
        off_the_workers(|| {
            let reader = self.conns[start % n]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            reader.run(&statement, None)
        })
    }
}

fn is_interrupted(error: &sqlx::Error) -> bool {
    has_code(error, rusqlite::ffi::SQLITE_INTERRUPT)
}

/// The writer's connection, shared by transactions and single writes: one per store, as
/// SQLite has one writer anyway.
pub struct Writer {
    conn: Arc<tokio::sync::Mutex<Logged>>,
    synchronous_full: bool,
}

/// The writer's connection and the size of its log, which SQLite reports after each commit.
/// SQLite would checkpoint inside the commit that takes the log past 1,000 frames, on the
/// async worker running it, holding up every task queued there for the milliseconds the
/// checkpoint's writes and syncs take; the writer checkpoints at the same point, but off the
/// workers (`checkpoint_if_due`).
struct Logged {
    conn: Connection,
    /// Frames in the log after the last commit. Boxed: SQLite keeps its address. Declared
    /// after `conn`, so the connection closes before the count goes.
    frames: Box<AtomicI32>,
}

impl std::ops::Deref for Logged {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Where SQLite would checkpoint by itself (its `wal_autocheckpoint` default).
const CHECKPOINT_FRAMES: i32 = 1000;

impl Logged {
    #[allow(unsafe_code)] // SQLite's log hook has no safe wrapper in rusqlite 0.32.
    fn new(conn: Connection) -> Logged {
        let frames = Box::new(AtomicI32::new(0));
        unsafe extern "C" fn count(
            frames: *mut std::ffi::c_void,
            _: *mut rusqlite::ffi::sqlite3,
            _: *const std::ffi::c_char,
            n: std::ffi::c_int,
        ) -> std::ffi::c_int {
            // SAFETY: `frames` is the boxed counter of the `Logged` owning the connection,
            // alive until after the connection closes.
            unsafe { (*(frames as *const AtomicI32)).store(n, Ordering::Relaxed) };
            rusqlite::ffi::SQLITE_OK
        }
        // SAFETY: the handle is the open connection's; the hook's argument outlives it (see
        // `frames`). Setting a hook replaces SQLite's automatic checkpoint.
        unsafe {
            rusqlite::ffi::sqlite3_wal_hook(
                conn.handle(),
                Some(count),
                &*frames as *const AtomicI32 as *mut std::ffi::c_void,
            );
        }
        Logged { conn, frames }
    }

    /// Checkpoints once the log is as long as SQLite would let it grow, off the async
    /// workers. PASSIVE: it never waits for readers; what they still read is copied later.
    fn checkpoint_if_due(&self) {
        if self.frames.load(Ordering::Relaxed) < CHECKPOINT_FRAMES {
            return;
        }
        let done = off_the_workers(|| {
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        });
        if let Err(error) = done {
            tracing::warn!(%error, "checkpoint failed; the next commit tries again");
        }
    }
}

impl Writer {
    pub fn new(conn: Connection, synchronous_full: bool) -> Writer {
        Writer {
            conn: Arc::new(tokio::sync::Mutex::new(Logged::new(conn))),
            synchronous_full,
        }
    }

    /// Runs one statement on its own (SQLite commits it at once).
    pub async fn run(&self, statement: Statement<'_>) -> Result<Output, sqlx::Error> {
        let mut conn = self.conn.lock().await;
        let output = patiently(&mut *conn, |conn| run(conn, &statement)).await;
        conn.checkpoint_if_due();
        output
    }

    /// Waits for the connection, then starts a transaction on it.
    pub async fn begin(&self) -> Result<Transaction, sqlx::Error> {
        let mut conn = self.conn.clone().lock_owned().await;
        if !conn.is_autocommit() {
            // Never expected (a transaction rolls back when dropped); never inherit one.
            let _ = conn.execute_batch("ROLLBACK");
        }
        // IMMEDIATE: the write lock is taken here, where waiting for it is safe, never
        // halfway through the transaction.
        patiently(&mut *conn, |conn| {
            conn.execute_batch("BEGIN IMMEDIATE").map_err(error)
        })
        .await?;
        Ok(Transaction {
            conn: Some(conn),
            synchronous_full: self.synchronous_full,
        })
    }
}

/// An open transaction on the writer; rolled back when dropped uncommitted.
pub struct Transaction {
    conn: Option<tokio::sync::OwnedMutexGuard<Logged>>,
    synchronous_full: bool,
}

impl Transaction {
    pub fn run(&mut self, statement: Statement<'_>) -> Result<Output, sqlx::Error> {
        run(self.conn.as_ref().expect("open transaction"), &statement)
    }

    pub fn commit(mut self) -> Result<(), sqlx::Error> {
        let conn = self.conn.take().expect("open transaction");
        let commit = || conn.execute_batch("COMMIT");
        let committed = if self.synchronous_full {
            off_the_workers(commit)
        } else {
            commit()
        };
        if committed.is_err() {
            // A failed COMMIT (busy, I/O) leaves the transaction open.
            let _ = conn.execute_batch("ROLLBACK");
        }
        conn.checkpoint_if_due();
        committed.map_err(error)
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if let Some(conn) = &self.conn {
            // Fails harmlessly when SQLite already rolled back (a disk error does).
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

/// Runs `call`, which takes the write lock; while another process holds it, tries again
/// with a growing pause for up to `LOCK_WAIT`. SQLite's own busy handler would sleep the
/// same way, but on the async worker and beyond the reach of a cancellation (a process
/// stopping gives back the events it could not apply rather than wait out the lock).
/// SQLite changed nothing on a busy answer, so each try starts clean.
async fn patiently<G, T>(
    conn: &mut G,
    call: impl Fn(&Connection) -> Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error>
where
    G: std::ops::Deref<Target = Connection>,
{
    let deadline = tokio::time::Instant::now() + LOCK_WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        let result = call(conn);
        match result {
            Err(e) if is_busy(&e) && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            done => return done,
        }
    }
}

fn is_busy(error: &sqlx::Error) -> bool {
    has_code(error, rusqlite::ffi::SQLITE_BUSY)
}

/// Whether `error` is SQLite's primary result `code` (extended codes keep it in the low byte).
fn has_code(error: &sqlx::Error, code: i32) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| c & 0xff == code),
        _ => false,
    }
}

/// Runs a call that waits for the disk where it holds up no other task: a multi-threaded
/// runtime lends this worker's tasks to another thread meanwhile.
fn off_the_workers<T>(call: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(call),
        _ => call(),
    }
}

/// Runs one statement. Statement texts are prepared once per connection and kept.
pub fn run(conn: &Connection, statement: &Statement<'_>) -> Result<Output, sqlx::Error> {
    let Statement { sql, args, want } = statement;
    let (sql, want) = (*sql, *want);
    if args.is_empty() && want == Want::Affected && is_script(sql) {
        conn.execute_batch(sql).map_err(error)?;
        return Ok(Output::Affected(conn.changes()));
    }
    let mut stmt = conn.prepare_cached(sql).map_err(error)?;
    bind(&mut stmt, args)?;
    let columns: Arc<[String]> = match want {
        Want::Affected => Arc::from([]),
        Want::Rows { .. } => stmt.column_names().into_iter().map(String::from).collect(),
    };
    let readonly = stmt.readonly();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(error)? {
        match want {
            Want::Affected => continue,
            Want::Rows { first_only } => {
                let values = (0..columns.len())
                    .map(|i| owned(row.get_ref(i).map_err(error)?))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push(Row::sqlite(columns.clone(), values));
                if first_only {
                    break;
                }
            }
        }
    }
    drop(rows);
    Ok(match want {
        Want::Affected => Output::Affected(if readonly { 0 } else { conn.changes() }),
        Want::Rows { .. } => Output::Rows(out),
    })
}

/// Whether `sql` holds several statements (a migration, a test's schema): a prepared
/// statement would run only the first. A `;` in a comment or literal only sends a single
/// statement down the script path, which runs it just the same.
fn is_script(sql: &str) -> bool {
    sql.trim_end().trim_end_matches(';').contains(';')
}

/// Binds `$n` to the n-th argument wherever it appears (SQLite numbers parameters by first
/// appearance, so `$2 ... $1` would otherwise swap them); an unbound one is NULL, as in sqlx.
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Value]) -> Result<(), sqlx::Error> {
    for index in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(index) {
            Some(name) => name
                .strip_prefix('$')
                .or_else(|| name.strip_prefix('?'))
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| sqlx::Error::Protocol(format!("parameter {name} is not $n")))?,
            None => index,
        };
        let bound = match args.get(n.wrapping_sub(1)) {
            None | Some(Value::Null(_)) => stmt.raw_bind_parameter(index, rusqlite::types::Null),
            Some(Value::Int(v)) => stmt.raw_bind_parameter(index, v),
            Some(Value::Real(v)) => stmt.raw_bind_parameter(index, v),
            Some(Value::Bool(v)) => stmt.raw_bind_parameter(index, *v as i64),
            Some(Value::Text(v)) => stmt.raw_bind_parameter(index, v.as_str()),
            Some(Value::Blob(v)) => stmt.raw_bind_parameter(index, v.as_slice()),
        };
        bound.map_err(error)?;
    }
    Ok(())
}

/// A column's value, owned. Text that is not UTF-8 (written by something other than the
/// mesh) is an error of this read, not a panic (rusqlite's own conversion panics).
fn owned(value: ValueRef<'_>) -> Result<rusqlite::types::Value, sqlx::Error> {
    use rusqlite::types::Value;
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(
            String::from_utf8(t.to_vec())
                .map_err(|e| sqlx::Error::Decode(format!("a text column: {e}").into()))?,
        ),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    })
}

/// A SQLite failure as sqlx reports one: the extended result code as the error's code, so
/// `is_transient` and the callers' error mapping read both backends alike.
pub fn error(error: rusqlite::Error) -> sqlx::Error {
    let (code, message) = match &error {
        rusqlite::Error::SqliteFailure(failure, message) => (
            Some(failure.extended_code),
            message.clone().unwrap_or_else(|| failure.to_string()),
        ),
        other => (None, other.to_string()),
    };
    sqlx::Error::Database(Box::new(SqliteError { code, message }))
}

#[derive(Debug)]
struct SqliteError {
    code: Option<i32>,
    message: String,
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(code) => write!(f, "(code: {code}) {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SqliteError {}

impl sqlx::error::DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.code.map(|c| c.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use sqlx::error::ErrorKind;
        match self.code {
            Some(2067 | 1555) => ErrorKind::UniqueViolation,
            Some(787) => ErrorKind::ForeignKeyViolation,
            Some(1299) => ErrorKind::NotNullViolation,
            Some(275) => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;
    use crate::storage::sql;
    use crate::testkit::{TestStore, until};

    const TABLE: &str = "CREATE TABLE pairs (a TEXT NOT NULL, b BIGINT, c BLOB);\
                         CREATE INDEX pairs_by_b ON pairs (b);";

    #[tokio::test]
    async fn numbered_parameters_bind_by_number_wherever_they_appear() {
        let t = TestStore::new(&[TABLE]).await;
        sql::query("INSERT INTO pairs (b, a) VALUES ($2, $1)")
            .bind("first")
            .bind(2_i64)
            .execute(t.store.writer())
            .await
            .unwrap();
        let row = sql::query("SELECT a, b, c FROM pairs WHERE b = $1 AND a = $1 || '' OR b = $1")
            .bind(2_i64)
            .fetch_one(t.store.reader())
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>("a"), "first");
        assert_eq!(row.get::<i64, _>(1), 2);
        assert_eq!(row.get::<Option<Vec<u8>>, _>("c"), None);
    }

    #[tokio::test]
    async fn a_wrong_read_is_an_error_not_a_panic() {
        let t = TestStore::new(&[TABLE]).await;
        sql::query("INSERT INTO pairs (a, b) VALUES ($1, $2)")
            .bind("x")
            .bind(None::<i64>)
            .execute(t.store.writer())
            .await
            .unwrap();
        let row = sql::query("SELECT a, b FROM pairs")
            .fetch_one(t.store.reader())
            .await
            .unwrap();
        assert!(matches!(
            row.try_get::<i64, _>("a"),
            Err(sqlx::Error::ColumnDecode { .. })
        ));
        assert!(matches!(
            row.try_get::<i64, _>("b"),
            Err(sqlx::Error::ColumnDecode { .. })
        ));
        assert!(matches!(
            row.try_get::<String, _>("nope"),
            Err(sqlx::Error::ColumnNotFound(_))
        ));
        let named = sql::query("SELECT a FROM pairs WHERE a = :a")
            .bind("x")
            .fetch_all(t.store.reader())
            .await;
        assert!(named.is_err(), "only $n parameters are bound");
        let taken = sql::query("INSERT INTO pairs (a) VALUES (NULL)")
            .execute(t.store.writer())
            .await
            .unwrap_err();
        assert!(!crate::storage::store::is_transient(&taken));
        assert_eq!(
            taken.as_database_error().and_then(|e| e.code()).as_deref(),
            Some("1299"),
            "SQLite's extended code, as sqlx reported it"
        );
    }

    /// Another process holding the write lock (a dead-letter replay, the process a rolling
    /// restart replaces) makes a write wait for it without stopping the async worker: on a
    /// runtime of one worker, a ticker still ticks while the write waits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_write_waits_for_another_process_lock_without_stalling_the_runtime() {
        let t = TestStore::new(&[TABLE]).await;
        let path = t.file();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (held, holding) = tokio::sync::oneshot::channel();
        let holder = std::thread::spawn(move || {
            let other = Connection::open(path).unwrap();
            other.execute_batch("BEGIN IMMEDIATE").unwrap();
            held.send(()).unwrap();
            released.recv().unwrap();
            other.execute_batch("COMMIT").unwrap();
        });
        holding.await.unwrap();
        let ticks = Arc::new(AtomicU64::new(0));
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let store = t.store.clone();
        let write = tokio::spawn(async move {
            store
                .write(|tx| {
                    Box::pin(async move {
                        sql::query("INSERT INTO pairs (a, b) VALUES ('w', 1)")
                            .execute(tx.conn())
                            .await
                    })
                })
                .await
        });
        let from = ticks.load(Ordering::Relaxed);
        until(Duration::from_secs(5), || {
            let moved = ticks.load(Ordering::Relaxed) >= from + 10;
            async move { moved.then_some(()) }
        })
        .await;
        assert!(
            !write.is_finished(),
            "the write waits for the lock, the runtime runs"
        );
        release.send(()).unwrap();
        write
            .await
            .unwrap()
            .expect("the write ran once the lock was free");
        holder.join().unwrap();
        ticker.abort();
        let n: i64 = sql::query_scalar("SELECT COUNT(*) FROM pairs")
            .fetch_one(t.store.reader())
            .await
            .unwrap();
        assert_eq!(n, 1);
    }

    /// The writer replaces SQLite's checkpoint inside the commit with its own, off the
    /// workers: the log's pages still reach the database file once the log is as long as
    /// SQLite would let it grow (without a checkpoint, the file would never grow and the log
    /// would grow for ever).
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn the_log_is_checkpointed_into_the_database_file() {
        let t = TestStore::new(&[TABLE]).await;
        let size = || std::fs::metadata(t.file()).unwrap().len();
        let before = size();
        for i in 0..1_200_i64 {
            sql::query("INSERT INTO pairs (a, b) VALUES ($1, $2)")
                .bind(format!("row {i} {}", "x".repeat(200)))
                .bind(i)
                .execute(t.store.writer())
                .await
                .unwrap();
        }
        assert!(
            size() > before + 100 * 1024,
            "the rows reached the database file: {} -> {} bytes",
            before,
            size()
        );
    }

    /// A read that runs long (here a computed million-row count, as a scan nobody indexed
    /// for would) leaves the async worker after its budget: on a runtime of one worker, a
    /// ticker keeps ticking while it runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_slow_read_does_not_hold_up_the_runtime() {
        let t = TestStore::new(&[TABLE]).await;
        let ticks = Arc::new(AtomicU64::new(0));
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        // Let the ticker start, so the count below measures only the read.
        let first = ticks.load(Ordering::Relaxed);
        until(Duration::from_secs(5), || {
            let moved = ticks.load(Ordering::Relaxed) > first;
            async move { moved.then_some(()) }
        })
        .await;
        let store = t.store.clone();
        let read_ticks = ticks.clone();
        let read = tokio::spawn(async move {
            let before = read_ticks.load(Ordering::Relaxed);
            let n: i64 = sql::query_scalar(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) \
                 SELECT COUNT(*) FROM n",
            )
            .fetch_one(store.reader())
            .await
            .unwrap();
            (n, read_ticks.load(Ordering::Relaxed) - before)
        });
        let (n, ticked) = read.await.unwrap();
        ticker.abort();
        assert_eq!(n, 2_000_000, "the slow read still answers in full");
        assert!(
            ticked >= 5,
            "the runtime ran while the read did ({ticked} ticks)"
        );
    }

    /// Text that is not UTF-8, written by another program, fails the read that meets it;
    /// it does not panic the worker.
    #[tokio::test]
    async fn text_that_is_not_utf8_is_an_error_not_a_panic() {
        let t = TestStore::new(&[TABLE]).await;
        Connection::open(t.file())
            .unwrap()
            .execute_batch("INSERT INTO pairs (a, b) VALUES (CAST(x'41ff42' AS TEXT), 1)")
            .unwrap();
        let read = sql::query("SELECT a FROM pairs")
            .fetch_all(t.store.reader())
            .await;
        assert!(
            matches!(read, Err(sqlx::Error::Decode(_))),
            "{:?}",
            read.err()
        );
    }
}
