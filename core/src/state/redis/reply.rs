//! Reads Redis replies (script results, key hashes, cooldown payloads, stream entries) into
//! the state types; anything unexpected is a [`StateError::Protocol`], never a panic.

use super::super::{Check, Cooldown, KeyState, StateError, StoredKey, Verdict};
use ::redis::Value;
use std::time::Duration;

fn protocol(what: &str, value: &Value) -> StateError {
    StateError::Protocol(format!("{what}: unexpected reply {value:?}"))
}

/// A string-like reply's text.
pub(super) fn text(value: &Value) -> Option<&str> {
    match value {
        Value::BulkString(b) => std::str::from_utf8(b).ok(),
        Value::SimpleString(s) => Some(s),
        Value::VerbatimString { text, .. } => Some(text),
        Value::Okay => Some("OK"),
        _ => None,
    }
}

/// An integer reply (or an integer sent as text).
pub(super) fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        other => text(other).and_then(|s| s.parse().ok()),
    }
}

fn items(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(v) | Value::Set(v) => Some(v),
        _ => None,
    }
}

/// The admission script's reply as a verdict (see `scripts/admit.lua`).
pub(super) fn verdict(reply: &Value, checks: &[Check]) -> Result<Verdict, StateError> {
    let bad = || protocol("admit", reply);
    let parts = items(reply).ok_or_else(bad)?;
    let tag = parts.first().and_then(text).ok_or_else(bad)?;
    let index = || {
        parts
            .get(1)
            .and_then(int)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < checks.len())
            .ok_or_else(bad)
    };
    match tag {
        "ok" => {
            let now_s = parts
                .get(1)
                .and_then(int)
                .and_then(|s| u64::try_from(s).ok())
                .ok_or_else(bad)?;
            let window_seconds = checks
                .iter()
                .map(|c| match c {
                    Check::Window { .. } => now_s,
                    _ => 0,
                })
                .collect();
            Ok(Verdict::Admitted { window_seconds })
        }
        "refused" => {
            let index = index()?;
            let retry_ms = parts.get(2).and_then(int).ok_or_else(bad)?;
            let current = parts.get(3).and_then(int).ok_or_else(bad)?;
            Ok(Verdict::Refused {
                index,
                retry_after: u64::try_from(retry_ms).ok().map(Duration::from_millis),
                current,
            })
        }
        "key" => {
            let index = index()?;
            let reason = match parts.get(2).and_then(text) {
                Some("unknown") => KeyState::Unknown,
                Some("revoked") => KeyState::Revoked,
                Some("expired") => KeyState::Expired,
                _ => return Err(bad()),
            };
            Ok(Verdict::KeyRefused { index, reason })
        }
        "stale" => Ok(Verdict::KeyStale { index: index()? }),
        _ => Err(bad()),
    }
}

/// A key record from its hash's HGETALL (`None` when the hash is empty: no such key).
pub(super) fn stored_key(id: &str, reply: &Value) -> Result<Option<StoredKey>, StateError> {
    let bad = || protocol("key record", reply);
    let pairs: Vec<(&str, &Value)> = match reply {
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| text(k).map(|k| (k, v)))
            .collect::<Option<_>>()
            .ok_or_else(bad)?,
        other => {
            let flat = items(other).ok_or_else(bad)?;
            flat.chunks(2)
                .map(|kv| match kv {
                    [k, v] => text(k).map(|k| (k, v)),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(bad)?
        }
    };
    if pairs.is_empty() {
        return Ok(None);
    }
    let field = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let field_text = |name: &str| field(name).and_then(text);
    let rev = field("rev")
        .and_then(int)
        .and_then(|r| u64::try_from(r).ok())
        .ok_or_else(bad)?;
    let expires_at_ms = match field_text("expires_at_ms") {
        None | Some("") => None,
        Some(ms) => Some(ms.parse::<u64>().map_err(|_| bad())?),
    };
    Ok(Some(StoredKey {
        id: id.to_owned(),
        hash: field_text("hash").unwrap_or_default().to_owned(),
        rev,
        revoked: field_text("revoked") == Some("1"),
        expires_at_ms,
        body: field_text("body").unwrap_or_default().to_owned(),
    }))
}

/// A cooldown as published and stored (JSON).
pub(super) fn cooldown_json(c: &Cooldown) -> String {
    serde_json::json!({"target": c.target, "until_ms": c.until_ms, "reason": c.reason}).to_string()
}

/// A cooldown from its JSON payload, if well formed.
pub(super) fn parse_cooldown(payload: &[u8]) -> Option<Cooldown> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    Some(Cooldown {
        target: v.get("target")?.as_str()?.to_owned(),
        until_ms: v.get("until_ms")?.as_u64()?,
        reason: v
            .get("reason")
            .and_then(|r| r.as_str())
            .unwrap_or_default()
            .to_owned(),
    })
}

/// Audit records from an XRANGE reply whose `at` field is at or after `since_ms`.
pub(super) fn audit_records(reply: &Value, since_ms: u64) -> Result<Vec<String>, StateError> {
    let bad = || protocol("audit", reply);
    let mut out = Vec::new();
    for entry in items(reply).ok_or_else(bad)? {
        let fields = match items(entry) {
            Some([_, fields]) => fields,
            _ => return Err(bad()),
        };
        let flat: Vec<&Value> = match fields {
            Value::Map(m) => m.iter().flat_map(|(k, v)| [k, v]).collect(),
            other => items(other).ok_or_else(bad)?.iter().collect(),
        };
        let mut at = None;
        let mut record = None;
        for kv in flat.chunks(2) {
            if let [k, v] = kv {
                match text(k) {
                    Some("at") => at = int(v).and_then(|a| u64::try_from(a).ok()),
                    Some("r") => record = text(v),
                    _ => {}
                }
            }
        }
        if let (Some(at), Some(record)) = (at, record) {
            if at >= since_ms {
                out.push(record.to_owned());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn admit_replies_become_verdicts() {
        let checks = [
            Check::KeyLive {
                id: "k".into(),
                rev: 1,
            },
            Check::Window {
                key: "w".into(),
                limit: 1,
                cost: 1,
                window: Duration::from_secs(1),
            },
        ];
        let ok = Value::Array(vec![bulk("ok"), Value::Int(1_700_000_000)]);
        assert_eq!(
            verdict(&ok, &checks),
            Ok(Verdict::Admitted {
                window_seconds: vec![0, 1_700_000_000]
            })
        );
        let refused = Value::Array(vec![
            bulk("refused"),
            Value::Int(1),
            Value::Int(-1),
            Value::Int(7),
        ]);
        assert_eq!(
            verdict(&refused, &checks),
            Ok(Verdict::Refused {
                index: 1,
                retry_after: None,
                current: 7
            })
        );
        let key = Value::Array(vec![bulk("key"), Value::Int(0), bulk("revoked")]);
        assert_eq!(
            verdict(&key, &checks),
            Ok(Verdict::KeyRefused {
                index: 0,
                reason: KeyState::Revoked
            })
        );
        let out_of_range = Value::Array(vec![bulk("stale"), Value::Int(5)]);
        assert!(matches!(
            verdict(&out_of_range, &checks),
            Err(StateError::Protocol(_))
        ));
    }

    #[test]
    fn cooldown_payload_round_trips() {
        let c = Cooldown {
            target: "openai/gpt-4o".into(),
            until_ms: 1_700_000_000_123,
            reason: "rate_limited".into(),
        };
        assert_eq!(parse_cooldown(cooldown_json(&c).as_bytes()), Some(c));
        assert_eq!(parse_cooldown(b"{\"target\":1}"), None);
    }
}
