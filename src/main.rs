//! The `digest-feed` binary: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = digest_feed::commands::cli::Cli::parse();
    // `check` lists problems by design; every other command refused to act on them.
    let checking = matches!(cli.command, digest_feed::commands::cli::Command::Check(_));
    match digest_feed::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            if let digest_feed::Error::Invalid(problems) = &err
                && problems.len() > 1
            {
                let outcome = if checking {
                    ""
                } else {
                    "; nothing was written or sent"
                };
                eprintln!("{} problems{outcome}", problems.len());
            }
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
        }
    }
}
