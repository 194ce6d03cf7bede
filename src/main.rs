//! The `digest-feed` binary: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = digest_feed::commands::cli::Cli::parse();
    match digest_feed::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            if let digest_feed::Error::Invalid(problems) = &err
                && problems.len() > 1
            {
                eprintln!("{} problems; nothing was written", problems.len());
            }
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
        }
    }
}
