//! `digest-feed mail` and `status`: the arguments as a [`mail::Request`],
//! and the terminal as its [`mail::Observer`].

use super::cli::MailArgs;
use super::report::Report;
use crate::config::Config;
use crate::error::Error;
use crate::mail;

/// Runs `mail`.
pub(super) fn run(config: &Config, args: &MailArgs, report: Report) -> Result<(), Error> {
    let request = mail::Request {
        dry_run: args.dry_run,
        post: args.post.clone(),
        to: args.to.clone(),
        eml_dir: args.eml_dir.clone(),
        retry_failed: args.retry_failed,
    };
    mail::run(config, &request, &report)
}

/// Runs `status`.
pub(super) fn status(config: &Config, report: Report) -> Result<(), Error> {
    let status = mail::status(config)?;
    report.result(status.to_string().trim_end());
    Ok(())
}
