//! Who may use what: virtual keys, budgets, rate limits, guardrails, the audit log.
pub mod guardrails;
