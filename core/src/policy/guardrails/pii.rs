//! The built-in PII detectors: a linear-time regex finds candidates, a check confirms them.
//!
//! Every regex is ASCII-only (`(?-u:\b)` boundaries), so the lazy DFA handles any input in
//! one pass. The checks are what keep near-misses out: card numbers must pass Luhn and start
//! with a card network's prefix, IBANs must have their country's length and pass mod-97,
//! phone numbers must not be part of a longer number, dotted version or date, and generic
//! tokens must look random (see [`looks_random`]).

use super::config::PiiKind;
use crate::api::{Error, ErrorKind};
use regex::Regex;

/// One detected span (byte offsets into the scanned text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PiiMatch {
    pub kind: PiiKind,
    pub start: usize,
    pub end: usize,
}

/// `local@domain.tld`: the local part starts with a letter or digit; the TLD is 2-24 letters.
const EMAIL: &str = r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?-u:\b)";

/// E.164 (`+`, digits with single spaces, dashes or parentheses between them), or the
/// North-American national forms `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `555 123 4567`.
const PHONE: &str = r"\+(?:[0-9][ \-()]{0,2}){7,14}[0-9]|(?:\([0-9]{3}\) ?|(?-u:\b)[0-9]{3}[\-. ])[0-9]{3}[\-. ][0-9]{4}(?-u:\b)";

/// 13-19 digits, optionally with single spaces or dashes between them.
const CARD: &str = r"(?-u:\b)[0-9](?:[ \-]?[0-9]){12,18}(?-u:\b)";

/// Country code, two check digits, then 11-30 letters or digits, optionally in spaced groups.
const IBAN: &str = r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}";

/// Known provider key shapes, then any 32+ run of letters and digits (checked by [`looks_random`]).
const API_KEY: &str = concat!(
    r"(?-u:\b)(?:",
    r"sk-[A-Za-z0-9_\-]{20,}", // OpenAI sk-, sk-proj-; Anthropic sk-ant-
    r"|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", // Stripe
    r"|AKIA[0-9A-Z]{16}",      // AWS access key id
    r"|AIza[0-9A-Za-z_\-]{35}", // Google API key
    r"|gh[pousr]_[A-Za-z0-9]{36,}", // GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{22,}", // GitHub fine-grained tokens
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}", // Slack tokens
    r"|[A-Za-z0-9]{32,}",      // generic random tokens
    r")"
);

/// The compiled detectors (built once per `Guardrails`).
#[derive(Debug)]
pub(crate) struct PiiDetector {
    email: Regex,
    phone: Regex,
    card: Regex,
    iban: Regex,
    api_key: Regex,
}

impl PiiDetector {
    /// Compiles the detectors (constant patterns: an error here is a bug, reported as `internal`).
    pub fn new() -> Result<PiiDetector, Error> {
        let compile = |src: &str| {
            Regex::new(src)
                .map_err(|e| Error::new(ErrorKind::Internal, format!("built-in PII regex: {e}")))
        };
        Ok(PiiDetector {
            email: compile(EMAIL)?,
            phone: compile(PHONE)?,
            card: compile(CARD)?,
            iban: compile(IBAN)?,
            api_key: compile(API_KEY)?,
        })
    }

    /// The candidate regex of a kind (what the stage's `RegexSet` pre-checks with).
    pub fn source(kind: PiiKind) -> &'static str {
        match kind {
            PiiKind::Email => EMAIL,
            PiiKind::Phone => PHONE,
            PiiKind::Card => CARD,
            PiiKind::Iban => IBAN,
            PiiKind::ApiKey => API_KEY,
        }
    }

    /// Appends every confirmed match of `kind` in `text` to `out`, in order.
    pub fn scan(&self, kind: PiiKind, text: &str, out: &mut Vec<PiiMatch>) {
        let bytes = text.as_bytes();
        // Bounded shapes (phone, card, IBAN) retry one byte on after a rejected candidate, so a
        // number after leading junk is still found; unbounded ones (email, keys) skip the whole
        // candidate, which keeps hostile input (`sk-sk-sk-...`) linear.
        let (re, confirm, retry_inside): (&Regex, Confirm, bool) = match kind {
            PiiKind::Email => (&self.email, confirm_email, false),
            PiiKind::Phone => (&self.phone, confirm_phone, true),
            PiiKind::Card => (&self.card, confirm_card, true),
            PiiKind::Iban => (&self.iban, confirm_iban, true),
            PiiKind::ApiKey => (&self.api_key, confirm_api_key, false),
        };
        let mut pos = 0;
        while pos < text.len() {
            let Some(m) = re.find_at(text, pos) else {
                break;
            };
            match confirm(bytes, m.start(), m.end()) {
                Some(end) => {
                    out.push(PiiMatch {
                        kind,
                        start: m.start(),
                        end,
                    });
                    pos = end;
                }
                // Every pattern starts on an ASCII byte, so the next byte is a char boundary;
                // the regex's own `\b` keeps the retry from starting inside a word.
                None if retry_inside => pos = m.start() + 1,
                None => pos = m.end().max(m.start() + 1),
            }
        }
    }
}

/// Confirms a candidate `bytes[start..end]`, returning where the match really ends.
type Confirm = fn(&[u8], usize, usize) -> Option<usize>;

fn before(bytes: &[u8], start: usize) -> Option<u8> {
    start.checked_sub(1).map(|i| bytes[i])
}

fn after(bytes: &[u8], end: usize) -> Option<u8> {
    bytes.get(end).copied()
}

/// `.5` or `-7` after a number continues it (a decimal, a range, a longer dotted id).
fn continues_number(bytes: &[u8], end: usize) -> bool {
    matches!(after(bytes, end), Some(b'.' | b'-' | b'/'))
        && after(bytes, end + 1).is_some_and(|b| b.is_ascii_digit())
}

fn confirm_email(bytes: &[u8], start: usize, end: usize) -> Option<usize> {
    let s = &bytes[start..end];
    let at = s.iter().position(|&b| b == b'@')?;
    let (local, domain) = (&s[..at], &s[at + 1..]);
    let ok = local.len() <= 64
        && domain.len() <= 253
        && !local.ends_with(b".")
        && !local.windows(2).any(|w| w == b"..");
    ok.then_some(end)
}

fn confirm_phone(bytes: &[u8], start: usize, end: usize) -> Option<usize> {
    let s = &bytes[start..end];
    let prev = before(bytes, start);
    if prev.is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-' | b'/')) {
        return None;
    }
    if after(bytes, end).is_some_and(|b| b.is_ascii_digit()) || continues_number(bytes, end) {
        return None;
    }
    if s[0] == b'+' {
        let digits = s.iter().filter(|b| b.is_ascii_digit()).count();
        let open = s.iter().filter(|&&b| b == b'(').count();
        let close = s.iter().filter(|&&b| b == b')').count();
        return ((8..=15).contains(&digits) && open == close).then_some(end);
    }
    // National form: `(555) 123-4567`, or the same separator twice (`555-123-4567`).
    if s[0] != b'(' && s[3] != s[7] {
        return None;
    }
    Some(end)
}

fn confirm_card(bytes: &[u8], start: usize, end: usize) -> Option<usize> {
    if before(bytes, start) == Some(b'.') || continues_number(bytes, end) {
        return None;
    }
    let s = &bytes[start..end];
    let sep = s.iter().copied().find(|b| !b.is_ascii_digit());
    let Some(sep) = sep else {
        return card_valid(s).then_some(end);
    };
    // Grouped: one separator kind, groups of 3-6 digits (4-4-4-4, 4-6-5, 4-4-4-4-3).
    // A trailing group that is not part of the number is dropped and the rest tried again.
    let mut digits: Vec<u8> = Vec::with_capacity(19);
    let mut ends = Vec::with_capacity(6);
    let mut offset = start;
    for g in s.split(|&b| b == sep) {
        if !(3..=6).contains(&g.len()) || !g.iter().all(u8::is_ascii_digit) {
            break;
        }
        digits.extend_from_slice(g);
        offset += g.len();
        ends.push((digits.len(), offset));
        offset += 1;
    }
    ends.iter()
        .rev()
        .find(|(n, _)| card_valid(&digits[..*n]))
        .map(|&(_, e)| e)
}

/// 13-19 digits, a card network's prefix (2221-2720, 3, 4, 5, 6) and a valid Luhn checksum.
pub(crate) fn card_valid(digits: &[u8]) -> bool {
    if !(13..=19).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let network = match digits[0] {
        b'3'..=b'6' => true,
        b'2' => {
            let four = digits[..4]
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            (2221..=2720).contains(&four)
        }
        _ => false,
    };
    network && luhn_valid(digits)
}

/// The Luhn checksum over ASCII digits (false on anything else).
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &b) in digits.iter().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

fn confirm_iban(bytes: &[u8], start: usize, end: usize) -> Option<usize> {
    let s = &bytes[start..end];
    // Compact characters with the byte offset just past each; spaces only between groups of 4.
    let mut compact: Vec<u8> = Vec::with_capacity(34);
    let mut ends: Vec<usize> = Vec::with_capacity(34);
    for (i, &b) in s.iter().enumerate() {
        if b == b' ' {
            if compact.len() % 4 != 0 {
                break;
            }
        } else {
            compact.push(b);
            ends.push(start + i + 1);
        }
    }
    let accept = |n: usize| {
        let e = ends[n - 1];
        let free = !after(bytes, e).is_some_and(|b| b.is_ascii_alphanumeric());
        (free && iban_valid(&compact[..n])).then_some(e)
    };
    match iban_length(&compact[..2]) {
        Some(n) if compact.len() >= n => accept(n),
        Some(_) => None,
        // An unregistered country: the longest 15-34 prefix that ends a group and checks out.
        None => (15..=compact.len().min(34))
            .rev()
            .filter(|&n| n == compact.len() || n % 4 == 0)
            .find_map(accept),
    }
}

/// Mod-97 = 1 over the rearranged IBAN (ISO 13616), on compact upper-case text.
pub(crate) fn iban_valid(compact: &[u8]) -> bool {
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem = 0u32;
    for &b in tail.iter().chain(head) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// The registered IBAN length of a country (ISO 13616 registry), None for others.
fn iban_length(country: &[u8]) -> Option<usize> {
    let n = match country {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FO" | b"GL" | b"NL" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HU" | b"LB" | b"PL" | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        _ => return None,
    };
    Some(n)
}

fn confirm_api_key(bytes: &[u8], start: usize, end: usize) -> Option<usize> {
    let s = &bytes[start..end];
    let key_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-');
    if after(bytes, end).is_some_and(key_char) {
        return None; // a fixed-length shape followed by more of a word
    }
    let fixed_shape = (s.len() == 20 && s.starts_with(b"AKIA"))
        || (s.len() == 39 && s.starts_with(b"AIza"))
        || s.starts_with(b"github_pat_")
        || (s.starts_with(b"gh") && s.get(3) == Some(&b'_'))
        || s.get(1..8) == Some(b"k_live_")
        || s.get(1..8) == Some(b"k_test_");
    let body = if let Some(rest) = s.strip_prefix(b"sk-") {
        rest
    } else if s.starts_with(b"xox") && s.get(4) == Some(&b'-') {
        &s[5..]
    } else if fixed_shape {
        return Some(end);
    } else {
        return looks_random(s).then_some(end);
    };
    // `sk-` and Slack keys: random material, not hyphenated words (`sk-learn-...`).
    let has_digit = body.iter().any(u8::is_ascii_digit);
    let has_letter = body.iter().any(u8::is_ascii_alphabetic);
    let longest_run = body
        .split(|&b| b == b'-' || b == b'_')
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
    (has_digit && has_letter && longest_run >= 10).then_some(end)
}

/// Whether a 32+ run of letters and digits looks like a random secret rather than a word,
/// an identifier or a hash: at least two digits and two letters; not hexadecimal only (hashes
/// and commit ids are not secrets); letters and digits interleaved (at least 4 switches, where
/// identifiers cluster their digits at the end); and at least 3.8 bits of entropy per character.
pub(crate) fn looks_random(s: &[u8]) -> bool {
    if s.len() < 32 {
        return false;
    }
    let digits = s.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = s.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if digits < 2 || letters < 2 || digits + letters != s.len() {
        return false;
    }
    if s.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    let switches = s
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    switches >= 4 && entropy(s) >= 3.8
}

/// Shannon entropy of the byte distribution, bits per byte.
fn entropy(s: &[u8]) -> f64 {
    let mut counts = [0u32; 128];
    for &b in s {
        counts[usize::from(b & 0x7f)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(kind: PiiKind, text: &str) -> Vec<&str> {
        let d = PiiDetector::new().expect("compiles");
        let mut out = Vec::new();
        d.scan(kind, text, &mut out);
        out.iter().map(|m| &text[m.start..m.end]).collect()
    }

    #[test]
    fn luhn_and_card_prefixes() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(luhn_valid(b"79927398713"));
        assert!(card_valid(b"378282246310005"));
        assert!(card_valid(b"2223003122003222"));
        // Luhn-valid but no card network starts with 1, 7, 8, 9 or 0.
        assert!(luhn_valid(b"1234567812345670"));
        assert!(!card_valid(b"1234567812345670"));
        assert!(!card_valid(b"411111111111"));
    }

    #[test]
    fn iban_mod97() {
        assert!(iban_valid(b"DE89370400440532013000"));
        assert!(iban_valid(b"GB82WEST12345698765432"));
        assert!(!iban_valid(b"DE88370400440532013000"));
        assert!(!iban_valid(b"DE89370400440532013001"));
        assert!(!iban_valid(b"de89370400440532013000"));
    }

    #[test]
    fn email_shapes() {
        assert_eq!(
            found(PiiKind::Email, "mail jane.doe+tag@mail.example.co.uk."),
            ["jane.doe+tag@mail.example.co.uk"]
        );
        assert!(found(PiiKind::Email, "user@localhost, @mention, react@18.2.0").is_empty());
        assert!(found(PiiKind::Email, "a..b@example.com").is_empty());
    }

    #[test]
    fn phone_shapes() {
        assert_eq!(
            found(
                PiiKind::Phone,
                "call +1 (415) 555-0132 or (212) 555-0198 or 646-555-0123 today"
            ),
            ["+1 (415) 555-0132", "(212) 555-0198", "646-555-0123"]
        );
        assert!(found(
            PiiKind::Phone,
            "on 2024-03-15, v1.2.3.4, UTC+05:30, +12345, 555-123.4567, 4111 1111 1111 1111"
        )
        .is_empty());
    }

    #[test]
    fn cards_with_trailing_groups_and_near_misses() {
        assert_eq!(
            found(
                PiiKind::Card,
                "4111 1111 1111 1111 2024 and 5555-5555-5555-4444"
            ),
            ["4111 1111 1111 1111", "5555-5555-5555-4444"]
        );
        assert!(found(
            PiiKind::Card,
            "id 4111111111111112, 1234567812345670, 3.4111111111111111"
        )
        .is_empty());
    }

    #[test]
    fn iban_trailing_words_and_unknown_countries() {
        assert_eq!(
            found(PiiKind::Iban, "pay DE89 3704 0044 0532 0130 00 EUR 50"),
            ["DE89 3704 0044 0532 0130 00"]
        );
        assert!(found(PiiKind::Iban, "DE88 3704 0044 0532 0130 00").is_empty());
        assert!(found(PiiKind::Iban, "SKU AB12 3456 7890 1234 5678").is_empty());
    }

    #[test]
    fn api_keys_and_random_tokens() {
        let text = "keys: sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z and AKIAIOSFODNN7EXAMPLE, \
                    token Zx8Qp2Lm7Rt4Vb9Nc3Kd6Hs1Jf5Gw0Ya";
        assert_eq!(
            found(PiiKind::ApiKey, text),
            [
                "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
                "AKIAIOSFODNN7EXAMPLE",
                "Zx8Qp2Lm7Rt4Vb9Nc3Kd6Hs1Jf5Gw0Ya"
            ]
        );
        let plain = "sk-learn-is-a-python-library-name, AbstractSingletonProxyFactoryBeanImpl, \
                     GetUserAccountsByOrganizationId2024V2, \
                     9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, \
                     123e4567-e89b-12d3-a456-426614174000";
        assert!(
            found(PiiKind::ApiKey, plain).is_empty(),
            "{:?}",
            found(PiiKind::ApiKey, plain)
        );
    }

    /// Inputs that would make a retry-per-byte scan quadratic; each must stay one pass.
    #[test]
    fn hostile_inputs_stay_linear() {
        let d = PiiDetector::new().expect("compiles");
        let inputs = [
            "sk-".repeat(20_000),
            format!("{}@", "a".repeat(60_000)),
            "1 ".repeat(30_000),
            "AB12 ".repeat(12_000),
            "+1 ".repeat(20_000),
            "x".repeat(60_000),
        ];
        for text in &inputs {
            let start = std::time::Instant::now();
            let mut out = Vec::new();
            for kind in PiiKind::ALL {
                d.scan(kind, text, &mut out);
            }
            assert_eq!(out, [], "{}", &text[..10]);
            println!(
                "{:>6} B of {:?}...: {:?}",
                text.len(),
                &text[..6],
                start.elapsed()
            );
        }
    }
}
