//! Parsing config text into [`ConfigFile`] with errors that name the field, the line and
//! what is allowed.

use super::schema::ConfigFile;
use crate::api::Error;

/// Where a config came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(String),
    Text,
    Value,
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::File(p) => format!("config file {p}"),
            Source::Text => "config text".to_string(),
            Source::Value => "config object".to_string(),
        }
    }
}

/// Parses YAML or JSON text (JSON when it starts with `{`).
pub fn parse_text(text: &str, source: &Source) -> Result<ConfigFile, Error> {
    if text.trim_start().starts_with('{') {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let (line, col) = (e.inner().line(), e.inner().column());
            describe(
                source,
                e.path().to_string(),
                &e.inner().to_string(),
                Some((line, col)),
            )
        })
    } else {
        let de = serde_yaml_ng::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let loc = e.inner().location().map(|l| (l.line(), l.column()));
            describe(source, e.path().to_string(), &e.inner().to_string(), loc)
        })
    }
}

/// Deserializes an already-parsed JSON value (a Python dict, a JS object).
pub fn parse_value(value: serde_json::Value) -> Result<ConfigFile, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        describe(
            &Source::Value,
            e.path().to_string(),
            &e.inner().to_string(),
            None,
        )
    })
}

fn describe(source: &Source, path: String, raw: &str, loc: Option<(usize, usize)>) -> Error {
    let reason = strip_location(raw);
    let mut msg = format!("{}: ", source.describe());
    if path != "." && !path.is_empty() {
        msg.push_str(&format!("at `{path}`"));
    } else {
        msg.push_str("at the top level");
    }
    if let Some((line, col)) = loc.filter(|(l, _)| *l > 0) {
        msg.push_str(&format!(" (line {line}, column {col})"));
    }
    msg.push_str(": ");
    msg.push_str(&reason);
    if let Some(hint) = did_you_mean(&reason) {
        msg.push_str(&format!("; did you mean `{hint}`?"));
    }
    Error::config(if path == "." { String::new() } else { path }, msg)
}

/// serde_yaml and serde_json append " at line X column Y"; we print the location ourselves.
fn strip_location(raw: &str) -> String {
    match raw.rfind(" at line ") {
        Some(i) => raw[..i].to_string(),
        None => raw.to_string(),
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (and unknown variant), the
/// closest allowed name, when one is close enough to be a typo.
fn did_you_mean(reason: &str) -> Option<String> {
    let (_, rest) = reason
        .split_once("unknown field `")
        .or_else(|| reason.split_once("unknown variant `"))?;
    let (bad, allowed) = rest.split_once('`')?;
    let candidates: Vec<&str> = allowed.split('`').skip(1).step_by(2).collect();
    closest(bad, candidates.iter().copied())
}

/// The candidate most like `bad`, for typo hints: the fewest edits (transpositions count as
/// one, so `gtp` finds `gpt`), at most a third of the name; ties go to Jaro-Winkler.
pub fn closest<'a>(bad: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (bad.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::osa_distance(bad, c),
                strsim::jaro_winkler(bad, c),
                c,
            )
        })
        .filter(|(d, jw, _)| *d <= limit || *jw >= 0.9)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_names_path_line_and_suggestion() {
        let yaml = "providers:\n  openai:\n    bse_url: http://x\n";
        let err = parse_text(yaml, &Source::File("gw.yaml".into())).expect_err("must fail");
        assert_eq!(err.kind, crate::api::ErrorKind::Config);
        assert!(err.message.contains("gw.yaml"), "{}", err.message);
        assert!(err.message.contains("providers.openai"), "{}", err.message);
        assert!(err.message.contains("line 3"), "{}", err.message);
        assert!(
            err.message.contains("did you mean `base_url`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn typo_hints_cover_transpositions_and_skip_unrelated_names() {
        assert_eq!(closest("gtp", ["gpt", "claude"]), Some("gpt".into()));
        assert_eq!(
            closest("bse_url", ["base_url", "kind"]),
            Some("base_url".into())
        );
        assert_eq!(
            closest("antropic", ["anthropic", "openai"]),
            Some("anthropic".into())
        );
        assert_eq!(closest("zzz", ["gpt", "claude"]), None);
    }

    #[test]
    fn wrong_type_names_the_field() {
        let json = r#"{"models": {"m": {"provider": "openai", "aliases": "x"}}}"#;
        let err = parse_text(json, &Source::Text).expect_err("must fail");
        assert_eq!(err.param.as_deref(), Some("models.m.aliases"));
        assert!(err.message.contains("line 1"), "{}", err.message);
    }

    #[test]
    fn bad_duration_is_explained() {
        let yaml = "defaults:\n  timeouts:\n    total: soon\n";
        let err = parse_text(yaml, &Source::Text).expect_err("must fail");
        assert!(
            err.message.contains("defaults.timeouts.total"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("invalid duration `soon`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn values_parse_like_text() {
        let v = serde_json::json!({"providers": {"p": {"kind": "openai", "timeouts": {"total": "2s"}}}});
        let cfg = parse_value(v).expect("valid");
        assert_eq!(
            cfg.providers["p"].timeouts.total,
            Some(std::time::Duration::from_secs(2))
        );
    }
}
