//! The error type every command returns, and the one place that maps it to an exit code.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a problem is: a file and, when known, a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    /// The file as the user named it (relative paths stay relative).
    pub file: PathBuf,
    /// The 1-based line, when the problem has one.
    pub line: Option<usize>,
}

impl Location {
    /// A location that names only a file.
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Location {
            file: file.into(),
            line: None,
        }
    }

    /// A location that names a file and a line.
    pub fn line(file: impl Into<PathBuf>, line: usize) -> Self {
        Location {
            file: file.into(),
            line: Some(line),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// One problem in the user's input, printed as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong, as a sentence the user can act on.
    pub message: String,
}

impl Problem {
    /// A problem at `location`.
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Problem {
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input (config, posts, templates): nothing was written or sent.
    #[error("{}", list_problems(.0))]
    Invalid(Vec<Problem>),
    /// A file or folder could not be read or written.
    #[error("{action} {}: {source}", .path.display())]
    Io {
        /// What we were doing, e.g. "cannot write".
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A feed or message writer refused what it was given: a bug in it or
    /// in digest-feed, reported instead of writing a broken file.
    #[error("cannot write the {format}: {reason}")]
    Render {
        /// Which output, e.g. "RSS feed".
        format: &'static str,
        /// The writer's reason.
        reason: String,
    },
    /// Some recipients were refused for good; the rest were delivered.
    #[error("{0}")]
    SomeFailed(Summary),
    /// The mail server could not be reached, or transient failures outlasted
    /// the retries; what was delivered is recorded and a rerun continues.
    #[error("{0}")]
    Transient(Transient),
}

/// Why a run stopped early or left someone owed a message; a rerun continues.
#[derive(Debug, thiserror::Error)]
pub enum Transient {
    /// A send that stopped, or deferred someone: what it did.
    #[error("{0}")]
    Delivery(Summary),
    /// The run could not go on (the state cannot be written, another run
    /// holds the lock): why, as a sentence.
    #[error("{0}")]
    Unavailable(String),
}

/// What a real send did: how many were delivered, who was refused for good
/// or deferred (with the server's reply), and why it stopped, if it did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Messages the server accepted.
    pub sent: usize,
    /// Refused for good: address and reply.
    pub failed: Vec<(String, String)>,
    /// Deferred past the retries: address and reply.
    pub deferred: Vec<(String, String)>,
    /// Recipients not sent because a daily quota is spent (`max_per_day`,
    /// or the relay's own): owed, sent by a later run, not a failure.
    /// Boxed: a run's error stays small while it travels up.
    pub over_quota: Option<Box<OverQuota>>,
    /// `host:port`.
    pub server: String,
    /// Why the run stopped before everyone was tried.
    pub stopped: Option<String>,
    /// Whether that reason is a setting to fix (a refused login, a TLS
    /// mismatch): running again as it is would stop the same way.
    pub fix_first: bool,
}

/// Recipients a spent quota left for a later run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverQuota {
    /// How many.
    pub count: usize,
    /// Which quota: "daily cap of 500 reached", or what the relay said.
    pub why: String,
}

impl Summary {
    /// The first line: the counts.
    pub fn headline(&self) -> String {
        let quota = match self.over_quota.as_deref() {
            None | Some(OverQuota { count: 0, .. }) => String::new(),
            Some(OverQuota { count, why }) => {
                format!("; {count} deferred ({why}; a later run sends them)")
            }
        };
        format!(
            "Sent {}, failed {}, deferred {} via {}{quota}",
            self.sent,
            self.failed.len(),
            self.deferred.len(),
            self.server
        )
    }

    /// The run's result: `Ok` when everyone owed was delivered, else the
    /// error whose exit code says what happened (3 before 1: a rerun helps).
    pub fn into_result(self) -> Result<Summary, Error> {
        if self.stopped.is_some() || !self.deferred.is_empty() {
            Err(Error::Transient(Transient::Delivery(self)))
        } else if !self.failed.is_empty() {
            Err(Error::SomeFailed(self))
        } else {
            Ok(self)
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.headline())?;
        for (address, reply) in &self.failed {
            write!(f, "\n  failed for good: {address}: {reply}")?;
        }
        for (address, reply) in &self.deferred {
            write!(f, "\n  deferred: {address}: {reply}")?;
        }
        if let Some(reason) = &self.stopped {
            let next = if self.fix_first {
                "fix that, then run `digest-feed mail` again"
            } else {
                "run `digest-feed mail` again to continue"
            };
            write!(
                f,
                "\nStopped: {reason}. What was delivered is recorded; {next}."
            )
        } else if !self.deferred.is_empty() {
            write!(f, "\nThe deferred recipients get the post on the next run.")
        } else if !self.failed.is_empty() {
            write!(
                f,
                "\nRecipients that failed for good are not retried; `digest-feed mail --retry-failed` tries them again."
            )
        } else {
            Ok(())
        }
    }
}

fn list_problems(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

impl Error {
    /// An I/O error with the path and what we were doing when it happened.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// A writer's failure to render `format`.
    pub fn render(format: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Render {
            format,
            reason: reason.to_string(),
        }
    }

    /// The process exit code SPEC.md assigns to this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            // Both leave every output as it was: SPEC's "bad input, nothing written".
            Error::Invalid(_) | Error::Io { .. } | Error::Render { .. } => 2,
            Error::SomeFailed(_) => 1,
            Error::Transient(_) => 3,
        }
    }
}

/// Both results, or every problem of either: a check lists all it found.
pub fn both<A, B>(
    a: Result<A, Vec<Problem>>,
    b: Result<B, Vec<Problem>>,
) -> Result<(A, B), Vec<Problem>> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(a.err().into_iter().chain(b.err()).flatten().collect()),
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Error::Invalid(vec![problem])
    }
}
