//! The shared runtime every mediamesh context stands on: storage with a transactional
//! outbox, JetStream events with exactly-once effects, resilient gRPC calls, and one uniform
//! gRPC server (health, reflection, load shedding, graceful shutdown).

pub mod consumer;
pub mod context;
pub mod deadletters;
pub mod deadline;
pub mod error;
pub mod event;
pub mod group_commit;
pub mod input;
pub mod metrics;
pub mod nats;
pub mod otel;
pub mod outbox;
pub mod page;
pub mod readiness;
pub mod recovery;
pub mod resilience;
pub mod runtime;
pub mod sanitize;
pub mod server;
pub mod shed;
pub mod store;
pub mod supervise;
pub mod tally;
pub mod telemetry;
pub mod views;

pub use consumer::{Handler, HandlerError, Subscription};
pub use context::{Context, ContextEnv, ContextInfo, Started};
pub use event::{Delivered, Event};
pub use resilience::{CallPolicy, Peer};
pub use store::{Migration, Store, Tx};
