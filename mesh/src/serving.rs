//! The process: one gRPC server with the same layers for every service (`server`, `shed`,
//! `sanitize`, `auth`), health that tells the truth (`readiness`), the runtime that assembles
//! contexts (`runtime`), read-model rebuilds (`views`), and the admin port (`admin`: `/metrics`
//! and the live `console`).
pub mod admin;
pub mod auth;
pub mod call_context;
pub mod console;
pub mod readiness;
pub mod runtime;
pub mod sanitize;
pub mod server;
pub mod shed;
pub mod views;
