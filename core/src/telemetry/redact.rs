//! Masking what must not reach logs in recorded prompt and answer text.
//!
//! Built in: e-mail addresses; API keys and bearer tokens (well-known prefixes such as
//! `sk-`, `AIza`, `xai-`, `gsk_`, `ghp_`, `AKIA`, and any 32+ character run of letters and
//! digits mixed); payment card numbers (13-19 digits, spaces or dashes allowed, valid Luhn
//! checksum). Plus literal strings from config.

use crate::config::RedactConfig;

/// A configured redactor.
#[derive(Debug, Clone)]
pub struct Redactor {
    builtin: bool,
    patterns: Vec<String>,
    replacement: String,
}

const KEY_PREFIXES: [&str; 12] = [
    "sk-",
    "sk_",
    "pk_",
    "rk_",
    "AIza",
    "xai-",
    "gsk_",
    "ghp_",
    "gho_",
    "github_pat_",
    "xox",
    "AKIA",
];

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

impl Redactor {
    /// A redactor from config.
    pub fn new(cfg: &RedactConfig) -> Redactor {
        Redactor {
            builtin: cfg.builtin,
            patterns: cfg.patterns.clone(),
            replacement: cfg.replacement.clone(),
        }
    }

    /// The text with every match replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for p in &self.patterns {
            if !p.is_empty() {
                out = out.replace(p.as_str(), &self.replacement);
            }
        }
        if self.builtin {
            let spans = builtin_spans(out.as_bytes());
            out = splice(&out, &spans, &self.replacement);
        }
        out
    }
}

/// Byte ranges (ASCII-bounded, so always char boundaries) to mask, sorted, not overlapping.
fn builtin_spans(b: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if let Some(end) = email_at(b, i)
            .or_else(|| token_at(b, i))
            .or_else(|| card_at(b, i))
        {
            spans.push((i, end));
            i = end;
        } else {
            // Skip the rest of a word so matches start at word boundaries.
            if is_token_char(b[i]) {
                while i < b.len() && is_token_char(b[i]) {
                    i += 1;
                }
            } else {
                i += 1;
            }
        }
    }
    spans
}

fn splice(s: &str, spans: &[(usize, usize)], with: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for &(a, z) in spans {
        out.push_str(&s[last..a]);
        out.push_str(with);
        last = z;
    }
    out.push_str(&s[last..]);
    out
}

fn email_at(b: &[u8], i: usize) -> Option<usize> {
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let mut j = i;
    while j < b.len() && local(b[j]) {
        j += 1;
    }
    if j == i || j >= b.len() || b[j] != b'@' {
        return None;
    }
    let domain_start = j + 1;
    let mut k = domain_start;
    while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'-' || b[k] == b'.') {
        k += 1;
    }
    while k > domain_start && b[k - 1] == b'.' {
        k -= 1;
    }
    let domain = &b[domain_start..k];
    let dot = domain.iter().rposition(|c| *c == b'.')?;
    (dot > 0 && domain.len() - dot > 2).then_some(k)
}

fn token_at(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while j < b.len() && is_token_char(b[j]) {
        j += 1;
    }
    let word = &b[i..j];
    let prefixed = KEY_PREFIXES
        .iter()
        .any(|p| word.starts_with(p.as_bytes()) && word.len() >= p.len() + 16);
    let mixed = word.len() >= 32
        && word.iter().any(u8::is_ascii_digit)
        && word.iter().any(u8::is_ascii_alphabetic);
    (prefixed || mixed).then_some(j)
}

fn card_at(b: &[u8], i: usize) -> Option<usize> {
    if !b[i].is_ascii_digit() {
        return None;
    }
    let mut digits = Vec::with_capacity(19);
    let mut j = i;
    let mut end = i;
    while j < b.len() && digits.len() < 19 {
        if b[j].is_ascii_digit() {
            digits.push(b[j] - b'0');
            j += 1;
            end = j;
        } else if (b[j] == b' ' || b[j] == b'-') && j + 1 < b.len() && b[j + 1].is_ascii_digit() {
            j += 1;
        } else {
            break;
        }
    }
    if end < b.len() && b[end].is_ascii_digit() {
        return None;
    }
    ((13..=19).contains(&digits.len()) && luhn(&digits)).then_some(end)
}

fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new(&RedactConfig {
            builtin: true,
            patterns: vec!["Project Falcon".into()],
            replacement: "[X]".into(),
        })
    }

    #[test]
    fn masks_emails_keys_cards_and_literals() {
        assert_eq!(
            r().redact("mail jane.doe+x@example.co.uk now"),
            "mail [X] now"
        );
        assert_eq!(
            r().redact("key sk-proj-abcdefghijklmnop1234 and AIzaSyA1234567890abcdefgh!"),
            "key [X] and [X]!"
        );
        assert_eq!(r().redact("card 4111 1111 1111 1111."), "card [X].");
        assert_eq!(
            r().redact("card 4111-1111-1111-1112"),
            "card 4111-1111-1111-1112"
        );
        assert_eq!(r().redact("about Project Falcon today"), "about [X] today");
        assert_eq!(
            r().redact("nothing to hide, 42 apples"),
            "nothing to hide, 42 apples"
        );
        assert_eq!(r().redact("a@b"), "a@b");
        assert_eq!(r().redact("héllo wörld"), "héllo wörld");
    }

    #[test]
    fn builtin_can_be_turned_off() {
        let r = Redactor::new(&RedactConfig {
            builtin: false,
            patterns: vec![],
            replacement: "[X]".into(),
        });
        assert_eq!(r.redact("jane@example.com"), "jane@example.com");
    }
}
