//! What a `digest-feed mail` run sends (SPEC §2), decided and prepared
//! before anything connects: the published posts and the state's history
//! read, the recipients chosen ([`plan`], pure), each chosen post's email
//! rendered once, then the prepared plan handed to [`crate::mail`], or
//! shown by the dry run ([`dry_run`]). [`status`] reports the same plan
//! without sending it.
//!
//! Nothing here prints: what a run has to say goes to the
//! [`mail::Observer`] the command hands it.

mod dry_run;
mod plan;
mod rollup;
mod status;
mod weekly;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{Cadence, Config};
use crate::email::Design;
use crate::error::{Error, Location, Problem, Summary};
use crate::list;
use crate::list::subscribers::{Selection, Subscribers};
use crate::mail::{self, Observer, Setup};
use crate::post::Post;
use crate::posts_folder;
use crate::store::{self, State};
use plan::{Delivery, History};
pub use status::{Status, status, suppression_line};

/// How long a run waits for another run's lock before it gives up.
const LOCK_WAIT: Duration = Duration::from_mins(1);

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
    /// The weekly roll-up (`--weekly`) instead of the new posts.
    pub weekly: bool,
}

/// One post of the prepared plan, and the day that names its `.eml` files.
struct Chosen<'a> {
    item: mail::Item<'a>,
    day: String,
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

/// Runs `mail`. A real send returns its summary; a dry run, a test send or
/// a run with nothing to send returns none.
pub fn run(
    config: &Config,
    request: &Request,
    observer: &dyn Observer,
) -> Result<Option<Summary>, Error> {
    let mut setup = mail::setup(config).map_err(Error::Invalid)?;
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

    if !test_recipients.is_empty() {
        let sending = (&setup, password);
        if request.weekly {
            return weekly::test_send(config, sending, &posts, &test_recipients, request, observer);
        }
        let post = selected.or(posts.first());
        return test_send(config, sending, (post, &test_recipients), request, observer);
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
    // Suppressed addresses are never mailed; confirmed sign-ups are.
    let (mut subscribers, welcome) = mailable(listed, state.as_ref(), observer)?;
    if request.weekly {
        let sending = (&setup, password);
        return weekly::run(
            config,
            sending,
            (&posts, &subscribers),
            state,
            request,
            observer,
        );
    }
    let history = match &state {
        Some(state) => History::read(state, selected, request.retry_failed)?,
        None => History::default(),
    };
    // Each new post goes to the daily subscribers; the weekly ones get it
    // in their roll-up (`--weekly`), a new sign-up's welcome included.
    subscribers.retain(|s| s.cadence() == Cadence::Daily);
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
    let chosen = prepare(&setup.design, plan, "");
    hand_over(config, (&setup, password), chosen, state, request, observer)
}

/// The prepared plan shown by the dry run, or handed to `mail` to send:
/// recorded in `state` when there is one (a test send has none). A real
/// run whose plan could not be prepared (a chosen post that cannot be
/// read or rendered) ends there, recorded as such.
fn hand_over(
    config: &Config,
    (setup, password): (&Setup, Option<String>),
    chosen: Result<Vec<Chosen<'_>>, Error>,
    state: Option<State>,
    request: &Request,
    observer: &dyn Observer,
) -> Result<Option<Summary>, Error> {
    if request.dry_run {
        return dry_run::run(setup, &chosen?, request.eml_dir.as_deref(), observer).map(|()| None);
    }
    match (state, chosen) {
        (Some(state), Err(err)) => mail::record_failed_run(state, err, request.weekly).map(Some),
        (state, chosen) => {
            let items: Vec<_> = chosen?.into_iter().map(|chosen| chosen.item).collect();
            mail::send(config, setup, password, &items, state, observer).map(Some)
        }
    }
}

/// The listed subscribers `mail` may mail (the suppressed left out, the
/// confirmed sign-ups in, each skipped one warned of), and which of them
/// are new sign-ups owed a welcome.
fn mailable(
    listed: Subscribers,
    state: Option<&State>,
    observer: &dyn Observer,
) -> Result<(Subscribers, HashSet<String>), Error> {
    let list::Mailable {
        subscribers,
        welcome,
        skipped,
    } = list::mailable(listed, state)?;
    for problem in &skipped {
        observer.warning(&format!("{problem} (skipped)"));
    }
    Ok((subscribers, welcome))
}

/// A test send (`--to`), or its dry run: one post to the given addresses,
/// nothing recorded. It gets a fresh Message-ID, so a mail client does not
/// take it for the real message; the dry run shows that same kind of one,
/// so it is byte for byte the send (Date, boundary and that Message-ID aside).
fn test_send(
    config: &Config,
    (setup, password): (&Setup, Option<String>),
    (post, recipients): (Option<&Post>, &Subscribers),
    request: &Request,
    observer: &dyn Observer,
) -> Result<Option<Summary>, Error> {
    let Some(post) = post else {
        observer.result("No published post to send.");
        return Ok(None);
    };
    let plan = vec![Delivery {
        post,
        recipients: Selection::of(recipients, recipients),
        not_wanted: 0,
    }];
    let salt = jiff::Timestamp::now().to_string();
    let chosen = prepare(&setup.design, plan, &salt);
    hand_over(config, (setup, password), chosen, None, request, observer)
}

/// The plan prepared for `mail`: each post read and its email rendered
/// once; `salt` (a test send's) makes its Message-IDs new.
fn prepare<'a>(
    design: &Design,
    plan: Vec<Delivery<'a>>,
    salt: &str,
) -> Result<Vec<Chosen<'a>>, Error> {
    plan.into_iter()
        .map(|delivery| {
            let post = delivery.post;
            let text = posts_folder::read(&post.source)?;
            let prepared = design.prepare(post, &crate::email::render_body(post, &text)?)?;
            Ok(Chosen {
                item: mail::Item {
                    prepared,
                    key: mail::Key::Post(mail::PostKey {
                        url: post.key.clone(),
                        title: post.title.clone(),
                        published_at: crate::post::date::rfc3339(&post.date),
                        published_ts: post.date.timestamp().as_second(),
                    }),
                    identity: format!("{}{salt}", post.key),
                    label: post.source.display().to_string(),
                    note: format!(
                        "{}{}",
                        skipped_note(delivery.not_wanted),
                        shared_url_note(post)
                    ),
                    recipients: delivery.recipients,
                },
                day: post.date.strftime("%Y-%m-%d").to_string(),
            })
        })
        .collect()
}

/// The state a run plans from: read-only for a dry run (`None` before the
/// first send), else opened (made if missing) and bound to this config's list.
fn open_state(
    state_path: &Path,
    config_path: &Path,
    dry_run: bool,
) -> Result<Option<State>, Error> {
    if dry_run {
        let state = State::open_read_only(state_path)?;
        if let Some(state) = &state {
            state.check_served(config_path)?;
        }
        Ok(state)
    } else {
        let state = State::open(state_path)?;
        state.serve(config_path)?;
        Ok(Some(state))
    }
}

/// Each new sign-up gets the newest post once, as `mail --post` would send it
/// (`newest` is `None` when `--post` chose the post).
fn welcome_new<'a>(
    plan: &mut Vec<Delivery<'a>>,
    newest: Option<&'a Post>,
    subscribers: &'a Subscribers,
    welcome: &HashSet<String>,
) {
    let Some(newest) = newest else { return };
    if welcome.is_empty() || plan.iter().any(|d| d.post.key == newest.key) {
        return;
    }
    plan.push(Delivery {
        post: newest,
        recipients: Selection::of(
            subscribers,
            subscribers.iter().filter(|s| welcome.contains(&s.key())),
        ),
        not_wanted: 0,
    });
}

/// The `--to` addresses (`addr` or `Name <addr>`) as subscribers of every post.
fn test_recipients(addresses: &[String]) -> Result<Subscribers, Problem> {
    let mut recipients = Subscribers::default();
    for address in addresses {
        let mailbox = crate::address::Mailbox::parse(address).map_err(|err| {
            Problem::new(
                Location::file("--to"),
                format!(
                    "{address:?} is not an address like reader@example.org or \"Reader <reader@example.org>\" ({err})"
                ),
            )
        })?;
        let no_tags: &[&str] = &[];
        recipients
            .push(
                &mailbox.email,
                &mailbox.name.unwrap_or_default(),
                no_tags,
                crate::config::Cadence::Daily,
            )
            .map_err(|why| Problem::new(Location::file("--to"), why))?;
    }
    Ok(recipients)
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
