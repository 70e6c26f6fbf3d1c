//! Which Vertex AI publisher serves a model id.

/// A Vertex AI model publisher switchpoint speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    /// Gemini models (`generateContent`).
    Google,
    /// Claude models (`rawPredict`, the Anthropic Messages format).
    Anthropic,
}

impl Publisher {
    /// The publisher's name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Publisher::Google => "google",
            Publisher::Anthropic => "anthropic",
        }
    }

    /// The publisher and bare model id of a configured model: `publishers/{p}/models/{m}` and
    /// `{p}/{m}` name it, else `claude*` is Anthropic's and anything else Google's.
    pub fn of(model: &str) -> (Publisher, &str) {
        let named = |p: &str| match p {
            "google" => Some(Publisher::Google),
            "anthropic" => Some(Publisher::Anthropic),
            _ => None,
        };
        if let Some(rest) = model.strip_prefix("publishers/") {
            if let Some((p, m)) = rest.split_once("/models/") {
                if let Some(p) = named(p) {
                    return (p, m);
                }
            }
        }
        if let Some((p, m)) = model.split_once('/') {
            if let Some(p) = named(p) {
                return (p, m);
            }
        }
        if model.starts_with("claude") {
            (Publisher::Anthropic, model)
        } else {
            (Publisher::Google, model)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Publisher;

    #[test]
    fn publishers_by_prefix_and_family() {
        assert_eq!(
            Publisher::of("claude-sonnet-4-5@20250929"),
            (Publisher::Anthropic, "claude-sonnet-4-5@20250929")
        );
        assert_eq!(
            Publisher::of("gemini-2.5-flash"),
            (Publisher::Google, "gemini-2.5-flash")
        );
        assert_eq!(
            Publisher::of("anthropic/claude-haiku-4-5"),
            (Publisher::Anthropic, "claude-haiku-4-5")
        );
        assert_eq!(
            Publisher::of("publishers/google/models/gemini-2.5-pro"),
            (Publisher::Google, "gemini-2.5-pro")
        );
        assert_eq!(
            Publisher::of("meta/llama"),
            (Publisher::Google, "meta/llama")
        );
    }
}
