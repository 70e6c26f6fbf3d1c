//! The cloud providers' own config fields: Bedrock's region and AWS credentials, Vertex AI's
//! project, location and Google credentials. Resolved into the base URL the adapter builds
//! on and the [`AuthConfig`] the transport signs or authorizes requests with.

use super::resolve::resolve_secret;
use super::schema::ProviderEntry;
use super::Secret;
use crate::api::Error;
use crate::auth::{AuthConfig, AwsCredentials, GoogleCredentials};
use crate::providers::ProviderKind;

/// What a cloud kind adds to a provider.
#[derive(Debug, Default)]
pub(super) struct CloudParts {
    /// The base URL to use, when the kind computes it (Vertex always; Bedrock by default).
    pub base_url: Option<String>,
    pub auth: AuthConfig,
}

/// Resolves the cloud fields of `entry`; other kinds must leave them unset.
pub(super) fn resolve_cloud(
    name: &str,
    entry: &ProviderEntry,
    kind: ProviderKind,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<CloudParts, Error> {
    let field = |f: &str| format!("providers.{name}.{f}");
    let aws_fields = [
        ("region", entry.region.is_some()),
        ("aws_access_key_id", entry.aws_access_key_id.is_some()),
        (
            "aws_secret_access_key",
            entry.aws_secret_access_key.is_some(),
        ),
        ("aws_session_token", entry.aws_session_token.is_some()),
    ];
    let google_fields = [
        ("project", entry.project.is_some()),
        ("location", entry.location.is_some()),
        ("credentials", entry.credentials.is_some()),
    ];
    let misplaced = |fields: &[(&str, bool)], owner: &str| {
        fields.iter().find(|(_, set)| *set).map(|(f, _)| {
            Error::config(
                field(f),
                format!("provider `{name}`: `{f}` applies to kind `{owner}` only (this provider is `{kind}`)"),
            )
        })
    };
    if kind != ProviderKind::Bedrock {
        if let Some(e) = misplaced(&aws_fields, "bedrock") {
            return Err(e);
        }
    }
    if kind != ProviderKind::Vertex {
        if let Some(e) = misplaced(&google_fields, "vertex") {
            return Err(e);
        }
    }
    match kind {
        ProviderKind::Bedrock => bedrock(name, entry, env),
        ProviderKind::Vertex => vertex(name, entry, env),
        _ => Ok(CloudParts::default()),
    }
}

/// A value from config or the first set environment variable.
fn config_or_env(
    value: &Option<String>,
    vars: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    value.clone().filter(|v| !v.is_empty()).or_else(|| {
        vars.iter()
            .find_map(|v| env(v).filter(|x| !x.trim().is_empty()))
            .map(|v| v.trim().to_string())
    })
}

/// Checks an id that becomes part of a host name or URL path (`us-east-1`, `my-project`).
fn url_safe(name: &str, f: &str, value: &str) -> Result<(), Error> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::config(
            format!("providers.{name}.{f}"),
            format!("provider `{name}`: `{f}` `{value}` may only hold letters, digits, `-`, `_` and `.`"),
        ))
    }
}

/// Bedrock: the region's endpoint and SigV4 credentials, or bearer auth with a Bedrock API
/// key in `api_key` (the adapter sends that header itself).
fn bedrock(
    name: &str,
    entry: &ProviderEntry,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<CloudParts, Error> {
    let field = |f: &str| format!("providers.{name}.{f}");
    let region = config_or_env(&entry.region, &["AWS_REGION", "AWS_DEFAULT_REGION"], env)
        .ok_or_else(|| {
            Error::config(
                field("region"),
                format!("provider `{name}` (bedrock) needs `region` or the environment variable AWS_REGION"),
            )
        })?;
    url_safe(name, "region", &region)?;
    let base_url = entry
        .base_url
        .is_none()
        .then(|| format!("https://bedrock-runtime.{region}.amazonaws.com"));
    let has_key = entry.api_key.is_some() || entry.api_keys.is_some();
    if has_key && entry.aws_access_key_id.is_none() {
        return Ok(CloudParts {
            base_url,
            auth: AuthConfig::None,
        });
    }
    let secret = |value: &Option<String>, default_env: &str, f: &str| -> Result<Secret, Error> {
        let reference = value
            .clone()
            .unwrap_or_else(|| format!("env:{default_env}"));
        resolve_secret(&reference, &field(f), env)
    };
    let access_key_id = secret(
        &entry.aws_access_key_id,
        "AWS_ACCESS_KEY_ID",
        "aws_access_key_id",
    )?;
    let secret_access_key = secret(
        &entry.aws_secret_access_key,
        "AWS_SECRET_ACCESS_KEY",
        "aws_secret_access_key",
    )?;
    let session_token = match &entry.aws_session_token {
        Some(r) => Some(resolve_secret(r, &field("aws_session_token"), env)?),
        None => env("AWS_SESSION_TOKEN")
            .filter(|t| !t.is_empty())
            .map(Secret::new),
    };
    Ok(CloudParts {
        base_url,
        auth: AuthConfig::SigV4 {
            credentials: AwsCredentials {
                access_key_id,
                secret_access_key,
                session_token,
            },
            region,
            service: "bedrock".to_string(),
        },
    })
}

/// Vertex AI: `{endpoint}/v1/projects/{project}/locations/{location}` as the base URL (the
/// adapter appends `/publishers/{publisher}/models/{model}:{method}`) and Google credentials.
fn vertex(
    name: &str,
    entry: &ProviderEntry,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<CloudParts, Error> {
    let field = |f: &str| format!("providers.{name}.{f}");
    if let Some(f) = [
        ("api_key", entry.api_key.is_some()),
        ("api_keys", entry.api_keys.is_some()),
    ]
    .iter()
    .find_map(|(f, set)| set.then_some(*f))
    {
        return Err(Error::config(
            field(f),
            format!("provider `{name}` (vertex) authenticates with `credentials` (a service-account key or an access token), not `{f}`"),
        ));
    }
    let project = config_or_env(&entry.project, &["GOOGLE_CLOUD_PROJECT"], env).ok_or_else(|| {
        Error::config(
            field("project"),
            format!("provider `{name}` (vertex) needs `project` or the environment variable GOOGLE_CLOUD_PROJECT"),
        )
    })?;
    url_safe(name, "project", &project)?;
    let location = config_or_env(&entry.location, &["GOOGLE_CLOUD_LOCATION"], env)
        .unwrap_or_else(|| "us-central1".to_string());
    url_safe(name, "location", &location)?;
    let endpoint = match &entry.base_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None if location == "global" => "https://aiplatform.googleapis.com".to_string(),
        None => format!("https://{location}-aiplatform.googleapis.com"),
    };
    let reference = match &entry.credentials {
        Some(r) => r.clone(),
        None => match env("GOOGLE_APPLICATION_CREDENTIALS").filter(|p| !p.is_empty()) {
            Some(path) => format!("file:{path}"),
            None => {
                return Err(Error::config(
                    field("credentials"),
                    format!("provider `{name}` (vertex) needs `credentials` (file:PATH of a service-account key, or env:NAME of an access token) or the environment variable GOOGLE_APPLICATION_CREDENTIALS"),
                ))
            }
        },
    };
    let text = resolve_secret(&reference, &field("credentials"), env)?;
    let creds = GoogleCredentials::parse(text.expose()).map_err(|why| {
        Error::config(
            field("credentials"),
            format!("provider `{name}`: the credentials are neither an access token nor a usable service-account key: {why}"),
        )
    })?;
    Ok(CloudParts {
        base_url: Some(format!(
            "{endpoint}/v1/projects/{project}/locations/{location}"
        )),
        auth: AuthConfig::Google(creds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn bedrock_reads_aws_environment_defaults() {
        let entry = ProviderEntry::default();
        let env = env_of(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "shh"),
            ("AWS_SESSION_TOKEN", "tok"),
        ]);
        let parts = resolve_cloud("br", &entry, ProviderKind::Bedrock, &env).expect("ok");
        assert_eq!(
            parts.base_url.as_deref(),
            Some("https://bedrock-runtime.eu-west-1.amazonaws.com")
        );
        match parts.auth {
            AuthConfig::SigV4 {
                credentials,
                region,
                service,
            } => {
                assert_eq!(region, "eu-west-1");
                assert_eq!(service, "bedrock");
                assert_eq!(credentials.access_key_id.expose(), "AKID");
                assert_eq!(credentials.secret_access_key.expose(), "shh");
                assert_eq!(
                    credentials.session_token.map(|t| t.expose().to_string()),
                    Some("tok".into())
                );
            }
            other => panic!("expected SigV4, got {other:?}"),
        }
    }

    #[test]
    fn bedrock_errors_name_the_field() {
        let entry = ProviderEntry::default();
        let err = resolve_cloud("br", &entry, ProviderKind::Bedrock, &env_of(&[]))
            .expect_err("no region");
        assert_eq!(err.param.as_deref(), Some("providers.br.region"));
        let entry = ProviderEntry {
            region: Some("us-east-1".into()),
            aws_secret_access_key: Some("env:MY_SECRET".into()),
            ..ProviderEntry::default()
        };
        let err = resolve_cloud(
            "br",
            &entry,
            ProviderKind::Bedrock,
            &env_of(&[("AWS_ACCESS_KEY_ID", "AKID")]),
        )
        .expect_err("no secret");
        assert_eq!(
            err.param.as_deref(),
            Some("providers.br.aws_secret_access_key")
        );
        assert!(err.message.contains("MY_SECRET"), "{}", err.message);
        let entry = ProviderEntry {
            region: Some("us east".into()),
            ..ProviderEntry::default()
        };
        let err = resolve_cloud("br", &entry, ProviderKind::Bedrock, &env_of(&[]))
            .expect_err("bad region");
        assert_eq!(err.param.as_deref(), Some("providers.br.region"));
    }

    #[test]
    fn cloud_fields_on_other_kinds_are_rejected() {
        let entry = ProviderEntry {
            project: Some("p".into()),
            ..ProviderEntry::default()
        };
        let err = resolve_cloud("oai", &entry, ProviderKind::OpenAi, &env_of(&[]))
            .expect_err("misplaced");
        assert_eq!(err.param.as_deref(), Some("providers.oai.project"));
        let entry = ProviderEntry {
            region: Some("us-east-1".into()),
            ..ProviderEntry::default()
        };
        let err =
            resolve_cloud("vx", &entry, ProviderKind::Vertex, &env_of(&[])).expect_err("misplaced");
        assert_eq!(err.param.as_deref(), Some("providers.vx.region"));
    }

    #[test]
    fn vertex_builds_the_location_prefix_and_takes_a_token() {
        let entry = ProviderEntry {
            project: Some("my-proj".into()),
            location: Some("europe-west4".into()),
            credentials: Some("env:VERTEX_TOKEN".into()),
            ..ProviderEntry::default()
        };
        let parts = resolve_cloud(
            "vx",
            &entry,
            ProviderKind::Vertex,
            &env_of(&[("VERTEX_TOKEN", "ya29.abc")]),
        )
        .expect("ok");
        assert_eq!(
            parts.base_url.as_deref(),
            Some("https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4")
        );
        assert!(matches!(
            parts.auth,
            AuthConfig::Google(GoogleCredentials::AccessToken(ref t)) if t.expose() == "ya29.abc"
        ));
        let global = ProviderEntry {
            location: Some("global".into()),
            ..entry.clone()
        };
        let parts = resolve_cloud(
            "vx",
            &global,
            ProviderKind::Vertex,
            &env_of(&[("VERTEX_TOKEN", "ya29.abc")]),
        )
        .expect("ok");
        assert_eq!(
            parts.base_url.as_deref(),
            Some("https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global")
        );
        let no_creds = ProviderEntry {
            credentials: None,
            ..entry
        };
        let err = resolve_cloud("vx", &no_creds, ProviderKind::Vertex, &env_of(&[]))
            .expect_err("no credentials");
        assert_eq!(err.param.as_deref(), Some("providers.vx.credentials"));
    }
}
