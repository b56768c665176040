//! Synchronous calls between contexts: the caller's deadline (`deadline`), the resilient
//! client stack (`resilience`), and the synchronous saga with its recovery sweep (`saga`).
pub mod deadline;
pub mod resilience;
pub mod saga;
