//! Synchronous calls between contexts: the caller's deadline (`deadline`), the resilient
//! client stack (`resilience`), and settling work a crash left half done (`recovery`).
pub mod deadline;
pub mod recovery;
pub mod resilience;
