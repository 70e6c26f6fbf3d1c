//! Maps a request path to the provider format and operation it belongs to.

use http::Method;

/// The wire formats the mock speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// OpenAI chat completions / embeddings.
    OpenAi,
    /// Azure OpenAI (deployment in the path, `api-key` header, `api-version` query).
    Azure,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini (Generative Language API v1beta).
    Gemini,
    /// Cohere v2 (`/v2/chat`, `/v2/embed`).
    Cohere,
    /// Mistral (OpenAI-like paths under `/mistral/v1/`, Mistral's validation).
    Mistral,
    /// Ollama's native API (`/api/chat`, `/api/embed`).
    Ollama,
    /// Amazon Bedrock Converse / ConverseStream (SigV4 or bearer API key, binary event stream).
    Bedrock,
    /// Vertex AI, publisher `google` (Gemini bodies, OAuth bearer token).
    VertexGoogle,
    /// Vertex AI, publisher `anthropic` (`rawPredict`, Messages bodies, OAuth bearer token).
    VertexAnthropic,
    /// The fake Google OAuth token endpoint (`POST /token`, JWT-bearer grant).
    GoogleOAuth,
}

impl Provider {
    /// The name used in the log and in `match_provider`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Azure => "azure",
            Provider::Anthropic => "anthropic",
            Provider::Gemini => "gemini",
            Provider::Cohere => "cohere",
            Provider::Mistral => "mistral",
            Provider::Ollama => "ollama",
            Provider::Bedrock => "bedrock",
            Provider::VertexGoogle | Provider::VertexAnthropic => "vertex",
            Provider::GoogleOAuth => "google-oauth",
        }
    }

    /// Whether the cloud module (`cloud.rs`) checks auth for this format.
    pub fn is_cloud(self) -> bool {
        matches!(
            self,
            Provider::Bedrock
                | Provider::VertexGoogle
                | Provider::VertexAnthropic
                | Provider::GoogleOAuth
        )
    }
}

/// What the request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A chat completion / message / generateContent.
    Chat,
    /// OpenAI-style embeddings (OpenAI, Azure).
    Embeddings,
    /// Gemini `:embedContent` (one input).
    GeminiEmbed,
    /// Gemini `:batchEmbedContents` (many inputs).
    GeminiBatchEmbed,
    /// The OpenAI Responses API (OpenAI `/v1/responses`, Azure `/openai/v1/responses`).
    Responses,
    /// Bedrock `InvokeModel` (`/model/{id}/invoke`) of a Titan or Cohere embedding model.
    BedrockInvoke,
    /// Vertex AI `:predict` of a Google text-embedding model.
    VertexPredict,
    /// An OAuth access-token request.
    Token,
}

impl Action {
    /// The name used in the log's `endpoint` field.
    pub fn endpoint(self) -> &'static str {
        match self {
            Action::Chat => "chat",
            Action::Responses => "responses",
            Action::Token => "token",
            _ => "embeddings",
        }
    }
}

/// A routed provider request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Wire format.
    pub provider: Provider,
    /// Operation.
    pub action: Action,
    /// Model or deployment named in the path (Azure, Gemini), percent-decoded.
    pub path_model: Option<String>,
    /// The path itself asks for a stream (Gemini `:streamGenerateContent`).
    pub path_stream: bool,
}

/// Routes a provider request, or `None` when no provider serves this method and path.
pub fn route(method: &Method, path: &str) -> Option<Route> {
    if method != Method::POST {
        return None;
    }
    let fixed = |provider, action| Route {
        provider,
        action,
        path_model: None,
        path_stream: false,
    };
    match path {
        "/v1/chat/completions" => return Some(fixed(Provider::OpenAi, Action::Chat)),
        "/v1/embeddings" => return Some(fixed(Provider::OpenAi, Action::Embeddings)),
        "/v1/responses" => return Some(fixed(Provider::OpenAi, Action::Responses)),
        "/openai/v1/responses" => return Some(fixed(Provider::Azure, Action::Responses)),
        "/v1/messages" => return Some(fixed(Provider::Anthropic, Action::Chat)),
        "/v2/chat" => return Some(fixed(Provider::Cohere, Action::Chat)),
        "/v2/embed" => return Some(fixed(Provider::Cohere, Action::Embeddings)),
        "/mistral/v1/chat/completions" => return Some(fixed(Provider::Mistral, Action::Chat)),
        "/mistral/v1/embeddings" => return Some(fixed(Provider::Mistral, Action::Embeddings)),
        "/api/chat" => return Some(fixed(Provider::Ollama, Action::Chat)),
        "/api/embed" => return Some(fixed(Provider::Ollama, Action::Embeddings)),
        "/token" => return Some(fixed(Provider::GoogleOAuth, Action::Token)),
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/model/") {
        let (model, op) = rest.rsplit_once('/')?;
        let (action, stream) = match op {
            "converse" => (Action::Chat, false),
            "converse-stream" => (Action::Chat, true),
            "invoke" => (Action::BedrockInvoke, false),
            _ => return None,
        };
        return Some(Route {
            provider: Provider::Bedrock,
            action,
            path_model: Some(percent_decode(model)),
            path_stream: stream,
        });
    }
    if let Some(rest) = path.strip_prefix("/v1/projects/") {
        // {project}/locations/{location}/publishers/{publisher}/models/{model}:{method}
        let (_, rest) = rest.split_once("/locations/")?;
        let (_, rest) = rest.split_once("/publishers/")?;
        let (publisher, rest) = rest.split_once("/models/")?;
        let (model, method) = rest.rsplit_once(':')?;
        let (provider, action, stream) = match (publisher, method) {
            ("google", "generateContent") => (Provider::VertexGoogle, Action::Chat, false),
            ("google", "streamGenerateContent") => (Provider::VertexGoogle, Action::Chat, true),
            ("google", "predict") => (Provider::VertexGoogle, Action::VertexPredict, false),
            ("anthropic", "rawPredict") => (Provider::VertexAnthropic, Action::Chat, false),
            ("anthropic", "streamRawPredict") => (Provider::VertexAnthropic, Action::Chat, true),
            _ => return None,
        };
        return Some(Route {
            provider,
            action,
            path_model: Some(percent_decode(model)),
            path_stream: stream,
        });
    }
    if let Some(rest) = path.strip_prefix("/openai/deployments/") {
        let (deployment, op) = rest.split_once('/')?;
        let action = match op {
            "chat/completions" => Action::Chat,
            "embeddings" => Action::Embeddings,
            _ => return None,
        };
        return Some(Route {
            provider: Provider::Azure,
            action,
            path_model: Some(percent_decode(deployment)),
            path_stream: false,
        });
    }
    if let Some(rest) = path.strip_prefix("/v1beta/models/") {
        let (model, method) = rest.rsplit_once(':')?;
        let (action, stream) = match method {
            "generateContent" => (Action::Chat, false),
            "streamGenerateContent" => (Action::Chat, true),
            "embedContent" => (Action::GeminiEmbed, false),
            "batchEmbedContents" => (Action::GeminiBatchEmbed, false),
            _ => return None,
        };
        return Some(Route {
            provider: Provider::Gemini,
            action,
            path_model: Some(percent_decode(model)),
            path_stream: stream,
        });
    }
    None
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_every_format() {
        let post = Method::POST;
        assert_eq!(
            route(&post, "/v1/chat/completions").map(|r| r.provider),
            Some(Provider::OpenAi)
        );
        let azure = route(&post, "/openai/deployments/my%20dep/embeddings").expect("azure");
        assert_eq!(azure.provider, Provider::Azure);
        assert_eq!(azure.action, Action::Embeddings);
        assert_eq!(azure.path_model.as_deref(), Some("my dep"));
        let gemini = route(
            &post,
            "/v1beta/models/gem!error=content_filter:streamGenerateContent",
        )
        .expect("gemini");
        assert_eq!(
            gemini.path_model.as_deref(),
            Some("gem!error=content_filter")
        );
        assert!(gemini.path_stream);
        assert_eq!(route(&Method::GET, "/v1/messages"), None);
        assert_eq!(
            route(&post, "/v2/embed").map(|r| (r.provider, r.action)),
            Some((Provider::Cohere, Action::Embeddings))
        );
        assert_eq!(
            route(&post, "/mistral/v1/chat/completions").map(|r| r.provider),
            Some(Provider::Mistral)
        );
        assert_eq!(
            route(&post, "/api/chat").map(|r| r.provider),
            Some(Provider::Ollama)
        );
        let bedrock =
            route(&post, "/model/anthropic.claude-v1%3A0/converse-stream").expect("bedrock");
        assert_eq!(bedrock.provider, Provider::Bedrock);
        assert_eq!(bedrock.path_model.as_deref(), Some("anthropic.claude-v1:0"));
        assert!(bedrock.path_stream);
        let vertex = route(
            &post,
            "/v1/projects/p1/locations/us-east5/publishers/anthropic/models/claude-x@1:rawPredict",
        )
        .expect("vertex");
        assert_eq!(vertex.provider, Provider::VertexAnthropic);
        assert_eq!(vertex.path_model.as_deref(), Some("claude-x@1"));
        assert!(!vertex.path_stream);
        assert_eq!(
            route(&post, "/token").map(|r| r.action),
            Some(Action::Token)
        );
        assert_eq!(
            route(
                &post,
                "/v1/projects/p/locations/l/publishers/meta/models/x:rawPredict"
            ),
            None
        );
        assert_eq!(route(&post, "/v1beta/models/gem:countTokens"), None);
        assert_eq!(
            route(&post, "/v1/responses").map(|r| (r.provider, r.action)),
            Some((Provider::OpenAi, Action::Responses))
        );
        assert_eq!(
            route(&post, "/openai/v1/responses").map(|r| (r.provider, r.action)),
            Some((Provider::Azure, Action::Responses))
        );
        let invoke = route(&post, "/model/amazon.titan-embed-text-v2%3A0/invoke").expect("invoke");
        assert_eq!(
            (invoke.provider, invoke.action, invoke.path_stream),
            (Provider::Bedrock, Action::BedrockInvoke, false)
        );
        assert_eq!(
            invoke.path_model.as_deref(),
            Some("amazon.titan-embed-text-v2:0")
        );
        assert_eq!(invoke.action.endpoint(), "embeddings");
        let predict = route(
            &post,
            "/v1/projects/p/locations/us-central1/publishers/google/models/text-embedding-005:predict",
        )
        .expect("predict");
        assert_eq!(
            (predict.provider, predict.action),
            (Provider::VertexGoogle, Action::VertexPredict)
        );
        assert_eq!(
            route(
                &post,
                "/v1/projects/p/locations/l/publishers/anthropic/models/claude:predict"
            ),
            None
        );
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%21b%2"), "a!b%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
