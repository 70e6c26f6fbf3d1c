//! One provider request from arrival to response: log it, check auth like the provider,
//! pick the fault, and answer (error, JSON body or event stream) shaped by that fault.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{json, Value};

use crate::body::MockBody;
use crate::convo;
use crate::embed;
use crate::errors::{self, ErrorContext, ErrorReply};
use crate::fault::{split_model, Fault, FaultError};
use crate::log::{LogEntry, Tracker};
use crate::route::{self, Action, Provider, Route};
use crate::server::State;
use crate::sse::{self, Event};
use crate::{
    anthropic, bedrock, cloud, cloud_embed, cohere, eventstream, gemini, mistral, oauth, ollama,
    openai, responses,
};

/// What a successful answer consists of.
enum Payload {
    Json(Value),
    Stream {
        events: Vec<Event>,
        line_end: &'static str,
    },
    /// Bedrock's binary `application/vnd.amazon.eventstream`.
    EventStream(Vec<Event>),
    /// Newline-delimited JSON (Ollama): one event per line.
    Lines(Vec<Event>),
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    map
}

fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The key the request carries in this provider's auth header (or Gemini's `key` query).
fn api_key(provider: Provider, headers: &HeaderMap, query: &str) -> Option<String> {
    let key = match provider {
        Provider::OpenAi | Provider::Cohere | Provider::Mistral | Provider::Ollama => {
            header(headers, "authorization").and_then(|v| {
                v.get(..7)
                    .filter(|p| p.eq_ignore_ascii_case("bearer "))
                    .map(|_| v[7..].trim().to_string())
            })
        }
        Provider::Azure => header(headers, "api-key").map(str::to_string),
        Provider::Anthropic => header(headers, "x-api-key").map(str::to_string),
        Provider::Gemini => header(headers, "x-goog-api-key")
            .map(str::to_string)
            .or_else(|| query_param(query, "key")),
        // Checked by `cloud::precheck` instead.
        Provider::Bedrock
        | Provider::VertexGoogle
        | Provider::VertexAnthropic
        | Provider::GoogleOAuth => Some("cloud".to_string()),
    };
    key.filter(|k| !k.is_empty())
}

/// Checks the provider makes before anything else: Azure's api-version (not on the v1
/// API), the key, Anthropic's version header.
fn precheck(
    route: &Route,
    headers: &HeaderMap,
    query: &str,
    request_id: &str,
) -> Option<ErrorReply> {
    let provider = route.provider;
    if provider == Provider::Azure
        && route.action != Action::Responses
        && query_param(query, "api-version").is_none()
    {
        return Some(errors::azure_not_found());
    }
    match api_key(provider, headers, query).as_deref() {
        // A local Ollama takes no key; only the rejected key is refused.
        None if provider == Provider::Ollama => {}
        None => return Some(errors::auth_error(provider, true, request_id)),
        Some("bad-key") => return Some(errors::auth_error(provider, false, request_id)),
        Some(_) => {}
    }
    if provider == Provider::Anthropic && header(headers, "anthropic-version").is_none() {
        return Some(errors::invalid_request(
            provider,
            "anthropic-version: header is required",
            None,
            request_id,
        ));
    }
    None
}

/// The fault for this request: header first, then model suffix, then the script queue.
fn select_fault(
    state: &State,
    headers: &HeaderMap,
    suffix: Option<&str>,
    provider: Provider,
    model: &str,
) -> Result<Option<Fault>, String> {
    if let Some(value) = headers.get("x-mock-fault") {
        let text = value
            .to_str()
            .map_err(|_| "x-mock-fault header is not ASCII".to_string())?;
        return Fault::from_header(text).map(Some);
    }
    if let Some(suffix) = suffix {
        return Fault::from_suffix(suffix).map(Some);
    }
    if provider == Provider::GoogleOAuth {
        return Ok(state.script().take_named(provider.as_str()));
    }
    Ok(state.script().take(provider.as_str(), model))
}

/// Handles a request on a provider path (or an unknown path, answered 404).
pub(crate) async fn provider_request(
    state: &Arc<State>,
    parts: &Parts,
    raw: Bytes,
) -> io::Result<Response<MockBody>> {
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("").to_string();
    let body = serde_json::from_slice::<Value>(&raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()));
    let route = route::route(&parts.method, path);
    let raw_model = route
        .as_ref()
        .and_then(|r| r.path_model.clone())
        .or_else(|| {
            body.get("model")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    let (model, suffix) = split_model(&raw_model);
    let stream = match &route {
        Some(r)
            if matches!(
                r.provider,
                Provider::Gemini
                    | Provider::Bedrock
                    | Provider::VertexGoogle
                    | Provider::VertexAnthropic
            ) =>
        {
            r.path_stream
        }
        // Ollama streams unless told `"stream": false`.
        Some(r) if r.provider == Provider::Ollama && r.action == Action::Chat => {
            body.get("stream") != Some(&Value::Bool(false))
        }
        Some(r) if matches!(r.action, Action::Chat | Action::Responses) => {
            body.get("stream") == Some(&Value::Bool(true))
        }
        _ => false,
    };
    let seq = state.log.push(LogEntry {
        seq: 0,
        method: parts.method.to_string(),
        path: path.to_string(),
        query: query.clone(),
        provider: route
            .as_ref()
            .map_or("unknown", |r| r.provider.as_str())
            .to_string(),
        endpoint: route
            .as_ref()
            .map_or("unknown", |r| r.action.endpoint())
            .to_string(),
        model: model.to_string(),
        stream,
        headers: header_map(&parts.headers),
        body: body.clone(),
        fault: None,
        status: 0,
        completed: false,
        client_closed_early: false,
    });
    // Dropped with this future if the client leaves first: that marks client_closed_early.
    let tracker = Tracker::new(state.log.clone(), seq);
    let request_id = format!("req_mock_{seq}");

    let Some(route) = route else {
        let body = json!({"error": {
            "message": format!("Invalid URL ({} {})", parts.method, path),
            "type": "invalid_request_error", "param": null, "code": null
        }});
        return Ok(respond(
            tracker,
            None,
            404,
            Payload::Json(body),
            None,
            &request_id,
        ));
    };
    let provider = route.provider;
    let refused = if provider.is_cloud() {
        cloud::precheck(provider, parts, &raw, &body, &request_id)
    } else {
        precheck(&route, &parts.headers, &query, &request_id)
    };
    if let Some(error) = refused {
        return Ok(error_response(tracker, provider, error, None, &request_id));
    }
    let fault = match select_fault(state, &parts.headers, suffix, provider, model) {
        Ok(fault) => fault,
        Err(message) => {
            let error = errors::invalid_request(provider, &message, None, &request_id);
            return Ok(error_response(tracker, provider, error, None, &request_id));
        }
    };
    tracker.update(|e| e.fault = fault.clone());
    let fault = fault.as_ref();

    if let Some(ms) = fault.and_then(|f| f.delay_ms) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if fault.is_some_and(|f| f.reset) {
        tracker.settle(false);
        // hyper closes the connection without a response when the service fails.
        return Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "mock-provider: reset fault",
        ));
    }
    if let Some(f) = fault {
        match f.error_kind() {
            Some(FaultError::ContentFilter) if provider != Provider::Azure => {}
            // Sent as an exception message inside the stream (see `answer`).
            Some(_) if f.in_stream && stream && provider == Provider::Bedrock => {}
            Some(kind) => {
                let ctx = ErrorContext {
                    model,
                    request_id: &request_id,
                    retry_after: f.retry_after,
                };
                let error = errors::fault_error(provider, kind, f.status, ctx);
                return Ok(error_response(tracker, provider, error, fault, &request_id));
            }
            None => {}
        }
    }
    if provider == Provider::GoogleOAuth {
        let host = header(&parts.headers, "host").unwrap_or("localhost");
        let target = parts.uri.path_and_query().map_or("/token", |p| p.as_str());
        let (status, body) = oauth::token(&raw, host, target);
        return Ok(respond(
            tracker,
            Some(provider),
            status,
            Payload::Json(body),
            fault,
            &request_id,
        ));
    }
    match answer(state, &route, &body, model, seq, stream, fault, &request_id) {
        Ok(payload) => Ok(respond(
            tracker,
            Some(provider),
            200,
            payload,
            fault,
            &request_id,
        )),
        Err(error) => Ok(error_response(tracker, provider, error, fault, &request_id)),
    }
}

/// Builds the successful answer, or the provider's 400 for a request it would reject.
#[allow(clippy::too_many_arguments)]
fn answer(
    state: &State,
    route: &Route,
    body: &Value,
    model: &str,
    seq: u64,
    stream: bool,
    fault: Option<&Fault>,
    request_id: &str,
) -> Result<Payload, ErrorReply> {
    let provider = route.provider;
    let invalid = |message: &str, param: Option<&str>| {
        errors::invalid_request(provider, message, param, request_id)
    };
    if !body.is_object() {
        return Err(invalid(
            "We could not parse the JSON body of your request. The API expects a JSON payload.",
            None,
        ));
    }
    let ids = &state.tool_ids;
    match (provider, route.action) {
        (Provider::OpenAi | Provider::Azure, Action::Responses) => {
            let conv = responses::conversation(body).map_err(|(m, p)| invalid(&m, Some(p)))?;
            let plan = convo::plan(&conv, fault);
            let reply = responses::Reply {
                model,
                seq,
                created: unix_now(),
                tool_ids: ids,
            };
            Ok(if stream {
                Payload::Stream {
                    events: responses::stream(body, &plan, &reply),
                    line_end: "\n",
                }
            } else {
                Payload::Json(responses::response(body, &plan, &reply))
            })
        }
        (Provider::OpenAi | Provider::Azure, Action::Chat) => {
            let conv = openai::conversation(body).map_err(|(m, p)| invalid(&m, Some(p)))?;
            let plan = convo::plan(&conv, fault);
            let reply = openai::Reply {
                model,
                seq,
                created: unix_now(),
                azure: provider == Provider::Azure,
                tool_ids: ids,
            };
            let choices = openai::choice_count(body);
            Ok(if stream {
                Payload::Stream {
                    events: openai::stream(&plan, choices, openai::include_usage(body), &reply),
                    line_end: "\n",
                }
            } else {
                Payload::Json(openai::response(&plan, choices, &reply))
            })
        }
        (Provider::OpenAi | Provider::Azure, _) => embed::openai_response(body, model)
            .map(Payload::Json)
            .map_err(|(m, p)| invalid(&m, Some(p))),
        (Provider::Anthropic, _) => {
            let conv = anthropic::conversation(body).map_err(|m| invalid(&m, None))?;
            let plan = convo::plan(&conv, fault);
            let reply = anthropic::Reply {
                model,
                seq,
                tool_ids: ids,
            };
            Ok(if stream {
                Payload::Stream {
                    events: anthropic::stream(&plan, &reply),
                    line_end: "\n",
                }
            } else {
                Payload::Json(anthropic::response(&plan, &reply))
            })
        }
        (Provider::Gemini, Action::Chat) => {
            let conv = gemini::conversation(body).map_err(|m| invalid(&m, None))?;
            let plan = convo::plan(&conv, fault);
            let reply = gemini::Reply {
                model,
                seq,
                tool_ids: ids,
            };
            let count = gemini::candidate_count(body);
            Ok(if stream {
                Payload::Stream {
                    events: gemini::stream(&plan, count, &reply),
                    line_end: "\r\n",
                }
            } else {
                Payload::Json(gemini::response(&plan, count, &reply))
            })
        }
        (Provider::Gemini, Action::GeminiBatchEmbed) => embed::gemini_batch_response(body)
            .map(Payload::Json)
            .map_err(|m| invalid(&m, None)),
        (Provider::Gemini, _) => embed::gemini_response(body)
            .map(Payload::Json)
            .map_err(|m| invalid(&m, None)),
        (Provider::Cohere, Action::Chat) => {
            let (conv, cited) = cohere::conversation(body).map_err(|m| invalid(&m, None))?;
            let plan = convo::plan(&conv, fault);
            let reply = cohere::Reply { seq, tool_ids: ids };
            Ok(if stream {
                Payload::Stream {
                    events: cohere::stream(&plan, cited.as_ref(), &reply),
                    line_end: "\n",
                }
            } else {
                Payload::Json(cohere::response(&plan, cited.as_ref(), &reply))
            })
        }
        (Provider::Cohere, _) => cohere::embed_response(body, seq)
            .map(Payload::Json)
            .map_err(|m| invalid(&m, None)),
        (Provider::Mistral, action) => {
            mistral::validate(body).map_err(|r| ErrorReply {
                status: r.status,
                body: r.body,
            })?;
            if action != Action::Chat {
                let mut body = body.clone();
                if let Some(d) = body.get("output_dimension").cloned() {
                    body["dimensions"] = d;
                }
                return embed::openai_response(&body, model)
                    .map(Payload::Json)
                    .map_err(|(m, p)| invalid(&m, Some(p)));
            }
            let conv = mistral::conversation(body).map_err(|(m, p)| invalid(&m, Some(p)))?;
            let plan = convo::plan(&conv, fault);
            let reply = openai::Reply {
                model,
                seq,
                created: unix_now(),
                azure: false,
                tool_ids: ids,
            };
            let choices = openai::choice_count(body);
            Ok(if stream {
                Payload::Stream {
                    events: mistral::stream(&plan, choices, &reply),
                    line_end: "\n",
                }
            } else {
                Payload::Json(mistral::response(&plan, choices, &reply))
            })
        }
        (Provider::Ollama, Action::Chat) => {
            let conv = ollama::conversation(body).map_err(|m| invalid(&m, None))?;
            let plan = convo::plan(&conv, fault);
            let reply = ollama::Reply { model, seq };
            Ok(if stream {
                Payload::Lines(ollama::stream(&plan, &reply))
            } else {
                Payload::Json(ollama::response(&plan, &reply))
            })
        }
        (Provider::Ollama, _) => ollama::embed_response(body, model)
            .map(Payload::Json)
            .map_err(|m| invalid(&m, None)),
        (Provider::Bedrock, Action::BedrockInvoke) => cloud_embed::bedrock_invoke(body, model, seq)
            .map(Payload::Json)
            .map_err(|m| invalid(&m, None)),
        (Provider::VertexGoogle, Action::VertexPredict) => cloud_embed::vertex_predict(body, model)
            .map(Payload::Json)
            .map_err(|m| invalid(&m, None)),
        (Provider::Bedrock, _) => {
            let conv = bedrock::conversation(body).map_err(|m| invalid(&m, None))?;
            let plan = convo::plan(&conv, fault);
            let reply = bedrock::Reply { tool_ids: ids };
            Ok(if stream {
                let exception = fault.filter(|f| f.in_stream).and_then(Fault::error_kind);
                Payload::EventStream(bedrock::stream(&plan, &reply, exception))
            } else {
                Payload::Json(bedrock::response(&plan, &reply))
            })
        }
        (Provider::VertexGoogle, _) => {
            let conv = gemini::conversation(body).map_err(|m| invalid(&m, None))?;
            let plan = convo::plan(&conv, fault);
            let reply = gemini::Reply {
                model,
                seq,
                tool_ids: ids,
            };
            let count = gemini::candidate_count(body);
            Ok(if stream {
                Payload::Stream {
                    events: gemini::stream(&plan, count, &reply),
                    line_end: "\r\n",
                }
            } else {
                Payload::Json(gemini::response(&plan, count, &reply))
            })
        }
        (Provider::VertexAnthropic, _) => {
            let conv = anthropic::conversation(body).map_err(|m| invalid(&m, None))?;
            let plan = convo::plan(&conv, fault);
            let reply = anthropic::Reply {
                model,
                seq,
                tool_ids: ids,
            };
            Ok(if stream {
                Payload::Stream {
                    events: anthropic::stream(&plan, &reply),
                    line_end: "\n",
                }
            } else {
                Payload::Json(anthropic::response(&plan, &reply))
            })
        }
        (Provider::GoogleOAuth, _) => Err(invalid("not a chat endpoint", None)),
    }
}

fn error_response(
    tracker: Tracker,
    provider: Provider,
    error: ErrorReply,
    fault: Option<&Fault>,
    request_id: &str,
) -> Response<MockBody> {
    respond(
        tracker,
        Some(provider),
        error.status,
        Payload::Json(error.body),
        fault,
        request_id,
    )
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// Writes the response: status, headers (request id, retry hints), and a body shaped by the
/// fault (`malformed`, `cut_after`, `chunk_delay_ms` apply to successful answers only).
fn respond(
    tracker: Tracker,
    provider: Option<Provider>,
    status: u16,
    payload: Payload,
    fault: Option<&Fault>,
    request_id: &str,
) -> Response<MockBody> {
    tracker.update(|e| e.status = status);
    let success = status == 200;
    let shaping = fault.filter(|_| success);
    let mut headers = HeaderMap::new();
    match provider {
        Some(Provider::Anthropic) => set(&mut headers, "request-id", request_id),
        Some(Provider::Bedrock) => set(&mut headers, "x-amzn-requestid", request_id),
        Some(
            Provider::Gemini
            | Provider::Ollama
            | Provider::VertexGoogle
            | Provider::VertexAnthropic
            | Provider::GoogleOAuth,
        ) => {}
        _ => set(&mut headers, "x-request-id", request_id),
    }
    if let Some(seconds) = fault.and_then(|f| f.retry_after) {
        set(
            &mut headers,
            "retry-after",
            &errors::format_seconds(seconds),
        );
    }
    if let Some(ms) = fault.and_then(|f| f.retry_after_ms) {
        set(&mut headers, "retry-after-ms", &ms.to_string());
    }
    let body = match payload {
        Payload::Json(mut value) => {
            // Bedrock names the error shape in a header, not the body.
            if let Some(kind) = value
                .as_object_mut()
                .and_then(|o| o.remove("__type"))
                .and_then(|t| t.as_str().map(str::to_string))
            {
                let full = format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/");
                set(&mut headers, "x-amzn-errortype", &full);
            }
            set(&mut headers, "content-type", "application/json");
            let bytes = Bytes::from(value.to_string());
            let half = bytes.slice(..bytes.len() / 2);
            if shaping.is_some_and(|f| f.cut_after.is_some()) {
                // Promise the whole body, send half, then drop the connection.
                set(&mut headers, "content-length", &bytes.len().to_string());
                MockBody::pieces(vec![half], None, true, Some(tracker))
            } else if shaping.is_some_and(|f| f.malformed) {
                MockBody::full(half, Some(tracker))
            } else {
                MockBody::full(bytes, Some(tracker))
            }
        }
        Payload::Stream { events, line_end } => {
            let content_type = match provider {
                Some(Provider::Gemini | Provider::VertexGoogle) => "text/event-stream",
                _ => "text/event-stream; charset=utf-8",
            };
            set(&mut headers, "content-type", content_type);
            set(&mut headers, "cache-control", "no-cache");
            let gap = shaping
                .and_then(|f| f.chunk_delay_ms)
                .map(Duration::from_millis);
            let assembled = sse::assemble(events, shaping, line_end);
            MockBody::pieces(assembled.pieces, gap, assembled.cut, Some(tracker))
        }
        Payload::EventStream(events) => {
            set(
                &mut headers,
                "content-type",
                "application/vnd.amazon.eventstream",
            );
            let gap = shaping
                .and_then(|f| f.chunk_delay_ms)
                .map(Duration::from_millis);
            let assembled = eventstream::assemble(events, shaping);
            MockBody::pieces(assembled.pieces, gap, assembled.cut, Some(tracker))
        }
        Payload::Lines(events) => {
            set(&mut headers, "content-type", "application/x-ndjson");
            let gap = shaping
                .and_then(|f| f.chunk_delay_ms)
                .map(Duration::from_millis);
            let assembled = sse::assemble_with(events, shaping, ollama::encode_line);
            MockBody::pieces(assembled.pieces, gap, assembled.cut, Some(tracker))
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = headers;
    if response.headers().get(header::CONTENT_TYPE).is_none() {
        set(response.headers_mut(), "content-type", "application/json");
    }
    response
}
