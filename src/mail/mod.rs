//! `digest-feed mail`: which posts go to whom (SPEC §2), the messages, and
//! their delivery over SMTP with the outcome of each recorded as it lands.

pub mod message;
pub mod state;
pub mod subscribers;
pub mod transport;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use crate::cli::MailArgs;
use crate::config::Config;
use crate::email::{self, PostContext, Prepared, Recipient, Templates};
use crate::error::{Error, Location, Problem};
use crate::output;
use crate::post::{Post, Rules};
use crate::posts_folder;
use crate::report::Report;
use message::Letterhead;
use state::{Outcome, State};
use subscribers::Subscriber;
use transport::{SendError, Transport};

/// How long a run waits for another run's lock before it gives up.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// Everything a run needs that comes from the config, checked.
pub struct Setup {
    /// The templates, compiled.
    pub templates: Templates,
    /// Their sources, for re-rendering where a template needs it.
    pub sources: email::TemplateSources,
    /// From and List-Id.
    pub letterhead: Letterhead,
    /// The subscribers, validated.
    pub subscribers: Vec<Subscriber>,
    /// The delivery state's path.
    pub state_path: PathBuf,
}

/// Checks everything the mail commands read from the config: `[email]`,
/// the templates and the subscribers. Lists every problem.
pub fn setup(config: &Config) -> Result<Setup, Vec<Problem>> {
    let mut problems = Vec::new();
    let letterhead = match &config.email.from {
        None => {
            problems.push(Problem::new(
                Location::file(&config.path),
                "[email] from is missing: set the sender, e.g. from = \"Daily Papers <papers@example.org>\"",
            ));
            None
        }
        Some(from) => match Letterhead::new(from.get_ref(), &config.site.title, &config.site.url) {
            Ok(letterhead) => Some(letterhead),
            Err(message) => {
                problems.push(Problem::new(
                    config.location(from.span()),
                    format!("[email] from {message}"),
                ));
                None
            }
        },
    };
    let unsubscribe = config.email.list_unsubscribe.get_ref().trim();
    let unsubscribe = if unsubscribe.is_empty() {
        // Every bulk sender needs one (Gmail and Yahoo require it); without a
        // setting, unsubscribe requests go to the sender's own address.
        letterhead
            .as_ref()
            .map(|l| format!("mailto:{}?subject=unsubscribe", l.from_address()))
            .unwrap_or_default()
    } else if unsubscribe.starts_with("mailto:") || unsubscribe.starts_with("https://") {
        unsubscribe.to_string()
    } else {
        problems.push(Problem::new(
            config.location(config.email.list_unsubscribe.span()),
            format!("[email] list_unsubscribe {unsubscribe:?} must start with mailto: or https://"),
        ));
        String::new()
    };
    let subject = email::Source::new(
        format!("{} [email] subject", config.path.display()),
        config.email.subject.get_ref().clone(),
    );
    let unsubscribe = email::Source::new(
        format!("{} [email] list_unsubscribe", config.path.display()),
        unsubscribe,
    );
    let folder = config.base_dir().join(&config.email.templates);
    let compiled = email::TemplateSources::read(&folder, subject, unsubscribe)
        .map_err(|problem| vec![problem])
        .and_then(|sources| {
            Templates::compile(&sources, site_context(config)).map(|templates| (templates, sources))
        });
    let compiled = compiled.map_err(|mut more| problems.append(&mut more)).ok();
    let subscribers = subscribers::load(config)
        .map_err(|mut more| problems.append(&mut more))
        .ok();
    match (compiled, letterhead, subscribers, problems.is_empty()) {
        (Some((templates, sources)), Some(letterhead), Some(subscribers), true) => Ok(Setup {
            templates,
            sources,
            letterhead,
            subscribers,
            state_path: config.base_dir().join(&config.email.state),
        }),
        _ => Err(problems),
    }
}

fn site_context(config: &Config) -> email::SiteContext {
    email::SiteContext {
        title: config.site.title.clone(),
        url: config.site.url.clone(),
        description: config.site.description.clone(),
        language: config.site.language.clone(),
        author: config.site.author.clone(),
    }
}

/// The published posts, newest first; any invalid post stops the run.
pub fn published_posts(config: &Config, posts_dir: Option<&Path>) -> Result<Vec<Post>, Error> {
    let dir = posts_dir.unwrap_or(&config.posts.dir);
    let loaded =
        posts_folder::load_published(dir, &Rules::from_config(config), jiff::Timestamp::now())?;
    if loaded.problems.is_empty() {
        Ok(loaded.posts)
    } else {
        Err(Error::Invalid(loaded.problems))
    }
}

/// Renders `post`'s body and prepares its email.
pub fn prepare(setup: &Setup, post: &Post) -> Result<(PostContext, Prepared), Error> {
    let text = posts_folder::read(&post.source)?;
    let rendered = post.render(&text)?;
    let context = PostContext::new(post, &rendered);
    let prepared = setup.templates.prepare(&context, &setup.sources)?;
    Ok((context, prepared))
}

/// One post and who is owed it in this run.
struct Delivery<'a> {
    post: &'a Post,
    /// Borrowed from the subscriber list: a plan for 100,000 copies nothing.
    recipients: Vec<&'a Subscriber>,
    /// Subscribers left out by their tags.
    not_wanted: usize,
}

/// Runs `mail`.
pub fn run(config: &Config, args: &MailArgs, report: Report) -> Result<(), Error> {
    let setup = setup(config).map_err(Error::Invalid)?;
    let problems = transport::check_settings(config, !args.dry_run);
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let mut test_recipients = Vec::new();
    for address in &args.to {
        subscribers::check_address(address)
            .map_err(|message| Problem::new(Location::file("--to"), message))?;
        test_recipients.push(Subscriber {
            email: address.clone(),
            name: String::new(),
            tags: Vec::new(),
        });
    }
    let posts = published_posts(config, None)?;
    let selected = match &args.post {
        Some(selector) => Some(select(&posts, selector)?),
        None => None,
    };

    // A test send: one post to the given addresses, nothing recorded.
    if !test_recipients.is_empty() {
        let Some(post) = selected.or(posts.first()) else {
            report.result("No published post to send.");
            return Ok(());
        };
        let plan = vec![Delivery {
            post,
            recipients: test_recipients.iter().collect(),
            not_wanted: 0,
        }];
        let identity_salt = jiff::Timestamp::now().to_string();
        return if args.dry_run {
            dry_run(&setup, &plan, args.eml_dir.as_deref(), report)
        } else {
            send(config, &setup, &plan, None, &identity_salt, report)
        };
    }

    // The state decides what is new. A dry run only reads it; a real run
    // holds the lock from planning to the last record.
    let _lock = if args.dry_run {
        None
    } else {
        Some(state::lock(&setup.state_path, LOCK_WAIT, |lock_path| {
            report.warning(format!(
                "another digest-feed mail run holds {}; waiting up to {} s for it to finish",
                lock_path.display(),
                LOCK_WAIT.as_secs()
            ))
        })?)
    };
    let state = if args.dry_run {
        State::open_read_only(&setup.state_path)?
    } else {
        Some(State::open(&setup.state_path)?)
    };
    let plan = plan(
        &posts,
        selected,
        &setup.subscribers,
        state.as_ref(),
        args.retry_failed,
    )?;
    if plan.is_empty() {
        report.result("Nothing new to mail: every published post has gone out.");
        return Ok(());
    }
    if args.dry_run {
        dry_run(&setup, &plan, args.eml_dir.as_deref(), report)
    } else {
        send(config, &setup, &plan, state, "", report)
    }
}

/// Runs `status`: what the state records, and what the next `mail` would send.
pub fn status(config: &Config, report: Report) -> Result<(), Error> {
    let setup = setup(config).map_err(Error::Invalid)?;
    let state = State::open_read_only(&setup.state_path)?;
    let posts = published_posts(config, None)?;
    match &state {
        None => report.result(format!(
            "No delivery state yet ({}): nothing has been mailed.",
            setup.state_path.display()
        )),
        Some(state) => {
            report.result(format!("Delivery state {}:", setup.state_path.display()));
            for mailed in state.posts()? {
                let deliveries = state.deliveries(&mailed.url)?;
                let delivered = deliveries
                    .values()
                    .filter(|o| **o == Outcome::Delivered)
                    .count();
                let mut failed: Vec<(&String, &String)> = deliveries
                    .iter()
                    .filter_map(|(address, outcome)| match outcome {
                        Outcome::Failed(reply) => Some((address, reply)),
                        Outcome::Delivered => None,
                    })
                    .collect();
                failed.sort();
                report.result(format!(
                    "  {}  {:?}: {delivered} delivered, {} failed{}",
                    mailed
                        .published_at
                        .get(..10)
                        .unwrap_or(&mailed.published_at),
                    mailed.title,
                    failed.len(),
                    if mailed.completed {
                        ""
                    } else {
                        " (unfinished: the next run resumes it)"
                    }
                ));
                for (address, reply) in failed {
                    report.result(format!("      failed: {address}: {reply}"));
                }
            }
        }
    }
    let plan = plan(&posts, None, &setup.subscribers, state.as_ref(), false)?;
    if plan.is_empty() {
        report.result("Next `digest-feed mail`: nothing new to send.");
    }
    for delivery in &plan {
        report.result(format!(
            "Next `digest-feed mail`: {:?} ({}) to {} recipients{}",
            delivery.post.title,
            delivery.post.source.display(),
            delivery.recipients.len(),
            skipped_note(delivery.not_wanted)
        ));
    }
    Ok(())
}

/// Picks a post by its file path or its date `YYYY-MM-DD`.
pub fn select<'a>(posts: &'a [Post], selector: &str) -> Result<&'a Post, Error> {
    let by_path = posts.iter().find(|post| {
        post.source == Path::new(selector)
            || post.source.file_name().is_some_and(|name| name == selector)
            || post.source.ends_with(selector)
    });
    if let Some(post) = by_path {
        return Ok(post);
    }
    let on_day: Vec<&Post> = posts
        .iter()
        .filter(|post| post.date.strftime("%Y-%m-%d").to_string() == selector)
        .collect();
    match on_day.as_slice() {
        [post] => Ok(post),
        [] => Err(Problem::new(
            Location::file("--post"),
            format!("no published post is {selector:?}; give a post's path or its date YYYY-MM-DD"),
        )
        .into()),
        several => Err(Problem::new(
            Location::file("--post"),
            format!(
                "{} posts are dated {selector}: {}; give the path of one",
                several.len(),
                several
                    .iter()
                    .map(|post| post.source.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .into()),
    }
}

/// Which posts go out in this run, oldest first, and to whom (SPEC §2).
fn plan<'a>(
    posts: &'a [Post],
    selected: Option<&'a Post>,
    subscribers: &'a [Subscriber],
    state: Option<&State>,
    retry_failed: bool,
) -> Result<Vec<Delivery<'a>>, Error> {
    let mailed = match state {
        Some(state) => state.posts()?,
        None => Vec::new(),
    };
    // Posts to consider, with whether only their failed recipients are owed
    // (a finished post retried with --retry-failed).
    let mut chosen: Vec<(&Post, bool)> = Vec::new();
    if let Some(post) = selected {
        chosen.push((post, false));
    } else if mailed.is_empty() {
        // A first run sends the newest post, never the archive.
        chosen.extend(posts.first().map(|post| (post, false)));
    } else {
        let newest = mailed
            .iter()
            .map(|m| m.published_ts)
            .max()
            .unwrap_or(i64::MIN);
        for post in posts {
            let known = mailed.iter().find(|m| m.url == post.url);
            match known {
                // Begun but not finished (a crash, a lost connection): resume.
                Some(m) if !m.completed => chosen.push((post, false)),
                Some(_) if retry_failed => chosen.push((post, true)),
                Some(_) => {}
                None if post.date.timestamp().as_second() >= newest => chosen.push((post, false)),
                None => {}
            }
        }
    }
    chosen.sort_by_key(|(post, _)| post.date.timestamp());

    let mut plan = Vec::new();
    for (post, only_failed) in chosen {
        let done = match state {
            Some(state) => state.deliveries(&post.url)?,
            None => Default::default(),
        };
        let mut recipients = Vec::new();
        let mut not_wanted = 0;
        for subscriber in subscribers {
            if !subscriber.wants(&post.tags) {
                not_wanted += 1;
                continue;
            }
            let owed = match done.get(&subscriber.key()) {
                Some(Outcome::Delivered) => false,
                Some(Outcome::Failed(_)) => retry_failed,
                None => !only_failed,
            };
            if owed {
                recipients.push(subscriber);
            }
        }
        // A finished post retried for its failures alone is left out when none are owed;
        // any other post goes in, so that it is recorded and its turn passes.
        if !only_failed || !recipients.is_empty() {
            plan.push(Delivery {
                post,
                recipients,
                not_wanted,
            });
        }
    }
    Ok(plan)
}

/// Renders every message as it would be sent; connects to nothing, records nothing.
fn dry_run(
    setup: &Setup,
    plan: &[Delivery],
    eml_dir: Option<&Path>,
    report: Report,
) -> Result<(), Error> {
    let mut count = 0;
    let mut bytes_total = 0;
    for delivery in plan {
        let (context, prepared) = prepare(setup, delivery.post)?;
        report.result(format!(
            "{}: {} to {} recipients{}",
            delivery.post.source.display(),
            context.title,
            delivery.recipients.len(),
            skipped_note(delivery.not_wanted)
        ));
        for (index, subscriber) in delivery.recipients.iter().enumerate() {
            let recipient = &subscriber.recipient();
            let email = setup
                .templates
                .personalise(&prepared, recipient, &setup.sources)?;
            if index == 0 {
                warn_if_clipped(&email, delivery.post, report);
            }
            let subject = email.subject.clone();
            let (_, bytes) = setup
                .letterhead
                .build(recipient, email, &delivery.post.url)
                .map_err(|message| Problem::new(Location::file(&delivery.post.source), message))?;
            report.result(format!(
                "  would send to {}: {:?} ({})",
                mailbox_text(recipient),
                subject,
                size_text(bytes.len())
            ));
            if let Some(dir) = eml_dir {
                let name = format!(
                    "{}-{}.eml",
                    delivery.post.date.strftime("%Y-%m-%d"),
                    file_safe(&recipient.email)
                );
                output::write_atomically(&dir.join(name), &bytes)?;
            }
            count += 1;
            bytes_total += bytes.len();
        }
    }
    report.result(format!(
        "Dry run: {count} messages, {} in all; nothing was sent or recorded{}",
        size_text(bytes_total),
        eml_dir.map_or(String::new(), |dir| format!(
            "; .eml files in {}",
            dir.display()
        ))
    ));
    Ok(())
}

/// What happened to one message in a real send, and whether recording it
/// in the state failed.
struct Attempt<'a> {
    subscriber: &'a Subscriber,
    outcome: Result<(), SendError>,
    record_error: Option<Error>,
}

/// After this many messages in a row fail alike with no delivery between
/// them, the failure is about the run, not the recipients: stop. Alike
/// means deferred (4xx after every retry: 421, throttling), or refused for
/// good with the very same reply, one that does not even name them ("554
/// 5.7.1 Relay access denied").
const ALIKE_IN_A_ROW: usize = 10;

/// The current run of failures alike.
#[derive(Default)]
struct Streak {
    what: Option<String>,
    count: usize,
}

impl Streak {
    /// Counts a failure that is `what`; true when the streak is long enough
    /// to stop the run.
    fn push(&mut self, what: &str) -> bool {
        if self.what.as_deref() == Some(what) {
            self.count += 1;
        } else {
            self.what = Some(what.to_string());
            self.count = 1;
        }
        self.count >= ALIKE_IN_A_ROW
    }
}

/// Sends the plan; each worker records its message's outcome in `state`
/// before it takes the next recipient, so a kill loses at most one
/// accepted-but-unrecorded message per connection.
fn send(
    config: &Config,
    setup: &Setup,
    plan: &[Delivery],
    state: Option<State>,
    identity_salt: &str,
    report: Report,
) -> Result<(), Error> {
    let transport = Transport::new(config)?;
    let state = state.map(Mutex::new);
    let state = state.as_ref();
    let mut delivered_total = 0;
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut deferred: Vec<(String, String)> = Vec::new();
    let mut fatal: Option<String> = None;
    let mut streak = Streak::default();
    for delivery in plan {
        if fatal.is_some() {
            break;
        }
        let post = delivery.post;
        let (context, prepared) = prepare(setup, post)?;
        let post_id = match state {
            Some(state) => Some(locked(state).start_post(
                &post.url,
                &post.title,
                &crate::post::date::rfc3339(&post.date),
                post.date.timestamp().as_second(),
            )?),
            None => None,
        };
        if let Some(first) = delivery.recipients.first() {
            let email =
                setup
                    .templates
                    .personalise(&prepared, &first.recipient(), &setup.sources)?;
            warn_if_clipped(&email, post, report);
        }
        let identity = format!("{}{identity_salt}", post.url);
        let sender_address = setup.letterhead.sender();
        let jobs = Mutex::new(delivery.recipients.iter());
        let abort = AtomicBool::new(false);
        let (sender, results) = mpsc::channel::<Attempt<'_>>();
        let mut delivered = 0;
        let mut post_deferred = 0;
        let mut post_failed = 0;
        let mut record_error: Option<Error> = None;
        let progress = report.progress(delivery.recipients.len(), &post.title);
        std::thread::scope(|scope| {
            let workers =
                (config.smtp.connections.max(1) as usize).min(delivery.recipients.len().max(1));
            for _ in 0..workers {
                let sender = sender.clone();
                let (jobs, abort, transport, prepared, identity, sender_address) = (
                    &jobs,
                    &abort,
                    &transport,
                    &prepared,
                    &identity,
                    &sender_address,
                );
                scope.spawn(move || {
                    // One connection per thread, opened by the first message.
                    let mut session = transport.session();
                    while !abort.load(Ordering::Relaxed) {
                        let Some(subscriber) =
                            jobs.lock().unwrap_or_else(|p| p.into_inner()).next()
                        else {
                            break;
                        };
                        let recipient = &subscriber.recipient();
                        // Built here, one at a time: no run holds every message in memory.
                        let outcome = setup
                            .templates
                            .personalise(prepared, recipient, &setup.sources)
                            .map_err(|problem| SendError::Fatal(problem.to_string()))
                            .and_then(|email| {
                                setup
                                    .letterhead
                                    .build(recipient, email, identity)
                                    .map_err(SendError::Permanent)
                            })
                            .and_then(|(envelope, bytes)| match &mut session {
                                Ok(session) => session.send(&envelope, &bytes),
                                Err(err) => Err(err.clone()),
                            })
                            .map_err(|err| about_the_sender(err, sender_address, recipient));
                        let record_error = match (state, post_id) {
                            (Some(state), Some(post_id)) => {
                                record(state, post_id, subscriber, &outcome).err()
                            }
                            _ => None,
                        };
                        if matches!(outcome, Err(SendError::Fatal(_))) || record_error.is_some() {
                            abort.store(true, Ordering::Relaxed);
                        }
                        let attempt = Attempt {
                            subscriber,
                            outcome,
                            record_error,
                        };
                        if sender.send(attempt).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            for attempt in results {
                progress.inc();
                if let Some(err) = attempt.record_error {
                    record_error.get_or_insert(err);
                }
                let address = attempt.subscriber.email.clone();
                let tripped = match attempt.outcome {
                    Ok(()) => {
                        delivered += 1;
                        streak = Streak::default();
                        progress.suspend(|| report.detail(format!("delivered to {address}")));
                        None
                    }
                    Err(SendError::Permanent(reply)) => {
                        post_failed += 1;
                        let tripped = streak.push(&reply).then(|| {
                            format!(
                                "{} refused {ALIKE_IN_A_ROW} recipients in a row with the same reply ({reply}), \
                                 which is about this run, not them; they are recorded as failed: fix the \
                                 cause, then run `digest-feed mail --retry-failed`",
                                transport.server()
                            )
                        });
                        failures.push((address, reply));
                        tripped
                    }
                    Err(SendError::Transient(reply)) => {
                        post_deferred += 1;
                        // Any deferral is like any other: the text varies with the recipient.
                        let tripped = streak.push("deferred").then(|| {
                            format!(
                                "{} deferred {ALIKE_IN_A_ROW} messages in a row (last: {reply})",
                                transport.server()
                            )
                        });
                        deferred.push((address, reply));
                        tripped
                    }
                    Err(SendError::Fatal(reason)) => {
                        post_deferred += 1;
                        Some(reason)
                    }
                };
                if let Some(reason) = tripped {
                    abort.store(true, Ordering::Relaxed);
                    fatal.get_or_insert(reason);
                }
            }
        });
        progress.finish();
        if let Some(err) = record_error {
            return Err(err);
        }
        // Recipients never tried: the run stopped before their turn.
        let untried = delivery.recipients.len() - delivered - post_failed - post_deferred;
        if let (Some(state), Some(post_id)) = (state, post_id)
            && post_deferred == 0
            && untried == 0
            && fatal.is_none()
        {
            locked(state).complete_post(post_id)?;
        }
        delivered_total += delivered;
        report.result(format!(
            "{}: {:?} delivered to {delivered} of {} recipients{}",
            post.source.display(),
            context.title,
            delivery.recipients.len(),
            skipped_note(delivery.not_wanted)
        ));
    }

    let mut summary = vec![format!(
        "Sent {delivered_total}, failed {}, deferred {} via {}",
        failures.len(),
        deferred.len(),
        transport.server()
    )];
    for (address, reply) in &failures {
        summary.push(format!("  failed for good: {address}: {reply}"));
    }
    for (address, reply) in &deferred {
        summary.push(format!("  deferred: {address}: {reply}"));
    }
    if let Some(reason) = fatal {
        summary.push(format!(
            "Stopped: {reason}. What was delivered is recorded; run `digest-feed mail` again to continue."
        ));
        return Err(Error::Transient(summary.join("\n")));
    }
    if !deferred.is_empty() {
        summary.push("The deferred recipients get the post on the next run.".into());
        return Err(Error::Transient(summary.join("\n")));
    }
    if !failures.is_empty() {
        summary.push(
            "Recipients that failed for good are not retried; `digest-feed mail --retry-failed` tries them again."
                .into(),
        );
        return Err(Error::SomeFailed(summary.join("\n")));
    }
    report.result(&summary[0]);
    Ok(())
}

/// A refusal that names the sender's address and not the recipient's is
/// about the sender ("553 5.7.1 <papers@example.org>: Sender address
/// rejected"): every message would get it, so it stops the run instead of
/// marking each recipient failed.
fn about_the_sender(err: SendError, sender: &str, recipient: &Recipient) -> SendError {
    match err {
        SendError::Permanent(reply)
            if contains_ignoring_case(&reply, sender)
                && !contains_ignoring_case(&reply, &recipient.email) =>
        {
            SendError::Fatal(format!(
                "the server refused the sender {sender}: {reply}; check [email] from (your \
                 provider may allow only your own address)"
            ))
        }
        other => other,
    }
}

fn contains_ignoring_case(text: &str, part: &str) -> bool {
    !part.is_empty() && text.to_lowercase().contains(&part.to_lowercase())
}

/// Records what the server said of one recipient's message: delivered,
/// or refused for good. A deferral is not recorded: the recipient is owed
/// the message, and the next run tries again.
fn record(
    state: &Mutex<State>,
    post_id: i64,
    subscriber: &Subscriber,
    outcome: &Result<(), SendError>,
) -> Result<(), Error> {
    let outcome = match outcome {
        Ok(()) => Outcome::Delivered,
        Err(SendError::Permanent(reply)) => Outcome::Failed(reply.clone()),
        Err(SendError::Transient(_) | SendError::Fatal(_)) => return Ok(()),
    };
    locked(state).record(post_id, &subscriber.key(), &outcome)
}

/// The state, even if a worker panicked while holding it: every record is
/// its own committed transaction, so there is no half-written one to fear.
fn locked(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn skipped_note(not_wanted: usize) -> String {
    match not_wanted {
        0 => String::new(),
        n => format!(" ({n} skipped: not subscribed to its tags)"),
    }
}

/// Warns once per post: every recipient's HTML is the same size give or take a name.
fn warn_if_clipped(email: &email::Email, post: &Post, report: Report) {
    if email.html.len() > email::GMAIL_CLIP_BYTES {
        report.warning(format!(
            "{}: the email's HTML is {}, over the 102 KB where Gmail clips a message",
            post.source.display(),
            size_text(email.html.len())
        ));
    }
}

fn mailbox_text(recipient: &Recipient) -> String {
    if recipient.name.is_empty() {
        recipient.email.clone()
    } else {
        format!("{} <{}>", recipient.name, recipient.email)
    }
}

fn size_text(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    match bytes as f64 {
        b if b < KIB => format!("{bytes} B"),
        b if b < KIB * KIB => format!("{:.1} KB", b / KIB),
        b => format!("{:.1} MB", b / (KIB * KIB)),
    }
}

/// An address as a file name: letters, digits, `@`, `.`, `-`, `_`, `+` kept.
fn file_safe(address: &str) -> String {
    address
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-_+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
