//! The admin surface as Python reaches it: virtual-key calls, the audit log and config
//! reloads. Arguments are converted under the GIL before the work starts; answers are the
//! core's serde JSON (a key never includes its value except in `create`'s answer).

use crate::body::Body;
use crate::outcome::panic_error;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use serde::Serialize;
use std::path::PathBuf;
use std::time::SystemTime;
use switchpoint_core::config::KeySpec;
use switchpoint_core::{Error, ErrorKind, Gateway};

/// One virtual-key call with its arguments.
#[derive(Debug)]
pub(crate) enum KeyCall {
    Create {
        spec: Body,
        actor: String,
    },
    List,
    Get {
        id: String,
    },
    Update {
        id: String,
        patch: Body,
        actor: String,
    },
    Revoke {
        id: String,
        actor: String,
    },
}

impl KeyCall {
    /// The call `op` names (`create`, `list`, `get`, `update`, `revoke`); `body` is the
    /// spec of `create` and the patch of `update`.
    pub(crate) fn new(
        op: &str,
        id: Option<String>,
        body: Option<&Bound<'_, PyAny>>,
        actor: String,
    ) -> PyResult<KeyCall> {
        let id = || {
            id.clone()
                .ok_or_else(|| PyValueError::new_err("a key id is needed"))
        };
        let body = || match body {
            Some(b) => Body::from_py(b),
            None => Err(PyValueError::new_err("settings are needed")),
        };
        Ok(match op {
            "create" => KeyCall::Create {
                spec: body()?,
                actor,
            },
            "list" => KeyCall::List,
            "get" => KeyCall::Get { id: id()? },
            "update" => KeyCall::Update {
                id: id()?,
                patch: body()?,
                actor,
            },
            "revoke" => KeyCall::Revoke { id: id()?, actor },
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown key operation `{other}`"
                )))
            }
        })
    }

    /// Runs the call; the answer as its JSON tree (a key, a list of keys).
    pub(crate) async fn run(self, gw: Gateway) -> Result<serde_json::Value, Error> {
        match self {
            KeyCall::Create { spec, actor } => {
                let spec = spec.parse::<KeySpec>()?;
                tree(&gw.create_key(spec, &actor).await?)
            }
            KeyCall::List => tree(&gw.list_keys().await?),
            KeyCall::Get { id } => tree(&gw.get_key(&id).await?),
            KeyCall::Update { id, patch, actor } => {
                let patch = patch.parse::<serde_json::Value>()?;
                tree(&gw.update_key(&id, patch, &actor).await?)
            }
            KeyCall::Revoke { id, actor } => tree(&gw.revoke_key(&id, &actor).await?),
        }
    }
}

/// The audit records since `since` (None: later than any time, so none), as a JSON list.
pub(crate) async fn audit(
    gw: Gateway,
    since: Option<SystemTime>,
) -> Result<serde_json::Value, Error> {
    match since {
        Some(since) => tree(&gw.audit(since).await?),
        None => Ok(serde_json::Value::Array(Vec::new())),
    }
}

/// Where a new configuration comes from.
#[derive(Debug)]
pub(crate) enum ConfigSource {
    /// A YAML or JSON file (`file:` references resolve as in `Gateway.from_file`).
    File(PathBuf),
    /// YAML or JSON text.
    Text(String),
    /// A config object (a dict).
    Object(Body),
}

impl ConfigSource {
    /// The source from what the Python layer passed: a path when `is_file`, else text or a
    /// config object.
    pub(crate) fn new(config: &Bound<'_, PyAny>, is_file: bool) -> PyResult<ConfigSource> {
        if is_file {
            return config.extract::<PathBuf>().map(ConfigSource::File);
        }
        if let Ok(text) = config.cast::<PyString>() {
            return Ok(ConfigSource::Text(text.to_cow()?.into_owned()));
        }
        Body::from_py(config).map(ConfigSource::Object)
    }

    /// Swaps the gateway's configuration (blocking only on a state backend change); a panic
    /// becomes an `internal` error.
    pub(crate) fn reload(self, gw: &Gateway, actor: &str) -> Result<(), Error> {
        let run = || match self {
            ConfigSource::File(path) => {
                gw.reload(switchpoint_core::config::load_file(path)?, actor)
            }
            ConfigSource::Text(text) => gw.reload_text(&text, actor),
            ConfigSource::Object(body) => {
                gw.reload_value(body.parse::<serde_json::Value>()?, actor)
            }
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
            Ok(r) => r,
            Err(panic) => Err(panic_error(panic.as_ref())),
        }
    }
}

/// A core answer as its JSON tree; failure would be a bug in the core's types.
fn tree<T: Serialize>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot serialize: {e}")))
}
