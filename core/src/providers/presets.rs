//! Known providers: where they live and which environment variable holds their key.

use super::ProviderKind;

/// A provider switchpoint knows by name, usable with no config (`groq/llama-3.3-70b-versatile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The name used in `provider/model` and as `provider:` in config.
    pub name: &'static str,
    pub kind: ProviderKind,
    /// Default base URL; empty when it must come from config or `base_url_env` (Azure).
    pub base_url: &'static str,
    /// The variable holding the key, as the provider's own SDK reads it.
    pub key_env: &'static str,
    /// Whether the host works without a key (local servers).
    pub key_optional: bool,
    /// The variable that overrides the base URL, as the provider's own SDK reads it.
    pub base_url_env: &'static str,
}

const fn p(
    name: &'static str,
    kind: ProviderKind,
    base_url: &'static str,
    key_env: &'static str,
    key_optional: bool,
    base_url_env: &'static str,
) -> Preset {
    Preset {
        name,
        kind,
        base_url,
        key_env,
        key_optional,
        base_url_env,
    }
}

/// Every preset, in the order the README lists them.
pub const PRESETS: &[Preset] = &[
    p(
        "openai",
        ProviderKind::OpenAi,
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        false,
        "OPENAI_BASE_URL",
    ),
    p(
        "azure",
        ProviderKind::AzureOpenAi,
        "",
        "AZURE_OPENAI_API_KEY",
        false,
        "AZURE_OPENAI_ENDPOINT",
    ),
    p(
        "anthropic",
        ProviderKind::Anthropic,
        "https://api.anthropic.com",
        "ANTHROPIC_API_KEY",
        false,
        "ANTHROPIC_BASE_URL",
    ),
    p(
        "gemini",
        ProviderKind::Gemini,
        "https://generativelanguage.googleapis.com",
        "GEMINI_API_KEY",
        false,
        "GEMINI_BASE_URL",
    ),
    p(
        "groq",
        ProviderKind::OpenAi,
        "https://api.groq.com/openai/v1",
        "GROQ_API_KEY",
        false,
        "GROQ_BASE_URL",
    ),
    p(
        "cohere",
        ProviderKind::Cohere,
        "https://api.cohere.com",
        "CO_API_KEY",
        false,
        "CO_API_URL",
    ),
    // Mistral's own wire format (its tool-call ids, `random_seed`, no `stream_options`); the
    // OpenAI-compatible path is `kind: openai` with this base URL.
    p(
        "mistral",
        ProviderKind::Mistral,
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
        false,
        "MISTRAL_BASE_URL",
    ),
    p(
        "together",
        ProviderKind::OpenAi,
        "https://api.together.xyz/v1",
        "TOGETHER_API_KEY",
        false,
        "TOGETHER_BASE_URL",
    ),
    p(
        "deepseek",
        ProviderKind::OpenAi,
        "https://api.deepseek.com/v1",
        "DEEPSEEK_API_KEY",
        false,
        "DEEPSEEK_BASE_URL",
    ),
    p(
        "fireworks",
        ProviderKind::OpenAi,
        "https://api.fireworks.ai/inference/v1",
        "FIREWORKS_API_KEY",
        false,
        "FIREWORKS_BASE_URL",
    ),
    p(
        "xai",
        ProviderKind::OpenAi,
        "https://api.x.ai/v1",
        "XAI_API_KEY",
        false,
        "XAI_BASE_URL",
    ),
    p(
        "openrouter",
        ProviderKind::OpenAi,
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        false,
        "OPENROUTER_BASE_URL",
    ),
    p(
        "vllm",
        ProviderKind::OpenAi,
        "http://localhost:8000/v1",
        "VLLM_API_KEY",
        true,
        "VLLM_BASE_URL",
    ),
    // Ollama's native API (`/api/chat`, NDJSON streams); a base URL ending in `/v1` (the
    // OpenAI-compatible path users may have configured before) is accepted and trimmed.
    p(
        "ollama",
        ProviderKind::Ollama,
        "http://localhost:11434",
        "OLLAMA_API_KEY",
        true,
        "OLLAMA_BASE_URL",
    ),
    // Ollama's OpenAI-compatible endpoint, for callers who want exactly the OpenAI shape.
    p(
        "ollama_openai",
        ProviderKind::OpenAi,
        "http://localhost:11434/v1",
        "OLLAMA_API_KEY",
        true,
        "OLLAMA_BASE_URL",
    ),
];

impl Preset {
    /// The preset called `name`.
    pub fn find(name: &str) -> Option<&'static Preset> {
        PRESETS.iter().find(|p| p.name == name)
    }

    /// Every preset name, for error messages.
    pub fn names() -> Vec<&'static str> {
        PRESETS.iter().map(|p| p.name).collect()
    }
}
