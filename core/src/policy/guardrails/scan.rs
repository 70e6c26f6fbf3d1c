//! One text through one stage's rules: find the hits, block, redact, report.

use super::config::{Action, PiiKind, Stage};
use super::patterns::CompiledPattern;
use super::pii::{PiiDetector, PiiMatch};
use super::Finding;
use crate::api::{Error, ErrorKind};
use regex::RegexSet;

/// The rules of one stage, with one `RegexSet` over all of them: a text is read once to learn
/// which rules can match at all, and only those run (most prompts match none).
#[derive(Debug, Default)]
pub(crate) struct StageRules {
    /// The PII kinds checked at this stage, each with its mode (set members `0..pii.len()`).
    pub pii: Vec<(PiiKind, Action)>,
    /// Indexes of the compiled patterns checked at this stage (the set members after the PII).
    pub patterns: Vec<usize>,
    set: Option<RegexSet>,
}

impl StageRules {
    /// The stage's rules and their set.
    pub fn new(
        pii: Vec<(PiiKind, Action)>,
        patterns: Vec<usize>,
        compiled: &[CompiledPattern],
    ) -> Result<StageRules, Error> {
        let sources = pii
            .iter()
            .map(|(kind, _)| PiiDetector::source(*kind))
            .chain(patterns.iter().map(|&i| compiled[i].regex.as_str()));
        let set = if pii.is_empty() && patterns.is_empty() {
            None
        } else {
            Some(RegexSet::new(sources).map_err(|e| {
                Error::config(
                    "guardrails.blocked_patterns",
                    format!("the guardrail rules do not fit in one regex set: {e}"),
                )
            })?)
        };
        Ok(StageRules { pii, patterns, set })
    }

    /// Whether nothing is checked at this stage.
    pub fn is_empty(&self) -> bool {
        self.set.is_none()
    }
}

/// Which rule a hit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleRef {
    Pii(PiiKind),
    /// An index into the compiled patterns.
    Pattern(usize),
}

/// One match of one rule (byte offsets into the scanned text).
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    rule: RuleRef,
    action: Action,
}

/// Everything a stage's scan needs, borrowed from the `Guardrails`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scanner<'a> {
    pub stage: Stage,
    pub rules: &'a StageRules,
    pub pii: Option<&'a PiiDetector>,
    pub patterns: &'a [CompiledPattern],
}

impl Scanner<'_> {
    /// Checks a text the caller owns: a block is an error, redactions are made in place.
    pub fn guard_string(
        &self,
        text: &mut String,
        location: impl FnOnce() -> String,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        if let Some(redacted) = self.guard(text, location, findings, true)? {
            *text = redacted;
        }
        Ok(())
    }

    /// Checks `text`; returns the redacted text when `redact` is set and a redact rule hit.
    /// Without `redact` (text that already reached the caller) redact rules are reported as
    /// `flag`, because that is what happened.
    pub fn guard(
        &self,
        text: &str,
        location: impl FnOnce() -> String,
        findings: &mut Vec<Finding>,
        redact: bool,
    ) -> Result<Option<String>, Error> {
        let hits = self.hits(text);
        if hits.is_empty() {
            return Ok(None);
        }
        let location = location();
        if let Some(hit) = hits.iter().find(|h| h.action == Action::Block) {
            return Err(self.blocked(hit.rule, &location));
        }
        for h in &hits {
            findings.push(Finding {
                rule: self.rule_name(h.rule).to_string(),
                stage: self.stage,
                action: match h.action {
                    Action::Redact if !redact => Action::Flag,
                    other => other,
                },
                location: location.clone(),
                span: h.start..h.end,
            });
        }
        if !redact || !hits.iter().any(|h| h.action == Action::Redact) {
            return Ok(None);
        }
        Ok(Some(self.redacted(text, &hits)))
    }

    /// Every hit of every rule of the stage, by position (longest first at the same start).
    fn hits(&self, text: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        let Some(set) = &self.rules.set else {
            return hits;
        };
        let candidates = set.matches(text);
        if !candidates.matched_any() {
            return hits;
        }
        let n_pii = self.rules.pii.len();
        let mut found: Vec<PiiMatch> = Vec::new();
        for member in candidates.iter() {
            if let Some(&(kind, action)) = self.rules.pii.get(member) {
                let Some(pii) = self.pii else { continue };
                found.clear();
                pii.scan(kind, text, &mut found);
                hits.extend(found.iter().map(|m| Hit {
                    start: m.start,
                    end: m.end,
                    rule: RuleRef::Pii(kind),
                    action,
                }));
            } else {
                let i = self.rules.patterns[member - n_pii];
                let p = &self.patterns[i];
                hits.extend(
                    p.regex
                        .find_iter(text)
                        .filter(|m| !m.is_empty())
                        .map(|m| Hit {
                            start: m.start(),
                            end: m.end(),
                            rule: RuleRef::Pattern(i),
                            action: p.action,
                        }),
                );
            }
        }
        hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        hits
    }

    /// The text with every redact hit replaced; overlapping hits become one placeholder
    /// (the first's), so no part of either survives.
    fn redacted(&self, text: &str, hits: &[Hit]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut current: Option<(usize, usize, RuleRef)> = None;
        for h in hits.iter().filter(|h| h.action == Action::Redact) {
            match current {
                Some((s, e, r)) if h.start < e => current = Some((s, e.max(h.end), r)),
                _ => {
                    if let Some((s, e, r)) = current {
                        out.push_str(&text[copied..s]);
                        out.push_str(self.placeholder(r));
                        copied = e;
                    }
                    current = Some((h.start, h.end, h.rule));
                }
            }
        }
        if let Some((s, e, r)) = current {
            out.push_str(&text[copied..s]);
            out.push_str(self.placeholder(r));
            copied = e;
        }
        out.push_str(&text[copied..]);
        out
    }

    fn rule_name(&self, rule: RuleRef) -> &str {
        match rule {
            RuleRef::Pii(kind) => kind.rule(),
            RuleRef::Pattern(i) => &self.patterns[i].rule,
        }
    }

    fn placeholder(&self, rule: RuleRef) -> &str {
        match rule {
            RuleRef::Pii(kind) => kind.placeholder(),
            RuleRef::Pattern(i) => &self.patterns[i].placeholder,
        }
    }

    /// `policy_denied`, `code` = the rule, `param` = where; the message never quotes the text.
    fn blocked(&self, rule: RuleRef, location: &str) -> Error {
        let what = match rule {
            RuleRef::Pii(kind) => format!("{} found", kind.describe()),
            RuleRef::Pattern(i) => format!("blocked pattern `{}` matched", self.patterns[i].name),
        };
        Error::new(
            ErrorKind::PolicyDenied,
            format!(
                "guardrails blocked the {}: {what} in {location}",
                stage_object(self.stage)
            ),
        )
        .with_code(self.rule_name(rule))
        .with_param(location)
    }
}

/// What a stage's text belongs to, for messages.
pub(crate) fn stage_object(stage: Stage) -> &'static str {
    match stage {
        Stage::Input => "request",
        Stage::Output => "answer",
    }
}
