//! determinism tests.
