//! Host-language guardrails: a Python callable, a Node function or a C function pointer,
//! wrapped by its binding into [`GuardrailHook`], sees the request or the answer and decides.
//!
//! Hooks run in the order given, each seeing what the previous one left (a rewrite feeds the
//! next hook). A deny stops the call with `policy_denied`, code `guardrail_hook`. A hook that
//! answers something this module cannot use (an unknown shape, a rewrite of the wrong side,
//! an empty message list) fails with kind `config`, code `guardrail_hook_invalid`: the fault
//! is in the application's hook, not in the caller's request, and retrying cannot help. A hook
//! that throws is mapped to an `Error` by its binding and returned as is.

use super::config::Stage;
use super::scan::stage_object;
use crate::api::{from_json_value, ChatRequest, ChatResponse, Error, ErrorKind, JsonMap, Message};
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// A host-language guardrail: sees the request (input) or answer text (output) and decides.
pub trait GuardrailHook: Send + Sync + fmt::Debug {
    /// Decides on one event; the future owns everything it needs (`'static`), so a binding
    /// can hand the event to another thread or event loop.
    fn check(&self, event: HookEvent) -> BoxFuture<'static, Result<HookVerdict, Error>>;
}

/// Who is calling, as the gateway knows it (never the key itself: `key_id` names it).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HookCaller {
    /// The model name the caller asked for.
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The virtual key's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    pub tags: Vec<String>,
    pub metadata: JsonMap,
}

/// What a hook sees; serialized flat for the bindings:
/// `{"stage":"input","messages":[...],"model":"gpt-4o","user":"u1","tags":[],"metadata":{}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HookEvent {
    pub stage: Stage,
    /// The request's messages (input only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Message>>,
    /// The answer's text (output only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(flatten)]
    pub caller: HookCaller,
}

/// A hook's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum HookVerdict {
    /// Go on unchanged.
    Allow,
    /// Stop with `policy_denied`; the reason is shown to the caller.
    Deny { reason: String },
    /// Replace the request's messages (input only; must not be empty).
    RewriteMessages(Vec<Message>),
    /// Replace the answer's text (output only).
    RewriteContent(String),
}

/// The reason given when a host answers a bare `false`.
const NO_REASON: &str = "no reason given";

impl HookVerdict {
    /// Reads a host's answer: `null`, `true` or `{"action":"allow"}` allow; `false` or
    /// `{"action":"deny","reason":"..."}` deny (the reason is optional);
    /// `{"action":"rewrite","messages":[...]}` rewrites the input and
    /// `{"action":"rewrite","content":"..."}` the output. Anything else, unknown keys
    /// included, is a `config` error with code `guardrail_hook_invalid`.
    pub fn from_json(value: Value) -> Result<HookVerdict, Error> {
        let mut map = match value {
            Value::Null | Value::Bool(true) => return Ok(HookVerdict::Allow),
            Value::Bool(false) => {
                return Ok(HookVerdict::Deny {
                    reason: NO_REASON.to_string(),
                })
            }
            Value::Object(map) => map,
            other => {
                return Err(invalid_answer(format!(
                    "a guardrail hook answered {}; expected null, true, false or an object with `action`",
                    kind_of(&other)
                )))
            }
        };
        let action = match map.remove("action") {
            Some(Value::String(a)) => a,
            Some(other) => {
                return Err(invalid_answer(format!(
                    "a guardrail hook answered `action` as {}; expected `allow`, `deny` or `rewrite`",
                    kind_of(&other)
                )))
            }
            None => {
                return Err(invalid_answer(
                    "a guardrail hook answered an object without `action`; expected `allow`, `deny` or `rewrite`",
                ))
            }
        };
        let verdict = match action.as_str() {
            "allow" => HookVerdict::Allow,
            "deny" => match map.remove("reason") {
                None | Some(Value::Null) => HookVerdict::Deny {
                    reason: NO_REASON.to_string(),
                },
                Some(Value::String(reason)) => HookVerdict::Deny { reason },
                Some(other) => {
                    return Err(invalid_answer(format!(
                        "a guardrail hook answered `reason` as {}; expected a string",
                        kind_of(&other)
                    )))
                }
            },
            "rewrite" => match (map.remove("messages"), map.remove("content")) {
                (Some(messages), None) => {
                    HookVerdict::RewriteMessages(from_json_value(messages).map_err(|e| {
                        invalid_answer(format!(
                            "a guardrail hook's rewrite `messages` are not chat messages: {}",
                            e.message
                        ))
                    })?)
                }
                (None, Some(Value::String(content))) => HookVerdict::RewriteContent(content),
                (None, Some(other)) => {
                    return Err(invalid_answer(format!(
                        "a guardrail hook answered rewrite `content` as {}; expected a string",
                        kind_of(&other)
                    )))
                }
                (Some(_), Some(_)) | (None, None) => {
                    return Err(invalid_answer(
                        "a guardrail hook's `rewrite` needs exactly one of `messages` (input) or `content` (output)",
                    ))
                }
            },
            other => {
                return Err(invalid_answer(format!(
                    "a guardrail hook answered action `{other}`; expected `allow`, `deny` or `rewrite`"
                )))
            }
        };
        if let Some(key) = map.keys().next() {
            return Err(invalid_answer(format!(
                "a guardrail hook's `{action}` answer has an unknown key `{key}`"
            )));
        }
        Ok(verdict)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn invalid_answer(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, message).with_code("guardrail_hook_invalid")
}

fn denied(stage: Stage, reason: &str) -> Error {
    Error::new(
        ErrorKind::PolicyDenied,
        format!(
            "a guardrail hook denied the {}: {reason}",
            stage_object(stage)
        ),
    )
    .with_code("guardrail_hook")
}

/// Runs the hooks on a request in order; a rewrite replaces the messages for the next hook
/// and for the provider.
pub async fn run_hooks_input(
    hooks: &[Arc<dyn GuardrailHook>],
    req: &mut ChatRequest,
    who: &HookCaller,
) -> Result<(), Error> {
    for (i, hook) in hooks.iter().enumerate() {
        let event = HookEvent {
            stage: Stage::Input,
            messages: Some(req.messages.clone()),
            content: None,
            caller: who.clone(),
        };
        match hook.check(event).await? {
            HookVerdict::Allow => {}
            HookVerdict::Deny { reason } => return Err(denied(Stage::Input, &reason)),
            HookVerdict::RewriteMessages(messages) if messages.is_empty() => {
                return Err(invalid_answer(format!(
                    "guardrail hook {i} rewrote the request to no messages"
                )))
            }
            HookVerdict::RewriteMessages(messages) => req.messages = messages,
            HookVerdict::RewriteContent(_) => {
                return Err(invalid_answer(format!(
                    "guardrail hook {i} answered a rewrite with `content` for a request; rewrite requests with `messages`"
                )))
            }
        }
    }
    Ok(())
}

/// Runs the hooks on an answer's text in order (a stream's accumulated text, or one choice's
/// content); a rewrite replaces the text for the next hook and for the caller.
pub async fn run_hooks_output(
    hooks: &[Arc<dyn GuardrailHook>],
    content: &mut String,
    who: &HookCaller,
) -> Result<(), Error> {
    for (i, hook) in hooks.iter().enumerate() {
        let event = HookEvent {
            stage: Stage::Output,
            messages: None,
            content: Some(content.clone()),
            caller: who.clone(),
        };
        match hook.check(event).await? {
            HookVerdict::Allow => {}
            HookVerdict::Deny { reason } => return Err(denied(Stage::Output, &reason)),
            HookVerdict::RewriteContent(text) => *content = text,
            HookVerdict::RewriteMessages(_) => {
                return Err(invalid_answer(format!(
                    "guardrail hook {i} answered a rewrite with `messages` for an answer; rewrite answers with `content`"
                )))
            }
        }
    }
    Ok(())
}

/// Runs the output hooks on every choice of a complete answer that has text (choices that
/// only call tools are not shown to hooks).
pub async fn run_hooks_response(
    hooks: &[Arc<dyn GuardrailHook>],
    resp: &mut ChatResponse,
    who: &HookCaller,
) -> Result<(), Error> {
    if hooks.is_empty() {
        return Ok(());
    }
    for choice in &mut resp.choices {
        if let Some(content) = &mut choice.message.content {
            run_hooks_output(hooks, content, who).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn host_answers_map_to_verdicts() {
        let ok = |v: Value| HookVerdict::from_json(v).expect("valid answer");
        assert_eq!(ok(Value::Null), HookVerdict::Allow);
        assert_eq!(ok(json!(true)), HookVerdict::Allow);
        assert_eq!(ok(json!({"action": "allow"})), HookVerdict::Allow);
        assert_eq!(
            ok(json!(false)),
            HookVerdict::Deny {
                reason: "no reason given".into()
            }
        );
        assert_eq!(
            ok(json!({"action": "deny", "reason": "off topic"})),
            HookVerdict::Deny {
                reason: "off topic".into()
            }
        );
        assert_eq!(
            ok(json!({"action": "rewrite", "content": "safe"})),
            HookVerdict::RewriteContent("safe".into())
        );
        assert_eq!(
            ok(json!({"action": "rewrite", "messages": [{"role": "user", "content": "hi"}]})),
            HookVerdict::RewriteMessages(vec![Message::user("hi")])
        );
    }

    #[test]
    fn unusable_answers_are_config_errors_that_say_what_is_expected() {
        let cases = [
            (json!(1), "a guardrail hook answered a number; expected null, true, false or an object with `action`"),
            (json!({"verdict": "allow"}), "a guardrail hook answered an object without `action`; expected `allow`, `deny` or `rewrite`"),
            (json!({"action": "block"}), "a guardrail hook answered action `block`; expected `allow`, `deny` or `rewrite`"),
            (json!({"action": "allow", "why": "x"}), "a guardrail hook's `allow` answer has an unknown key `why`"),
            (json!({"action": "rewrite"}), "a guardrail hook's `rewrite` needs exactly one of `messages` (input) or `content` (output)"),
            (json!({"action": "rewrite", "content": 5}), "a guardrail hook answered rewrite `content` as a number; expected a string"),
            (json!({"action": "rewrite", "messages": [{"role": "robot"}]}), "a guardrail hook's rewrite `messages` are not chat messages: invalid `[0].role`: unknown variant `robot`, expected one of `system`, `developer`, `user`, `assistant`, `tool`"),
        ];
        for (value, message) in cases {
            let err = HookVerdict::from_json(value.clone()).expect_err("invalid");
            assert_eq!(err.kind, ErrorKind::Config, "{value}");
            assert_eq!(err.code.as_deref(), Some("guardrail_hook_invalid"));
            assert_eq!(err.message, message, "{value}");
        }
    }

    #[test]
    fn events_serialize_flat() {
        let event = HookEvent {
            stage: Stage::Output,
            messages: None,
            content: Some("hello".into()),
            caller: HookCaller {
                model: "gpt-4o".into(),
                user: Some("u1".into()),
                tags: vec!["chat".into()],
                ..HookCaller::default()
            },
        };
        assert_eq!(
            serde_json::to_value(&event).expect("serializes"),
            json!({"stage": "output", "content": "hello", "model": "gpt-4o", "user": "u1",
                   "tags": ["chat"], "metadata": {}})
        );
    }
}
