//! component tests
