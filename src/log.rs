//! Log lines of the long-running parts (the listener and the pipeline), on
//! stderr, where systemd's journal or a CI log picks them up: human lines
//! by default, one JSON object per line with `--log-format json`.
//!
//! A [`Log`] is cheap to clone and is handed to every part that logs, so
//! tests can collect the lines in memory instead. Every line is redacted
//! ([`crate::secrets`]), stripped of control characters and cut to a
//! bounded length; lines about refused requests are rate-limited
//! ([`Log::limited`]), so no client can flood the log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How severe a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn prefix(self) -> &'static str {
        match self {
            Level::Info => "",
            Level::Warn => "warning: ",
            Level::Error => "error: ",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "human" => Some(Format::Human),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// What a line is about, beyond its message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields<'a> {
    /// The request the line is about, numbered from 1 since the start.
    pub request: Option<u64>,
    pub runner: Option<&'a str>,
    pub uid: Option<&'a str>,
}

/// The longest message written; the rest is cut.
const MAX_CHARS: usize = 600;
/// Rate-limited lines: at most this many per key and window.
const BURST: u32 = 10;
const WINDOW: Duration = Duration::from_secs(10);

enum Sink {
    Stderr,
    /// Handed to a function that writes it where it will not tear a
    /// display apart (above `kbridge wait`'s live job lines).
    To(Box<dyn Fn(&str) + Send + Sync>),
    #[cfg(test)]
    Memory(Mutex<Vec<String>>),
}

/// How many rate-limited lines of one key were written and left out in
/// the current window.
struct Window {
    start: Instant,
    written: u32,
    left_out: u64,
}

/// Where log lines go.
#[derive(Clone)]
pub struct Log {
    sink: Arc<Sink>,
    format: Format,
    windows: Arc<Mutex<HashMap<&'static str, Window>>>,
}

impl Log {
    /// Lines on stderr, each prefixed with `kbridge: `.
    pub fn stderr() -> Log {
        Log::stderr_as(Format::Human)
    }

    /// Lines on stderr in `format`.
    pub fn stderr_as(format: Format) -> Log {
        Log {
            sink: Arc::new(Sink::Stderr),
            format,
            windows: Arc::default(),
        }
    }

    /// Lines handed to `write`, human format.
    pub fn to(write: impl Fn(&str) + Send + Sync + 'static) -> Log {
        Log {
            sink: Arc::new(Sink::To(Box::new(write))),
            format: Format::Human,
            windows: Arc::default(),
        }
    }

    /// Lines kept in memory, for tests.
    #[cfg(test)]
    pub fn memory() -> Log {
        Log {
            sink: Arc::new(Sink::Memory(Mutex::default())),
            format: Format::Human,
            windows: Arc::default(),
        }
    }

    /// The lines kept so far by a [`Log::memory`] log.
    #[cfg(test)]
    pub fn lines(&self) -> Vec<String> {
        match &*self.sink {
            Sink::Memory(lines) => lines.lock().map(|l| l.clone()).unwrap_or_default(),
            Sink::Stderr | Sink::To(_) => vec![],
        }
    }

    pub fn line(&self, level: Level, message: &str) {
        self.event(level, message, Fields::default());
    }

    /// A line with what it is about.
    pub fn event(&self, level: Level, message: &str, fields: Fields<'_>) {
        let message = clean(&crate::secrets::redact(message));
        let text = match self.format {
            Format::Human => {
                let mut about = Vec::new();
                if let Some(r) = fields.request {
                    about.push(format!("request {r}"));
                }
                if let Some(r) = fields.runner {
                    about.push(clean(r));
                }
                if let Some(u) = fields.uid {
                    about.push(clean(u));
                }
                let about = if about.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", about.join(" "))
                };
                format!("kbridge: {}{message}{about}", level.prefix())
            }
            Format::Json => {
                let mut line = serde_json::json!({
                    "time": jiff::Timestamp::now().to_string(),
                    "level": level.name(),
                    "message": message,
                });
                if let Some(r) = fields.request {
                    line["request_id"] = r.into();
                }
                if let Some(r) = fields.runner {
                    line["runner"] = clean(r).into();
                }
                if let Some(u) = fields.uid {
                    line["uid"] = clean(u).into();
                }
                line.to_string()
            }
        };
        match &*self.sink {
            Sink::Stderr => eprintln!("{text}"),
            Sink::To(write) => write(&text),
            #[cfg(test)]
            Sink::Memory(lines) => {
                if let Ok(mut l) = lines.lock() {
                    l.push(text);
                }
            }
        }
    }

    /// A line of a kind a client can cause at will (a refused request):
    /// at most a few per `key` every few seconds, then one line saying how
    /// many were left out.
    pub fn limited(&self, key: &'static str, level: Level, message: &str, fields: Fields<'_>) {
        let now = Instant::now();
        let (write, left_out) = {
            let Ok(mut windows) = self.windows.lock() else {
                return;
            };
            let w = windows.entry(key).or_insert(Window {
                start: now,
                written: 0,
                left_out: 0,
            });
            let mut left_out = 0;
            if now.duration_since(w.start) >= WINDOW {
                left_out = w.left_out;
                *w = Window {
                    start: now,
                    written: 0,
                    left_out: 0,
                };
            }
            if w.written < BURST {
                w.written += 1;
                (true, left_out)
            } else {
                w.left_out += 1;
                (false, left_out)
            }
        };
        if left_out > 0 {
            crate::metrics::global().log_suppressed(left_out);
            self.event(
                Level::Warn,
                &format!(
                    "{left_out} more line(s) like the next were left out in the last {}s",
                    WINDOW.as_secs()
                ),
                Fields::default(),
            );
        }
        if write {
            self.event(level, message, fields);
        }
    }

    pub fn info(&self, message: &str) {
        self.line(Level::Info, message);
    }

    pub fn warn(&self, message: &str) {
        self.line(Level::Warn, message);
    }

    pub fn error(&self, message: &str) {
        self.line(Level::Error, message);
    }
}

/// One line, whatever it was given: control characters become spaces and
/// it is cut to [`MAX_CHARS`].
fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_request_lines_are_rate_limited_and_cut() {
        let log = Log::memory();
        let long = format!("bad\nline {}", "x".repeat(5000));
        for _ in 0..50 {
            log.limited("refused", Level::Info, &long, Fields::default());
        }
        let lines = log.lines();
        assert_eq!(lines.len(), BURST as usize);
        assert!(lines
            .iter()
            .all(|l| !l.contains('\n') && l.chars().count() < 700));
    }

    #[test]
    fn json_lines_carry_their_fields() {
        let log = Log {
            format: Format::Json,
            ..Log::memory()
        };
        log.event(
            Level::Warn,
            "callback refused",
            Fields {
                request: Some(7),
                runner: Some("tuxsuite"),
                uid: Some("2MBY"),
            },
        );
        let line: serde_json::Value = serde_json::from_str(&log.lines()[0]).unwrap();
        assert_eq!(line["level"], "warning");
        assert_eq!(line["request_id"], 7);
        assert_eq!(line["runner"], "tuxsuite");
    }
}
