//! Prints what a command did, at the verbosity the user chose.

/// Where progress and warnings go.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    quiet: bool,
    verbose: bool,
}

impl Report {
    /// A report for `-q` / `-v`.
    pub fn new(quiet: bool, verbose: bool) -> Self {
        Report { quiet, verbose }
    }

    /// A result the user asked for (stdout), unless quiet.
    pub fn result(&self, line: impl AsRef<str>) {
        if !self.quiet {
            println!("{}", line.as_ref());
        }
    }

    /// Detail shown with `-v` (stderr).
    pub fn detail(&self, line: impl AsRef<str>) {
        if self.verbose {
            eprintln!("{}", line.as_ref());
        }
    }

    /// A warning (stderr), shown even when quiet.
    pub fn warning(&self, line: impl AsRef<str>) {
        eprintln!("warning: {}", line.as_ref());
    }
}
