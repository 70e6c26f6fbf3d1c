//! Blocked patterns: the configured regexes, compiled once, with their rule names.

use super::config::{Action, PatternRule, Stage};
use crate::api::Error;
use regex::Regex;

/// One compiled `blocked_patterns` entry.
#[derive(Debug)]
pub(crate) struct CompiledPattern {
    /// `pattern:<name>`: the finding's rule and the error's `code`.
    pub rule: String,
    /// `[REDACTED:<name>]`.
    pub placeholder: String,
    /// The configured name, for messages.
    pub name: String,
    pub action: Action,
    pub on: Vec<Stage>,
    pub regex: Regex,
}

/// Compiles every rule; an invalid regex names `guardrails.blocked_patterns[i].pattern`.
pub(crate) fn compile(rules: &[PatternRule]) -> Result<Vec<CompiledPattern>, Error> {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let at = format!("guardrails.blocked_patterns[{i}].pattern");
            let regex = Regex::new(&rule.pattern).map_err(|e| {
                Error::config(&at, format!("{at} is not a valid regex: {}", one_line(&e)))
            })?;
            if regex.is_match("") {
                return Err(Error::config(
                    &at,
                    format!(
                        "{at} `{}` matches empty text, so it would match everywhere",
                        rule.pattern
                    ),
                ));
            }
            Ok(CompiledPattern {
                rule: format!("pattern:{}", rule.name),
                placeholder: format!("[REDACTED:{}]", rule.name),
                name: rule.name.clone(),
                action: rule.mode,
                on: rule.on.clone(),
                regex,
            })
        })
        .collect()
}

/// The regex crate's error on one line (its syntax errors draw a caret under the pattern).
fn one_line(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(text) => {
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            let reason = lines
                .iter()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("syntax error");
            let pattern = lines.get(1).copied().unwrap_or_default();
            format!("{reason} in `{pattern}`")
        }
        other => other.to_string(),
    }
}

/// The indexes of the patterns that apply at `stage`.
pub(crate) fn at_stage(patterns: &[CompiledPattern], stage: Stage) -> Vec<usize> {
    patterns
        .iter()
        .enumerate()
        .filter(|(_, p)| p.on.contains(&stage))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, pattern: &str) -> PatternRule {
        PatternRule {
            name: name.into(),
            pattern: pattern.into(),
            mode: Action::Block,
            on: vec![Stage::Input],
        }
    }

    #[test]
    fn invalid_regex_names_the_field_and_the_reason() {
        let err = compile(&[rule("ok", "x"), rule("bad", r"(?i)project\s+(falcon")])
            .expect_err("unclosed group");
        assert_eq!(
            err.param.as_deref(),
            Some("guardrails.blocked_patterns[1].pattern")
        );
        assert_eq!(
            err.message,
            r"guardrails.blocked_patterns[1].pattern is not a valid regex: unclosed group in `(?i)project\s+(falcon`"
        );
    }

    #[test]
    fn empty_matching_patterns_are_refused() {
        let err = compile(&[rule("stars", "a*")]).expect_err("matches empty");
        assert_eq!(
            err.message,
            "guardrails.blocked_patterns[0].pattern `a*` matches empty text, so it would match everywhere"
        );
    }

    #[test]
    fn stages_select_their_patterns() {
        let mut rules = vec![rule("a", "alpha"), rule("b", "beta"), rule("c", "gamma")];
        rules[1].on = vec![Stage::Output];
        rules[2].on = vec![Stage::Input, Stage::Output];
        let compiled = compile(&rules).expect("valid");
        assert_eq!(at_stage(&compiled, Stage::Input), [0, 2]);
        assert_eq!(at_stage(&compiled, Stage::Output), [1, 2]);
        assert_eq!(compiled[2].rule, "pattern:c");
        assert_eq!(compiled[2].placeholder, "[REDACTED:c]");
    }
}
