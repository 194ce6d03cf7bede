//! `digest-feed mail` and `status`: the arguments as an [`outbox::Request`],
//! and the terminal as its [`crate::mail::Observer`].

use super::cli::MailArgs;
use super::report::Report;
use crate::config::Config;
use crate::error::{Error, Transient};
use crate::outbox;
use crate::post::Rules;
use crate::posts_folder;

/// Runs `mail`.
pub(super) fn run(config: &Config, args: &MailArgs, report: Report) -> Result<(), Error> {
    let skipping;
    let config = if args.skip_invalid || config.posts.skip_invalid {
        // Name each invalid post once; the mail stages then read the rest.
        let loaded = posts_folder::load_published(
            &config.posts.dir,
            &Rules::from_config(config),
            jiff::Timestamp::now(),
        )?;
        for problem in &loaded.problems {
            report.warning(format!("{problem} (skipped)"));
        }
        let mut config = config.clone();
        config.posts.skip_invalid = true;
        skipping = config;
        &skipping
    } else {
        config
    };
    // --wait-live: nothing is sent until each post's page is up.
    let live = |report: Report| match args.wait_live.filter(|_| !args.dry_run) {
        Some(seconds) => {
            let posts =
                super::live::posts_to_check(config, args.post.as_deref(), !args.to.is_empty())?;
            super::live::wait(config, &posts, seconds, report)
        }
        None => Ok(()),
    };
    let request = outbox::Request {
        dry_run: args.dry_run,
        post: args.post.clone(),
        to: args.to.clone(),
        eml_dir: args.eml_dir.clone(),
        retry_failed: args.retry_failed,
        weekly: args.weekly,
    };
    if !args.json {
        live(report)?;
        return outbox::run(config, &request, &report).map(drop);
    }
    // --json: the lines go quiet; one object says how it ended, whatever the exit code.
    let started = std::time::Instant::now();
    let result =
        live(report.quieter()).and_then(|()| outbox::run(config, &request, &report.quieter()));
    let summary = match &result {
        Ok(summary) => summary.as_ref(),
        Err(Error::SomeFailed(summary) | Error::Transient(Transient::Delivery(summary))) => {
            Some(summary)
        }
        Err(_) => None,
    };
    report.json(&shapes::Mailed {
        exit_code: result.as_ref().map_or_else(Error::exit_code, |_| 0),
        sent: summary.map_or(0, |s| s.sent),
        failed: summary.map(|s| pairs(&s.failed)).unwrap_or_default(),
        deferred: summary.map(|s| pairs(&s.deferred)).unwrap_or_default(),
        stopped: summary.and_then(|s| s.stopped.clone()),
        error: result
            .as_ref()
            .err()
            .filter(|_| summary.is_none())
            .map(ToString::to_string),
        milliseconds: started.elapsed().as_millis(),
    });
    result.map(drop)
}

fn pairs(list: &[(String, String)]) -> Vec<shapes::Refused> {
    list.iter()
        .map(|(address, reply)| shapes::Refused {
            address: address.clone(),
            reply: reply.clone(),
        })
        .collect()
}

/// The shapes `--json` prints.
mod shapes {
    /// How a `mail` run ended.
    #[derive(Debug, serde::Serialize)]
    pub(super) struct Mailed {
        pub(super) exit_code: i32,
        pub(super) sent: usize,
        pub(super) failed: Vec<Refused>,
        pub(super) deferred: Vec<Refused>,
        pub(super) stopped: Option<String>,
        pub(super) error: Option<String>,
        pub(super) milliseconds: u128,
    }

    /// A recipient and the server's reply.
    #[derive(Debug, serde::Serialize)]
    pub(super) struct Refused {
        pub(super) address: String,
        pub(super) reply: String,
    }
}

/// Runs `status`.
pub(super) fn status(config: &Config, json: bool, report: Report) -> Result<(), Error> {
    let status = outbox::status(config)?;
    if json {
        report.json(&status);
    } else {
        report.result(status.to_string().trim_end());
    }
    Ok(())
}
