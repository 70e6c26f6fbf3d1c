//! Placeholder; the mock provider is written in its own change.
