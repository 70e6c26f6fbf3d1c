//! Guardrails: size limits, blocked patterns, PII detection and host-language hooks.
//!
//! The gateway runs [`Guardrails::check_input`] on a request in its admit stage and
//! [`Guardrails::check_output`] (or [`Guardrails::check_output_text`] for a stream's text at
//! its end) on the answer in settle; [`run_hooks_input`] and [`run_hooks_output`] run the
//! host's own checks. A block is an [`ErrorKind::PolicyDenied`] error whose `code` names the
//! rule (`pii_email`, `pattern:<name>`, `prompt_too_large`, `guardrail_hook`) and whose `param`
//! names where (`messages[1].content`); nothing a guardrail reports ever quotes the matched text.
//!
//! What is scanned: every message's string content and text parts, and tool-call arguments
//! (tool results are `tool` messages, so their content is scanned too); on output, each
//! choice's content and tool-call arguments. Arguments are scanned as the JSON text they are,
//! so redaction keeps them valid JSON (placeholders hold no quote or backslash), and text
//! hidden behind JSON escapes (`\u0040`) is not seen.
//!
//! Cost: each text is read once by one `RegexSet` over every rule of the stage; only the rules
//! it reports run their own regex and checks, so a prompt with nothing to find costs one pass.

mod config;
mod hooks;
mod patterns;
mod pii;
mod scan;

pub use config::{Action, GuardrailsConfig, PatternRule, PiiConfig, PiiKind, Stage};
pub use hooks::{
    run_hooks_input, run_hooks_output, run_hooks_response, GuardrailHook, HookCaller, HookEvent,
    HookVerdict,
};

use crate::api::{ChatRequest, ChatResponse, Content, ContentPart, Error, ErrorKind};
use patterns::CompiledPattern;
use pii::PiiDetector;
use scan::{Scanner, StageRules};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::Arc;

/// Something a guardrail found and did (a block is an error instead, never a finding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `pii_email`, `pii_phone`, `pii_card`, `pii_iban`, `pii_api_key` or `pattern:<name>`.
    pub rule: String,
    pub stage: Stage,
    /// `redact` or `flag`: what was done.
    pub action: Action,
    /// Where: `messages[2].content`, `messages[0].content[1].text`,
    /// `messages[1].tool_calls[0].function.arguments`, `choices[0].message.content`, `content`.
    pub location: String,
    /// Byte offsets of the match in that text as it was before any redaction.
    pub span: Range<usize>,
}

/// The configured guardrails, compiled once; cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct Guardrails {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    max_prompt_chars: Option<u64>,
    max_prompt_tokens: Option<u64>,
    pii: Option<PiiDetector>,
    patterns: Vec<CompiledPattern>,
    input: StageRules,
    output: StageRules,
}

impl Guardrails {
    /// Validates and compiles the config; errors name the field from `guardrails.` on.
    pub fn new(cfg: &GuardrailsConfig) -> Result<Guardrails, Error> {
        cfg.validate()?;
        let patterns = patterns::compile(&cfg.blocked_patterns)?;
        let stage_pii = |stage: Stage| -> Vec<(PiiKind, Action)> {
            let Some(pii) = cfg.pii.as_ref().filter(|p| p.on.contains(&stage)) else {
                return Vec::new();
            };
            let mut kinds: Vec<(PiiKind, Action)> = Vec::new();
            for &kind in &pii.kinds {
                if !kinds.iter().any(|(k, _)| *k == kind) {
                    kinds.push((kind, pii.mode_of(kind)));
                }
            }
            kinds
        };
        let input = StageRules::new(
            stage_pii(Stage::Input),
            patterns::at_stage(&patterns, Stage::Input),
            &patterns,
        )?;
        let output = StageRules::new(
            stage_pii(Stage::Output),
            patterns::at_stage(&patterns, Stage::Output),
            &patterns,
        )?;
        let pii = match cfg.pii {
            Some(_) => Some(PiiDetector::new()?),
            None => None,
        };
        Ok(Guardrails {
            inner: Arc::new(Inner {
                max_prompt_chars: cfg.max_prompt_chars,
                max_prompt_tokens: cfg.max_prompt_tokens,
                pii,
                patterns,
                input,
                output,
            }),
        })
    }

    /// Nothing is configured: the gateway can skip every guardrail call.
    pub fn is_empty(&self) -> bool {
        let i = &self.inner;
        i.max_prompt_chars.is_none()
            && i.max_prompt_tokens.is_none()
            && i.input.is_empty()
            && i.output.is_empty()
    }

    /// Whether any rule looks at answers (else settle can skip `check_output`).
    pub fn checks_output(&self) -> bool {
        !self.inner.output.is_empty()
    }

    /// Checks a request before it is sent: size limits first, then every message text.
    /// Redactions are made in place; a block returns `policy_denied` (the request may then be
    /// partly redacted and must be dropped).
    pub fn check_input(&self, req: &mut ChatRequest) -> Result<Vec<Finding>, Error> {
        let mut findings = Vec::new();
        self.check_size(req)?;
        if self.inner.input.is_empty() {
            return Ok(findings);
        }
        let scan = self.scanner(Stage::Input);
        for (i, m) in req.messages.iter_mut().enumerate() {
            match &mut m.content {
                Some(Content::Text(text)) => {
                    scan.guard_string(text, || format!("messages[{i}].content"), &mut findings)?
                }
                Some(Content::Parts(parts)) => {
                    for (j, part) in parts.iter_mut().enumerate() {
                        if let ContentPart::Text { text } = part {
                            scan.guard_string(
                                text,
                                || format!("messages[{i}].content[{j}].text"),
                                &mut findings,
                            )?;
                        }
                    }
                }
                None => {}
            }
            for (k, call) in m.tool_calls.iter_mut().flatten().enumerate() {
                scan.guard_string(
                    &mut call.function.arguments,
                    || format!("messages[{i}].tool_calls[{k}].function.arguments"),
                    &mut findings,
                )?;
            }
        }
        Ok(findings)
    }

    /// Checks a complete answer: each choice's content and tool-call arguments.
    pub fn check_output(&self, resp: &mut ChatResponse) -> Result<Vec<Finding>, Error> {
        let mut findings = Vec::new();
        if self.inner.output.is_empty() {
            return Ok(findings);
        }
        let scan = self.scanner(Stage::Output);
        for (i, choice) in resp.choices.iter_mut().enumerate() {
            if let Some(text) = &mut choice.message.content {
                scan.guard_string(
                    text,
                    || format!("choices[{i}].message.content"),
                    &mut findings,
                )?;
            }
            for (k, call) in choice.message.tool_calls.iter_mut().flatten().enumerate() {
                scan.guard_string(
                    &mut call.function.arguments,
                    || format!("choices[{i}].message.tool_calls[{k}].function.arguments"),
                    &mut findings,
                )?;
            }
        }
        Ok(findings)
    }

    /// Checks a streamed answer's text at its end (location `content`). The text has already
    /// reached the caller, so nothing is changed: a block is an error, and redact rules are
    /// reported as `flag` findings.
    pub fn check_output_text(&self, text: &str) -> Result<Vec<Finding>, Error> {
        let mut findings = Vec::new();
        if !self.inner.output.is_empty() {
            self.scanner(Stage::Output).guard(
                text,
                || "content".to_string(),
                &mut findings,
                false,
            )?;
        }
        Ok(findings)
    }

    fn scanner(&self, stage: Stage) -> Scanner<'_> {
        let i = &self.inner;
        Scanner {
            stage,
            rules: match stage {
                Stage::Input => &i.input,
                Stage::Output => &i.output,
            },
            pii: i.pii.as_ref(),
            patterns: &i.patterns,
        }
    }

    /// `max_prompt_chars` over all message text (content, text parts, tool-call arguments),
    /// then `max_prompt_tokens` against the estimate routing uses.
    fn check_size(&self, req: &ChatRequest) -> Result<(), Error> {
        if let Some(limit) = self.inner.max_prompt_chars {
            let chars = prompt_chars(req, limit);
            if chars > limit {
                return Err(too_large(format!(
                    "the prompt has more than {limit} characters (max_prompt_chars)"
                )));
            }
        }
        if let Some(limit) = self.inner.max_prompt_tokens {
            let tokens = crate::routing::Features::of(req).prompt_tokens;
            if tokens > limit {
                return Err(too_large(format!(
                    "the prompt is about {tokens} tokens (estimated), more than {limit} (max_prompt_tokens)"
                )));
            }
        }
        Ok(())
    }
}

fn too_large(reason: String) -> Error {
    Error::new(
        ErrorKind::PolicyDenied,
        format!("guardrails blocked the request: {reason}"),
    )
    .with_code("prompt_too_large")
    .with_param("messages")
}

/// Characters of every message text; bytes bound characters from above, so a prompt within
/// the limit in bytes is never decoded.
fn prompt_chars(req: &ChatRequest, limit: u64) -> u64 {
    let mut bytes = 0u64;
    each_text(req, |t| bytes += t.len() as u64);
    if bytes <= limit {
        return bytes;
    }
    let mut chars = 0u64;
    each_text(req, |t| chars += t.chars().count() as u64);
    chars
}

/// Calls `f` with every text of a request: string content, text parts, tool-call arguments.
fn each_text(req: &ChatRequest, mut f: impl FnMut(&str)) {
    for m in &req.messages {
        match &m.content {
            Some(Content::Text(t)) => f(t),
            Some(Content::Parts(parts)) => {
                for p in parts {
                    if let ContentPart::Text { text } = p {
                        f(text);
                    }
                }
            }
            None => {}
        }
        for c in m.tool_calls.iter().flatten() {
            f(&c.function.arguments);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Message;

    fn guard(yaml: &str) -> Guardrails {
        let cfg: GuardrailsConfig = serde_yaml_ng::from_str(yaml).expect("yaml");
        Guardrails::new(&cfg).expect("valid")
    }

    fn request(texts: &[&str]) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: texts.iter().map(|t| Message::user(*t)).collect(),
            ..ChatRequest::default()
        }
    }

    #[test]
    fn empty_config_is_empty_and_passes_everything() {
        let g = Guardrails::default();
        assert!(g.is_empty());
        assert!(!g.checks_output());
        let mut req = request(&["mail me at a@example.com"]);
        assert_eq!(g.check_input(&mut req).expect("ok"), []);
        assert_eq!(req.messages[0].text_content(), "mail me at a@example.com");
        assert!(Guardrails::new(&GuardrailsConfig::default())
            .expect("valid")
            .is_empty());
    }

    #[test]
    fn chars_are_counted_not_bytes() {
        let g = guard("max_prompt_chars: 5");
        // Five characters, ten bytes.
        let mut req = request(&["ééééé"]);
        assert!(g.check_input(&mut req).is_ok());
        let mut req = request(&["ééé", "ééé"]);
        let err = g.check_input(&mut req).expect_err("six");
        assert_eq!(err.code.as_deref(), Some("prompt_too_large"));
    }

    #[test]
    fn overlapping_redactions_merge_into_one_placeholder() {
        let g = guard(
            "blocked_patterns: [{name: acct, pattern: 'acct [a-z.]+@', mode: redact}]\npii: {kinds: [email]}",
        );
        let mut req = request(&["acct jo.x@example.com ok"]);
        let findings = g.check_input(&mut req).expect("redacts");
        assert_eq!(req.messages[0].text_content(), "[REDACTED:acct] ok");
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].rule, "pattern:acct");
        assert_eq!(findings[0].span, 0..10);
        assert_eq!(findings[1].rule, "pii_email");
        assert_eq!(findings[1].span, 5..21);
    }
}
