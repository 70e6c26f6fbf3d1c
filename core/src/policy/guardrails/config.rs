//! The `guardrails:` section: size limits, blocked patterns and PII detection.
//!
//! ```yaml
//! guardrails:
//!   max_prompt_chars: 20000        # input: characters of all message text; always blocks
//!   max_prompt_tokens: 8000        # input: estimated tokens (the routing estimate); always blocks
//!   blocked_patterns:              # regexes (Rust `regex` syntax, linear time)
//!     - { name: internal_codename, pattern: "(?i)project\\s+falcon", mode: block, on: [input, output] }
//!   pii:
//!     mode: redact                 # block | redact | flag: the default for every kind
//!     on: [input]                  # input, output (default: input)
//!     kinds: [email, phone, card, iban, api_key]   # default: all
//!     overrides: { email: flag }   # a mode per kind
//! ```
//!
//! Unknown fields and unknown names are rejected by serde with the allowed values; what serde
//! cannot check (regex syntax, empty lists, duplicate names) [`GuardrailsConfig::validate`]
//! checks, naming the field from `guardrails.` on.

use crate::api::Error;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeMap, HashSet};

/// What a guardrail does with a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Refuse the request (input) or the answer (output) with `policy_denied`.
    Block,
    /// Replace the match with `[REDACTED:<KIND>]` and go on.
    Redact,
    /// Leave the text alone and report a finding.
    Flag,
}

impl Action {
    /// The config and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Block => "block",
            Action::Redact => "redact",
            Action::Flag => "flag",
        }
    }
}

/// Which side of a call a guardrail looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The request's messages, before any provider sees them.
    Input,
    /// The model's answer, before the caller sees it.
    Output,
}

impl Stage {
    /// The config and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Input => "input",
            Stage::Output => "output",
        }
    }
}

/// A kind of personal or secret data the built-in detectors find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// `local@domain.tld`.
    Email,
    /// E.164 (`+` and 8-15 digits) or North-American style `(555) 123-4567` / `555-123-4567`.
    Phone,
    /// A payment card number: 13-19 digits, a known network prefix, Luhn-valid.
    Card,
    /// An IBAN: country length and the mod-97 check.
    Iban,
    /// Provider keys (`sk-`, `sk-ant-`, `AKIA`, `AIza`, `ghp_`, `xoxb-`, ...) and long random tokens.
    ApiKey,
}

impl PiiKind {
    /// Every kind, in detection order (the default of `pii.kinds`).
    pub const ALL: [PiiKind; 5] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::Card,
        PiiKind::Iban,
        PiiKind::ApiKey,
    ];

    /// The config name (`api_key`).
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Card => "card",
            PiiKind::Iban => "iban",
            PiiKind::ApiKey => "api_key",
        }
    }

    /// The finding's rule name and the error's `code` (`pii_email`).
    pub fn rule(self) -> &'static str {
        match self {
            PiiKind::Email => "pii_email",
            PiiKind::Phone => "pii_phone",
            PiiKind::Card => "pii_card",
            PiiKind::Iban => "pii_iban",
            PiiKind::ApiKey => "pii_api_key",
        }
    }

    /// What a redaction writes in place of the match.
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::Email => "[REDACTED:EMAIL]",
            PiiKind::Phone => "[REDACTED:PHONE]",
            PiiKind::Card => "[REDACTED:CARD]",
            PiiKind::Iban => "[REDACTED:IBAN]",
            PiiKind::ApiKey => "[REDACTED:API_KEY]",
        }
    }

    /// How an error message names the kind.
    pub fn describe(self) -> &'static str {
        match self {
            PiiKind::Email => "an email address",
            PiiKind::Phone => "a phone number",
            PiiKind::Card => "a payment card number",
            PiiKind::Iban => "an IBAN",
            PiiKind::ApiKey => "an API key or secret token",
        }
    }
}

/// The `guardrails:` section; the default turns everything off.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardrailsConfig {
    /// Blocks a request whose message text is longer than this many characters (Unicode scalar values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_prompt_chars: Option<u64>,
    /// Blocks a request estimated above this many prompt tokens (the estimate routing uses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_prompt_tokens: Option<u64>,
    /// Named regexes that block, redact or flag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_patterns: Vec<PatternRule>,
    /// Built-in PII detection; absent means off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pii: Option<PiiConfig>,
}

/// One blocked pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternRule {
    /// Names the rule in findings and errors (`pattern:<name>`) and in `[REDACTED:<name>]`.
    pub name: String,
    /// A regex in Rust `regex` syntax (no look-around or back-references: matching stays linear).
    pub pattern: String,
    /// What a match does (default `block`).
    #[serde(default = "default_pattern_mode")]
    pub mode: Action,
    /// Where the rule looks (default both: a blocked term should neither leave nor come back).
    #[serde(default = "both_stages")]
    pub on: Vec<Stage>,
}

/// Built-in PII detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiiConfig {
    /// The mode of every kind without an override (default `redact`).
    #[serde(default = "default_pii_mode")]
    pub mode: Action,
    /// Where detection runs (default input only: the prompt is what leaves the process).
    #[serde(default = "input_only")]
    pub on: Vec<Stage>,
    /// The kinds detected (default all).
    #[serde(default = "all_kinds")]
    pub kinds: Vec<PiiKind>,
    /// A mode per kind, overriding `mode`.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "kind_map"
    )]
    pub overrides: BTreeMap<PiiKind, Action>,
}

impl Default for PiiConfig {
    fn default() -> Self {
        PiiConfig {
            mode: default_pii_mode(),
            on: input_only(),
            kinds: all_kinds(),
            overrides: BTreeMap::new(),
        }
    }
}

impl PiiConfig {
    /// The mode of one kind: its override, else `mode`.
    pub fn mode_of(&self, kind: PiiKind) -> Action {
        self.overrides.get(&kind).copied().unwrap_or(self.mode)
    }
}

/// `overrides` read with string keys first, so a bad mode's error path names the kind
/// (`guardrails.pii.overrides.email`) rather than `?`; an unknown kind lists the allowed ones.
fn kind_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<PiiKind, Action>, D::Error> {
    const NAMES: &[&str] = &["email", "phone", "card", "iban", "api_key"];
    BTreeMap::<String, Action>::deserialize(d)?
        .into_iter()
        .map(|(name, action)| {
            PiiKind::ALL
                .into_iter()
                .find(|k| k.as_str() == name)
                .map(|k| (k, action))
                .ok_or_else(|| D::Error::unknown_variant(&name, NAMES))
        })
        .collect()
}

fn default_pattern_mode() -> Action {
    Action::Block
}

fn default_pii_mode() -> Action {
    Action::Redact
}

fn both_stages() -> Vec<Stage> {
    vec![Stage::Input, Stage::Output]
}

fn input_only() -> Vec<Stage> {
    vec![Stage::Input]
}

fn all_kinds() -> Vec<PiiKind> {
    PiiKind::ALL.to_vec()
}

impl GuardrailsConfig {
    /// Checks what serde cannot; the error's `param` is the field path from `guardrails.` on.
    /// (Regex syntax is checked where the regexes are compiled, in `Guardrails::new`.)
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_prompt_chars == Some(0) {
            return Err(Error::config(
                "guardrails.max_prompt_chars",
                "guardrails.max_prompt_chars must be at least 1 (remove it for no limit)",
            ));
        }
        if self.max_prompt_tokens == Some(0) {
            return Err(Error::config(
                "guardrails.max_prompt_tokens",
                "guardrails.max_prompt_tokens must be at least 1 (remove it for no limit)",
            ));
        }
        let mut names = HashSet::new();
        for (i, rule) in self.blocked_patterns.iter().enumerate() {
            let at = format!("guardrails.blocked_patterns[{i}]");
            if !valid_name(&rule.name) {
                return Err(Error::config(
                    format!("{at}.name"),
                    format!(
                        "{at}.name `{}` must be 1-64 characters of letters, digits, `_`, `-` or `.`",
                        rule.name
                    ),
                ));
            }
            if !names.insert(rule.name.as_str()) {
                return Err(Error::config(
                    format!("{at}.name"),
                    format!(
                        "{at}.name `{}` is used by an earlier rule; names must be unique",
                        rule.name
                    ),
                ));
            }
            if rule.pattern.is_empty() {
                return Err(Error::config(
                    format!("{at}.pattern"),
                    format!("{at}.pattern is empty; give a regex"),
                ));
            }
            check_stages(&rule.on, &format!("{at}.on"))?;
        }
        if let Some(pii) = &self.pii {
            check_stages(&pii.on, "guardrails.pii.on")?;
            if pii.kinds.is_empty() {
                return Err(Error::config(
                    "guardrails.pii.kinds",
                    "guardrails.pii.kinds is empty; list some of `email`, `phone`, `card`, `iban`, `api_key` (or remove `pii`)",
                ));
            }
            for kind in pii.overrides.keys() {
                if !pii.kinds.contains(kind) {
                    let name = kind.as_str();
                    return Err(Error::config(
                        format!("guardrails.pii.overrides.{name}"),
                        format!("guardrails.pii.overrides.{name}: `{name}` is not in guardrails.pii.kinds, so the override would never apply"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A rule name that fits in `[REDACTED:<name>]` and an error `code` without quoting.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn check_stages(on: &[Stage], field: &str) -> Result<(), Error> {
    if on.is_empty() {
        return Err(Error::config(
            field,
            format!("{field} is empty; list `input`, `output` or both"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<GuardrailsConfig, String> {
        // Through a JSON value, as a binding's config object arrives (no line numbers).
        let value: serde_json::Value = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
        serde_path_to_error::deserialize(value).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    #[test]
    fn defaults_are_off_then_input_redact_all_kinds() {
        let cfg = parse("{}").expect("empty");
        assert_eq!(cfg, GuardrailsConfig::default());
        let cfg = parse("pii: {}").expect("pii");
        let pii = cfg.pii.expect("set");
        assert_eq!(pii.mode, Action::Redact);
        assert_eq!(pii.on, vec![Stage::Input]);
        assert_eq!(pii.kinds, PiiKind::ALL.to_vec());
        let cfg = parse("blocked_patterns: [{name: a, pattern: x}]").expect("rule");
        assert_eq!(cfg.blocked_patterns[0].mode, Action::Block);
        assert_eq!(
            cfg.blocked_patterns[0].on,
            vec![Stage::Input, Stage::Output]
        );
    }

    #[test]
    fn overrides_win_over_the_default_mode() {
        let cfg = parse("pii: {mode: block, overrides: {email: flag}}").expect("pii");
        let pii = cfg.pii.expect("set");
        assert_eq!(pii.mode_of(PiiKind::Email), Action::Flag);
        assert_eq!(pii.mode_of(PiiKind::Card), Action::Block);
    }

    #[test]
    fn serde_names_the_field_and_the_allowed_values() {
        let err = parse("pii: {mode: mask}").expect_err("bad mode");
        assert_eq!(
            err,
            "pii.mode: unknown variant `mask`, expected one of `block`, `redact`, `flag`"
        );
        let err = parse("pii: {kinds: [email, ssn]}").expect_err("bad kind");
        assert_eq!(
            err,
            "pii.kinds[1]: unknown variant `ssn`, expected one of `email`, `phone`, `card`, `iban`, `api_key`"
        );
        let err = parse("pii: {overrides: {ssn: block}}").expect_err("bad kind");
        assert_eq!(
            err,
            "pii.overrides: unknown variant `ssn`, expected one of `email`, `phone`, `card`, `iban`, `api_key`"
        );
        let err = parse("pii: {overrides: {card: mask}}").expect_err("bad mode");
        assert_eq!(
            err,
            "pii.overrides.card: unknown variant `mask`, expected one of `block`, `redact`, `flag`"
        );
        let err = parse("max_prompt_char: 5").expect_err("typo");
        assert!(
            err.starts_with("max_prompt_char: unknown field `max_prompt_char`, expected one of"),
            "{err}"
        );
    }

    #[test]
    fn validate_names_the_field() {
        let cases = [
            (
                "max_prompt_chars: 0",
                "guardrails.max_prompt_chars",
                "guardrails.max_prompt_chars must be at least 1 (remove it for no limit)",
            ),
            (
                "blocked_patterns: [{name: a, pattern: x}, {name: a, pattern: y}]",
                "guardrails.blocked_patterns[1].name",
                "guardrails.blocked_patterns[1].name `a` is used by an earlier rule; names must be unique",
            ),
            (
                "blocked_patterns: [{name: 'has space', pattern: x}]",
                "guardrails.blocked_patterns[0].name",
                "guardrails.blocked_patterns[0].name `has space` must be 1-64 characters of letters, digits, `_`, `-` or `.`",
            ),
            (
                "blocked_patterns: [{name: a, pattern: x, on: []}]",
                "guardrails.blocked_patterns[0].on",
                "guardrails.blocked_patterns[0].on is empty; list `input`, `output` or both",
            ),
            (
                "pii: {kinds: [card], overrides: {email: flag}}",
                "guardrails.pii.overrides.email",
                "guardrails.pii.overrides.email: `email` is not in guardrails.pii.kinds, so the override would never apply",
            ),
        ];
        for (yaml, param, message) in cases {
            let err = parse(yaml).expect(yaml).validate().expect_err(yaml);
            assert_eq!(err.kind, crate::api::ErrorKind::Config, "{yaml}");
            assert_eq!(err.param.as_deref(), Some(param), "{yaml}");
            assert_eq!(err.message, message, "{yaml}");
        }
    }
}
