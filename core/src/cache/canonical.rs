//! The canonical form of a request written straight from its typed fields, without building
//! a JSON tree first (the cache-hit path computes one key per request). It produces exactly
//! the bytes of [`super::key::canonical_request`] + [`super::key::write_canonical`] (a test
//! checks both on many requests); the normalizations are documented in [`super::key`].

use super::key::{write_canonical, write_json_str as write_str, write_number_f64};
use crate::api::{
    ChatRequest, Content, ContentPart, JsonMap, Message, ResponseFormat, Stop, Tool, ToolCall,
    ToolChoice, ToolChoiceMode,
};
use serde_json::Value;
use smallvec::{smallvec, SmallVec};

/// One field to write: its key and how to write its value.
enum Field<'a> {
    Messages(&'a [Message]),
    Tools(&'a [Tool]),
    ToolChoice(&'a ToolChoice),
    Bool(bool),
    F64(f64),
    U64(u64),
    I64(i64),
    Stop(&'a Stop),
    Format(&'a ResponseFormat),
    Value(&'a Value),
    Map(&'a JsonMap),
}

/// Fields never hashed (see the key module doc); typed ones are skipped by name below.
const DROPPED_EXTRA: [&str; 3] = ["store", "prompt_cache_key", "safety_identifier"];

/// Writes the request's canonical JSON; without `messages` when `with_messages` is false.
pub fn write_request(req: &ChatRequest, with_messages: bool, out: &mut Vec<u8>) {
    // On the stack for any usual request: a hit computes one key, and each heap block here
    // was a visible share of it.
    let mut f: SmallVec<[(&str, Field<'_>); 16]> = SmallVec::new();
    if with_messages {
        f.push(("messages", Field::Messages(&req.messages)));
    }
    let tools = req.tools.as_deref().filter(|t| !t.is_empty());
    if let Some(t) = tools {
        f.push(("tools", Field::Tools(t)));
        if let Some(c) = &req.tool_choice {
            f.push(("tool_choice", Field::ToolChoice(c)));
        }
        if let Some(p) = req.parallel_tool_calls {
            f.push(("parallel_tool_calls", Field::Bool(p)));
        }
    }
    // Non-finite numbers serialize as null in the tree path, and nulls are dropped.
    if let Some(t) = req.temperature.filter(|x| x.is_finite()) {
        f.push(("temperature", Field::F64(t)));
    }
    if let Some(t) = req.top_p.filter(|x| x.is_finite()) {
        f.push(("top_p", Field::F64(t)));
    }
    if let Some(m) = req.max_output_tokens() {
        f.push(("max_completion_tokens", Field::U64(u64::from(m))));
    }
    match &req.stop {
        Some(Stop::Many(v)) if v.is_empty() => {}
        Some(s) => f.push(("stop", Field::Stop(s))),
        None => {}
    }
    if let Some(n) = req.n.filter(|n| *n != 1) {
        f.push(("n", Field::U64(u64::from(n))));
    }
    if let Some(s) = req.seed {
        f.push(("seed", Field::I64(s)));
    }
    if let Some(p) = req.presence_penalty.filter(|p| *p != 0.0 && p.is_finite()) {
        f.push(("presence_penalty", Field::F64(p)));
    }
    if let Some(p) = req.frequency_penalty.filter(|p| *p != 0.0 && p.is_finite()) {
        f.push(("frequency_penalty", Field::F64(p)));
    }
    match &req.response_format {
        Some(ResponseFormat::Text) | None => {}
        Some(r) => f.push(("response_format", Field::Format(r))),
    }
    if let Some(m) = req.extra_body.as_ref().filter(|m| !m.is_empty()) {
        f.push(("extra_body", Field::Map(m)));
    }
    for (k, v) in &req.extra {
        let skip = v.is_null()
            || DROPPED_EXTRA.contains(&k.as_str())
            || (k == "logprobs" && *v == Value::Bool(false));
        if !skip {
            f.push((k.as_str(), Field::Value(v)));
        }
    }
    f.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push(b'{');
    for (i, (k, v)) in f.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(k, out);
        out.push(b':');
        write_field(v, out);
    }
    out.push(b'}');
}

fn write_field(f: &Field<'_>, out: &mut Vec<u8>) {
    match f {
        Field::Messages(m) => array(m, out, write_message),
        Field::Tools(t) => array(t, out, write_tool),
        Field::ToolChoice(c) => write_tool_choice(c, out),
        Field::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Field::F64(x) => write_number_f64(*x, out),
        Field::U64(n) => write_int(*n, out),
        Field::I64(n) => write_int(*n, out),
        Field::Stop(s) => match s {
            Stop::One(s) => {
                out.push(b'[');
                write_str(s, out);
                out.push(b']');
            }
            Stop::Many(v) => array(v, out, |s, o| write_str(s, o)),
        },
        Field::Format(r) => write_format(r, out),
        Field::Value(v) => write_canonical(v, out),
        Field::Map(m) => write_map(m, out),
    }
}

fn write_int(n: impl std::fmt::Display, out: &mut Vec<u8>) {
    use std::io::Write as _;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{n}");
}

fn array<T>(items: &[T], out: &mut Vec<u8>, mut each: impl FnMut(&T, &mut Vec<u8>)) {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(x, out);
    }
    out.push(b']');
}

/// An object of typed entries (already in sorted key order among themselves) merged with
/// the non-null entries of `extra`, all in sorted key order.
fn object<'a>(
    typed: &mut Entries<'a>,
    extra: Option<&'a JsonMap>,
    drop_nulls: bool,
    out: &mut Vec<u8>,
) {
    debug_assert!(
        typed.windows(2).all(|w| w[0].0 < w[1].0),
        "typed entries unsorted"
    );
    let typed_len = typed.len();
    if let Some(m) = extra {
        for (k, v) in m {
            if !(drop_nulls && v.is_null()) {
                typed.push((k.as_str(), Entry::Value(v)));
            }
        }
    }
    // The typed entries come sorted; only extras need merging in.
    if typed.len() > typed_len {
        typed.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    out.push(b'{');
    for (i, (k, v)) in typed.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(k, out);
        out.push(b':');
        match v {
            Entry::Str(s) => write_str(s, out),
            Entry::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Entry::Value(v) => write_canonical(v, out),
            Entry::Raw(f) => f(out),
        }
    }
    out.push(b'}');
}

/// Writes one nested value.
type Writer<'a> = &'a dyn Fn(&mut Vec<u8>);

/// An object's entries, on the stack up to eight (every typed object here has fewer).
type Entries<'a> = SmallVec<[(&'a str, Entry<'a>); 8]>;

enum Entry<'a> {
    Str(&'a str),
    Bool(bool),
    Value(&'a Value),
    Raw(Writer<'a>),
}

fn write_map(m: &JsonMap, out: &mut Vec<u8>) {
    object(&mut Entries::new(), Some(m), false, out);
}

fn write_message(m: &Message, out: &mut Vec<u8>) {
    let content = m
        .content
        .as_ref()
        .map(|c| move |o: &mut Vec<u8>| write_content(c, o));
    let calls = m
        .tool_calls
        .as_ref()
        .map(|calls| move |o: &mut Vec<u8>| array(calls, o, write_tool_call));
    let mut e = Entries::new();
    if let Some(c) = &content {
        e.push(("content", Entry::Raw(c)));
    }
    if let Some(n) = &m.name {
        e.push(("name", Entry::Str(n)));
    }
    if let Some(r) = &m.refusal {
        e.push(("refusal", Entry::Str(r)));
    }
    e.push(("role", Entry::Str(m.role.as_str())));
    if let Some(id) = &m.tool_call_id {
        e.push(("tool_call_id", Entry::Str(id)));
    }
    if let Some(c) = &calls {
        e.push(("tool_calls", Entry::Raw(c)));
    }
    object(&mut e, Some(&m.extra), true, out);
}

fn write_content(c: &Content, out: &mut Vec<u8>) {
    match c {
        Content::Text(t) => write_str(t, out),
        Content::Parts(parts) => match parts.as_slice() {
            [ContentPart::Text { text }] => write_str(text, out),
            _ => array(parts, out, write_part),
        },
    }
}

fn write_part(p: &ContentPart, out: &mut Vec<u8>) {
    match p {
        ContentPart::Text { text } => {
            let mut e: Entries<'_> =
                smallvec![("text", Entry::Str(text)), ("type", Entry::Str("text"))];
            object(&mut e, None, false, out);
        }
        ContentPart::ImageUrl { image_url } => {
            let inner = move |o: &mut Vec<u8>| {
                let mut e = Entries::new();
                if let Some(d) = &image_url.detail {
                    e.push(("detail", Entry::Str(d)));
                }
                e.push(("url", Entry::Str(&image_url.url)));
                object(&mut e, None, false, o);
            };
            let mut e: Entries<'_> = smallvec![
                ("image_url", Entry::Raw(&inner)),
                ("type", Entry::Str("image_url")),
            ];
            object(&mut e, None, false, out);
        }
        ContentPart::Other(m) => write_map(m, out),
    }
}

fn write_tool_call(t: &ToolCall, out: &mut Vec<u8>) {
    let func = move |o: &mut Vec<u8>| {
        let mut e: Entries<'_> = smallvec![
            ("arguments", Entry::Str(&t.function.arguments)),
            ("name", Entry::Str(&t.function.name)),
        ];
        object(&mut e, None, false, o);
    };
    let mut e: Entries<'_> = smallvec![
        ("function", Entry::Raw(&func)),
        ("id", Entry::Str(&t.id)),
        ("type", Entry::Str("function")),
    ];
    object(&mut e, Some(&t.extra), false, out);
}

fn write_tool(t: &Tool, out: &mut Vec<u8>) {
    let f = &t.function;
    let func = move |o: &mut Vec<u8>| {
        let mut e = Entries::new();
        if let Some(d) = &f.description {
            e.push(("description", Entry::Str(d)));
        }
        e.push(("name", Entry::Str(&f.name)));
        if let Some(p) = &f.parameters {
            e.push(("parameters", Entry::Value(p)));
        }
        if let Some(s) = f.strict {
            e.push(("strict", Entry::Bool(s)));
        }
        object(&mut e, None, false, o);
    };
    let mut e: Entries<'_> = smallvec![
        ("function", Entry::Raw(&func)),
        ("type", Entry::Str("function")),
    ];
    object(&mut e, None, false, out);
}

fn write_tool_choice(c: &ToolChoice, out: &mut Vec<u8>) {
    match c {
        ToolChoice::Mode(m) => write_str(
            match m {
                ToolChoiceMode::None => "none",
                ToolChoiceMode::Auto => "auto",
                ToolChoiceMode::Required => "required",
            },
            out,
        ),
        ToolChoice::Named(n) => {
            let name = n.function.name.as_str();
            let func = move |o: &mut Vec<u8>| {
                let mut e: Entries<'_> = smallvec![("name", Entry::Str(name))];
                object(&mut e, None, false, o);
            };
            let mut e: Entries<'_> = smallvec![
                ("function", Entry::Raw(&func)),
                ("type", Entry::Str("function")),
            ];
            object(&mut e, None, false, out);
        }
    }
}

fn write_format(r: &ResponseFormat, out: &mut Vec<u8>) {
    match r {
        ResponseFormat::Text => {
            let mut e: Entries<'_> = smallvec![("type", Entry::Str("text"))];
            object(&mut e, None, false, out);
        }
        ResponseFormat::JsonObject => {
            let mut e: Entries<'_> = smallvec![("type", Entry::Str("json_object"))];
            object(&mut e, None, false, out);
        }
        ResponseFormat::JsonSchema { json_schema: s } => {
            let inner = move |o: &mut Vec<u8>| {
                let mut e = Entries::new();
                if let Some(d) = &s.description {
                    e.push(("description", Entry::Str(d)));
                }
                e.push(("name", Entry::Str(&s.name)));
                if let Some(v) = &s.schema {
                    e.push(("schema", Entry::Value(v)));
                }
                if let Some(b) = s.strict {
                    e.push(("strict", Entry::Bool(b)));
                }
                object(&mut e, None, false, o);
            };
            let mut e: Entries<'_> = smallvec![
                ("json_schema", Entry::Raw(&inner)),
                ("type", Entry::Str("json_schema")),
            ];
            object(&mut e, None, false, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::from_json_value;
    use crate::cache::key::canonical_request;
    use serde_json::json;

    #[test]
    fn writes_exactly_what_the_json_tree_path_writes() {
        let cases = [
            json!({"model":"m","messages":[{"role":"user","content":"hi"}]}),
            json!({"model":"m","temperature":1,"top_p":0.5,"n":2,"seed":-3,"max_tokens":9,"stop":"x",
                   "presence_penalty":0.25,"frequency_penalty":0,"logprobs":true,"top_logprobs":2,
                   "reasoning_effort":"low","store":true,"user":"u","metadata":{"a":"b"},"stream":true,
                   "messages":[{"role":"system","content":"be brief","name":"sys"},
                               {"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}},{"type":"input_audio","input_audio":{"data":"AAA=","format":"wav"}}]},
                               {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"},"extra_content":{"k":1.0}}]},
                               {"role":"tool","tool_call_id":"c1","content":"42","cache_control":{"type":"ephemeral"},"z":null}]}),
            json!({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"only"}]}],
                   "tools":[{"type":"function","function":{"name":"f","description":"d","strict":true,"parameters":{"type":"object","properties":{"b":{"type":"number","minimum":1.0},"a":{"type":"string"}}}}}],
                   "tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false,
                   "response_format":{"type":"json_schema","json_schema":{"name":"s","strict":true,"schema":{"type":"object"}}},
                   "extra_body":{"top_k":3,"safety":null},"stop":[]}),
            json!({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[],"tool_choice":"auto","response_format":{"type":"text"},"extra_body":{}}),
            json!({"model":"m","messages":[{"role":"user","content":"a \"quoted\" line\nand\ttab \\ back\u{1} ✓ over eight bytes","name":"n\"1"}],
                   "stop":["\n\n", "END\""],"extra_body":{"k\"ey":"v\u{1f}"}}),
            json!({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"},"tool_choice":"none","tools":[{"type":"function","function":{"name":"g"}}],"stop":["a","b"],"max_completion_tokens":5,"max_tokens":7}),
        ];
        for c in cases {
            let req: ChatRequest = from_json_value(c.clone()).expect("request");
            let mut tree = Vec::new();
            write_canonical(&canonical_request(&req), &mut tree);
            let mut direct = Vec::new();
            write_request(&req, true, &mut direct);
            assert_eq!(
                String::from_utf8_lossy(&direct),
                String::from_utf8_lossy(&tree),
                "{c}"
            );
        }
    }
}
