//! Log lines of the long-running parts (the listener and the pipeline), on
//! stderr, where systemd's journal or a CI log picks them up.
//!
//! A [`Log`] is cheap to clone and is handed to every part that logs, so
//! tests can collect the lines in memory instead.

use std::sync::Arc;
#[cfg(test)]
use std::sync::Mutex;

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
}

enum Sink {
    Stderr,
    #[cfg(test)]
    Memory(Mutex<Vec<String>>),
}

/// Where log lines go.
#[derive(Clone)]
pub struct Log {
    sink: Arc<Sink>,
}

impl Log {
    /// Lines on stderr, each prefixed with `kbridge: `.
    pub fn stderr() -> Log {
        Log {
            sink: Arc::new(Sink::Stderr),
        }
    }

    /// Lines kept in memory, for tests.
    #[cfg(test)]
    pub fn memory() -> Log {
        Log {
            sink: Arc::new(Sink::Memory(Mutex::default())),
        }
    }

    /// The lines kept so far by a [`Log::memory`] log.
    #[cfg(test)]
    #[allow(dead_code)]
    pub fn lines(&self) -> Vec<String> {
        match &*self.sink {
            Sink::Memory(lines) => lines.lock().map(|l| l.clone()).unwrap_or_default(),
            Sink::Stderr => vec![],
        }
    }

    pub fn line(&self, level: Level, message: &str) {
        let text = format!("{}{message}", level.prefix());
        match &*self.sink {
            Sink::Stderr => eprintln!("kbridge: {text}"),
            #[cfg(test)]
            Sink::Memory(lines) => {
                if let Ok(mut l) = lines.lock() {
                    l.push(text);
                }
            }
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
