//! The shared-scenario player (tests/scenarios/README.md): the Rust runner, also used by the
//! secrets audit, which plays every scenario with its config changed and its outputs kept.

use futures_util::StreamExt;
use mock_provider::MockServer;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use switchpoint_core::api::responses::{ResponseStreamEvent, ResponsesRequest};
use switchpoint_core::api::{from_json_value, ChatRequest, EmbeddingRequest, StreamAccumulator};
use switchpoint_core::telemetry::GroupBy;
use switchpoint_core::{Error, Gateway, RequestContext};

pub fn scenario_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios")
}

/// The matching rule of tests/scenarios/README.md; returns the path of the first mismatch.
pub fn matches(expected: &Value, actual: Option<&Value>, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::String(s), Some(a)) if s == "<any>" && !a.is_null() => Ok(()),
        (Value::Null, None) | (Value::Null, Some(Value::Null)) => Ok(()),
        (Value::Object(e), Some(Value::Object(a))) => {
            for (k, v) in e {
                matches(v, a.get(k), &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Some(Value::Array(a))) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                matches(ev, Some(av), &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(e), Some(Value::Number(a))) => {
            let (e, a) = (
                e.as_f64().unwrap_or(f64::NAN),
                a.as_f64().unwrap_or(f64::NAN),
            );
            if (e - a).abs() <= 0.001 {
                Ok(())
            } else {
                Err(format!("{path}: expected {e}, got {a}"))
            }
        }
        (e, Some(a)) if e == a => Ok(()),
        (e, a) => Err(format!(
            "{path}: expected {e}, got {}",
            a.map_or("nothing".to_string(), Value::to_string)
        )),
    }
}

enum Outcome {
    Response(Value),
    Error(Error),
}

/// What a step produced: its outcome, how many chunks or events arrived, and (Responses
/// streams) the event types in order.
type Played = (Outcome, usize, Vec<String>);

/// A Responses call as tests/scenarios/README.md describes it: the Response with
/// `output_text` added (for a stream: the final event's Response, its `output_text` the
/// concatenated text deltas), the number of events and their types.
async fn responses_step(gw: &Gateway, request: Value, ctx: &RequestContext) -> Played {
    let req: ResponsesRequest = match from_json_value(request) {
        Ok(r) => r,
        Err(e) => return (Outcome::Error(e), 0, Vec::new()),
    };
    if req.stream != Some(true) {
        return match gw.responses(&req, ctx).await {
            Ok(r) => {
                let mut v = serde_json::to_value(&r).expect("serialize");
                v["output_text"] = Value::String(r.output_text());
                (Outcome::Response(v), 0, Vec::new())
            }
            Err(e) => (Outcome::Error(e), 0, Vec::new()),
        };
    }
    let mut stream = match gw.responses_stream(&req, ctx).await {
        Ok(s) => s,
        Err(e) => return (Outcome::Error(e), 0, Vec::new()),
    };
    let (mut types, mut text, mut last) = (Vec::new(), String::new(), None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => {
                types.push(event.event_type().to_string());
                if let ResponseStreamEvent::OutputTextDelta { delta, .. } = &event {
                    text.push_str(delta);
                }
                if let Some(r) = event.final_response() {
                    last = Some(serde_json::to_value(r).expect("serialize"));
                }
            }
            Err(e) => {
                let n = types.len();
                return (Outcome::Error(e), n, types);
            }
        }
    }
    let Some(mut v) = last else {
        let e = Error::new(
            switchpoint_core::ErrorKind::InvalidResponse,
            "the stream ended without a final Response",
        );
        let n = types.len();
        return (Outcome::Error(e), n, types);
    };
    v["output_text"] = Value::String(text);
    let n = types.len();
    (Outcome::Response(v), n, types)
}

/// The step's event types include `expected` in order (other events may come between).
fn has_in_order(expected: &Value, types: &[String]) -> Result<(), String> {
    let mut rest = types.iter();
    for e in expected.as_array().ok_or("events must be a list")? {
        let e = e.as_str().ok_or("events must be strings")?;
        if !rest.any(|t| t == e) {
            return Err(format!("expected event {e} (in order) among {types:?}"));
        }
    }
    Ok(())
}

async fn run_step(gw: &Gateway, step: &Value) -> Played {
    let call = step["call"].as_str().expect("step.call");
    let ctx: RequestContext = match step.get("context") {
        Some(c) => from_json_value(c.clone()).expect("valid context"),
        None => RequestContext::default(),
    };
    let request = step["request"].clone();
    if call == "responses" {
        return responses_step(gw, request, &ctx).await;
    }
    let actor = step["actor"].as_str().unwrap_or("scenario");
    if let Some(outcome) = admin_step(gw, call, request.clone(), actor).await {
        return (outcome, 0, Vec::new());
    }
    let (outcome, chunks) = chat_step(gw, call, request, &ctx).await;
    (outcome, chunks, Vec::new())
}

/// The admin calls of tests/scenarios/README.md ("Policy steps"); `None` for other calls.
async fn admin_step(gw: &Gateway, call: &str, request: Value, actor: &str) -> Option<Outcome> {
    fn out<T: serde::Serialize>(r: Result<T, Error>) -> Outcome {
        match r {
            Ok(v) => Outcome::Response(serde_json::to_value(v).expect("serialize")),
            Err(e) => Outcome::Error(e),
        }
    }
    let id = request["id"].as_str().unwrap_or("").to_string();
    Some(match call {
        "create_key" => match from_json_value(request) {
            Ok(spec) => out(gw.create_key(spec, actor).await),
            Err(e) => Outcome::Error(e),
        },
        "update_key" => out(gw.update_key(&id, request["patch"].clone(), actor).await),
        "revoke_key" => out(gw.revoke_key(&id, actor).await),
        "get_key" => out(gw.get_key(&id).await),
        "list_keys" => out(gw.list_keys().await),
        "audit" => {
            let since = request["since"].as_f64().unwrap_or(0.0);
            out(gw
                .audit(std::time::UNIX_EPOCH + Duration::from_secs_f64(since))
                .await)
        }
        "reload" => out(gw.reload_value(request, actor)),
        _ => return None,
    })
}

async fn chat_step(
    gw: &Gateway,
    call: &str,
    request: Value,
    ctx: &RequestContext,
) -> (Outcome, usize) {
    match call {
        "chat" => {
            let req: ChatRequest = match from_json_value(request) {
                Ok(r) => r,
                Err(e) => return (Outcome::Error(e), 0),
            };
            match gw.chat(&req, ctx).await {
                Ok(r) => (
                    Outcome::Response(serde_json::to_value(r).expect("serialize")),
                    0,
                ),
                Err(e) => (Outcome::Error(e), 0),
            }
        }
        "chat_stream" => {
            let req: ChatRequest = match from_json_value(request) {
                Ok(r) => r,
                Err(e) => return (Outcome::Error(e), 0),
            };
            let mut stream = match gw.chat_stream(&req, ctx).await {
                Ok(s) => s,
                Err(e) => return (Outcome::Error(e), 0),
            };
            let mut acc = StreamAccumulator::new();
            let mut count = 0;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(chunk) => {
                        count += 1;
                        acc.push(&chunk);
                    }
                    Err(e) => return (Outcome::Error(e), count),
                }
            }
            let mut resp = acc.finish();
            resp.switchpoint = Some(stream.facts().clone());
            (
                Outcome::Response(serde_json::to_value(resp).expect("serialize")),
                count,
            )
        }
        "embed" => {
            let req: EmbeddingRequest = match from_json_value(request) {
                Ok(r) => r,
                Err(e) => return (Outcome::Error(e), 0),
            };
            match gw.embed(&req, ctx).await {
                Ok(r) => (
                    Outcome::Response(serde_json::to_value(r).expect("serialize")),
                    0,
                ),
                Err(e) => (Outcome::Error(e), 0),
            }
        }
        "usage" => {
            let group_by = request["group_by"].as_str().unwrap_or("total");
            let group_by = GroupBy::parse(group_by).expect("usage.group_by");
            let since = request["since"].as_f64().unwrap_or(0.0);
            let since = std::time::UNIX_EPOCH + Duration::from_secs_f64(since);
            let rows = gw.usage(since, group_by);
            (
                Outcome::Response(serde_json::to_value(rows).expect("serialize")),
                0,
            )
        }
        other => panic!("unknown call `{other}`"),
    }
}

/// Changes a scenario's config, given the scenario's name.
pub type Tweak = dyn Fn(&str, &mut Value) + Sync;

/// What a caller of [`play`] may change and see.
#[derive(Default)]
pub struct Options<'a> {
    /// Changes each scenario's config (given the scenario's name) before its gateway is
    /// built, and the configs its `reload` steps swap in.
    pub tweak: Option<&'a Tweak>,
    /// Receives every step's outcome (response or error JSON; not the one answer that shows
    /// a key, `create_key`'s) and the gateway's metrics text.
    pub outputs: Option<&'a std::sync::Mutex<Vec<String>>>,
    /// Sees each scenario's gateway once built (to add observers).
    pub on_gateway: Option<&'a (dyn Fn(&Gateway) + Sync)>,
}

/// Every scenario file, sorted.
pub fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .expect("tests/scenarios exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Plays one scenario file; the number of steps, or the first failure.
pub async fn play(file: &PathBuf, mock: &MockServer, opts: &Options<'_>) -> Result<usize, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| e.to_string())?
        .replace("${MOCK_URL}", &mock.url());
    let scenario: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let mut config = scenario["config"].clone();
    let name = scenario["name"].as_str().unwrap_or("").to_string();
    if let Some(tweak) = opts.tweak {
        tweak(&name, &mut config);
    }
    let gw = Gateway::from_value(config).map_err(|e| format!("config: {e}"))?;
    for h in scenario["hooks"].as_array().into_iter().flatten() {
        gw.add_guardrail(std::sync::Arc::new(ScenarioHook(h.clone())));
    }
    if let Some(f) = opts.on_gateway {
        f(&gw);
    }
    let steps = scenario["steps"].as_array().ok_or("no steps")?;
    for (i, step) in steps.iter().enumerate() {
        let label = format!("step {i} ({})", step["name"].as_str().unwrap_or(""));
        mock.clear_log();
        mock.clear_script();
        if let Some(faults) = step.get("faults") {
            let faults = serde_json::from_value(faults.clone())
                .map_err(|e| format!("{label}: faults: {e}"))?;
            mock.push_script(faults);
        }
        let mut step = step.clone();
        if let (Some(tweak), "reload") = (opts.tweak, step["call"].as_str().unwrap_or("")) {
            tweak(&name, &mut step["request"]);
        }
        let (outcome, chunks, events) = run_step(&gw, &step).await;
        if let Some(out) = opts.outputs.filter(|_| step["call"] != "create_key") {
            let text = match &outcome {
                Outcome::Response(r) => r.to_string(),
                Outcome::Error(e) => {
                    format!("{} {e} {e:?}", serde_json::to_string(e).unwrap_or_default())
                }
            };
            out.lock().expect("outputs").push(text);
        }
        let expect = &step["expect"];
        match (&outcome, expect.get("response"), expect.get("error")) {
            (Outcome::Response(r), Some(e), None) => {
                matches(e, Some(r), "response").map_err(|m| format!("{label}: {m}"))?
            }
            (Outcome::Error(err), None, Some(e)) => {
                let actual = serde_json::to_value(err).expect("serialize");
                matches(e, Some(&actual), "error")
                    .map_err(|m| format!("{label}: {m} (error was: {err})"))?
            }
            (Outcome::Response(r), _, Some(_)) => {
                return Err(format!("{label}: expected an error, got {r}"))
            }
            (Outcome::Error(err), Some(_), _) => {
                return Err(format!("{label}: expected a response, got error {err}"))
            }
            _ => {
                return Err(format!(
                    "{label}: expect needs exactly one of response or error"
                ))
            }
        }
        if let Some(min) = expect
            .get("chunks")
            .and_then(|c| c.get("min"))
            .and_then(Value::as_u64)
        {
            if (chunks as u64) < min {
                return Err(format!(
                    "{label}: expected at least {min} chunks, got {chunks}"
                ));
            }
        }
        if let Some(types) = expect.get("events") {
            has_in_order(types, &events).map_err(|m| format!("{label}: {m}"))?;
        }
        if let Some(up) = expect.get("upstream") {
            let log = serde_json::to_value(mock.log()).expect("log");
            let last = log.as_array().and_then(|l| l.last()).cloned();
            matches(up, last.as_ref(), "upstream").map_err(|m| format!("{label}: {m}"))?;
        }
    }
    if let Some(out) = opts.outputs {
        out.lock().expect("outputs").push(gw.metrics_text());
    }
    Ok(steps.len())
}

/// A `hooks` entry of a scenario as a Rust guardrail (tests/scenarios/README.md).
#[derive(Debug)]
struct ScenarioHook(Value);

impl switchpoint_core::policy::guardrails::GuardrailHook for ScenarioHook {
    fn check(
        &self,
        event: switchpoint_core::policy::guardrails::HookEvent,
    ) -> futures_util::future::BoxFuture<
        'static,
        Result<switchpoint_core::policy::guardrails::HookVerdict, Error>,
    > {
        let event = serde_json::to_value(&event).expect("event");
        let answer = scenario_hook_answer(&self.0, &event);
        Box::pin(
            async move { switchpoint_core::policy::guardrails::HookVerdict::from_json(answer) },
        )
    }
}

/// What a scenario hook answers an event (the same rules every runner implements).
pub fn scenario_hook_answer(hook: &Value, event: &Value) -> Value {
    let input = event["stage"] == "input";
    if let Some(needle) = hook["deny_if_contains"].as_str() {
        let hit = if input {
            event["messages"].to_string().contains(needle)
        } else {
            event["content"].as_str().unwrap_or("").contains(needle)
        };
        if hit {
            return serde_json::json!({"action": "deny", "reason": hook["reason"]});
        }
    }
    if let Some([from, to]) = hook["replace"].as_array().map(Vec::as_slice) {
        let (from, to) = (from.as_str().unwrap_or(""), to.as_str().unwrap_or(""));
        if input {
            let mut messages = event["messages"].clone();
            let mut changed = false;
            for m in messages.as_array_mut().into_iter().flatten() {
                if let Some(text) = m["content"].as_str().filter(|t| t.contains(from)) {
                    m["content"] = Value::String(text.replace(from, to));
                    changed = true;
                }
            }
            if changed {
                return serde_json::json!({"action": "rewrite", "messages": messages});
            }
        } else if let Some(text) = event["content"].as_str().filter(|t| t.contains(from)) {
            return serde_json::json!({"action": "rewrite", "content": text.replace(from, to)});
        }
    }
    serde_json::json!({"action": "allow"})
}
