//! Keeps the password in a Redis URL out of every message the backend produces.

/// The URL with its credentials masked, and the secrets to mask in any other text.
#[derive(Clone)]
pub(super) struct Redactor {
    /// The URL as it may be shown (`redis://:***@host:6379/0`).
    pub shown: String,
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

const MASK: &str = "***";

impl Redactor {
    /// Finds the password of `url` (userinfo or a `pass`/`password` query parameter).
    pub fn new(url: &str) -> Redactor {
        let mut secrets = Vec::new();
        let shown = match url::Url::parse(url) {
            Ok(mut parsed) => {
                if let Some(password) = parsed.password() {
                    secrets.push(password.to_owned());
                    if let Ok(decoded) = percent_decode(password) {
                        secrets.push(decoded);
                    }
                    // Only fails for URLs that cannot have credentials, which this one has.
                    let _ = parsed.set_password(Some(MASK));
                }
                let query: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                if query.iter().any(|(k, _)| is_secret_param(k)) {
                    let mut pairs = parsed.query_pairs_mut();
                    pairs.clear();
                    for (k, v) in &query {
                        if is_secret_param(k) {
                            secrets.push(v.clone());
                            pairs.append_pair(k, MASK);
                        } else {
                            pairs.append_pair(k, v);
                        }
                    }
                }
                parsed.to_string()
            }
            // Not a URL at all: show only its scheme-like head, never the rest.
            Err(_) => match url.split_once("://") {
                Some((scheme, _)) => format!("{scheme}://{MASK}"),
                None => MASK.to_owned(),
            },
        };
        secrets.retain(|s| !s.is_empty());
        // Longest first, so a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        if url::Url::parse(url).is_err() {
            secrets.push(url.to_owned());
        }
        Redactor { shown, secrets }
    }

    /// `text` with every secret of the URL masked.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }
}

fn is_secret_param(name: &str) -> bool {
    matches!(name, "pass" | "password")
}

/// Decodes `%XX` escapes (a password in userinfo is percent-encoded in the URL).
fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_userinfo_and_query_passwords() {
        let r = Redactor::new("redis://:s3cr%40t@10.0.0.1:6380/2");
        assert_eq!(r.shown, "redis://:***@10.0.0.1:6380/2");
        assert_eq!(
            r.scrub("auth s3cr@t failed (s3cr%40t)"),
            "auth *** failed (***)"
        );

        let r = Redactor::new("redis://alice:pw@h/0?protocol=resp2&pass=other");
        assert_eq!(r.shown, "redis://alice:***@h/0?protocol=resp2&pass=***");
        assert_eq!(r.scrub("pw other"), "*** ***");

        let r = Redactor::new("redis://127.0.0.1:6379");
        assert_eq!(r.shown, "redis://127.0.0.1:6379");
        assert_eq!(r.scrub("connection refused"), "connection refused");
    }

    #[test]
    fn an_unparsable_url_is_never_shown() {
        let r = Redactor::new("redis://:pa ss@[bad");
        assert_eq!(r.shown, "redis://***");
        assert_eq!(r.scrub("bad url redis://:pa ss@[bad"), "bad url ***");
    }
}
