//! The shared runtime every mediamesh context stands on, grouped by concern with every
//! dependency pointing one way (each layer uses only the ones listed before it):
//!
//! - ground: `error`, `input` (the rules every edge applies), `named` (states stored and
//!   shown by name);
//! - `observe`: logs, trace context, OpenTelemetry, Prometheus metrics;
//! - `tasks`: owned, supervised background tasks (seen in health and metrics);
//! - `storage`: a database per context (SQLite or PostgreSQL), group commit, paging; it knows
//!   nothing of events;
//! - `events`: events on the wire, the transactional outbox and its relay, durable consumers
//!   with exactly-once effects, typed policies, tallies, dead letters;
//! - `calls`: resilient sync calls between contexts (deadlines, breaker, retries) and the
//!   synchronous saga;
//! - `context`: what a bounded context registers and is given;
//! - `serving`: the one gRPC server and the runtime that assembles contexts into a process.

pub mod error;
pub mod input;
pub mod named;

pub mod observe;
pub mod tasks;

pub mod storage;

pub mod events;

pub mod calls;

pub mod context;

pub mod serving;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use calls::resilience::{CallError, CallPolicy, Peer, Retry};
pub use context::{Context, ContextEnv, ContextInfo};
pub use events::consumer::{Handler, HandlerError, Subscription};
pub use events::event::{Delivered, Event};
pub use events::outbox::Raise;
pub use storage::sql;
pub use storage::store::{Conn, Migration, Store, Tx};
