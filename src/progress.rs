//! What kbridge tells a person while it works, on stderr only.
//!
//! A spinner shows progress on a terminal; it is hidden when stderr is not a
//! terminal (CI logs) or under `--quiet`. Notes (one line each, such as a
//! skipped test) are printed unless `--quiet`; warnings always are.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runner::Feedback;

/// The terminal side of a command.
pub struct Ui {
    quiet: bool,
    bar: ProgressBar,
    /// Warnings already shown: a service repeats its warnings on every
    /// answer, retries included, and once is enough.
    warned: Mutex<HashSet<String>>,
}

impl Ui {
    /// A UI that draws a spinner only on an interactive stderr.
    pub fn new(quiet: bool) -> Ui {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .expect("the template is valid")
                .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
        );
        Ui {
            quiet,
            bar,
            warned: Mutex::default(),
        }
    }

    /// Starts the spinner with a message.
    pub fn start(&self, message: &str) {
        self.bar.set_message(message.to_string());
        self.bar.enable_steady_tick(Duration::from_millis(100));
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// A one-line note, unless `--quiet`.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("note: {message}"));
        }
    }
}

impl Feedback for Ui {
    fn progress(&self, message: &str) {
        if self.bar.is_hidden() {
            // Without a spinner, retries still deserve a line in the log.
            self.note(message);
        } else {
            self.bar.set_message(message.to_string());
        }
    }

    fn started(&self, message: &str) {
        self.start(message);
    }

    fn finished(&self) {
        self.finish();
    }

    fn note(&self, message: &str) {
        Ui::note(self, message);
    }

    fn warning(&self, message: &str) {
        let new = self
            .warned
            .lock()
            .map(|mut seen| seen.insert(message.to_string()))
            .unwrap_or(true);
        if new {
            self.bar.suspend(|| eprintln!("warning: {message}"));
        }
    }
}
