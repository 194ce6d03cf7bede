//! The error type every command returns, and the one place that maps it to an exit code.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a problem is: a file and, when known, a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Some recipients were refused for good; the rest were delivered.
    #[error("{0}")]
    SomeFailed(String),
    /// The mail server could not be reached, or transient failures outlasted
    /// the retries; what was delivered is recorded and a rerun continues.
    #[error("{0}")]
    Transient(String),
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

    /// The process exit code SPEC.md assigns to this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            // Both leave every output as it was: SPEC's "bad input, nothing written".
            Error::Invalid(_) | Error::Io { .. } => 2,
            Error::SomeFailed(_) => 1,
            Error::Transient(_) => 3,
        }
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Error::Invalid(vec![problem])
    }
}
