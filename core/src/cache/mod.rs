//! Response cache.
