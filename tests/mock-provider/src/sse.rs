//! Server-sent events: how each event is written, and how faults reshape a stream
//! (pacing, a malformed event, a cut before the end).

use bytes::Bytes;
use serde_json::Value;

use crate::fault::Fault;

/// One SSE event of a planned stream.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Event {
    /// The `event:` line (Anthropic names every event; OpenAI and Gemini send none).
    pub name: Option<&'static str>,
    pub data: String,
    /// A content event (text or tool-argument piece): what `cut_after` counts.
    pub content: bool,
}

impl Event {
    /// A `data:`-only event holding JSON.
    pub(crate) fn data(value: &Value, content: bool) -> Event {
        Event {
            name: None,
            data: value.to_string(),
            content,
        }
    }

    /// An event with an `event:` line.
    pub(crate) fn named(name: &'static str, value: &Value, content: bool) -> Event {
        Event {
            name: Some(name),
            data: value.to_string(),
            content,
        }
    }

    /// A raw `data:` payload such as OpenAI's `[DONE]`.
    pub(crate) fn raw(data: &str) -> Event {
        Event {
            name: None,
            data: data.to_string(),
            content: false,
        }
    }

    pub(crate) fn encode(&self, line_end: &str) -> Bytes {
        let mut out = String::with_capacity(self.data.len() + 32);
        if let Some(name) = self.name {
            out.push_str("event: ");
            out.push_str(name);
            out.push_str(line_end);
        }
        out.push_str("data: ");
        out.push_str(&self.data);
        out.push_str(line_end);
        out.push_str(line_end);
        Bytes::from(out)
    }

    /// The same event with its JSON cut in half, so it cannot parse.
    fn malformed(&self) -> Event {
        let mut half = self.data.len() / 2;
        while !self.data.is_char_boundary(half) {
            half -= 1;
        }
        Event {
            name: self.name,
            data: self.data[..half].to_string(),
            content: false,
        }
    }
}

/// The encoded pieces of a stream after faults, and whether it ends in a cut.
#[derive(Debug)]
pub(crate) struct Assembled {
    pub pieces: Vec<Bytes>,
    pub cut: bool,
}

/// Applies `malformed` and `cut_after` to a planned stream and encodes it.
/// `line_end` is "\n" for OpenAI/Anthropic and "\r\n" for Gemini, as they send.
pub(crate) fn assemble(events: Vec<Event>, fault: Option<&Fault>, line_end: &str) -> Assembled {
    assemble_with(events, fault, |e| e.encode(line_end))
}

/// [`assemble`] with another encoding of each event (NDJSON lines for Ollama).
pub(crate) fn assemble_with(
    events: Vec<Event>,
    fault: Option<&Fault>,
    encode: impl Fn(&Event) -> Bytes,
) -> Assembled {
    let malformed = fault.is_some_and(|f| f.malformed);
    let cut_after = fault.and_then(|f| f.cut_after);
    let first_content = events.iter().position(|e| e.content);
    let last_content = events.iter().rposition(|e| e.content);

    // Where a cut stream stops: after the n-th content event (or before the first for n = 0).
    let stop = cut_after.map(|n| {
        if n == 0 {
            first_content.unwrap_or(events.len())
        } else {
            events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.content)
                .nth((n - 1) as usize)
                .map(|(i, _)| i + 1)
                .or(last_content.map(|i| i + 1))
                .unwrap_or(events.len())
        }
    });
    // The broken event goes after the first content event (or after the opening events).
    let broken_at = malformed.then(|| {
        first_content
            .map(|i| i + 1)
            .unwrap_or_else(|| events.len().saturating_sub(1).min(1))
    });
    let broken = broken_at.and_then(|at| {
        let source = first_content.map_or(at.saturating_sub(1), |i| i);
        events.get(source).map(Event::malformed)
    });

    let end = stop.unwrap_or(events.len()).min(events.len());
    let mut pieces = Vec::with_capacity(end + 1);
    for (i, event) in events.iter().enumerate().take(end) {
        pieces.push(encode(event));
        if Some(i + 1) == broken_at {
            if let Some(bad) = &broken {
                pieces.push(encode(bad));
            }
        }
    }
    Assembled {
        pieces,
        cut: stop.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn events() -> Vec<Event> {
        vec![
            Event::named("start", &json!({"a": 1}), false),
            Event::data(&json!({"t": "one "}), true),
            Event::data(&json!({"t": "two"}), true),
            Event::raw("[DONE]"),
        ]
    }

    fn text(a: &Assembled) -> String {
        a.pieces
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    #[test]
    fn plain_stream_encodes_every_event() {
        let out = assemble(events(), None, "\n");
        assert!(!out.cut);
        assert_eq!(
            text(&out),
            "event: start\ndata: {\"a\":1}\n\ndata: {\"t\":\"one \"}\n\ndata: {\"t\":\"two\"}\n\ndata: [DONE]\n\n"
        );
    }

    #[test]
    fn cut_after_counts_content_events() {
        let fault = Fault {
            cut_after: Some(1),
            ..Fault::default()
        };
        let out = assemble(events(), Some(&fault), "\n");
        assert!(out.cut);
        assert_eq!(out.pieces.len(), 2);
        let fault = Fault {
            cut_after: Some(9),
            ..Fault::default()
        };
        let out = assemble(events(), Some(&fault), "\r\n");
        assert_eq!(out.pieces.len(), 3);
        assert!(!text(&out).contains("[DONE]"));
    }

    #[test]
    fn malformed_event_follows_first_content() {
        let fault = Fault {
            malformed: true,
            ..Fault::default()
        };
        let out = assemble(events(), Some(&fault), "\n");
        assert_eq!(out.pieces.len(), 5);
        assert_eq!(out.pieces[2], Bytes::from("data: {\"t\":\"\n\n"));
    }
}
