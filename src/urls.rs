//! User information in URLs (`https://user:password@host/…`): found in
//! one place, stripped from what kbridge stores and sends where a URL
//! must be public (a repository a runner fetches), and redacted from
//! everything kbridge prints, whatever its spelling.
//!
//! A URL given to kbridge may carry credentials: a GitLab CI remote
//! (`https://gitlab-ci-token:TOKEN@…`), a `--tree` copied from a browser, a
//! callback URL behind a proxy with basic authentication. Whatever the user
//! part says, it is treated as a secret: there is no spelling of it that
//! kbridge takes for a placeholder.

use std::borrow::Cow;
use std::ops::Range;

/// What stands in for user information in printed text.
pub const REDACTED: &str = "[redacted]";

/// Where the authority of a URL ends: RFC 3986's delimiters, the
/// backslash that WHATWG parsers take for `/` in special schemes, and
/// whatever cannot be part of a URL in running text (a space, a quote
/// around it in JSON or a message, a control character).
fn ends_authority(c: char) -> bool {
    matches!(c, '/' | '?' | '#' | '\\' | '"') || c.is_whitespace() || c.is_control()
}

/// The byte range of the user information in `url` (a single URL), if it
/// has any: what lies between `scheme://` and the last `@` of the
/// authority.
pub fn userinfo(url: &str) -> Option<Range<usize>> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let end = rest.find(ends_authority).unwrap_or(rest.len());
    let at = rest[..end].rfind('@')?;
    Some(start..start + at)
}

/// `url` without its user information (and the `@` after it), and whether
/// there was any. Everything else is kept byte for byte.
pub fn without_userinfo(url: &str) -> (Cow<'_, str>, bool) {
    match userinfo(url) {
        Some(r) => {
            let mut out = String::with_capacity(url.len());
            out.push_str(&url[..r.start]);
            out.push_str(&url[r.end + 1..]);
            (Cow::Owned(out), true)
        }
        None => (Cow::Borrowed(url), false),
    }
}

/// `text` with the user information of every URL in it removed (a plan
/// file sent to a runner, which publishes it).
pub fn strip_all(text: &str) -> Cow<'_, str> {
    rewrite(text, "")
}

/// `text` with the user information of every URL in it replaced by
/// [`REDACTED`]: a URL is whatever follows `://`, up to the end of its
/// authority.
pub fn redact(text: &str) -> Cow<'_, str> {
    rewrite(text, REDACTED)
}

/// Replaces the user information of every URL in `text` with `with`
/// (nothing: removed with its `@`).
fn rewrite<'a>(text: &'a str, with: &str) -> Cow<'a, str> {
    if !text.contains("://") || !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(ends_authority).unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            // `scheme://@host` has an empty user part: nothing to hide.
            Some(at) if at > 0 => {
                if with.is_empty() {
                    out.push_str(&authority[at + 1..]);
                } else {
                    out.push_str(with);
                    out.push_str(&authority[at..]);
                }
                changed = true;
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_of_any_spelling_is_redacted() {
        for (given, shown) in [
            (
                "https://user:pw@host/repo.git",
                "https://[redacted]@host/repo.git",
            ),
            (
                "set KCIDB_REST=https://TOKEN@HOST",
                "set KCIDB_REST=https://[redacted]@HOST",
            ),
            (
                "https://gitlab-ci-token:glcbt-64_aB@gitlab.example/g/linux.git",
                "https://[redacted]@gitlab.example/g/linux.git",
            ),
            (
                "{\"url\":\"postgresql://kb:s3cret@db/kbridge\"}",
                "{\"url\":\"postgresql://[redacted]@db/kbridge\"}",
            ),
            (
                "two: http://a:b@x/ and git://c@y",
                "two: http://[redacted]@x/ and git://[redacted]@y",
            ),
            ("a:b@c https://h/x?a=b@c", "a:b@c https://h/x?a=b@c"),
            ("https://h\\u:p@evil", "https://h\\u:p@evil"),
            ("mail me@example.org", "mail me@example.org"),
            ("https://@host/x", "https://@host/x"),
        ] {
            assert_eq!(redact(given), shown, "{given}");
        }
        assert!(matches!(redact("https://host/x"), Cow::Borrowed(_)));
    }

    #[test]
    fn stripping_keeps_the_rest_byte_for_byte() {
        let (u, had) = without_userinfo("https://u:p@Git.Example:8443/a b.git?x=1#y");
        assert_eq!(u, "https://Git.Example:8443/a b.git?x=1#y");
        assert!(had);
        let (u, had) = without_userinfo("https://git.example/a@b.git");
        assert_eq!(u, "https://git.example/a@b.git");
        assert!(!had);
        assert_eq!(userinfo("https://a@b@host/x"), Some(8..11));
        assert_eq!(
            strip_all("git_repo: https://t:k@gitlab.example/l.git\nx: http://h/"),
            "git_repo: https://gitlab.example/l.git\nx: http://h/"
        );
    }
}
