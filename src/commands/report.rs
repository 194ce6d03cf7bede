//! Prints what a command did, at the verbosity the user chose, and shows
//! progress on a terminal: the stages' [`Observer`]. indicatif lives here
//! and nowhere else.

use crate::mail::{Observer, Progress as MailProgress};

/// Where progress and warnings go.
#[derive(Debug, Clone, Copy)]
pub(super) struct Report {
    quiet: bool,
    verbose: bool,
}

impl Report {
    /// A report for `-q` / `-v`.
    pub(super) fn new(quiet: bool, verbose: bool) -> Self {
        Report { quiet, verbose }
    }

    /// The same report, printing no results: `--json` prints its own.
    pub(super) fn quieter(self) -> Self {
        Report {
            quiet: true,
            ..self
        }
    }

    /// The one JSON object of `--json`, on stdout (even with `-q`: it was asked for).
    #[allow(clippy::unused_self)] // a method like its siblings: all output goes through the report
    pub(super) fn json(self, value: &impl serde::Serialize) {
        match serde_json::to_string_pretty(value) {
            // JSON escapes every control character itself.
            Ok(text) => write_out(format!("{text}\n").as_bytes()),
            Err(err) => write_err(&format!("warning: cannot write the JSON result: {err}")),
        }
    }

    /// A result the user asked for (stdout), unless quiet.
    pub(super) fn result(self, line: impl AsRef<str>) {
        if !self.quiet {
            write_out(format!("{}\n", shown(line.as_ref())).as_bytes());
        }
    }

    /// Detail shown with `-v` (stderr).
    pub(super) fn detail(self, line: impl AsRef<str>) {
        if self.verbose {
            write_err(line.as_ref());
        }
    }

    /// A line for a long-running command's log (stderr), shown even when quiet.
    #[allow(clippy::unused_self)] // a method like its siblings: all output goes through the report
    pub(super) fn log(self, line: impl AsRef<str>) {
        eprintln!("{}", line.as_ref());
    }

    /// A warning (stderr), shown even when quiet.
    #[allow(clippy::unused_self)] // a method like its siblings, for when warnings learn a verbosity
    pub(super) fn warning(self, line: impl AsRef<str>) {
        write_err(&format!("warning: {}", line.as_ref()));
    }
}

/// Text as a terminal may be given it: every control character but the
/// line break and the tab dropped (ESC would start an escape sequence that
/// recolours, retitles or rewrites the screen; BEL rings; NUL cuts a line
/// short), and the invisible characters that reorder text (bidi overrides).
/// Names, subjects and addresses come from strangers: the one writer of the
/// terminal cleans them all.
pub(super) fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if text.chars().any(unsafe_char) {
        text.chars().filter(|c| !unsafe_char(*c)).collect()
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// What is printed while output is held: each line for stdout or stderr,
/// in the order it was told.
#[derive(Debug)]
enum HeldLine {
    Out(Vec<u8>),
    Err(String),
}

/// Output held back while a command tries a way that may be abandoned
/// (`build`'s quick way, which can start again the slow way): what it
/// said is printed only if it stands, so that a warning is never told
/// twice. `None` when nothing is held. A static, not a field of the
/// `Copy` [`Report`]: every stage prints through the report it was
/// handed, and this is the one place that writes the terminal.
static HELD: std::sync::Mutex<Option<Vec<HeldLine>>> = std::sync::Mutex::new(None);

fn held() -> std::sync::MutexGuard<'static, Option<Vec<HeldLine>>> {
    // A panic while printing leaves plain data behind: still usable.
    HELD.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Output held since [`Report::hold`]: printed when this is dropped
/// (the attempt stood, or failed with an error the user must see with
/// its warnings), forgotten by [`Held::discard`].
#[derive(Debug)]
pub(super) struct Held(());

impl Report {
    /// Holds everything printed from now until the returned [`Held`] is
    /// dropped or discarded.
    #[allow(clippy::unused_self)] // a method like its siblings: all output goes through the report
    pub(super) fn hold(self) -> Held {
        *held() = Some(Vec::new());
        Held(())
    }
}

impl Held {
    /// Forgets what was held: the attempt that said it was abandoned.
    pub(super) fn discard(self) {
        held().take();
        // Nothing left to print as it drops.
        drop(self);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let lines = held().take();
        for line in lines.into_iter().flatten() {
            match line {
                HeldLine::Out(bytes) => write_out(&bytes),
                HeldLine::Err(line) => write_err(&line),
            }
        }
    }
}

/// Writes `bytes` to standard output. A reader that went away (`| head`)
/// ends the program quietly with exit 0, as ripgrep does: the output was
/// not wanted any more, and that is no failure.
pub(super) fn write_out(bytes: &[u8]) {
    use std::io::Write;
    if let Some(lines) = held().as_mut() {
        lines.push(HeldLine::Out(bytes.to_vec()));
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_all(bytes).and_then(|()| out.flush())
        && err.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Writes one line to standard error, cleaned as [`shown`]; an error
/// writing it is ignored (there is nowhere left to say it).
fn write_err(line: &str) {
    use std::io::Write;
    if let Some(lines) = held().as_mut() {
        lines.push(HeldLine::Err(line.to_string()));
        return;
    }
    let _ = writeln!(std::io::stderr().lock(), "{}", shown(line));
}

/// A progress bar on stderr: drawn only on a terminal and when not quiet,
/// so cron mail and logs get the summary lines alone.
#[derive(Debug)]
pub(super) struct Progress {
    bar: indicatif::ProgressBar,
}

impl Report {
    /// A progress bar counting to `total`, labelled `label`.
    pub(super) fn progress(self, total: usize, label: &str) -> Progress {
        let bar = if self.quiet {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX))
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_string());
        Progress { bar }
    }
}

impl Progress {
    /// One more done.
    pub(super) fn inc(&self) {
        self.bar.inc(1);
    }

    /// Runs `print` with the bar taken off the terminal and drawn again
    /// after, so that a line printed while it shows does not tear it.
    pub(super) fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.bar.suspend(print)
    }

    /// Removes the bar, leaving the lines printed around it.
    pub(super) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Report {
    fn result(&self, line: &str) {
        Report::result(*self, line);
    }

    fn detail(&self, line: &str) {
        Report::detail(*self, line);
    }

    fn warning(&self, line: &str) {
        Report::warning(*self, line);
    }

    fn progress(&self, total: usize, label: &str) -> Box<dyn MailProgress + '_> {
        Box::new(Shown {
            bar: Report::progress(*self, total, label),
            report: *self,
        })
    }
}

/// A progress bar and the report whose verbosity its detail lines follow.
struct Shown {
    bar: Progress,
    report: Report,
}

impl MailProgress for Shown {
    fn inc(&self) {
        self.bar.inc();
    }

    fn detail(&self, line: &str) {
        if self.report.verbose {
            self.bar.suspend(|| self.report.detail(line));
        }
    }

    fn finish(self: Box<Self>) {
        self.bar.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_never_gets_a_control_character() {
        assert_eq!(
            shown("kim\u{1b}]0;pwned\u{7} (\u{1b}[31mRed\0)\u{202E}\tok\n"),
            "kim]0;pwned ([31mRed)\tok\n"
        );
        assert!(matches!(shown("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
