//! Mistral's tool-call ids: exactly 9 characters from `a-z`, `A-Z`, `0-9`.
//!
//! Mistral rejects a conversation whose tool-call ids have any other shape (422), which is what
//! a conversation started on OpenAI (`call_...`), Anthropic (`toolu_...`) or Gemini carries
//! when it continues on Mistral. Ids already in Mistral's shape (every id Mistral itself
//! returned) are sent unchanged, so Mistral's own ids round-trip exactly; any other id is
//! replaced by a 9-character digest of it. The digest is a pure function of the id, so the
//! assistant's `tool_calls[].id` and the tool message's `tool_call_id` that answers it map to
//! the same value in every request, with no state kept between calls. Mistral never echoes the
//! ids of earlier turns in its answers, so no reverse mapping is needed on the way back.

use std::borrow::Cow;

/// The length Mistral requires.
const ID_LEN: usize = 9;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether `id` already has Mistral's shape.
pub fn is_mistral_id(id: &str) -> bool {
    id.len() == ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The id to send Mistral for a tool call the conversation knows as `id`.
pub fn to_mistral(id: &str) -> Cow<'_, str> {
    if is_mistral_id(id) {
        return Cow::Borrowed(id);
    }
    let digest = blake3::hash(id.as_bytes());
    let mut n = digest
        .as_bytes()
        .iter()
        .take(8)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut out = String::with_capacity(ID_LEN);
    for _ in 0..ID_LEN {
        out.push(char::from(ALPHABET[(n % 62) as usize]));
        n /= 62;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistral_ids_pass_unchanged() {
        assert_eq!(to_mistral("D681PevKs"), "D681PevKs");
        assert!(is_mistral_id("abcDEF123"));
        assert!(!is_mistral_id("abc_EF123"));
        assert!(!is_mistral_id("abcDEF1234"));
    }

    #[test]
    fn foreign_ids_map_to_stable_valid_ids() {
        let a = to_mistral("call_abc123XYZ");
        assert!(is_mistral_id(&a), "{a}");
        assert_eq!(a, to_mistral("call_abc123XYZ"));
        assert_ne!(a, to_mistral("call_abc123XYy"));
        assert!(is_mistral_id(&to_mistral("")));
        assert!(is_mistral_id(&to_mistral("toolu_01A09q90qw90lq917835lq9")));
    }
}
