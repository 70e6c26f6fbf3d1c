//! The node binding; its own issue fills it in. Until then it re-exports the core so the
//! workspace builds every member.

pub use switchpoint_core as core;
