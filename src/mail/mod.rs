//! `digest-feed mail` and `status` (SPEC §2): which posts go to whom, their
//! messages, and their delivery over SMTP with each outcome recorded as it
//! lands. The rooms: [`plan`] decides (pure), [`policy`] judges failures,
//! [`workers`] send, [`record`] writes the state; this file runs them in order.
//!
//! Nothing here prints: what a run has to say goes to the [`Observer`] the
//! command hands it.

mod dkim;
mod dry_run;
pub mod message;
pub mod notice;
mod plan;
mod policy;
mod record;
mod rollup;
mod send;
mod setup;
mod status;
mod transport;
mod workers;

use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;
use crate::email::{self, Recipient};
use crate::error::{Error, Location, Problem, Summary};
use crate::list;
use crate::list::subscribers::Subscriber;
use crate::post::Post;
use crate::posts_folder;
use crate::store;
pub use crate::store::Run;
use message::Letterhead;
use plan::{Delivery, History};
use record::Recorder;
use setup::{Setup, open_state};
pub use status::{Status, status, suppression_line};

/// How long a run waits for another run's lock before it gives up.
const LOCK_WAIT: Duration = Duration::from_mins(1);

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

/// What `mail` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Render every message; connect to nothing, record nothing.
    pub dry_run: bool,
    /// The post to send (`--post`): its path or its date.
    pub post: Option<String>,
    /// A test send to these addresses instead of the subscribers.
    pub to: Vec<String>,
    /// With `dry_run`: write each message as an `.eml` file here.
    pub eml_dir: Option<PathBuf>,
    /// Try again the recipients refused for good.
    pub retry_failed: bool,
}

/// Takes the run lock, saying so if another run holds it and this one waits.
fn hold_lock(setup: &Setup, observer: &dyn Observer) -> Result<store::RunLock, Error> {
    store::lock(&setup.state_path, LOCK_WAIT, |lock_path| {
        observer.warning(&format!(
            "another digest-feed mail run holds {}; waiting up to {} s for it to finish",
            lock_path.display(),
            LOCK_WAIT.as_secs()
        ));
    })
}

/// Who a message to `subscriber` is addressed to.
fn recipient(subscriber: &Subscriber, letterhead: &Letterhead) -> Recipient {
    Recipient {
        token: letterhead.token(&subscriber.email),
        email: subscriber.email.clone(),
        name: subscriber.name.clone(),
    }
}

/// Runs `mail`. A real send returns its summary; a dry run, a test send or
/// a run with nothing to send returns none.
pub fn run(
    config: &Config,
    request: &Request,
    observer: &dyn Observer,
) -> Result<Option<Summary>, Error> {
    let mut setup = setup::setup(config).map_err(Error::Invalid)?;
    for problem in setup.skipped.iter().chain(&setup.repeated) {
        observer.warning(&format!("{problem} (skipped)"));
    }
    // Moved out, not copied: the run holds the list once.
    let listed = std::mem::take(&mut setup.subscribers);
    for exposed in list::exposures(config) {
        observer.warning(&exposed);
    }
    let smtp = config.smtp().map_err(Error::Invalid)?;
    let password = if request.dry_run {
        None
    } else {
        smtp.password()?
    };
    let test_recipients = test_recipients(&request.to)?;
    let posts = posts_folder::published(config)?;
    let selected = match &request.post {
        Some(selector) => Some(posts_folder::select(&posts, selector)?),
        None => None,
    };
    let sending = send::Sending {
        config,
        setup: &setup,
        password,
        observer,
    };

    // A test send: one post to the given addresses, nothing recorded.
    if !test_recipients.is_empty() {
        let Some(post) = selected.or(posts.first()) else {
            observer.result("No published post to send.");
            return Ok(None);
        };
        let plan = vec![Delivery {
            post,
            recipients: test_recipients.iter().collect(),
            not_wanted: 0,
        }];
        return test_send(&setup, &sending, &plan, request, observer);
    }

    // The state decides what is new. A dry run only reads it; a real run
    // holds the lock from planning to the last record.
    let _lock = if request.dry_run {
        None
    } else {
        Some(hold_lock(&setup, observer)?)
    };
    let state = open_state(&setup.state_path, &config.path, request.dry_run)?;
    if let (Some(state), Some(key), false) = (&state, setup.letterhead.key_id(), request.dry_run) {
        state.key_used(&key)?;
    }
    let history = match &state {
        Some(state) => History::read(state, selected, request.retry_failed)?,
        None => History::default(),
    };
    // Suppressed addresses are never mailed; confirmed sign-ups are.
    let list::Mailable {
        subscribers,
        welcome,
        skipped,
    } = list::mailable(listed, state.as_ref())?;
    for problem in &skipped {
        observer.warning(&format!("{problem} (skipped)"));
    }
    let mut plan = plan::plan(
        &posts,
        selected,
        &subscribers,
        &history,
        request.retry_failed,
    );
    let newest = selected.map_or(posts.first(), |_| None);
    welcome_new(&mut plan, newest, &subscribers, &welcome);
    if plan.is_empty() {
        observer.result("Nothing new to mail: every published post has gone out.");
        return Ok(None);
    }
    match state {
        Some(state) if !request.dry_run => send_and_record(state, &sending, &plan).map(Some),
        _ => dry_run::run(&setup, &plan, request.eml_dir.as_deref(), "", observer).map(|()| None),
    }
}

/// A real run: sends the plan, each outcome and the run itself recorded.
fn send_and_record(
    state: store::State,
    sending: &send::Sending<'_>,
    plan: &[Delivery],
) -> Result<Summary, Error> {
    let recorder = Recorder::new(state);
    let run = recorder.start_run()?;
    let result = sending.send(plan, Some(&recorder), "");
    let result = with_skipped(result, &sending.setup.skipped);
    recorder.end_run(run, &result)?;
    result
}

/// Each new sign-up gets the newest post once, as `mail --post` would send it
/// (`newest` is `None` when `--post` chose the post).
fn welcome_new<'a>(
    plan: &mut Vec<Delivery<'a>>,
    newest: Option<&'a Post>,
    subscribers: &'a [Subscriber],
    welcome: &std::collections::HashSet<String>,
) {
    let Some(newest) = newest else { return };
    if welcome.is_empty() || plan.iter().any(|d| d.post.key == newest.key) {
        return;
    }
    plan.push(Delivery {
        post: newest,
        recipients: subscribers
            .iter()
            .filter(|s| welcome.contains(&s.key()))
            .collect(),
        not_wanted: 0,
    });
}

/// A test send (`--to`), or its dry run: nothing recorded. It gets a fresh
/// Message-ID, so a mail client does not take it for the real message; the
/// dry run shows that same kind of one, so it is byte for byte the send
/// (Date, boundary and that Message-ID aside).
fn test_send(
    setup: &Setup,
    sending: &send::Sending<'_>,
    plan: &[Delivery<'_>],
    request: &Request,
    observer: &dyn Observer,
) -> Result<Option<Summary>, Error> {
    let identity_salt = jiff::Timestamp::now().to_string();
    if request.dry_run {
        dry_run::run(
            setup,
            plan,
            request.eml_dir.as_deref(),
            &identity_salt,
            observer,
        )
        .map(|()| None)
    } else {
        sending.send(plan, None, &identity_salt).map(Some)
    }
}

/// The `--to` addresses (`addr` or `Name <addr>`) as subscribers of every post.
fn test_recipients(addresses: &[String]) -> Result<Vec<Subscriber>, Problem> {
    addresses
        .iter()
        .map(|address| {
            let mailbox = crate::address::Mailbox::parse(address).map_err(|err| {
                Problem::new(
                    Location::file("--to"),
                    format!(
                        "{address:?} is not an address like reader@example.org or \"Reader <reader@example.org>\" ({err})"
                    ),
                )
            })?;
            Ok(Subscriber {
                email: mailbox.email,
                name: mailbox.name.unwrap_or_default(),
                tags: Vec::new(),
                cadence: crate::config::Cadence::Daily,
            })
        })
        .collect()
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

fn skipped_note(not_wanted: usize) -> String {
    match not_wanted {
        0 => String::new(),
        n => format!(" ({n} skipped: not subscribed to its tags)"),
    }
}

/// For a post whose URL an older post has too (Jekyll builds both at one
/// page), which URL its email links to: the reader may land on the other.
fn shared_url_note(post: &Post) -> String {
    post.shares_url_with
        .as_ref()
        .map_or_else(String::new, |older| {
            format!(
                " (mailed with the URL {}, which {} has too)",
                post.url,
                older.display()
            )
        })
}

/// Warns once per post: every recipient's HTML is the same size give or take a name.
fn warn_if_clipped(email: &email::Email, post: &Post, observer: &dyn Observer) {
    if email.html.len() > email::GMAIL_CLIP_BYTES {
        observer.warning(&format!(
            "{}: the email's HTML is {}, over the 102 KB where Gmail clips a message",
            post.source.display(),
            crate::text::size(email.html.len())
        ));
    }
}
