//! Keeping secrets out of every text kbridge prints or stores.
//!
//! Services echo what they were sent: an error body may repeat the token
//! of the request that failed, and a URL may carry a password. Each secret
//! kbridge holds is registered here when it is read, and every log line,
//! message and stored reason goes through [`redact`] on its way out.

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

/// A secret: never printed, logged or serialised. `Debug` shows only that
/// there is one.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret and registers it, so it is redacted from every text
    /// kbridge prints or stores from now on.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        register(&value);
        Secret(value)
    }

    /// The value itself, for the one place it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What stands in for a secret.
pub const REDACTED: &str = crate::urls::REDACTED;

/// Shorter values are not treated as secrets: replacing them would mangle
/// ordinary text, and no token kbridge handles is that short.
const MIN_LEN: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers a secret so that it is redacted from now on.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_LEN {
        return;
    }
    if let Ok(mut all) = SECRETS.write() {
        if !all.iter().any(|s| s == secret) {
            all.push(secret.to_string());
            // The longest first, so a secret containing another is
            // replaced whole.
            all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }
}

/// `text` with every registered secret, and the user information of every
/// URL in it (`https://user:password@host`, whatever the user part says),
/// replaced by [`REDACTED`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Ok(all) = SECRETS.read() {
        for s in all.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), REDACTED));
            }
        }
    }
    match crate::urls::redact(&out) {
        Cow::Borrowed(_) => out,
        Cow::Owned(o) => Cow::Owned(o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_url_passwords_are_replaced() {
        register("tok-0123456789-secret");
        register("short");
        let text = "HTTP 401: {\"detail\": \"bad token tok-0123456789-secret\"} for https://bob:hunter22@api.example/v1 and short";
        assert_eq!(
            redact(text),
            "HTTP 401: {\"detail\": \"bad token [redacted]\"} for https://[redacted]@api.example/v1 and short"
        );
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
        assert_eq!(redact("mail me@example.org"), "mail me@example.org");
        // No spelling of a user part is taken for a placeholder.
        assert_eq!(
            redact("set KCIDB_REST=https://TOKEN@HOST"),
            "set KCIDB_REST=https://[redacted]@HOST"
        );
    }
}
