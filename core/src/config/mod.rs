//! The gateway configuration: schema, validation, secret references.

mod secret;

pub use secret::Secret;
