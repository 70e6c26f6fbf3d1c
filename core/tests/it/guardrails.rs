//! Guardrails (issue 8): every PII kind in every mode on the hand-written fixtures, the
//! near-misses that must not match, blocked patterns, size limits, config errors, output
//! checks and host hooks.

use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use switchpoint_core::api::{from_json_value, ChatRequest, ChatResponse, Message};
use switchpoint_core::policy::guardrails::{
    run_hooks_input, run_hooks_output, run_hooks_response, Action, Finding, GuardrailHook,
    Guardrails, GuardrailsConfig, HookCaller, HookEvent, HookVerdict, Stage,
};
use switchpoint_core::ErrorKind;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/pii/",
            $name
        ))
    };
}

/// Each fixture, its kind, and exactly what must be found in it, in order.
const FIXTURES: [(&str, &str, &[&str]); 5] = [
    (
        "email",
        fixture!("email.txt"),
        &[
            "maria.gonzalez@acme-logistics.com",
            "legal+contracts@firm.example.co.uk",
            "ops_2024@mail.example.org",
        ],
    ),
    (
        "phone",
        fixture!("phone.txt"),
        &[
            "+44 7700 900123",
            "(415) 555-0132",
            "212-555-0198",
            "+49 30 901820",
        ],
    ),
    (
        "card",
        fixture!("card.txt"),
        &[
            "4111 1111 1111 1111",
            "5555-5555-5555-4444",
            "2223003122003222",
            "3782 822463 10005",
        ],
    ),
    (
        "iban",
        fixture!("iban.txt"),
        &[
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "FR14 2004 1010 0505 0001 3M02 606",
        ],
    ),
    (
        "api_key",
        fixture!("api_key.txt"),
        &[
            "sk-proj-ox9yimTcfipZGnzPbDFDyFKm51zfFoWbSrHAE56y",
            "sk-ant-api03-UhQqg0eyN1ygQdvpSfF5PH5nLZjMeI8cFSmj83LD-UL4CsJw24BikWMgISuSwAA",
            "AKIAIOSFODNN7EXAMPLE",
            "AIza-zNtTKjCSFbLRCIe2GWM1wYovdzuMobWRv3",
            "ghp_5oiAKCAAfLesTgcfQgWHHxjZ7GFTjMemb6iv",
            "xoxb-6914555073-0909225671139-oFZEYjyhgLUCPiUCGUfT7EKz",
            "0xDodmdChgnUaTMN6bPx1BHf9VWMG0TKmGouHyVH",
        ],
    ),
];

fn guardrails(cfg: Value) -> Guardrails {
    let cfg: GuardrailsConfig = serde_json::from_value(cfg).expect("config shape");
    Guardrails::new(&cfg).expect("valid config")
}

fn config_error(cfg: Value) -> switchpoint_core::Error {
    let cfg: GuardrailsConfig = serde_json::from_value(cfg).expect("config shape");
    Guardrails::new(&cfg).expect_err("invalid config")
}

fn request(v: Value) -> ChatRequest {
    from_json_value(v).expect("request")
}

fn user(text: &str) -> ChatRequest {
    request(json!({"model": "m", "messages": [{"role": "user", "content": text}]}))
}

fn answer(text: &str) -> ChatResponse {
    from_json_value(json!({
        "id": "r1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}]
    }))
    .expect("response")
}

fn content(req: &ChatRequest, i: usize) -> String {
    req.messages[i].text_content()
}

fn placeholder(kind: &str) -> String {
    format!("[REDACTED:{}]", kind.to_uppercase())
}

#[test]
fn every_kind_in_every_mode_on_its_fixture() {
    for (kind, text, expected) in FIXTURES {
        let rule = format!("pii_{kind}");
        for mode in ["block", "redact", "flag"] {
            let g = guardrails(json!({"pii": {"mode": mode, "kinds": [kind]}}));
            let mut req = user(text);
            let result = g.check_input(&mut req);
            match mode {
                "block" => {
                    let err = result.expect_err("blocks");
                    assert_eq!(err.kind, ErrorKind::PolicyDenied, "{kind}");
                    assert_eq!(err.code.as_deref(), Some(rule.as_str()));
                    assert_eq!(err.param.as_deref(), Some("messages[0].content"));
                    assert!(
                        err.message.starts_with("guardrails blocked the request: ")
                            && err.message.ends_with(" found in messages[0].content"),
                        "{}",
                        err.message
                    );
                    for value in expected {
                        assert!(!err.message.contains(value), "{kind}: message leaks");
                    }
                }
                "redact" => {
                    let findings = result.expect("redacts");
                    assert_eq!(findings.len(), expected.len(), "{kind}");
                    assert!(findings.iter().all(|f| f.rule == rule
                        && f.action == Action::Redact
                        && f.stage == Stage::Input
                        && f.location == "messages[0].content"));
                    let mut want = text.to_string();
                    for value in expected {
                        want = want.replacen(value, &placeholder(kind), 1);
                    }
                    assert_eq!(content(&req, 0), want, "{kind}");
                }
                _ => {
                    let findings = result.expect("flags");
                    let spans: Vec<&str> = findings.iter().map(|f| &text[f.span.clone()]).collect();
                    assert_eq!(spans, expected, "{kind}");
                    assert!(findings.iter().all(|f| f.action == Action::Flag));
                    assert_eq!(content(&req, 0), text, "flag leaves the text alone");
                }
            }
        }
    }
}

#[test]
fn with_every_kind_on_each_fixture_yields_only_its_own_kind() {
    let g = guardrails(json!({"pii": {"mode": "flag"}}));
    for (kind, text, expected) in FIXTURES {
        let findings = g.check_input(&mut user(text)).expect("flags");
        let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, vec![format!("pii_{kind}"); expected.len()], "{kind}");
    }
}

#[test]
fn near_misses_match_nothing() {
    let g = guardrails(json!({"pii": {"mode": "block", "on": ["input", "output"]}}));
    let text = fixture!("near_misses.txt");
    assert_eq!(g.check_input(&mut user(text)).expect("nothing found"), []);
    assert_eq!(g.check_output_text(text).expect("nothing found"), []);
    let mut resp = answer(text);
    assert_eq!(g.check_output(&mut resp).expect("nothing found"), []);
    assert_eq!(resp.text(), Some(text));
}

#[test]
fn overrides_give_a_kind_its_own_mode() {
    let g = guardrails(
        json!({"pii": {"mode": "redact", "overrides": {"email": "flag", "card": "block"}}}),
    );
    let mut req = user("write to ann@example.com, or call 212-555-0198");
    let findings = g.check_input(&mut req).expect("no card");
    assert_eq!(
        content(&req, 0),
        "write to ann@example.com, or call [REDACTED:PHONE]"
    );
    let summary: Vec<(&str, Action)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.action))
        .collect();
    assert_eq!(
        summary,
        [("pii_email", Action::Flag), ("pii_phone", Action::Redact)]
    );
    let err = g
        .check_input(&mut user("card 4111-1111-1111-1111 please"))
        .expect_err("card blocks");
    assert_eq!(
        err.message,
        "guardrails blocked the request: a payment card number found in messages[0].content"
    );
}

#[test]
fn every_text_of_a_request_is_scanned_with_its_location() {
    let g = guardrails(json!({"pii": {"kinds": ["email"]}}));
    let mut req = request(json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": "You help a@example.com."},
            {"role": "user", "content": [
                {"type": "text", "text": "look at this"},
                {"type": "image_url", "image_url": {"url": "https://img.example/b@example.com.png"}},
                {"type": "text", "text": "from b@example.com"}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "send", "arguments": "{\"to\":\"c@example.com\",\"n\":1}"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "sent to c@example.com"}
        ]
    }));
    let findings = g.check_input(&mut req).expect("redacts");
    let locations: Vec<&str> = findings.iter().map(|f| f.location.as_str()).collect();
    assert_eq!(
        locations,
        [
            "messages[0].content",
            "messages[1].content[2].text",
            "messages[2].tool_calls[0].function.arguments",
            "messages[3].content",
        ]
    );
    assert_eq!(content(&req, 0), "You help [REDACTED:EMAIL].");
    assert_eq!(content(&req, 1), "look at thisfrom [REDACTED:EMAIL]");
    let args = &req.messages[2].tool_calls.as_ref().expect("calls")[0]
        .function
        .arguments;
    let parsed: Value = serde_json::from_str(args).expect("still JSON");
    assert_eq!(parsed, json!({"to": "[REDACTED:EMAIL]", "n": 1}));
    assert_eq!(content(&req, 3), "sent to [REDACTED:EMAIL]");
    // Image URLs are not text.
    let image = serde_json::to_value(&req.messages[1]).expect("json")["content"][1].clone();
    assert_eq!(
        image["image_url"]["url"],
        "https://img.example/b@example.com.png"
    );
}

#[test]
fn findings_serialize_without_the_matched_text() {
    let g = guardrails(json!({"pii": {"kinds": ["email"], "mode": "flag"}}));
    let findings = g.check_input(&mut user("hi z@example.com")).expect("flags");
    assert_eq!(
        serde_json::to_value(&findings).expect("json"),
        json!([{"rule": "pii_email", "stage": "input", "action": "flag",
                "location": "messages[0].content", "span": {"start": 3, "end": 16}}])
    );
}

#[test]
fn blocked_patterns_block_redact_and_flag_by_stage() {
    let g = guardrails(json!({"blocked_patterns": [
        {"name": "internal_codename", "pattern": "(?i)project\\s+falcon", "mode": "block", "on": ["input", "output"]},
        {"name": "ticket", "pattern": "TCK-[0-9]+", "mode": "redact", "on": ["output"]},
        {"name": "competitor", "pattern": "\\bAcmeCorp\\b", "mode": "flag"}
    ]}));
    assert!(!g.is_empty());
    assert!(g.checks_output());
    let err = g
        .check_input(&mut request(json!({"model": "m", "messages": [
            {"role": "user", "content": "hello"},
            {"role": "user", "content": "status of PROJECT  Falcon?"}
        ]})))
        .expect_err("blocked");
    assert_eq!(err.kind, ErrorKind::PolicyDenied);
    assert_eq!(err.code.as_deref(), Some("pattern:internal_codename"));
    assert_eq!(err.param.as_deref(), Some("messages[1].content"));
    assert_eq!(
        err.message,
        "guardrails blocked the request: blocked pattern `internal_codename` matched in messages[1].content"
    );

    // `ticket` is output-only: the input keeps it; AcmeCorp is flagged on both sides.
    let mut req = user("see TCK-42 from AcmeCorp");
    let findings = g.check_input(&mut req).expect("passes");
    assert_eq!(content(&req, 0), "see TCK-42 from AcmeCorp");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, "pattern:competitor");
    assert_eq!(findings[0].span, 16..24);

    let mut resp = answer("Fixed in TCK-42 and TCK-7; AcmeCorp agrees.");
    let findings = g.check_output(&mut resp).expect("redacts");
    assert_eq!(
        resp.text(),
        Some("Fixed in [REDACTED:ticket] and [REDACTED:ticket]; AcmeCorp agrees.")
    );
    let rules: Vec<(&str, Stage, Action, &str)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.stage, f.action, f.location.as_str()))
        .collect();
    let loc = "choices[0].message.content";
    assert_eq!(
        rules,
        [
            ("pattern:ticket", Stage::Output, Action::Redact, loc),
            ("pattern:ticket", Stage::Output, Action::Redact, loc),
            ("pattern:competitor", Stage::Output, Action::Flag, loc),
        ]
    );

    let err = g
        .check_output(&mut answer("Project Falcon launches Monday."))
        .expect_err("blocked answer");
    assert_eq!(
        err.message,
        "guardrails blocked the answer: blocked pattern `internal_codename` matched in choices[0].message.content"
    );
}

#[test]
fn size_limits_block_with_prompt_too_large() {
    let g = guardrails(json!({"max_prompt_chars": 20}));
    assert!(!g.checks_output());
    let mut req = request(json!({"model": "m", "messages": [
        {"role": "system", "content": "0123456789"},
        {"role": "user", "content": [{"type": "text", "text": "abcdefghij"}]}
    ]}));
    assert_eq!(g.check_input(&mut req).expect("exactly 20"), []);
    req.messages.push(Message::user("!"));
    let err = g.check_input(&mut req).expect_err("21");
    assert_eq!(err.kind, ErrorKind::PolicyDenied);
    assert_eq!(err.code.as_deref(), Some("prompt_too_large"));
    assert_eq!(err.param.as_deref(), Some("messages"));
    assert_eq!(
        err.message,
        "guardrails blocked the request: the prompt has more than 20 characters (max_prompt_chars)"
    );

    // The routing estimate: (16 framing + 400 chars) / 4 = 104 tokens.
    let g = guardrails(json!({"max_prompt_tokens": 100}));
    let err = g
        .check_input(&mut user(&"x".repeat(400)))
        .expect_err("104 tokens");
    assert_eq!(
        err.message,
        "guardrails blocked the request: the prompt is about 104 tokens (estimated), more than 100 (max_prompt_tokens)"
    );
    assert!(g.check_input(&mut user(&"x".repeat(384))).is_ok());
}

#[test]
fn config_errors_name_the_field() {
    let err = config_error(json!({"blocked_patterns": [
        {"name": "ok", "pattern": "fine"},
        {"name": "bad", "pattern": "(?i)project\\s+(falcon"}
    ]}));
    assert_eq!(err.kind, ErrorKind::Config);
    assert_eq!(
        err.param.as_deref(),
        Some("guardrails.blocked_patterns[1].pattern")
    );
    assert_eq!(
        err.message,
        "guardrails.blocked_patterns[1].pattern is not a valid regex: unclosed group in `(?i)project\\s+(falcon`"
    );

    let err = config_error(json!({"pii": {"kinds": []}}));
    assert_eq!(err.param.as_deref(), Some("guardrails.pii.kinds"));
    assert_eq!(
        err.message,
        "guardrails.pii.kinds is empty; list some of `email`, `phone`, `card`, `iban`, `api_key` (or remove `pii`)"
    );

    let err = config_error(json!({"pii": {"on": []}}));
    assert_eq!(
        err.message,
        "guardrails.pii.on is empty; list `input`, `output` or both"
    );

    let err = config_error(json!({"max_prompt_tokens": 0}));
    assert_eq!(err.param.as_deref(), Some("guardrails.max_prompt_tokens"));

    // Shape errors come from serde, with the path under `guardrails` in a whole config.
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Wrapper {
        guardrails: GuardrailsConfig,
    }
    let shape = |v: Value| {
        let err = serde_path_to_error::deserialize::<_, Wrapper>(v).expect_err("bad shape");
        format!("{}: {}", err.path(), err.inner())
    };
    assert_eq!(
        shape(json!({"guardrails": {"pii": {"overrides": {"email": "mask"}}}})),
        "guardrails.pii.overrides.email: unknown variant `mask`, expected one of `block`, `redact`, `flag`"
    );
    assert_eq!(
        shape(json!({"guardrails": {"blocked_patterns": [{"name": "a", "pattern": "b", "on": ["both"]}]}})),
        "guardrails.blocked_patterns[0].on[0]: unknown variant `both`, expected `input` or `output`"
    );
    assert_eq!(
        shape(json!({"guardrails": {"pii": {"kind": ["email"]}}})),
        "guardrails.pii.kind: unknown field `kind`, expected one of `mode`, `on`, `kinds`, `overrides`"
    );
}

#[test]
fn output_checks_answers_and_stream_text() {
    let g = guardrails(
        json!({"pii": {"on": ["output"], "kinds": ["email", "api_key"],
                                       "overrides": {"api_key": "block"}}}),
    );
    assert!(g.checks_output());
    // Input is not checked.
    let mut req = user("a@example.com");
    assert_eq!(g.check_input(&mut req).expect("input off"), []);
    assert_eq!(content(&req, 0), "a@example.com");

    let mut resp: ChatResponse = from_json_value(json!({
        "id": "r1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Reach me at b@example.com"}, "finish_reason": "stop"},
            {"index": 1, "message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "t", "type": "function", "function": {"name": "mail", "arguments": "{\"to\":\"c@example.com\"}"}}
            ]}, "finish_reason": "tool_calls"}
        ]
    }))
    .expect("response");
    let findings = g.check_output(&mut resp).expect("redacts");
    assert_eq!(resp.text(), Some("Reach me at [REDACTED:EMAIL]"));
    let args = &resp.choices[1].message.tool_calls.as_ref().expect("calls")[0]
        .function
        .arguments;
    assert_eq!(args, "{\"to\":\"[REDACTED:EMAIL]\"}");
    let locations: Vec<&str> = findings.iter().map(|f| f.location.as_str()).collect();
    assert_eq!(
        locations,
        [
            "choices[0].message.content",
            "choices[1].message.tool_calls[0].function.arguments"
        ]
    );

    // A stream's text already reached the caller: redact rules are reported as flags.
    let findings = g
        .check_output_text("write to d@example.com")
        .expect("reports");
    assert_eq!(
        findings,
        [Finding {
            rule: "pii_email".into(),
            stage: Stage::Output,
            action: Action::Flag,
            location: "content".into(),
            span: 9..22,
        }]
    );
    let err = g
        .check_output_text("your key is AKIAIOSFODNN7EXAMPLE")
        .expect_err("blocks");
    assert_eq!(err.code.as_deref(), Some("pii_api_key"));
    assert_eq!(err.param.as_deref(), Some("content"));
    assert_eq!(
        err.message,
        "guardrails blocked the answer: an API key or secret token found in content"
    );
}

/// A host hook written in Rust: answers from a script and records what it saw.
#[derive(Debug)]
struct ScriptedHook {
    answer: Value,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl GuardrailHook for ScriptedHook {
    fn check(
        &self,
        event: HookEvent,
    ) -> BoxFuture<'static, Result<HookVerdict, switchpoint_core::Error>> {
        self.seen
            .lock()
            .expect("lock")
            .push(serde_json::to_value(&event).expect("event JSON"));
        let answer = self.answer.clone();
        // As a binding does: the host's JSON-like answer read by from_json.
        Box::pin(async move { HookVerdict::from_json(answer) })
    }
}

/// A hook that upper-cases the text it sees (a typed verdict, no JSON).
#[derive(Debug)]
struct Shout;

impl GuardrailHook for Shout {
    fn check(
        &self,
        event: HookEvent,
    ) -> BoxFuture<'static, Result<HookVerdict, switchpoint_core::Error>> {
        Box::pin(async move {
            Ok(match (event.messages, event.content) {
                (Some(mut messages), _) => {
                    for m in &mut messages {
                        *m = Message::text(m.role, m.text_content().to_uppercase());
                    }
                    HookVerdict::RewriteMessages(messages)
                }
                (None, Some(text)) => HookVerdict::RewriteContent(text.to_uppercase()),
                (None, None) => HookVerdict::Allow,
            })
        })
    }
}

fn scripted(answer: Value) -> (Arc<dyn GuardrailHook>, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook = ScriptedHook {
        answer,
        seen: seen.clone(),
    };
    (Arc::new(hook), seen)
}

fn caller() -> HookCaller {
    HookCaller {
        model: "gpt-4o".into(),
        user: Some("u1".into()),
        key_id: Some("key-7".into()),
        tags: vec!["support".into()],
        ..HookCaller::default()
    }
}

#[tokio::test]
async fn hooks_allow_deny_and_rewrite_in_order() {
    // Allow: the request is untouched and the hook saw the messages and the caller.
    let (allow, seen) = scripted(json!({"action": "allow"}));
    let mut req = user("hello");
    run_hooks_input(&[allow], &mut req, &caller())
        .await
        .expect("allowed");
    assert_eq!(content(&req, 0), "hello");
    assert_eq!(
        seen.lock().expect("lock")[0],
        json!({"stage": "input", "messages": [{"role": "user", "content": "hello"}],
               "model": "gpt-4o", "user": "u1", "key_id": "key-7", "tags": ["support"],
               "metadata": {}})
    );

    // Rewrite then a second hook sees the rewritten messages.
    let (rewrite, _) = scripted(json!({"action": "rewrite", "messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}
    ]}));
    let (after, seen_after) = scripted(Value::Null);
    run_hooks_input(&[rewrite, after], &mut req, &caller())
        .await
        .expect("rewritten");
    assert_eq!(req.messages.len(), 2);
    assert_eq!(content(&req, 0), "Be brief.");
    assert_eq!(
        seen_after.lock().expect("lock")[0]["messages"][0]["content"],
        "Be brief."
    );

    // Deny stops the chain: the hook after it never runs.
    let (deny, _) = scripted(json!({"action": "deny", "reason": "off-topic request"}));
    let (never, never_seen) = scripted(json!(true));
    let err = run_hooks_input(&[deny, never], &mut req, &caller())
        .await
        .expect_err("denied");
    assert_eq!(err.kind, ErrorKind::PolicyDenied);
    assert_eq!(err.code.as_deref(), Some("guardrail_hook"));
    assert_eq!(
        err.message,
        "a guardrail hook denied the request: off-topic request"
    );
    assert!(never_seen.lock().expect("lock").is_empty());

    // Typed verdicts from a Rust hook.
    let shout: Arc<dyn GuardrailHook> = Arc::new(Shout);
    run_hooks_input(&[shout], &mut req, &caller())
        .await
        .expect("rewritten");
    assert_eq!(content(&req, 1), "HELLO");
}

#[tokio::test]
async fn output_hooks_see_the_text_and_may_rewrite_or_deny() {
    let shout: Arc<dyn GuardrailHook> = Arc::new(Shout);
    let (recorder, seen) = scripted(json!(true));
    let mut text = "all good".to_string();
    run_hooks_output(&[shout.clone(), recorder], &mut text, &caller())
        .await
        .expect("rewritten");
    assert_eq!(text, "ALL GOOD");
    assert_eq!(
        seen.lock().expect("lock")[0],
        json!({"stage": "output", "content": "ALL GOOD", "model": "gpt-4o", "user": "u1",
               "key_id": "key-7", "tags": ["support"], "metadata": {}})
    );

    let mut resp = answer("fine");
    run_hooks_response(&[shout], &mut resp, &caller())
        .await
        .expect("rewritten");
    assert_eq!(resp.text(), Some("FINE"));

    let (deny, _) = scripted(json!(false));
    let err = run_hooks_output(&[deny], &mut text, &caller())
        .await
        .expect_err("denied");
    assert_eq!(
        err.message,
        "a guardrail hook denied the answer: no reason given"
    );
}

#[tokio::test]
async fn hooks_that_rewrite_the_wrong_side_are_config_errors() {
    let (content_hook, _) = scripted(json!({"action": "rewrite", "content": "x"}));
    let err = run_hooks_input(&[content_hook], &mut user("hi"), &caller())
        .await
        .expect_err("wrong side");
    assert_eq!(err.kind, ErrorKind::Config);
    assert_eq!(err.code.as_deref(), Some("guardrail_hook_invalid"));
    assert_eq!(
        err.message,
        "guardrail hook 0 answered a rewrite with `content` for a request; rewrite requests with `messages`"
    );

    let (empty, _) = scripted(json!({"action": "rewrite", "messages": []}));
    let err = run_hooks_input(&[empty], &mut user("hi"), &caller())
        .await
        .expect_err("empty");
    assert_eq!(
        err.message,
        "guardrail hook 0 rewrote the request to no messages"
    );

    let (messages_hook, _) =
        scripted(json!({"action": "rewrite", "messages": [{"role": "user", "content": "x"}]}));
    let err = run_hooks_output(&[messages_hook], &mut "t".to_string(), &caller())
        .await
        .expect_err("wrong side");
    assert_eq!(
        err.message,
        "guardrail hook 0 answered a rewrite with `messages` for an answer; rewrite answers with `content`"
    );
}

/// Not a timing assertion: prints what one input check of a ~2 KB prompt costs with every
/// PII kind and two patterns on (run with --nocapture).
#[test]
fn scanning_a_2kb_prompt_costs_microseconds() {
    let g = guardrails(json!({
        "pii": {"mode": "redact"},
        "blocked_patterns": [
            {"name": "codename", "pattern": "(?i)project\\s+falcon"},
            {"name": "ticket", "pattern": "TCK-[0-9]+", "mode": "flag"}
        ]
    }));
    let clean = "The quarterly report covers revenue, churn and the roadmap for 2025; \
                 version 1.2.3 shipped on 2024-03-15 with 42 fixes. ";
    let mut prompt = String::new();
    while prompt.len() < 2048 {
        prompt.push_str(clean);
    }
    let with_pii = format!("{prompt} Mail ann@example.com or call +1 (415) 555-0132.");
    for (label, text) in [("clean", prompt.as_str()), ("with PII", with_pii.as_str())] {
        let req = user(text);
        let runs = 2000u32;
        let start = Instant::now();
        for _ in 0..runs {
            let mut r = req.clone();
            let _ = g.check_input(&mut r).expect("passes");
        }
        let per = start.elapsed() / runs;
        println!(
            "guardrails: {label} {} B prompt, all PII kinds + 2 patterns: {per:?} per check_input (debug build, includes a request clone)",
            text.len()
        );
    }
}
