//! Embeddings on the cloud adapters: Bedrock `InvokeModel` for Titan and Cohere Embed, and
//! Vertex AI `:predict` for Google's text-embedding models; request bodies and the split into
//! several requests, answers from the wire samples in `tests/fixtures/bedrock/invoke-*.json`
//! and `tests/fixtures/vertex/predict-*.json`, and errors classified like the chat calls.

use http::{HeaderMap, HeaderValue, Method};
use serde_json::{json, Value};
use switchpoint_core::api::{EmbeddingRequest, EmbeddingVector, ErrorKind};
use switchpoint_core::providers::{
    adapter_for, merge_embeddings, Adapter, ProviderKind, ProviderSettings,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");
const BEDROCK: &str = "https://bedrock-runtime.us-east-1.amazonaws.com";
const VERTEX: &str =
    "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1";

fn adapter(kind: ProviderKind, base_url: &str) -> std::sync::Arc<dyn Adapter> {
    adapter_for(ProviderSettings {
        name: "cloud".into(),
        kind,
        base_url: base_url.into(),
        api_key: None,
        headers: Vec::new(),
        api_version: None,
    })
}

fn bedrock() -> std::sync::Arc<dyn Adapter> {
    adapter(ProviderKind::Bedrock, BEDROCK)
}

fn vertex() -> std::sync::Arc<dyn Adapter> {
    adapter(ProviderKind::Vertex, VERTEX)
}

fn embed(v: Value) -> EmbeddingRequest {
    serde_json::from_value(v).expect("valid request")
}

fn body(req: &http::Request<bytes::Bytes>) -> Value {
    serde_json::from_slice(req.body()).expect("JSON body")
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).expect("fixture")
}

fn floats(v: &EmbeddingVector) -> &[f32] {
    match v {
        EmbeddingVector::Float(f) => f,
        EmbeddingVector::Base64(_) => panic!("expected floats"),
    }
}

#[test]
fn titan_gets_one_invoke_model_request_per_text() {
    let req = embed(json!({
        "model": "titan",
        "input": ["first text", "second"],
        "dimensions": 256,
        "encoding_format": "base64",
        "extra_body": {"normalize": false}
    }));
    let model = "amazon.titan-embed-text-v2:0";
    let requests = bedrock().embed_requests(&req, model).expect("requests");
    assert_eq!(requests.len(), 2);
    for (r, text) in requests.iter().zip(["first text", "second"]) {
        assert_eq!(r.method(), Method::POST);
        assert_eq!(
            r.uri().to_string(),
            format!("{BEDROCK}/model/amazon.titan-embed-text-v2%3A0/invoke")
        );
        assert_eq!(r.headers()["accept"], "application/json");
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(
            body(r),
            json!({"inputText": text, "dimensions": 256, "normalize": false})
        );
    }
    // A single request only exists for one text; otherwise it says to send several.
    let err = bedrock().embed_request(&req, model).expect_err("two calls");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.param.as_deref(), Some("input"));
    let one = bedrock()
        .embed_request(&embed(json!({"model": "t", "input": "solo"})), model)
        .expect("one request");
    assert_eq!(body(&one), json!({"inputText": "solo"}));
}

#[test]
fn titan_answers_carry_the_vector_and_token_count() {
    let model = "amazon.titan-embed-text-v2:0";
    let a = bedrock();
    let resp = a
        .parse_embed(&fixture("bedrock/invoke-titan-embed-v2.json"), model)
        .expect("parsed");
    assert_eq!(resp.object, "list");
    assert_eq!(resp.model, model);
    assert_eq!(resp.data.len(), 1);
    assert_eq!(resp.data[0].index, 0);
    assert_eq!(
        floats(&resp.data[0].embedding),
        &[0.0213, -0.0478, 0.0932, -0.0114]
    );
    assert_eq!(resp.usage.prompt_tokens.get(), 7);
    assert_eq!(resp.usage.total_tokens.get(), 7);
    // Two calls' answers join in order, re-indexed, with the token counts summed.
    let second = a
        .parse_embed(
            br#"{"embedding":[1.0,0.0,0.0,0.0],"inputTextTokenCount":2}"#,
            model,
        )
        .expect("parsed");
    let merged = merge_embeddings(vec![resp, second]).expect("merged");
    assert_eq!(
        merged.data.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert_eq!(floats(&merged.data[1].embedding), &[1.0, 0.0, 0.0, 0.0]);
    assert_eq!(merged.usage.prompt_tokens.get(), 9);
}

#[test]
fn cohere_on_bedrock_batches_texts_with_an_input_type() {
    let texts: Vec<String> = (0..100).map(|i| format!("text {i}")).collect();
    let req = embed(json!({
        "model": "cohere",
        "input": texts,
        "extra_body": {"input_type": "search_query", "truncate": "END"}
    }));
    let requests = bedrock()
        .embed_requests(&req, "cohere.embed-multilingual-v3")
        .expect("requests");
    assert_eq!(requests.len(), 2, "96 texts per call at most");
    assert_eq!(
        requests[0].uri().path(),
        "/model/cohere.embed-multilingual-v3/invoke"
    );
    let first = body(&requests[0]);
    assert_eq!(first["texts"].as_array().map(Vec::len), Some(96));
    assert_eq!(first["texts"][0], "text 0");
    assert_eq!(first["input_type"], "search_query");
    assert_eq!(first["truncate"], "END");
    let second = body(&requests[1]);
    assert_eq!(
        second["texts"],
        json!(["text 96", "text 97", "text 98", "text 99"])
    );
    // Cohere requires an input type: search_document unless the caller names another.
    let one = bedrock()
        .embed_request(
            &embed(json!({"model": "c", "input": "doc"})),
            "cohere.embed-english-v3",
        )
        .expect("request");
    assert_eq!(
        body(&one),
        json!({"texts": ["doc"], "input_type": "search_document"})
    );
    // dimensions: v4's output_dimension; v3 has a fixed size.
    let sized = embed(json!({"model": "c", "input": "doc", "dimensions": 512}));
    let v4 = bedrock()
        .embed_request(&sized, "cohere.embed-v4:0")
        .expect("v4");
    assert_eq!(body(&v4)["output_dimension"], 512);
    let err = bedrock()
        .embed_request(&sized, "cohere.embed-english-v3")
        .expect_err("v3 is fixed");
    assert_eq!(err.param.as_deref(), Some("dimensions"));
    assert_eq!(err.provider.as_deref(), Some("cloud"));
}

#[test]
fn cohere_answers_of_both_response_types() {
    let a = bedrock();
    let floats_answer = a
        .parse_embed(
            &fixture("bedrock/invoke-cohere-embed-floats.json"),
            "cohere.embed-english-v3",
        )
        .expect("parsed");
    assert_eq!(floats_answer.data.len(), 2);
    assert_eq!(floats_answer.data[1].index, 1);
    assert_eq!(
        floats(&floats_answer.data[1].embedding),
        &[0.0466, -0.0232, -0.0061]
    );
    assert_eq!(
        floats_answer.usage.total_tokens.get(),
        0,
        "no count documented"
    );
    let by_type = a
        .parse_embed(
            &fixture("bedrock/invoke-cohere-embed-by-type.json"),
            "cohere.embed-english-v3",
        )
        .expect("parsed");
    assert_eq!(
        floats(&by_type.data[0].embedding),
        &[0.0161, -0.0083, 0.0412]
    );
    assert_eq!(by_type.usage.prompt_tokens.get(), 2);
    let err = a
        .parse_embed(
            br#"{"embeddings":{"int8":[[1,2]]},"response_type":"embeddings_by_type"}"#,
            "cohere.embed-english-v3",
        )
        .expect_err("no floats");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
}

#[test]
fn bedrock_embedding_refusals_name_the_field() {
    let a = bedrock();
    let err = a
        .embed_requests(
            &embed(json!({"model": "m", "input": "x"})),
            "anthropic.claude-3-haiku-20240307-v1:0",
        )
        .expect_err("not an embedding model");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.param.as_deref(), Some("model"));
    let err = a
        .embed_requests(
            &embed(json!({"model": "m", "input": [1, 2, 3]})),
            "amazon.titan-embed-text-v2:0",
        )
        .expect_err("token ids");
    assert_eq!(err.param.as_deref(), Some("input"));
    let err = a
        .embed_requests(
            &embed(json!({"model": "m", "input": []})),
            "amazon.titan-embed-text-v2:0",
        )
        .expect_err("nothing to embed");
    assert_eq!(err.param.as_deref(), Some("input"));
    let err = a
        .parse_embed(b"{\"embedding\": [0.1,", "amazon.titan-embed-text-v2:0")
        .expect_err("cut body");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert_eq!(err.provider.as_deref(), Some("cloud"));
}

#[test]
fn invoke_model_errors_are_classified_like_converse() {
    let a = bedrock();
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amzn-errortype",
        HeaderValue::from_static(
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
        ),
    );
    headers.insert("retry-after", HeaderValue::from_static("4"));
    let err = a.parse_error(
        429,
        &headers,
        br#"{"message":"Too many requests, please wait before trying again."}"#,
    );
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.code.as_deref(), Some("ThrottlingException"));
    assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(4)));
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amzn-errortype",
        HeaderValue::from_static("ValidationException"),
    );
    let err = a.parse_error(
        400,
        &headers,
        br#"{"message":"Malformed input request: #: required key [inputText] not found, please reformat your input and try again."}"#,
    );
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.status, Some(400));
    assert!(err.message.contains("[inputText]"), "{}", err.message);
}

#[test]
fn vertex_predict_bodies_split_instances_and_parameters() {
    let req = embed(json!({
        "model": "emb",
        "input": ["alpha", "beta"],
        "dimensions": 256,
        "extra_body": {"task_type": "RETRIEVAL_DOCUMENT", "autoTruncate": false}
    }));
    let requests = vertex()
        .embed_requests(&req, "text-embedding-005")
        .expect("requests");
    assert_eq!(requests.len(), 1, "up to 250 instances per call");
    assert_eq!(
        requests[0].uri().to_string(),
        format!("{VERTEX}/publishers/google/models/text-embedding-005:predict")
    );
    assert_eq!(
        body(&requests[0]),
        json!({
            "instances": [
                {"content": "alpha", "task_type": "RETRIEVAL_DOCUMENT"},
                {"content": "beta", "task_type": "RETRIEVAL_DOCUMENT"}
            ],
            "parameters": {"outputDimensionality": 256, "autoTruncate": false}
        })
    );
    // gemini-embedding-001 takes one instance per call.
    let requests = vertex()
        .embed_requests(&req, "publishers/google/models/gemini-embedding-001")
        .expect("requests");
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].uri().path(),
        "/v1/projects/my-proj/locations/us-central1/publishers/google/models/gemini-embedding-001:predict"
    );
    assert_eq!(
        body(&requests[1])["instances"],
        json!([{"content": "beta", "task_type": "RETRIEVAL_DOCUMENT"}])
    );
    let err = vertex()
        .embed_request(&req, "gemini-embedding-001")
        .expect_err("two calls");
    assert_eq!(err.param.as_deref(), Some("input"));
    // No parameters at all when nothing asks for one.
    let plain = vertex()
        .embed_request(
            &embed(json!({"model": "e", "input": "x"})),
            "text-embedding-005",
        )
        .expect("request");
    assert_eq!(body(&plain), json!({"instances": [{"content": "x"}]}));
    // 251 texts need two calls.
    let many: Vec<String> = (0..251).map(|i| i.to_string()).collect();
    let requests = vertex()
        .embed_requests(
            &embed(json!({"model": "e", "input": many})),
            "text-multilingual-embedding-002",
        )
        .expect("requests");
    assert_eq!(requests.len(), 2);
    assert_eq!(body(&requests[1])["instances"], json!([{"content": "250"}]));
}

#[test]
fn vertex_predictions_and_errors() {
    let a = vertex();
    let resp = a
        .parse_embed(
            &fixture("vertex/predict-text-embedding.json"),
            "text-embedding-005",
        )
        .expect("parsed");
    assert_eq!(resp.model, "text-embedding-005");
    assert_eq!(resp.data.len(), 2);
    assert_eq!(
        floats(&resp.data[1].embedding),
        &[-0.0221, 0.0409, 0.0063, -0.0338]
    );
    assert_eq!(resp.data[1].index, 1);
    assert_eq!(resp.usage.prompt_tokens.get(), 10);
    assert_eq!(resp.usage.total_tokens.get(), 10);
    let err = a.parse_error(
        400,
        &HeaderMap::new(),
        &fixture("vertex/predict-too-many-instances.json"),
    );
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.code.as_deref(), Some("INVALID_ARGUMENT"));
    assert!(
        err.message.contains("too many instances"),
        "{}",
        err.message
    );
    let err = a
        .parse_embed(
            br#"{"predictions": [{"embeddings": {}}]}"#,
            "text-embedding-005",
        )
        .expect_err("no values");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert_eq!(err.provider.as_deref(), Some("cloud"));
    let err = a
        .embed_requests(
            &embed(json!({"model": "m", "input": "x"})),
            "claude-sonnet-4-5@20250929",
        )
        .expect_err("Claude has no embeddings");
    assert_eq!(err.param.as_deref(), Some("model"));
}
