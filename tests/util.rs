//! Helpers for the end-to-end tests: find and run the built `prober` binary.
