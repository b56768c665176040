//! Storage: one database per context. SQLite file by default (`<data-dir>/<app>.<context>.db`,
//! WAL, statements run on the calling thread: `sqlite`), PostgreSQL through sqlx when given a
//! `postgres://` URL (a schema per context). The mesh's own tables (outbox, inbox, dead letters) live beside the
//! context's, so a state change and the events it raises commit in one transaction.
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor as _, Transaction};
use tokio::sync::Notify;

use crate::storage::sql::{self, Executor, Output, Statement};
use crate::storage::sqlite;

/// Which database a context uses; both are first-class and tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where contexts keep their data.
#[derive(Debug, Clone)]
pub enum Database {
    /// One SQLite file per context in this folder.
    SqliteDir {
        dir: std::path::PathBuf,
        synchronous_full: bool,
    },
    /// One PostgreSQL schema per context in this database, through a pool of `pool_size`
    /// connections per context (budget `max_connections` for contexts x replicas x this).
    Postgres { url: String, pool_size: u32 },
}

/// Connections per context and process on PostgreSQL unless configured.
pub const DEFAULT_POOL_SIZE: u32 = 8;

/// A context's schema change, written once for both backends: `BLOB` becomes `BYTEA` and
/// `SERIAL_PK` an auto-incrementing key on PostgreSQL. Every statement must be idempotent
/// (`IF NOT EXISTS`, `ON CONFLICT DO NOTHING`) because replicas may start together.
pub type Migration = &'static str;

/// Tables a layer above storage keeps in every context's database (the outbox, inbox and dead
/// letters of `events`): `setup` statements are idempotent and run at every start; `changes`
/// run once each, recorded in `mesh_migrations` under negative versions (the context's own
/// migrations count up from 1). Append only.
pub struct MeshTables {
    pub setup: &'static [Migration],
    pub changes: &'static [Migration],
}

/// Storage's own bookkeeping: which migrations ran.
const MIGRATIONS_TABLE: Migration = "
CREATE TABLE IF NOT EXISTS mesh_migrations (
    version BIGINT PRIMARY KEY
);
";

/// A context's database handle. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    /// Transactions and writes.
    pool: Pool,
    /// Reads outside transactions. On SQLite, separate read-only connections: WAL lets them
    /// read committed state while the one writer works, so reads never queue behind writes.
    reader: Pool,
    backend: Backend,
    /// Wakes the outbox relay when a transaction that raised events commits.
    outbox_signal: Arc<Notify>,
    /// Rows waiting for the relay, which holds writers back when it falls behind.
    backlog: Arc<crate::storage::backlog::Backlog>,
    /// The queue that groups writes into shared transactions (None: the committers' own).
    group: Option<crate::storage::group_commit::GroupCommit>,
}

/// Where statements outside a transaction run: `Store::reader` or `Store::writer`.
#[derive(Clone)]
pub struct Pool(PoolKind);

#[derive(Clone)]
enum PoolKind {
    SqliteWriter(Arc<sqlite::Writer>),
    SqliteReaders(Arc<sqlite::Readers>),
    Postgres(AnyPool),
}

/// The same statements on a plain PostgreSQL pool (operations tools, tests).
impl<'e> Executor<'e> for &'e AnyPool {
    fn run<'q: 'e>(self, statement: Statement<'q>) -> BoxFuture<'e, Result<Output, sqlx::Error>> {
        Box::pin(sql::run_any(self, statement))
    }
}

impl<'e> Executor<'e> for &'e Pool {
    fn run<'q: 'e>(self, statement: Statement<'q>) -> BoxFuture<'e, Result<Output, sqlx::Error>> {
        Box::pin(async move {
            match &self.0 {
                PoolKind::SqliteWriter(writer) => writer.run(statement).await,
                PoolKind::SqliteReaders(readers) => readers.run(statement),
                PoolKind::Postgres(pool) => sql::run_any(pool, statement).await,
            }
        })
    }
}

impl Store {
    /// Opens (creating if needed) the database of `context` (e.g. `vod.purchase`).
    pub async fn open(database: &Database, context: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let (pool, reader, backend) = match database {
            Database::SqliteDir {
                dir,
                synchronous_full,
            } => {
                let (writer, readers) = open_sqlite(dir, context, *synchronous_full)?;
                (
                    Pool(PoolKind::SqliteWriter(Arc::new(writer))),
                    Pool(PoolKind::SqliteReaders(Arc::new(readers))),
                    Backend::Sqlite,
                )
            }
            Database::Postgres { url, pool_size } => {
                let pool = Pool(PoolKind::Postgres(
                    open_postgres(url, context, *pool_size).await?,
                ));
                (pool.clone(), pool, Backend::Postgres)
            }
        };
        let mut store = Store {
            pool,
            reader,
            backend,
            outbox_signal: Arc::new(Notify::new()),
            backlog: Arc::default(),
            group: None,
        };
        store.group = Some(crate::storage::group_commit::GroupCommit::start(
            store.clone(),
        ));
        Ok(store)
    }

    /// Whether this store is on PostgreSQL (row locks, many writers) rather than SQLite.
    pub fn is_postgres(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// For reads outside a transaction.
    pub fn reader(&self) -> &Pool {
        &self.reader
    }

    /// For single-statement writes outside a transaction.
    pub fn writer(&self) -> &Pool {
        &self.pool
    }

    /// Notified after each commit of a transaction that wrote outbox rows.
    pub fn outbox_signal(&self) -> &Arc<Notify> {
        &self.outbox_signal
    }

    /// The outbox rows this process committed and its relay has not settled yet.
    pub fn backlog(&self) -> &crate::storage::backlog::Backlog {
        &self.backlog
    }

    /// Creates the mesh tables, then applies the context's migrations not yet applied.
    pub async fn migrate(&self, mesh: &MeshTables, migrations: &[Migration]) -> anyhow::Result<()> {
        let pool = match &self.pool.0 {
            PoolKind::Postgres(pool) => pool,
            _ => return self.apply_sqlite(mesh, migrations).await,
        };
        let mut conn = pool.acquire().await?;
        // Replicas starting together take turns; the lock ends with the session.
        conn.execute("SELECT pg_advisory_lock(7413)").await?;
        let result = self.apply_postgres(&mut conn, mesh, migrations).await;
        conn.execute("SELECT pg_advisory_unlock(7413)").await?;
        result
    }

    /// Which migrations to run, in order: the mesh's (negative versions), then the context's.
    fn versions<'m>(
        tables: &'m MeshTables,
        migrations: &'m [Migration],
    ) -> impl Iterator<Item = (i64, &'m Migration)> {
        let mesh = tables
            .changes
            .iter()
            .enumerate()
            .map(|(i, m)| (-(i as i64) - 1, m));
        let own = migrations
            .iter()
            .enumerate()
            .map(|(i, m)| (i as i64 + 1, m));
        mesh.chain(own)
    }

    async fn apply_sqlite(
        &self,
        tables: &MeshTables,
        migrations: &[Migration],
    ) -> anyhow::Result<()> {
        sql::query(MIGRATIONS_TABLE).execute(self.writer()).await?;
        for setup in tables.setup {
            sql::query(&self.dialect(setup))
                .execute(self.writer())
                .await?;
        }
        for (version, migration) in Self::versions(tables, migrations) {
            let done: Option<i64> =
                sql::query_scalar("SELECT version FROM mesh_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(self.writer())
                    .await?;
            if done.is_some() {
                continue;
            }
            let mut tx = self.begin().await?;
            sql::query(&self.dialect(migration))
                .execute(tx.conn())
                .await?;
            sql::query("INSERT INTO mesh_migrations (version) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(version)
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
            tracing::debug!(version, "migration applied");
        }
        Ok(())
    }

    async fn apply_postgres(
        &self,
        conn: &mut AnyConnection,
        tables: &MeshTables,
        migrations: &[Migration],
    ) -> anyhow::Result<()> {
        conn.execute(MIGRATIONS_TABLE).await?;
        for setup in tables.setup {
            conn.execute(self.dialect(setup).as_str()).await?;
        }
        for (version, migration) in Self::versions(tables, migrations) {
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM mesh_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *conn)
                    .await?;
            if done.is_some() {
                continue;
            }
            let mut tx = conn.begin().await?;
            tx.execute(self.dialect(migration).as_str()).await?;
            sqlx::query("INSERT INTO mesh_migrations (version) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(version)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::debug!(version, "migration applied");
        }
        Ok(())
    }

    fn dialect(&self, sql: &str) -> String {
        match self.backend {
            Backend::Sqlite => sql.replace("SERIAL_PK", "INTEGER PRIMARY KEY AUTOINCREMENT"),
            Backend::Postgres => sql
                .replace("SERIAL_PK", "BIGSERIAL PRIMARY KEY")
                .replace("BLOB", "BYTEA"),
        }
    }

    /// Runs `write` in a transaction and answers after it committed. Writes that arrive
    /// together share one transaction (group commit); `write` may run again alone if its
    /// group fails, so it must not do anything outside the transaction.
    pub async fn write<T, F>(&self, mut write: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'t> FnMut(&'t mut Tx) -> futures::future::BoxFuture<'t, Result<T, sqlx::Error>>
            + Send
            + 'static,
    {
        match &self.group {
            Some(group) => group.write(write).await,
            None => {
                let mut tx = self.begin().await?;
                let value = write(&mut tx).await?;
                tx.commit().await?;
                Ok(value)
            }
        }
    }

    /// Starts a transaction; events raised in it reach the outbox only if it commits.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let conn = match &self.pool.0 {
            PoolKind::SqliteWriter(writer) => Conn(ConnKind::Sqlite(writer.begin().await?)),
            PoolKind::Postgres(pool) => Conn(ConnKind::Postgres(pool.begin().await?)),
            PoolKind::SqliteReaders(_) => unreachable!("the writer pool is never the readers"),
        };
        Ok(Tx {
            conn,
            staged: Vec::new(),
            signal: self.outbox_signal.clone(),
            backlog: self.backlog.clone(),
        })
    }
}

/// A unit of work: state changes plus the events they raise, committed together.
pub struct Tx {
    conn: Conn,
    /// Outbox rows raised so far: written together just before COMMIT, in the same
    /// transaction, so a group of writes pays a few statements for all its events instead
    /// of one round trip each.
    staged: Vec<OutboxRow>,
    signal: Arc<Notify>,
    backlog: Arc<crate::storage::backlog::Backlog>,
}

/// A transaction's connection, where its statements run (`Tx::conn`).
pub struct Conn(ConnKind);

enum ConnKind {
    Sqlite(sqlite::Transaction),
    Postgres(Transaction<'static, Any>),
}

impl<'e> Executor<'e> for &'e mut Conn {
    fn run<'q: 'e>(self, statement: Statement<'q>) -> BoxFuture<'e, Result<Output, sqlx::Error>> {
        match &mut self.0 {
            ConnKind::Sqlite(tx) => Box::pin(std::future::ready(tx.run(statement))),
            ConnKind::Postgres(tx) => Box::pin(sql::run_any(&mut **tx, statement)),
        }
    }
}

/// A row of the events layer's outbox, staged in a transaction until it commits.
pub struct OutboxRow {
    pub event_id: String,
    pub subject: String,
    pub headers: String,
    pub payload: Vec<u8>,
    pub created_at: i64,
}

impl Tx {
    /// The connection, for the context's own statements.
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// Stages an outbox row: it is written in this transaction just before it commits, and
    /// whoever waits on the store's outbox signal is woken once it has.
    pub fn stage_outbox(&mut self, row: OutboxRow) {
        self.staged.push(row);
    }

    /// Writes the staged outbox rows, then commits; a failure of either rolls back all.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let staged = std::mem::take(&mut self.staged);
        let (raised, rows) = (!staged.is_empty(), staged.len());
        crate::events::outbox::write_rows(&mut self.conn, staged).await?;
        match self.conn.0 {
            ConnKind::Sqlite(tx) => tx.commit()?,
            ConnKind::Postgres(tx) => tx.commit().await?,
        }
        if raised {
            self.backlog.raised(rows);
            self.signal.notify_one();
        }
        Ok(())
    }
}

fn open_sqlite(
    dir: &Path,
    context: &str,
    synchronous_full: bool,
) -> anyhow::Result<(sqlite::Writer, sqlite::Readers)> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{context}.db"));
    // The writer first: it creates the file and puts it in WAL mode for the readers.
    let writer = sqlite::Writer::new(
        sqlite::open(&path, true, synchronous_full)?,
        synchronous_full,
    );
    let readers = (0..READERS)
        .map(|_| sqlite::open(&path, false, synchronous_full))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((writer, sqlite::Readers::new(readers)))
}

/// Read-only connections per SQLite store: a read holds one only while it runs, so one per
/// thread that may run a read at the same moment is plenty.
const READERS: usize = 4;

async fn open_postgres(url: &str, context: &str, pool_size: u32) -> anyhow::Result<AnyPool> {
    let schema = context.replace(['.', '-'], "_");
    let mut admin = AnyConnection::connect(url).await?;
    // Two replicas may race to create the schema; the loser's error is harmless.
    if let Err(error) = admin
        .execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
        .await
    {
        tracing::debug!(%error, schema, "create schema raced");
    }
    admin.close().await?;
    let options: AnyConnectOptions = url.parse()?;
    let pool = AnyPoolOptions::new()
        .max_connections(pool_size.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _| {
            let schema = schema.clone();
            Box::pin(async move {
                conn.execute(format!("SET search_path TO {schema}").as_str())
                    .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Storage errors that clear by themselves: connection and pool trouble, SQLite busy or
/// locked, PostgreSQL serialization failures, deadlocks, lock timeouts and restarts.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite: 5 BUSY, 6 LOCKED (extended codes keep the low byte).
            let sqlite = code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6));
            let postgres = matches!(
                code.as_ref(),
                "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03" | "53300" | "08006"
            ) || code.starts_with("08");
            sqlite || postgres
        }
        _ => false,
    }
}
