//! Statements for both backends, written once: `query(sql).bind(..).fetch_one(tx.conn())`,
//! the shape of `sqlx::query`, so a context's store code reads as it would with sqlx.
//!
//! Why not sqlx for both: sqlx's SQLite driver hands every statement to a worker thread and
//! every row back, two context switches per statement; in the purchase profile that was a
//! third of the mesh's CPU. Here a SQLite statement runs on the calling thread (`sqlite`),
//! where it takes microseconds; PostgreSQL statements still go through sqlx.
use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::Any;
use sqlx::any::AnyRow;

/// A bound value. A NULL keeps its type: PostgreSQL types each parameter.
#[derive(Debug, Clone)]
pub enum Value {
    Null(Kind),
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Blob(Vec<u8>),
}

/// The type of a value, for typed NULLs.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Int,
    Real,
    Bool,
    Text,
    Blob,
}

/// What can be bound to a statement.
pub trait Encode {
    const KIND: Kind;
    fn encode(self) -> Value;
}

macro_rules! encode {
    ($($t:ty => $kind:ident, $v:ident => $value:expr;)*) => {$(
        impl Encode for $t {
            const KIND: Kind = Kind::$kind;
            fn encode(self) -> Value {
                let $v = self;
                $value
            }
        }
    )*};
}

encode! {
    i64 => Int, v => Value::Int(v);
    i32 => Int, v => Value::Int(v.into());
    u32 => Int, v => Value::Int(v.into());
    f64 => Real, v => Value::Real(v);
    bool => Bool, v => Value::Bool(v);
    String => Text, v => Value::Text(v);
    &str => Text, v => Value::Text(v.to_owned());
    &String => Text, v => Value::Text(v.clone());
    Vec<u8> => Blob, v => Value::Blob(v);
    &[u8] => Blob, v => Value::Blob(v.to_vec());
    &Vec<u8> => Blob, v => Value::Blob(v.clone());
}

impl<T: Encode> Encode for Option<T> {
    const KIND: Kind = T::KIND;
    fn encode(self) -> Value {
        match self {
            Some(v) => v.encode(),
            None => Value::Null(T::KIND),
        }
    }
}

/// A result row.
pub struct Row(Repr);

enum Repr {
    Sqlite {
        columns: Arc<[String]>,
        values: Vec<rusqlite::types::Value>,
    },
    Any(AnyRow),
}

impl Row {
    pub(crate) fn sqlite(columns: Arc<[String]>, values: Vec<rusqlite::types::Value>) -> Row {
        Row(Repr::Sqlite { columns, values })
    }

    pub(crate) fn any(row: AnyRow) -> Row {
        Row(Repr::Any(row))
    }

    /// The value of a column, by name or position.
    pub fn try_get<T: Decode, I: ColumnIndex>(&self, index: I) -> Result<T, sqlx::Error> {
        match &self.0 {
            Repr::Any(row) => sqlx::Row::try_get(row, index),
            Repr::Sqlite { columns, values } => {
                let at = index
                    .position(columns)
                    .ok_or_else(|| sqlx::Error::ColumnNotFound(format!("{index:?}")))?;
                let value = values
                    .get(at)
                    .ok_or_else(|| sqlx::Error::ColumnNotFound(format!("{index:?}")))?;
                T::from_sqlite(value).map_err(|source| sqlx::Error::ColumnDecode {
                    index: format!("{index:?}"),
                    source: source.into(),
                })
            }
        }
    }

    /// As `try_get`, for a column the statement surely has; panics otherwise, as sqlx's does.
    pub fn get<T: Decode, I: ColumnIndex>(&self, index: I) -> T {
        self.try_get(index).expect("column")
    }
}

/// A column by name (`&str`) or position (`usize`).
pub trait ColumnIndex: sqlx::ColumnIndex<AnyRow> + std::fmt::Debug + Copy {
    fn position(self, columns: &[String]) -> Option<usize>;
}

impl ColumnIndex for &str {
    fn position(self, columns: &[String]) -> Option<usize> {
        columns.iter().position(|c| c == self)
    }
}

impl ColumnIndex for usize {
    fn position(self, columns: &[String]) -> Option<usize> {
        (self < columns.len()).then_some(self)
    }
}

/// What a column can be read as.
pub trait Decode: Sized + for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> {
    fn from_sqlite(value: &rusqlite::types::Value) -> Result<Self, String>;
}

use rusqlite::types::Value as V;

fn mismatch<T>(value: &V) -> Result<T, String> {
    Err(format!(
        "cannot read a {:?} as {}",
        value.data_type(),
        std::any::type_name::<T>()
    ))
}

impl Decode for i64 {
    fn from_sqlite(value: &V) -> Result<Self, String> {
        match value {
            V::Integer(i) => Ok(*i),
            other => mismatch(other),
        }
    }
}

impl Decode for i32 {
    fn from_sqlite(value: &V) -> Result<Self, String> {
        match value {
            V::Integer(i) => i32::try_from(*i).map_err(|e| e.to_string()),
            other => mismatch(other),
        }
    }
}

impl Decode for bool {
    fn from_sqlite(value: &V) -> Result<Self, String> {
        match value {
            V::Integer(i) => Ok(*i != 0),
            other => mismatch(other),
        }
    }
}

impl Decode for f64 {
    fn from_sqlite(value: &V) -> Result<Self, String> {
        match value {
            V::Real(f) => Ok(*f),
            V::Integer(i) => Ok(*i as f64),
            other => mismatch(other),
        }
    }
}

impl Decode for String {
    fn from_sqlite(value: &V) -> Result<Self, String> {
        match value {
            V::Text(s) => Ok(s.clone()),
            other => mismatch(other),
        }
    }
}

impl Decode for Vec<u8> {
    fn from_sqlite(value: &V) -> Result<Self, String> {
        match value {
            V::Blob(b) => Ok(b.clone()),
            V::Text(s) => Ok(s.clone().into_bytes()),
            other => mismatch(other),
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn from_sqlite(value: &V) -> Result<Self, String> {
        match value {
            V::Null => Ok(None),
            other => T::from_sqlite(other).map(Some),
        }
    }
}

/// What a statement is run for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// The number of rows it changed.
    Affected,
    /// Its rows: all of them, or only the first.
    Rows { first_only: bool },
}

/// What a statement gave.
pub enum Output {
    Affected(u64),
    Rows(Vec<Row>),
}

/// A statement ready to run: its text, its arguments in `$n` order, what is wanted.
pub struct Statement<'q> {
    pub sql: &'q str,
    pub args: Vec<Value>,
    pub want: Want,
}

/// Where a statement runs: a transaction's connection (`Tx::conn`) or a store's pool
/// (`Store::reader`, `Store::writer`).
pub trait Executor<'e>: Send {
    fn run<'q: 'e>(self, statement: Statement<'q>) -> BoxFuture<'e, Result<Output, sqlx::Error>>;
}

/// The result of a statement run for its effect.
#[derive(Debug, Clone, Copy)]
pub struct Done(u64);

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.0
    }
}

/// A statement with `$1`, `$2`... placeholders, as `sqlx::query`.
pub fn query(sql: &str) -> Query<'_> {
    Query {
        sql,
        args: Vec::new(),
    }
}

/// A statement whose rows are read for their first column, as `sqlx::query_scalar`.
pub fn query_scalar<T: Decode>(sql: &str) -> QueryScalar<'_, T> {
    QueryScalar {
        query: query(sql),
        _t: std::marker::PhantomData,
    }
}

pub struct Query<'q> {
    sql: &'q str,
    args: Vec<Value>,
}

impl<'q> Query<'q> {
    /// Binds the next `$n`.
    pub fn bind<T: Encode>(mut self, value: T) -> Self {
        self.args.push(value.encode());
        self
    }

    fn statement(self, want: Want) -> Statement<'q> {
        Statement {
            sql: self.sql,
            args: self.args,
            want,
        }
    }

    pub async fn execute<'e, E: Executor<'e>>(self, on: E) -> Result<Done, sqlx::Error>
    where
        'q: 'e,
    {
        match on.run(self.statement(Want::Affected)).await? {
            Output::Affected(n) => Ok(Done(n)),
            Output::Rows(_) => Ok(Done(0)),
        }
    }

    pub async fn fetch_all<'e, E: Executor<'e>>(self, on: E) -> Result<Vec<Row>, sqlx::Error>
    where
        'q: 'e,
    {
        match on
            .run(self.statement(Want::Rows { first_only: false }))
            .await?
        {
            Output::Rows(rows) => Ok(rows),
            Output::Affected(_) => Ok(Vec::new()),
        }
    }

    pub async fn fetch_optional<'e, E: Executor<'e>>(
        self,
        on: E,
    ) -> Result<Option<Row>, sqlx::Error>
    where
        'q: 'e,
    {
        match on
            .run(self.statement(Want::Rows { first_only: true }))
            .await?
        {
            Output::Rows(rows) => Ok(rows.into_iter().next()),
            Output::Affected(_) => Ok(None),
        }
    }

    pub async fn fetch_one<'e, E: Executor<'e>>(self, on: E) -> Result<Row, sqlx::Error>
    where
        'q: 'e,
    {
        self.fetch_optional(on)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}

pub struct QueryScalar<'q, T> {
    query: Query<'q>,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<'q, T: Decode> QueryScalar<'q, T> {
    pub fn bind<A: Encode>(mut self, value: A) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub async fn fetch_all<'e, E: Executor<'e>>(self, on: E) -> Result<Vec<T>, sqlx::Error>
    where
        'q: 'e,
    {
        let rows = self.query.fetch_all(on).await?;
        rows.iter().map(|row| row.try_get(0)).collect()
    }

    pub async fn fetch_optional<'e, E: Executor<'e>>(self, on: E) -> Result<Option<T>, sqlx::Error>
    where
        'q: 'e,
    {
        let row = self.query.fetch_optional(on).await?;
        row.map(|row| row.try_get(0)).transpose()
    }

    pub async fn fetch_one<'e, E: Executor<'e>>(self, on: E) -> Result<T, sqlx::Error>
    where
        'q: 'e,
    {
        self.query.fetch_one(on).await?.try_get(0)
    }
}

/// Runs a statement through sqlx (PostgreSQL) on a pool or connection.
pub(crate) async fn run_any<'c, E>(on: E, statement: Statement<'_>) -> Result<Output, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let mut query = sqlx::query(statement.sql);
    for value in statement.args {
        query = match value {
            Value::Null(Kind::Int) => query.bind(None::<i64>),
            Value::Null(Kind::Real) => query.bind(None::<f64>),
            Value::Null(Kind::Bool) => query.bind(None::<bool>),
            Value::Null(Kind::Text) => query.bind(None::<String>),
            Value::Null(Kind::Blob) => query.bind(None::<Vec<u8>>),
            Value::Int(v) => query.bind(v),
            Value::Real(v) => query.bind(v),
            Value::Bool(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
            Value::Blob(v) => query.bind(v),
        };
    }
    Ok(match statement.want {
        Want::Affected => Output::Affected(query.execute(on).await?.rows_affected()),
        Want::Rows { first_only: true } => Output::Rows(
            query
                .fetch_optional(on)
                .await?
                .map(Row::any)
                .into_iter()
                .collect(),
        ),
        Want::Rows { first_only: false } => Output::Rows(
            query
                .fetch_all(on)
                .await?
                .into_iter()
                .map(Row::any)
                .collect(),
        ),
    })
}
