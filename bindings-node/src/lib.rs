//! The node addon behind the npm package `switchpoint`.
//!
//! A binding converts values, runs futures and maps errors; the core owns behaviour. Every
//! export here takes JSON text from the JS wrapper (`index.js`), runs the call on the core's
//! one process-wide tokio runtime, and settles a promise with JSON text or a structured error
//! the wrapper turns into the right `SwitchpointError` subclass.
//!
//! Rules every export follows:
//! - the event loop never waits on I/O: calls are spawned on `switchpoint_core::runtime` and
//!   settle their promise through a threadsafe function that is released once it fired, so a
//!   settled call holds nothing that keeps node alive;
//! - what a task needs (the gateway, a cheap `Arc` clone; the request text) is moved into it,
//!   so no `&self` borrow lives across an await;
//! - no panic crosses into JS: sync parts run under `std::panic::catch_unwind`, async parts
//!   under `FutureExt::catch_unwind`, and a caught panic becomes an `internal` error whose
//!   code is `panic`;
//! - callbacks into JS (request records) use a *weak* threadsafe function
//!   (`ThreadsafeFunction<.., Weak = true>`, i.e. `napi_unref_threadsafe_function`) called
//!   in non-blocking mode, so an observer never keeps the process alive by itself and the
//!   telemetry thread never waits on JS; guardrails (`guardrail`) too, and their answer comes
//!   back as a promise the worker awaits without blocking.

mod admin;
mod cancel;
mod error;
mod gateway;
mod guardrail;
mod stream;
mod task;
mod telemetry;

pub use cancel::CancelToken;
pub use error::NativeError;
pub use gateway::Gateway;
pub use stream::NativeStream;
pub use telemetry::RecordSubscription;

use napi::bindgen_prelude::{Env, Object, Result};
use napi_derive::napi;

/// The error kinds this build knows, in the core's order, so the JS wrapper can check that
/// it has a class for each one.
#[napi(js_name = "errorKinds")]
pub fn error_kinds() -> Vec<&'static str> {
    switchpoint_core::ErrorKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect()
}

/// `"release"` or `"debug"`: which build of the addon is loaded, so the benchmark can refuse
/// to report figures of a debug build.
#[napi(js_name = "buildProfile")]
pub fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// Panics on purpose, synchronously (`"sync"`) or inside a spawned call (`"async"`), so the
/// test suite can prove that a panic reaches JS as a `SwitchpointError` with code `panic`
/// through the very guards every real export uses.
#[napi(
    js_name = "__panicForTests",
    ts_return_type = "Promise<string | NativeError>"
)]
pub fn panic_for_tests<'env>(env: &'env Env, place: String) -> Result<Object<'env>> {
    task::guard_sync(env, || {
        if place == "sync" {
            panic!("deliberate panic for the test suite (sync)");
        }
        task::spawn_promise(env, None, async move {
            if place == "async" {
                panic!("deliberate panic for the test suite (async)");
            }
            Ok::<String, switchpoint_core::Error>(place)
        })
    })
}
