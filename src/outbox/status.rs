//! `digest-feed status`: what the delivery state records, and what the next
//! `mail` would send, as a value the command prints.

use std::fmt;
use std::path::PathBuf;

use super::plan::{self, History};
use super::rollup::{self, RollupHistory};
use crate::config::{Cadence, Config};
use crate::error::Error;
use crate::list::ledger::{InboxRun, Left};
use crate::posts_folder;
use crate::store::{Run, State};

/// The delivery state, read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The state's file.
    pub state_path: PathBuf,
    /// Each post mailed, oldest first; `None` when there is no state yet.
    pub mailed: Option<Vec<Mailed>>,
    /// What the next `mail` would send.
    pub next: Vec<Next>,
    /// The latest run that sent, when there was one.
    pub last_run: Option<Run>,
    /// Subscribers `mail` leaves out, each as `file:line: why`.
    pub not_mailed: Vec<String>,
    /// Every suppressed address, with why and when (never mailed).
    pub suppressed: Vec<crate::list::Suppression>,
    /// Sign-ups waiting for their confirmation.
    pub pending_signups: usize,
    /// The list's mailbox, when `[inbox]` is set or `inbox` has run.
    pub inbox: Option<Inbox>,
    /// The weekly roll-up, when someone is a weekly subscriber or it has run.
    pub weekly: Option<Weekly>,
}

/// The weekly roll-up's part of `status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Weekly {
    /// How many subscribers get the roll-up.
    pub subscribers: usize,
    /// The posts the next `mail --weekly` would send (to someone).
    pub waiting: usize,
    /// The latest `mail --weekly` that sent, when there was one.
    pub last_run: Option<Run>,
}

/// How long a request to leave may wait (Gmail's and Yahoo's rule for
/// bulk senders): a message left that long, or a mailbox unread that long,
/// is named.
const HONOUR_WITHIN: i64 = 2 * 86_400;

/// The list's mailbox as the state last saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inbox {
    /// The latest run of `inbox` that read it through.
    pub last_read: Option<InboxRun>,
    /// Whether that was over two days ago, or never: what came since waits.
    pub unread_too_long: bool,
    /// Messages it left for the owner (mail to the list it could not act
    /// on, such as a person writing "please take me off").
    pub left: usize,
    /// Of those, the ones received over two days ago, oldest first.
    pub overdue: Vec<Left>,
}

/// The mailbox's part of `status`; `None` when there is no mailbox to read.
fn inbox(config: &Config, state: Option<&State>) -> Result<Option<Inbox>, Error> {
    let (last_read, left) = match state {
        Some(state) => (state.last_inbox_run()?, state.left_unread()?),
        None => (None, Vec::new()),
    };
    if config.inbox.is_none() && last_read.is_none() {
        return Ok(None);
    }
    let now = jiff::Timestamp::now().as_second();
    let unread_too_long = last_read.as_ref().is_none_or(|run| {
        run.at
            .parse::<jiff::Timestamp>()
            .is_ok_and(|at| now - at.as_second() > HONOUR_WITHIN)
    });
    let count = left.len();
    let overdue = left
        .into_iter()
        .filter(|message| now - message.received_ts > HONOUR_WITHIN)
        .collect();
    Ok(Some(Inbox {
        last_read,
        unread_too_long,
        left: count,
        overdue,
    }))
}

/// One post the state records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mailed {
    /// Its publication day (or instant, when it is shorter).
    pub day: String,
    /// Its title when first mailed.
    pub title: String,
    /// How many were delivered.
    pub delivered: usize,
    /// Refused for good: address and reply, sorted.
    pub failed: Vec<(String, String)>,
    /// Whether everyone owed it has had it.
    pub completed: bool,
}

/// A post the next run would send.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Next {
    /// Its title.
    pub title: String,
    /// Its file.
    pub source: PathBuf,
    /// Who is owed it.
    pub recipients: usize,
    /// Left out by their tags.
    pub not_wanted: usize,
}

/// Reads the state and plans the next run, without sending or recording.
pub fn status(config: &Config) -> Result<Status, Error> {
    let mut setup = crate::mail::setup(config).map_err(Error::Invalid)?;
    let state = State::open_read_only(&setup.state_path)?;
    let posts = posts_folder::published(config)?;
    let mut mailed = None;
    if let Some(state) = &state {
        let mut list = Vec::new();
        for post in state.posts()? {
            let tally = state.tally(&post.url)?;
            list.push(Mailed {
                day: post
                    .published_at
                    .get(..10)
                    .unwrap_or(&post.published_at)
                    .to_string(),
                title: post.title,
                delivered: tally.delivered,
                failed: tally.failed,
                completed: post.completed,
            });
        }
        mailed = Some(list);
    }
    let history = match &state {
        Some(state) => History::read(state, None, false)?,
        None => History::default(),
    };
    let crate::list::Mailable {
        mut subscribers,
        welcome,
        skipped,
    } = crate::list::mailable(std::mem::take(&mut setup.subscribers), state.as_ref())?;
    let weekly = weekly(state.as_ref(), &posts, &subscribers)?;
    subscribers.retain(|s| s.cadence() == Cadence::Daily);
    // What `mail` would send: new posts, and the newest to each confirmed
    // sign-up never mailed yet, exactly as the run plans it.
    let mut planned = plan::plan(&posts, None, &subscribers, &history, false);
    super::welcome_new(&mut planned, posts.first(), &subscribers, &welcome);
    let next = planned
        .iter()
        .map(|delivery| Next {
            title: delivery.post.title.clone(),
            source: delivery.post.source.clone(),
            recipients: delivery.recipients.len(),
            not_wanted: delivery.not_wanted,
        })
        .collect();
    let last_run = match &state {
        Some(state) => state.last_run()?,
        None => None,
    };
    let (suppressed, signups) = match &state {
        Some(state) => (state.suppressions()?, state.signups()?),
        None => (Vec::new(), Vec::new()),
    };
    Ok(Status {
        state_path: setup.state_path,
        mailed,
        next,
        last_run,
        not_mailed: setup
            .skipped
            .iter()
            .chain(&skipped)
            .map(ToString::to_string)
            .collect(),
        suppressed,
        pending_signups: signups.iter().filter(|s| s.confirmed_at.is_none()).count(),
        inbox: inbox(config, state.as_ref())?,
        weekly,
    })
}

/// What the next `mail --weekly` would send, as it plans it; `None` when
/// there is no weekly subscriber and no roll-up has run.
fn weekly(
    state: Option<&State>,
    posts: &[crate::post::Post],
    subscribers: &crate::list::subscribers::Subscribers,
) -> Result<Option<Weekly>, Error> {
    let count = subscribers
        .iter()
        .filter(|s| s.cadence() == Cadence::Weekly)
        .count();
    let last_run = match state {
        Some(state) => state.last_rollup_run()?,
        None => None,
    };
    if count == 0 && last_run.is_none() {
        return Ok(None);
    }
    let now = jiff::Timestamp::now().as_second();
    let history = match state {
        Some(state) => RollupHistory::read(state, subscribers, now)?,
        None => RollupHistory::default(),
    };
    let groups = rollup::plan(posts, subscribers, &history, now, false);
    let waiting: std::collections::HashSet<&str> = groups
        .iter()
        .flat_map(|group| group.posts.iter().map(|post| post.key.as_str()))
        .collect();
    Ok(Some(Weekly {
        subscribers: count,
        waiting: waiting.len(),
        last_run,
    }))
}

/// `Last run: …` (or `Last roll-up: …`): when `run` began and how it ended.
fn write_run(f: &mut fmt::Formatter<'_>, what: &str, run: &Run) -> fmt::Result {
    match (&run.ended_at, run.exit_code) {
        (Some(ended), Some(code)) => writeln!(
            f,
            "{what}: started {}, ended {ended}, exit {code}: {}",
            run.started_at,
            run.summary.as_deref().unwrap_or("")
        ),
        _ => writeln!(
            f,
            "{what}: started {}, never ended (killed, or still running); the next run resumes it",
            run.started_at
        ),
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.mailed {
            None => writeln!(
                f,
                "No delivery state yet ({}): nothing has been mailed.",
                self.state_path.display()
            )?,
            Some(mailed) => {
                writeln!(f, "Delivery state {}:", self.state_path.display())?;
                for post in mailed {
                    writeln!(
                        f,
                        "  {}  {:?}: {} delivered, {} failed{}",
                        post.day,
                        post.title,
                        post.delivered,
                        post.failed.len(),
                        if post.completed {
                            ""
                        } else {
                            " (unfinished: the next run resumes it)"
                        }
                    )?;
                    for (address, reply) in &post.failed {
                        writeln!(f, "      failed: {address}: {reply}")?;
                    }
                }
            }
        }
        if let Some(run) = &self.last_run {
            write_run(f, "Last run", run)?;
        }
        if !self.suppressed.is_empty() {
            writeln!(
                f,
                "Suppressed ({}, never mailed until `digest-feed subscribers unsuppress`):",
                self.suppressed.len()
            )?;
            for s in &self.suppressed {
                writeln!(f, "  {}", suppression_line(s))?;
            }
        }
        if self.pending_signups > 0 {
            writeln!(
                f,
                "Sign-ups waiting for their confirmation: {}",
                self.pending_signups
            )?;
        }
        if let Some(inbox) = &self.inbox {
            write_inbox(f, inbox)?;
        }
        for problem in &self.not_mailed {
            writeln!(f, "Not mailed until fixed: {problem}")?;
        }
        if self.next.is_empty() {
            writeln!(f, "Next `digest-feed mail`: nothing new to send.")?;
        }
        for next in &self.next {
            writeln!(
                f,
                "Next `digest-feed mail`: {:?} ({}) to {}{}",
                next.title,
                next.source.display(),
                crate::text::count(next.recipients, "recipient"),
                super::skipped_note(next.not_wanted)
            )?;
        }
        if let Some(weekly) = &self.weekly {
            write_weekly(f, weekly)?;
        }
        Ok(())
    }
}

/// The roll-up's lines: its subscribers, what waits for it, its last run.
fn write_weekly(f: &mut fmt::Formatter<'_>, weekly: &Weekly) -> fmt::Result {
    let waiting = match weekly.waiting {
        0 => "nothing waits for the next roll-up".to_string(),
        1 => "1 post waits for the next roll-up (`digest-feed mail --weekly`)".to_string(),
        n => format!("{n} posts wait for the next roll-up (`digest-feed mail --weekly`)"),
    };
    writeln!(
        f,
        "Weekly roll-up: {}; {waiting}",
        crate::text::count(weekly.subscribers, "subscriber")
    )?;
    match &weekly.last_run {
        Some(run) => write_run(f, "Last roll-up", run),
        None => writeln!(f, "Last roll-up: none yet"),
    }
}

/// `gone@example.org: bounced 2026-11-25T07:05:00Z by mail (550 5.1.1 no such user)`.
pub fn suppression_line(s: &crate::list::Suppression) -> String {
    let detail = if s.detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", s.detail)
    };
    format!("{}: {} {} by {}{detail}", s.email, s.reason, s.at, s.source)
}

/// The mailbox's lines: when it was last read, and what has waited too long.
fn write_inbox(f: &mut fmt::Formatter<'_>, inbox: &Inbox) -> fmt::Result {
    match &inbox.last_read {
        None => writeln!(
            f,
            "List mailbox: never read. Run `digest-feed inbox` daily (from cron, beside `mail`): \
             unsubscribe mails, bounces and complaints wait there until it does"
        )?,
        Some(run) => writeln!(
            f,
            "List mailbox: last read {}: {} acted on, {} left for you{}",
            run.at,
            crate::text::count(usize::try_from(run.acted).unwrap_or(0), "message"),
            run.left_unread,
            if inbox.unread_too_long {
                "; over two days ago: requests that came since are not honoured yet, run \
                 `digest-feed inbox`"
            } else {
                ""
            }
        )?,
    }
    if !inbox.overdue.is_empty() {
        writeln!(
            f,
            "Left for you over two days ({} of {}; a request to leave must be honoured within \
             two days: read each, `digest-feed subscribers suppress ADDR` if it asks, then mark it read):",
            inbox.overdue.len(),
            inbox.left
        )?;
        for message in &inbox.overdue {
            let received = jiff::Timestamp::from_second(message.received_ts)
                .map_or_else(|_| "?".to_string(), |at| at.to_string());
            writeln!(
                f,
                "  received {received} from {}: {:?}",
                if message.sender.is_empty() {
                    "?"
                } else {
                    &message.sender
                },
                message.subject
            )?;
        }
    }
    Ok(())
}
