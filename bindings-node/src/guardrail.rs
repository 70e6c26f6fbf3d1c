//! Host guardrails: a JS function that sees each request's messages (input) and each
//! answer's text (output) and allows, denies or rewrites it.
//!
//! The core runs a hook on a tokio worker; the JS function must run on the JS thread. So a
//! hook is a *weak* threadsafe function (a registered guardrail never keeps node alive by
//! itself) called in non-blocking mode, whose return value, a promise the wrapper always
//! resolves (never rejects) with `{"verdict": ...}` or `{"error": "<the exception's
//! message>"}` as JSON text, is awaited on the worker. The worker never blocks and the event
//! loop never waits on the worker.

use crate::gateway::Gateway;
use crate::task::{guard_sync, throw};
use futures_util::future::BoxFuture;
use napi::bindgen_prelude::{Env, Function, Promise, Result};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;
use serde::Deserialize;
use std::fmt;
use std::sync::Arc;
use switchpoint_core::policy::guardrails::{GuardrailHook, HookEvent, HookVerdict};
use switchpoint_core::{Error, ErrorKind};

/// The wrapper's hook: the event's JSON text in, a promise of the answer's JSON text out.
/// Weak, unbounded queue (each call is a request waiting on its answer).
type HookFn = ThreadsafeFunction<String, Promise<String>, String, Status, false, true, 0>;

/// What the wrapper's hook resolves to.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    /// The JS function's return value (or the value its promise resolved to).
    #[serde(default)]
    verdict: serde_json::Value,
    /// The message of what the JS function threw (or its promise rejected with).
    #[serde(default)]
    error: Option<String>,
}

/// One registered JS guardrail.
struct JsHook {
    tsfn: Arc<HookFn>,
}

impl fmt::Debug for JsHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JsHook")
    }
}

impl GuardrailHook for JsHook {
    fn check(
        &self,
        event: HookEvent,
    ) -> BoxFuture<'static, std::result::Result<HookVerdict, Error>> {
        let tsfn = self.tsfn.clone();
        Box::pin(async move {
            let json = serde_json::to_string(&event)
                .map_err(|e| failed(format!("the guardrail event cannot be serialized: {e}")))?;
            let pending = tsfn
                .call_async_catch(json)
                .await
                .map_err(|e| failed(format!("the guardrail callback could not be called: {e}")))?;
            let text = pending
                .await
                .map_err(|e| failed(format!("the guardrail callback failed: {e}")))?;
            let answer: Answer = serde_json::from_str(&text).map_err(|e| {
                failed(format!(
                    "the guardrail callback's answer is unreadable: {e}"
                ))
            })?;
            match answer.error {
                Some(message) => Err(failed(message)),
                None => HookVerdict::from_json(answer.verdict),
            }
        })
    }
}

/// The error of a hook that threw: the request fails with the exception's message.
fn failed(message: String) -> Error {
    Error::new(ErrorKind::Internal, message).with_code("guardrail_hook_failed")
}

#[napi]
impl Gateway {
    /// Registers a guardrail; `hook(eventJson)` must return a promise that resolves (never
    /// rejects) to `{"verdict": ...}` or `{"error": message}` as JSON text. Returns its id.
    #[napi(ts_args_type = "hook: (event: string) => Promise<string>")]
    pub fn add_guardrail(&self, env: &Env, hook: Function<String, Promise<String>>) -> Result<f64> {
        guard_sync(env, || {
            let tsfn: HookFn = hook
                .build_threadsafe_function::<String>()
                .weak::<true>()
                .build_callback(|ctx| Ok(ctx.value))?;
            let id = self.core().add_guardrail(Arc::new(JsHook {
                tsfn: Arc::new(tsfn),
            }));
            // Ids count up from 1; far below 2^53.
            Ok(id as f64)
        })
    }

    /// Unregisters a guardrail; true the first time, false for an unknown id. Requests
    /// already past their guardrails are not affected.
    #[napi]
    pub fn remove_guardrail(&self, env: &Env, id: f64) -> Result<bool> {
        guard_sync(env, || {
            if !(id.is_finite() && id >= 0.0 && id.fract() == 0.0) {
                return Err(throw(
                    env,
                    Error::new(
                        ErrorKind::BadRequest,
                        format!("removeGuardrail: {id} is not a guardrail id"),
                    )
                    .with_param("id"),
                ));
            }
            Ok(self.core().remove_guardrail(id as u64))
        })
    }
}
