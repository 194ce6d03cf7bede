//! Sending a prepared plan (SPEC §2): each item's message, rendered once
//! before it comes here, personalised for each of its recipients and
//! delivered over SMTP, each outcome recorded as it lands. What goes out
//! and to whom is decided before, by [`crate::outbox`]. The rooms:
//! [`setup`] reads what sending needs from the config, [`message`] builds
//! the bytes, [`transport`] speaks SMTP and [`retry`] says what its
//! failures mean and which are tried again, [`policy`] judges a run's
//! failures, [`workers`] send, [`record`] writes the state; [`send`] runs
//! them post by post. [`notice`] is the list's own one-off message, for
//! `serve` and `inbox`.
//!
//! Nothing here prints: what a run has to say goes to the [`Observer`] the
//! command hands it.

mod body;
mod dkim;
pub mod message;
pub mod notice;
mod policy;
mod record;
mod retry;
mod send;
mod setup;
mod transport;
mod workers;

use crate::config::Config;
use crate::email::{self, Prepared, Recipient};
use crate::error::{Error, Problem, Summary};
use crate::list::subscribers::{Selection, Subscriber};
use crate::store;
use message::{Letterhead, Letters, Unmade};
use record::Recorder;
pub(crate) use setup::{Setup, setup};

/// Where a run's lines and progress go: the terminal, for the command line.
pub trait Observer {
    /// A result the user asked for.
    fn result(&self, line: &str);
    /// Detail for `-v`.
    fn detail(&self, line: &str);
    /// A warning, shown even when quiet.
    fn warning(&self, line: &str);
    /// Progress through `total` messages of the post titled `label`.
    fn progress(&self, total: usize, label: &str) -> Box<dyn Progress + '_>;
}

/// Progress through one post's recipients.
pub trait Progress {
    /// One more message done.
    fn inc(&self);
    /// Detail for `-v`, printed without tearing the progress shown.
    fn detail(&self, line: &str);
    /// Done: the progress goes, the lines printed around it stay.
    fn finish(self: Box<Self>);
}

/// What the state records an item by: a post, or a weekly roll-up.
#[derive(Debug, Clone)]
pub(crate) enum Key {
    /// A post's email: each recipient recorded against the post.
    Post(PostKey),
    /// A weekly roll-up of these posts (URL, publication instant in
    /// seconds): each recipient recorded against each post it holds, apart
    /// from the daily deliveries.
    Rollup(Vec<(String, i64)>),
}

/// What the state records a post by: its URL, its title when mailed, and
/// when it was published (as RFC 3339, and in seconds).
#[derive(Debug, Clone)]
pub(crate) struct PostKey {
    /// The post's URL, its identity in the state.
    pub(crate) url: String,
    /// Its title.
    pub(crate) title: String,
    /// Its publication instant, RFC 3339 with its offset.
    pub(crate) published_at: String,
    /// The same instant in seconds since the epoch.
    pub(crate) published_ts: i64,
}

/// One post of a prepared plan: its message rendered once, and who is owed it.
#[derive(Debug)]
pub(crate) struct Item<'a> {
    /// The post's email, before each recipient's part.
    pub(crate) prepared: Prepared,
    /// What the state records the post by.
    pub(crate) key: Key,
    /// What the Message-ID is made from: the same post to the same
    /// recipient gets the same one (a test send salts it).
    pub(crate) identity: String,
    /// What begins the post's lines: its file.
    pub(crate) label: String,
    /// What ends its result line (subscribers its tags left out, a URL it shares).
    pub(crate) note: String,
    /// Picked from the subscriber list: 4 bytes a recipient.
    pub(crate) recipients: Selection<'a>,
}

/// Sends `plan` through `[smtp]` and its fallbacks. With a `state` (a real
/// run, holding the run lock) each outcome and the run itself are recorded
/// (a plan of roll-ups as a `mail --weekly` run); without one (a test
/// send) nothing is.
pub(crate) fn send(
    config: &Config,
    setup: &Setup,
    password: Option<String>,
    plan: &[Item<'_>],
    state: Option<store::State>,
    observer: &dyn Observer,
) -> Result<Summary, Error> {
    let sending = send::Sending {
        config,
        setup,
        password,
        observer,
    };
    let Some(state) = state else {
        return sending.send(plan, None);
    };
    let weekly = plan.iter().any(|item| matches!(item.key, Key::Rollup(_)));
    let recorder = Recorder::new(state, weekly);
    let run = recorder.start_run()?;
    let result = sending.send(plan, Some(&recorder));
    let result = with_skipped(result, &setup.skipped);
    recorder.end_run(run, &result)?;
    result
}

/// A real run that ended before its first message (a chosen post that
/// cannot be read or rendered): recorded as a run that ended with `err`, so
/// `status` shows it as it shows any run's end (a `mail --weekly` run
/// among the roll-up's runs); `err` is returned.
pub(crate) fn record_failed_run(
    state: store::State,
    err: Error,
    weekly: bool,
) -> Result<Summary, Error> {
    let recorder = Recorder::new(state, weekly);
    let run = recorder.start_run()?;
    let result = Err(err);
    recorder.end_run(run, &result)?;
    result
}

/// Who a message to `subscriber` is addressed to.
fn recipient(subscriber: Subscriber<'_>, letterhead: &Letterhead) -> Recipient {
    Recipient {
        token: letterhead.token(subscriber.email()),
        email: subscriber.email().to_string(),
        name: subscriber.name().to_string(),
    }
}

impl Setup {
    /// `subscriber`'s email of `prepared`, and who it is addressed to.
    pub(crate) fn personalise(
        &self,
        prepared: &Prepared,
        subscriber: Subscriber<'_>,
    ) -> Result<(Recipient, email::Email), Error> {
        let recipient = recipient(subscriber, &self.letterhead);
        let email = self.design.personalise(prepared, &recipient)?;
        Ok((recipient, email))
    }

    /// `prepared`'s messages, made once for all recipients as far as the
    /// templates allow; `identity` makes each Message-ID.
    pub(crate) fn letters<'p>(&self, prepared: &'p Prepared, identity: &'p str) -> Letters<'p> {
        self.letterhead.letters(prepared, identity)
    }

    /// The message of `letters` to `subscriber` exactly as a send builds it
    /// (Date and DKIM timestamp aside), written into `out`, and who it is
    /// to and its subject; or why this address cannot have one (the inner
    /// error: the others still can).
    pub(crate) fn build(
        &self,
        letters: &Letters<'_>,
        subscriber: Subscriber<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Result<(Recipient, String), String>, Error> {
        let recipient = recipient(subscriber, &self.letterhead);
        match self
            .letterhead
            .letter(&self.design, letters, &recipient, out)
        {
            Ok((_, subject)) => Ok(Ok((recipient, subject))),
            Err(Unmade::Address(why)) => Ok(Err(why)),
            Err(Unmade::Template(problem)) => Err(problem.into()),
            Err(Unmade::Message(reason)) => Err(Error::Render {
                format: "message",
                reason,
            }),
        }
    }
}

/// A run that left out subscribers it cannot mail ends as one with
/// failures (exit 1): each is listed with why, and `status` shows them, so a
/// bad row in a sign-up CSV is noticed, not mailed around forever.
fn with_skipped(result: Result<Summary, Error>, skipped: &[Problem]) -> Result<Summary, Error> {
    if skipped.is_empty() {
        return result;
    }
    let mut summary = match result {
        Ok(summary) | Err(Error::SomeFailed(summary)) => summary,
        other => return other,
    };
    summary.failed.extend(skipped.iter().map(|problem| {
        (
            problem.location.to_string(),
            format!("not mailed: {}", problem.message),
        )
    }));
    summary.into_result()
}

/// Warns once per post: every recipient's HTML is the same size give or take a name.
pub(crate) fn warn_if_clipped(email: &email::Email, label: &str, observer: &dyn Observer) {
    if email.html.len() > email::GMAIL_CLIP_BYTES {
        observer.warning(&format!(
            "{label}: the email's HTML is {}, over the 102 KB where Gmail clips a message",
            crate::text::size(email.html.len())
        ));
    }
}
