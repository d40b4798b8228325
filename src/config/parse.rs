//! Turning a given text (flag, variable or file value) into a setting's
//! value, checked against its kind and bounds, and the messages that name
//! what is wrong.

use super::*;

/// The longest part of a user's text an error message repeats.
pub(super) const SHOWN_CHARS: usize = 80;

/// `text` as an error message repeats it: at most [`SHOWN_CHARS`]
/// characters, control characters escaped.
pub fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(SHOWN_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The known name closest to `given` (at most three edits away), for
/// "did you mean". Names whose lengths differ by more than that cannot be
/// that close, so a long `given` costs nothing.
pub fn closest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    const MAX_EDITS: usize = 3;
    let len = given.chars().count();
    known
        .into_iter()
        .filter(|k| k.chars().count().abs_diff(len) <= MAX_EDITS)
        .map(|k| (strsim::levenshtein(k, given), k))
        .filter(|(d, _)| *d <= MAX_EDITS)
        .min()
        .map(|(_, k)| k)
}

pub(super) fn merge_lists(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::List(mut a), Value::List(b)) => {
            a.extend(b);
            Value::List(a)
        }
        (_, b) => b,
    }
}

/// Parses values given as text (flags, the environment, defaults).
pub(super) fn from_text_list(
    def: &SettingDef,
    given: &[String],
    env: &Environment,
) -> Result<Value, String> {
    match def.kind {
        Kind::List { .. } => given
            .iter()
            .map(|s| non_empty(s))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        _ => {
            // A single-valued flag given twice: the last one wins, as with
            // most tools.
            let last = given.last().map(String::as_str).unwrap_or("");
            from_text(def, last, env)
        }
    }
}

/// A store's location: a `postgresql://` URL, or a path made by `path`.
fn store(text: &str, path: impl Fn(&str) -> PathBuf) -> Result<Value, String> {
    if crate::location::is_url(text) {
        crate::location::Location::parse(text)
            .map(Value::Store)
            .map_err(|e| e.to_string())
    } else {
        Ok(Value::Store(crate::location::Location::File(path(text))))
    }
}

pub(super) fn non_empty(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(t.to_string())
    }
}

/// Parses one value given as text.
pub fn from_text(def: &SettingDef, raw: &str, env: &Environment) -> Result<Value, String> {
    let raw = raw.trim();
    match def.kind {
        Kind::Text => non_empty(raw).map(Value::Text),
        Kind::Path => non_empty(raw).map(|p| Value::Path(env.expand_home(&p))),
        Kind::Store => store(&non_empty(raw)?, |p| env.expand_home(p)),
        Kind::Url => validate_url(raw).map(Value::Text),
        Kind::Addr => validate_addr(raw).map(Value::Text),
        Kind::Origin => validate_origin(raw).map(Value::Text),
        Kind::Choice(words) => {
            if words.contains(&raw) {
                Ok(Value::Text(raw.to_string()))
            } else {
                Err(format!("'{raw}' is not one of: {}", words.join(", ")))
            }
        }
        Kind::Seconds { min, max } => {
            let secs = parse_duration(raw).ok_or_else(|| {
                format!("'{raw}' is not a duration; give seconds (60) or a number with s, m, h or d (90s, 30m, 2h)")
            })?;
            seconds_in_range(secs, min, max)
        }
        Kind::Bytes { min, max } => {
            let n = parse_bytes(raw).ok_or_else(|| {
                format!("'{raw}' is not a number of bytes; give bytes (1048576) or a size such as 512KiB, 1MiB or 1MB")
            })?;
            number_in_range(n, min, max, "bytes")
        }
        Kind::Count { min, max } => {
            let n = raw
                .parse::<u64>()
                .map_err(|_| format!("'{raw}' is not a whole number"))?;
            number_in_range(n, min, max, "")
        }
        Kind::Bool => match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(Value::Bool(true)),
            "false" | "no" | "0" | "off" => Ok(Value::Bool(false)),
            _ => Err(format!("'{raw}' is not true or false")),
        },
        Kind::List { .. } => from_text_list(def, &[raw.to_string()], env),
    }
}

/// Parses a value found in the TOML file.
pub(super) fn from_file(
    def: &SettingDef,
    loc: &Located,
    file: &FileSettings,
    env: &Environment,
) -> Result<Value, String> {
    let v = &loc.value;
    let expected = |what: &str| format!("expected {what}, got {}", v.describe());
    let file_path = |s: &str| -> PathBuf {
        let p = env.expand_home(s);
        match file.path.as_deref().and_then(Path::parent) {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p,
        }
    };
    match (def.kind, v) {
        (Kind::Path, FileValue::String(s)) => non_empty(s).map(|s| Value::Path(file_path(&s))),
        (Kind::Path, _) => Err(expected("a path in quotes")),
        (Kind::Store, FileValue::String(s)) => store(&non_empty(s)?, file_path),
        (Kind::Store, _) => Err(expected("a path or a postgresql:// URL in quotes")),
        (Kind::Seconds { min, max }, FileValue::Integer(i)) => {
            seconds_in_range(*i as f64, min, max)
        }
        (Kind::Seconds { min, max }, FileValue::Float(f)) => seconds_in_range(*f, min, max),
        // A quoted bare number is a slip worth naming: TOML has numbers.
        (Kind::Seconds { .. }, FileValue::String(s)) if s.trim().parse::<f64>().is_ok() => {
            Err(format!(
                "{}; write {} without quotes, or a duration such as \"{}s\"",
                expected("a number of seconds"),
                s.trim(),
                s.trim()
            ))
        }
        (Kind::Seconds { .. }, FileValue::String(s)) => from_text(def, s, env)
            .map_err(|_| expected("a number of seconds, or a duration such as \"30m\"")),
        (Kind::Seconds { .. }, _) => Err(expected("a number of seconds")),
        (Kind::Bytes { min, max } | Kind::Count { min, max }, FileValue::Integer(i)) => {
            let n = u64::try_from(*i).map_err(|_| expected("a positive number"))?;
            number_in_range(
                n,
                min,
                max,
                if matches!(def.kind, Kind::Bytes { .. }) {
                    "bytes"
                } else {
                    ""
                },
            )
        }
        (Kind::Bytes { .. }, FileValue::String(s)) if s.trim().parse::<u64>().is_ok() => {
            Err(format!(
                "{}; write {} without quotes, or a size such as \"1MiB\"",
                expected("a number of bytes"),
                s.trim()
            ))
        }
        (Kind::Bytes { .. }, FileValue::String(s)) => from_text(def, s, env)
            .map_err(|_| expected("a number of bytes, or a size such as \"1MiB\"")),
        (Kind::Bytes { .. }, _) => Err(expected("a number of bytes")),
        (Kind::Count { .. }, _) => Err(expected("a whole number")),
        (Kind::Bool, FileValue::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::Bool, _) => Err(expected("true or false")),
        (Kind::List { .. }, FileValue::Array(items)) => {
            let texts = items
                .iter()
                .map(|i| match i {
                    FileValue::String(s) => Ok(s.clone()),
                    other => Err(format!(
                        "expected a list of strings, got {} in it",
                        other.describe()
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            from_text_list(def, &texts, env)
        }
        (Kind::List { .. }, FileValue::String(s)) => {
            from_text_list(def, std::slice::from_ref(s), env)
        }
        (Kind::List { .. }, _) => Err(expected("a list of strings")),
        (_, FileValue::String(s)) => from_text(def, s, env),
        (_, _) => Err(expected("a string in quotes")),
    }
}

pub(super) fn seconds_in_range(secs: f64, min: f64, max: f64) -> Result<Value, String> {
    if !(secs.is_finite() && secs >= min && secs <= max) {
        return Err(format!(
            "{secs} seconds is out of range; use {} to {} seconds",
            trim_float(min),
            trim_float(max)
        ));
    }
    Ok(Value::Seconds(Duration::from_secs_f64(secs)))
}

pub(super) fn number_in_range(n: u64, min: u64, max: u64, unit: &str) -> Result<Value, String> {
    if n < min || n > max {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        return Err(format!(
            "{n}{unit} is out of range; use {min} to {max}{unit}"
        ));
    }
    Ok(Value::Number(n))
}

pub(super) fn trim_float(f: f64) -> String {
    let s = format!("{f}");
    s.strip_suffix(".0").map(String::from).unwrap_or(s)
}

/// `90`, `90s`, `1.5m`, `2h`, `7d` → seconds.
pub fn parse_duration(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    let (number, unit) = match raw.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => raw.split_at(i),
        None => (raw, ""),
    };
    let n: f64 = number.trim().parse().ok()?;
    let factor = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => return None,
    };
    Some(n * factor).filter(|s| s.is_finite())
}

/// `1048576`, `512KiB`, `1MiB`, `1MB` → bytes.
pub fn parse_bytes(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    let (number, unit) = match raw.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => raw.split_at(i),
        None => (raw, ""),
    };
    let n: f64 = number.trim().parse().ok()?;
    let factor: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "K" | "KiB" | "k" => 1024.0,
        "kB" | "KB" => 1000.0,
        "M" | "MiB" => 1048576.0,
        "MB" => 1e6,
        "G" | "GiB" => 1073741824.0,
        "GB" => 1e9,
        _ => return None,
    };
    let bytes = n * factor;
    (bytes.is_finite() && bytes >= 0.0 && bytes.fract() == 0.0).then_some(bytes as u64)
}

pub(super) fn validate_origin(raw: &str) -> Result<String, String> {
    if is_valid_origin(raw) {
        Ok(raw.to_string())
    } else {
        Err(format!(
            "'{raw}' is not a KCIDB origin; use lower-case letters, digits and '_' only"
        ))
    }
}

pub(super) fn validate_addr(raw: &str) -> Result<String, String> {
    let expected = "give HOST:PORT, such as 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free one)";
    let (host, port) = raw
        .rsplit_once(':')
        .ok_or_else(|| format!("'{raw}' is not an address; {expected}"))?;
    let host_ok = !host.is_empty()
        && (host.parse::<std::net::Ipv4Addr>().is_ok()
            || host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
            || host.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    if !host_ok || port.parse::<u16>().is_err() {
        return Err(format!("'{raw}' is not an address; {expected}"));
    }
    Ok(raw.to_string())
}

/// A callback base URL a runner can reach, and that kbridge can append
/// its routes to.
pub(super) fn check_callback_base(url: &str) -> Result<(), String> {
    let shown = crate::http::redact_url(url);
    let uri: http::Uri = url.parse().map_err(|_| format!("'{shown}' is not a URL"))?;
    let host = uri.host().unwrap_or("").trim_matches(['[', ']']);
    let unspecified = host == "0"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified());
    if unspecified {
        return Err(format!(
            "'{shown}': {host} is where `kbridge listen --bind` listens, not an address a runner can reach; give the listener's public URL (https://ci.example.org/kbridge)"
        ));
    }
    let parts: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    if let [.., "callback", _, _] = parts[..] {
        let base = url
            .trim_end_matches('/')
            .rsplitn(4, '/')
            .last()
            .unwrap_or(url);
        return Err(format!(
            "'{shown}' already ends in /callback/RUNNER/KIND, which kbridge adds to each job's; give the listener's base URL ({})",
            crate::http::redact_url(base)
        ));
    }
    Ok(())
}

pub(super) fn validate_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim().trim_end_matches('/');
    let uri: http::Uri = trimmed
        .parse()
        .map_err(|_| format!("'{value}' is not a URL; give an absolute http(s) URL"))?;
    let ok = matches!(uri.scheme_str(), Some("http" | "https"))
        && uri.host().is_some_and(|h| !h.is_empty())
        && uri.query().is_none();
    if !ok {
        return Err(format!(
            "'{}' is not an absolute http(s) URL without a query",
            crate::http::redact_url(value)
        ));
    }
    Ok(trimmed.to_string())
}
