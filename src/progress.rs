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

    /// Whether `--quiet` was given.
    pub fn is_quiet(&self) -> bool {
        self.quiet
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
            let message = crate::secrets::redact(message);
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
            let message = crate::secrets::redact(message);
            self.bar.suspend(|| eprintln!("warning: {message}"));
        }
    }
}

/// One job as `kbridge wait` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLine {
    pub id: i64,
    /// Kind, uid and device or architecture.
    pub label: String,
    /// kbridge's state, and the runner's when it says more.
    pub state: String,
    /// Nothing more will be learnt of it here (its line stops moving).
    pub done: bool,
    /// It finished: the overall bar counts it.
    pub finished: bool,
}

/// How `kbridge wait` shows its jobs: lines redrawn in place with an
/// overall bar on a terminal; elsewhere (CI logs) or under `--quiet`, one
/// plain line per change of state, with no control characters.
pub enum WaitView {
    Live {
        multi: indicatif::MultiProgress,
        bars: std::collections::HashMap<i64, ProgressBar>,
        overall: ProgressBar,
        start: std::time::Instant,
    },
    Plain {
        last: std::collections::HashMap<i64, String>,
        start: std::time::Instant,
    },
}

impl WaitView {
    pub fn new(quiet: bool, jobs: usize) -> WaitView {
        let start = std::time::Instant::now();
        if quiet || !std::io::stderr().is_terminal() {
            return WaitView::Plain {
                last: Default::default(),
                start,
            };
        }
        let multi = indicatif::MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(jobs as u64));
        overall.set_style(
            ProgressStyle::with_template("[{bar:30}] {pos}/{len} finished, {elapsed}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        WaitView::Live {
            multi,
            bars: Default::default(),
            overall,
            start,
        }
    }

    /// Shows where the jobs stand now.
    pub fn show(&mut self, lines: &[JobLine]) {
        match self {
            WaitView::Live {
                multi,
                bars,
                overall,
                start,
            } => {
                for l in lines {
                    let bar = bars.entry(l.id).or_insert_with(|| {
                        let b = multi.insert_before(overall, ProgressBar::new_spinner());
                        b.set_style(
                            ProgressStyle::with_template("{spinner} {prefix:40} {msg}")
                                .expect("the template is valid")
                                .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✓"),
                        );
                        b.set_prefix(l.label.clone());
                        b.enable_steady_tick(Duration::from_millis(120));
                        b
                    });
                    bar.set_message(format!("{} ({}s)", l.state, start.elapsed().as_secs()));
                    if l.done && !bar.is_finished() {
                        bar.finish_with_message(l.state.clone());
                    }
                }
                overall.set_position(lines.iter().filter(|l| l.finished).count() as u64);
            }
            WaitView::Plain { last, start } => {
                for l in lines {
                    let before = last.get(&l.id);
                    if before == Some(&l.state) {
                        continue;
                    }
                    let change = match before {
                        Some(b) => format!("{b} -> {}", l.state),
                        None => l.state.clone(),
                    };
                    let text: String = format!(
                        "job {} {}: {change} ({}s)",
                        l.id,
                        l.label,
                        start.elapsed().as_secs()
                    )
                    .chars()
                    .filter(|c| !c.is_control())
                    .collect();
                    eprintln!("{text}");
                    last.insert(l.id, l.state.clone());
                }
            }
        }
    }

    /// A one-line note above the job lines, through `ui`'s quietness.
    pub fn note(&self, message: &str, ui: &Ui) {
        match self {
            WaitView::Live { multi, .. } => multi.suspend(|| ui.note(message)),
            WaitView::Plain { .. } => ui.note(message),
        }
    }

    /// A warning above the job lines, shown even under `--quiet`.
    pub fn warn(&self, message: &str) {
        let message = crate::secrets::redact(message);
        match self {
            WaitView::Live { multi, .. } => multi.suspend(|| eprintln!("warning: {message}")),
            WaitView::Plain { .. } => eprintln!("warning: {message}"),
        }
    }

    /// A log that writes its lines above the live job lines, so a line
    /// never lands in the middle of a redraw.
    pub fn log(&self) -> crate::log::Log {
        match self {
            WaitView::Live { multi, .. } => {
                let multi = multi.clone();
                crate::log::Log::to(move |line| {
                    let _ = multi.println(line);
                })
            }
            WaitView::Plain { .. } => crate::log::Log::stderr(),
        }
    }

    /// Leaves the screen for the summary; the bar keeps its count (jobs
    /// still pending after Ctrl-C are not counted as finished).
    pub fn finish(&mut self) {
        if let WaitView::Live { multi, overall, .. } = self {
            overall.abandon();
            let _ = multi.clear();
        }
    }
}
