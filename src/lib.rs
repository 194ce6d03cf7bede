//! digest-feed: turns a Jekyll posts folder of daily digests into RSS 2.0,
//! Atom 1.0 and JSON Feed 1.1, and mails each new post to its subscribers.
//!
//! Data flows one way: [`config`] and [`posts_folder`] read, [`post`] models
//! and renders, [`feed`] and [`email`] turn the model into bytes, [`output`]
//! writes them and [`mail`] sends them.

pub mod build;
pub mod check;
pub mod cli;
pub mod config;
pub mod email;
pub mod error;
pub mod feed;
pub mod init;
pub mod mail;
pub mod output;
pub mod post;
pub mod posts_folder;
pub mod preview;
pub mod report;

use cli::{Cli, Command};
use config::Config;
pub use error::Error;
use report::Report;

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> Result<(), Error> {
    let report = Report::new(cli.global.quiet, cli.global.verbose);
    // These two need no config: they make one, or print what the shell needs.
    match &cli.command {
        Command::Init(args) => return init::run(args, report),
        Command::Completions(args) => {
            use std::io::Write;
            return std::io::stdout()
                .write_all(&cli::completions(args.shell))
                .map_err(|err| {
                    Error::io("cannot write", std::path::Path::new("standard output"), err)
                });
        }
        _ => {}
    }
    let config = Config::load(&cli.global.config)?;
    match &cli.command {
        Command::Build(args) => build::run(&config, args, report),
        Command::Check(args) => check::run(&config, args, report),
        Command::Preview(args) => preview::run(&config, args, report),
        Command::Mail(args) => mail::run(&config, args, report),
        Command::Status => mail::status(&config, report),
        Command::Init(_) | Command::Completions(_) => {
            unreachable!("handled before the config is read")
        }
    }
}
