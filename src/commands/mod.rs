//! The commands: the only code that sees clap's argument structs and the
//! terminal. Each turns its arguments into a request for the stages below
//! (read, model, render, write, send) and prints what they did.

mod build;
mod check;
pub mod cli;
mod dns;
mod init;
mod links;
mod live;
mod mail;
#[cfg(test)]
mod manual;
mod ping;
mod preview;
mod report;
mod subscribers;

use cli::{Cli, Command};
use report::Report;

use crate::config::Config;
use crate::error::Error;

/// Runs the command `cli` names.
#[allow(clippy::needless_pass_by_value)] // main hands over the parsed line; nothing else needs it
pub fn run(cli: Cli) -> Result<(), Error> {
    let report = Report::new(cli.global.quiet, cli.global.verbose);
    // These two need no config: they make one, or print what the shell needs.
    match &cli.command {
        Command::Init(args) => return init::run(args, cli.global.config.as_deref(), report),
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
    let path = cli
        .global
        .config
        .clone()
        .unwrap_or_else(Config::default_path);
    let config = Config::load(&path)?;
    for warning in &config.warnings {
        report.warning(warning.to_string());
    }
    match &cli.command {
        Command::Build(args) => build::run(&config, args, report),
        Command::Check(args) => check::run(&config, args, report),
        Command::Preview(args) => preview::run(&config, args, report),
        Command::Mail(args) => mail::run(&config, args, report),
        Command::Status(args) => mail::status(&config, args.json, report),
        Command::Links => links::run(&config, report),
        Command::Ping => ping::run(&config, report),
        Command::Dns => dns::run(&config, report),
        Command::Serve(args) => {
            let mut config = config;
            if let Some(listen) = args.listen {
                config.serve.listen = listen;
            }
            let ready = |address, public: &str| {
                report.result(format!(
                    "Listening on http://{address}/ for {public}/ (stop with Ctrl-C)"
                ));
            };
            let log = move |line: &str| report.log(line);
            crate::serve::run(&config, ready, std::sync::Arc::new(log))
        }
        Command::Inbox => inbox(&config, report),
        Command::Subscribers(args) => subscribers::run(&config, args, report),
        Command::Init(_) | Command::Completions(_) => {
            unreachable!("handled before the config is read")
        }
    }
}

/// Runs `inbox` and prints what it did; what it left for the owner with `-v`.
fn inbox(config: &Config, report: Report) -> Result<(), Error> {
    let summary = crate::inbox::run(config)?;
    for warning in &summary.warnings {
        report.warning(warning);
    }
    for action in &summary.actions {
        report.result(action);
    }
    for left in &summary.left_for_you {
        report.detail(left);
    }
    if summary.waiting > 0 {
        report.warning(format!(
            "{} more unread messages than one run reads ({}): the next `digest-feed inbox` reads on",
            summary.waiting,
            crate::inbox::MAX_READ
        ));
    }
    let late = match summary.flagged_late {
        0 => String::new(),
        n => format!(
            "; {} an earlier run acted on but was stopped before marking read, marked now",
            crate::text::count(n, "message")
        ),
    };
    report.result(format!(
        "Inbox read: {} acted on, {} left for you{late}",
        crate::text::count(summary.actions.len(), "message"),
        summary.left
    ));
    if summary.deferred.is_empty() {
        return Ok(());
    }
    // Exit 3 (SPEC: try again later): cron tells the owner, and the
    // next run sends what could not go out now.
    Err(crate::error::Error::Transient(
        crate::error::Transient::Unavailable(format!(
            "{}; those messages stay unread, and the next `digest-feed inbox` tries again",
            summary.deferred.join("; ")
        )),
    ))
}
