//! Google Gemini generateContent: reading the request, writing the response and its
//! `alt=sse` stream.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use crate::convo::{
    join_texts, word_count, word_pieces, Conversation, Last, Output, Plan, ToolDef, ToolMode, Usage,
};
use crate::sse::Event;

/// Facts of one answer shared by the body and the stream.
#[derive(Debug)]
pub(crate) struct Reply<'a> {
    pub model: &'a str,
    pub seq: u64,
    pub tool_ids: &'a AtomicU64,
}

fn parts(content: &Value) -> &[Value] {
    content
        .get("parts")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Text of a Content: its text parts joined by a space.
pub(crate) fn content_text(content: &Value) -> String {
    join_texts(
        parts(content)
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str)),
    )
}

fn function_responses(content: &Value) -> Vec<String> {
    parts(content)
        .iter()
        .filter_map(|p| p.get("functionResponse"))
        .map(|r| match r.get("response") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        })
        .collect()
}

/// Reads the conversation from a generateContent body; `Err` is the message Google would send.
pub(crate) fn conversation(body: &Value) -> Result<Conversation, String> {
    let Some(contents) = body.get("contents").and_then(Value::as_array) else {
        return Err("* GenerateContentRequest.contents: contents is not specified\n".into());
    };
    let system = body
        .get("systemInstruction")
        .or_else(|| body.get("system_instruction"));
    let mut prompt_words = system.map_or(0, |s| word_count(&content_text(s)));
    let mut user_text = String::new();
    let is_user = |c: &Value| c.get("role").and_then(Value::as_str).unwrap_or("user") == "user";
    for content in contents {
        let text = content_text(content);
        prompt_words += word_count(&text);
        prompt_words += function_responses(content)
            .iter()
            .map(|t| word_count(t))
            .sum::<u64>();
        if is_user(content) && !text.is_empty() {
            user_text = text;
        }
    }
    let last = match contents.last() {
        Some(c) => match function_responses(c).pop() {
            Some(result) => Last::ToolResult(result),
            None if is_user(c) => Last::User,
            None => Last::Other,
        },
        None => Last::Other,
    };
    let config = body
        .get("toolConfig")
        .and_then(|t| t.get("functionCallingConfig"));
    let allowed: Option<Vec<&str>> = config
        .and_then(|c| c.get("allowedFunctionNames"))
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect());
    let mut tools: Vec<ToolDef> = body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("functionDeclarations").and_then(Value::as_array))
        .flatten()
        .map(|f| ToolDef {
            name: f
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            schema: f
                .get("parameters")
                .or_else(|| f.get("parametersJsonSchema"))
                .cloned()
                .unwrap_or(Value::Null),
        })
        .collect();
    if let Some(allowed) = &allowed {
        tools.retain(|t| allowed.contains(&t.name.as_str()));
    }
    let mode = match config.and_then(|c| c.get("mode")).and_then(Value::as_str) {
        Some("NONE") => ToolMode::None,
        Some("ANY") => ToolMode::Required,
        _ => ToolMode::Auto,
    };
    let generation = body.get("generationConfig");
    Ok(Conversation {
        last,
        user_text,
        prompt_words,
        tools,
        mode,
        cap: generation
            .and_then(|g| g.get("maxOutputTokens"))
            .and_then(Value::as_u64),
    })
}

/// `candidateCount`: how many identical candidates to send.
pub(crate) fn candidate_count(body: &Value) -> u64 {
    body.get("generationConfig")
        .and_then(|g| g.get("candidateCount"))
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 8)
}

fn finish_reason(output: &Output) -> &'static str {
    match output {
        Output::Text {
            truncated: true, ..
        } => "MAX_TOKENS",
        _ => "STOP",
    }
}

/// Gemini usage: the prompt count includes cached tokens; thoughts are counted apart.
fn usage(u: &Usage, candidates_tokens: u64) -> Value {
    let prompt = u.prompt + u.cached;
    let mut value = json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates_tokens,
        "totalTokenCount": prompt + candidates_tokens + u.reasoning,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]
    });
    if u.cached > 0 {
        value["cachedContentTokenCount"] = Value::from(u.cached);
    }
    if u.reasoning > 0 {
        value["thoughtsTokenCount"] = Value::from(u.reasoning);
    }
    value
}

fn envelope(reply: &Reply<'_>, candidates: Option<Value>, usage: Option<Value>) -> Value {
    let mut value =
        json!({"modelVersion": reply.model, "responseId": format!("mock-{}", reply.seq)});
    if let Some(candidates) = candidates {
        value["candidates"] = candidates;
    }
    if let Some(usage) = usage {
        value["usageMetadata"] = usage;
    }
    value
}

/// The answer to a prompt the safety filter blocks: no candidates, a prompt feedback.
fn blocked(plan: &Plan, reply: &Reply<'_>) -> Value {
    let prompt = plan.usage.prompt + plan.usage.cached;
    let mut value = envelope(
        reply,
        None,
        Some(json!({"promptTokenCount": prompt, "totalTokenCount": prompt})),
    );
    value["promptFeedback"] = json!({
        "blockReason": "SAFETY",
        "safetyRatings": [
            {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
            {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}
        ]
    });
    value
}

fn candidates(count: u64, parts: &Value, finish: Option<&str>) -> Value {
    (0..count)
        .map(|index| {
            let mut candidate =
                json!({"content": {"parts": parts, "role": "model"}, "index": index});
            if let Some(finish) = finish {
                candidate["finishReason"] = Value::from(finish);
            }
            candidate
        })
        .collect()
}

fn call_parts(plan: &Plan, reply: &Reply<'_>) -> Value {
    match &plan.output {
        Output::Tools(calls) => calls
            .iter()
            .map(|c| {
                let id = reply.tool_ids.fetch_add(1, Ordering::Relaxed) + 1;
                json!({"functionCall": {"id": format!("call_mock_{id}"), "name": c.name, "args": c.arguments}})
            })
            .collect(),
        _ => json!([]),
    }
}

/// The non-stream GenerateContentResponse.
pub(crate) fn response(plan: &Plan, count: u64, reply: &Reply<'_>) -> Value {
    let parts = match &plan.output {
        Output::Filtered => return blocked(plan, reply),
        Output::Text { text, .. } => json!([{"text": text}]),
        Output::Tools(_) => call_parts(plan, reply),
    };
    envelope(
        reply,
        Some(candidates(count, &parts, Some(finish_reason(&plan.output)))),
        Some(usage(&plan.usage, plan.usage.completion * count)),
    )
}

/// The `data:` events of a streamed answer: one per word, each with the usage so far; the
/// last carries `finishReason` (tool calls come whole in one event, as Gemini sends them).
pub(crate) fn stream(plan: &Plan, count: u64, reply: &Reply<'_>) -> Vec<Event> {
    let text = match &plan.output {
        Output::Filtered => return vec![Event::data(&blocked(plan, reply), false)],
        Output::Tools(_) => {
            let parts = call_parts(plan, reply);
            let body = envelope(
                reply,
                Some(candidates(count, &parts, Some("STOP"))),
                Some(usage(&plan.usage, plan.usage.completion * count)),
            );
            return vec![Event::data(&body, false)];
        }
        Output::Text { text, .. } => text,
    };
    let pieces = word_pieces(text);
    let total = pieces.len().max(1);
    let mut events = Vec::with_capacity(total);
    let mut words_so_far = 0;
    for i in 0..total {
        let piece = pieces.get(i).copied().unwrap_or("");
        words_so_far += word_count(piece);
        let last = i + 1 == total;
        let finish = last.then(|| finish_reason(&plan.output));
        let body = envelope(
            reply,
            Some(candidates(count, &json!([{"text": piece}]), finish)),
            Some(usage(&plan.usage, words_so_far * count)),
        );
        // The final event is the end marker, so a cut never sends it.
        events.push(Event::data(&body, !last));
    }
    events
}
