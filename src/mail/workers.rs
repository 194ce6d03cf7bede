//! The sending workers: one thread and one SMTP connection each, taking the
//! next message from a bounded queue, sending it and recording the outcome
//! before taking another. Builders, as many as the machine has cores (and
//! no more than there are connections), take the next recipient from the
//! list and build and sign that one message onto the queue, so that a
//! connection never waits for its next message to be made: on two cores,
//! building and signing in the connection's own thread left the server
//! idle while it did. The queue holds one message per connection, so the
//! messages in memory are at most two per connection and one per builder.
//! The calling thread counts the outcomes against the failure policy and
//! stops the workers when it says so; what was built and not sent is given
//! back with the recipients never tried.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use super::message::{Envelope, Letterhead, Letters, Unmade};
use super::policy::{self, Policy, Tally};
use super::record::{Entry, Recorder};
use super::retry::{Reply, SendError};
use super::transport::Transport;
use super::{Progress, recipient};
use crate::email::Design;
use crate::error::Error;
use crate::list::subscribers::{Part, Picked, Selection, Subscriber};

/// One post's message, ready to be personalised for each recipient.
pub(super) struct Letter<'a> {
    pub(super) design: &'a Design,
    pub(super) letterhead: &'a Letterhead,
    /// The post's messages, made once as far as the templates allow.
    pub(super) letters: &'a Letters<'a>,
}

/// How one post's recipients fared on one relay.
#[derive(Debug, Clone)]
pub(super) struct PostTally<'a> {
    pub(super) delivered: usize,
    pub(super) failed: usize,
    /// Deferred by the server (4xx after the retries).
    pub(super) deferred: usize,
    /// What this relay could not take, none of it sent: never tried
    /// because the run stopped, or refused before the message went out
    /// because the relay is unreachable, refuses the login or has spent
    /// its quota. A fallback relay may take them.
    pub(super) not_taken: Selection<'a>,
}

impl<'a> PostTally<'a> {
    /// Nothing yet, of `recipients`.
    pub(super) fn new(recipients: Part<'a, '_>) -> PostTally<'a> {
        PostTally {
            delivered: 0,
            failed: 0,
            deferred: 0,
            not_taken: recipients.none(),
        }
    }
}

/// What happened to one message, and whether recording it failed.
struct Attempt<'a> {
    subscriber: Subscriber<'a>,
    outcome: Result<(), SendError>,
    record_error: Option<Error>,
}

/// Where outcomes are recorded: the recorder and the item's entry in it.
pub(super) type Record<'r> = Option<(&'r Recorder, Entry<'r>)>;

/// Sends `letter` to `recipients` over up to `connections` connections.
pub(super) fn deliver<'a>(
    transport: &Transport,
    connections: usize,
    letter: &Letter<'_>,
    recipients: Part<'a, '_>,
    record: Record<'_>,
    policy: &mut Policy,
    progress: &dyn Progress,
) -> Result<PostTally<'a>, Error> {
    let jobs = Mutex::new(recipients.iter());
    let abort = AtomicBool::new(false);
    let (sender, results) = mpsc::channel::<Attempt<'_>>();
    let mut tally = PostTally::new(recipients);
    let mut record_error: Option<Error> = None;
    let workers = connections.min(recipients.len()).max(1);
    let builders = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(workers);
    let (queue, built) = mpsc::sync_channel::<Built<'_>>(workers);
    let built = Mutex::new(built);
    // Message buffers given back by the workers once sent, for the
    // builders to fill again.
    let spare: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let mut unsent = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..builders {
            let queue = queue.clone();
            let (jobs, abort, spare) = (&jobs, &abort, &spare);
            scope.spawn(move || build(letter, jobs, abort, spare, &queue));
        }
        drop(queue);
        for _ in 0..workers {
            let sender = sender.clone();
            let (abort, built, spare) = (&abort, &built, &spare);
            scope.spawn(move || work(transport, letter, built, abort, record, spare, &sender));
        }
        drop(sender);
        for attempt in results {
            progress.inc();
            if let Some(err) = attempt.record_error {
                record_error.get_or_insert(err);
            }
            let address = attempt.subscriber.email();
            if attempt.outcome.is_ok() {
                progress.detail(&format!("delivered to {address}"));
            }
            let not_taken = relay_could_not_take(&attempt.outcome);
            match policy.count(address, attempt.outcome) {
                Tally::Delivered => tally.delivered += 1,
                Tally::Failed => tally.failed += 1,
                Tally::Deferred if not_taken => tally.not_taken.push(attempt.subscriber),
                Tally::Deferred => tally.deferred += 1,
            }
            if policy.stopped() || policy.full() {
                abort.store(true, Ordering::Relaxed);
            }
        }
        // The workers are done: what was built and not sent was not taken
        // (and taking it lets a builder waiting on a full queue see the
        // stop and end).
        for message in lock(&built).iter() {
            unsent.push(message.subscriber);
        }
    });
    let untried = jobs
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    tally.not_taken.extend(unsent);
    tally.not_taken.extend(untried);
    match record_error {
        Some(err) => Err(err),
        None => Ok(tally),
    }
}

/// Whether the message was refused for a reason about the relay, before it
/// went out: another relay can take it, and it is still sent only once.
fn relay_could_not_take(outcome: &Result<(), SendError>) -> bool {
    match outcome {
        Err(SendError::Fatal(_) | SendError::Misconfigured(_)) => true,
        Err(SendError::Permanent(reply) | SendError::Transient(reply)) => reply.over_quota(),
        Ok(()) => false,
    }
}

/// A message built ahead of its connection, or why it was not.
struct Built<'a> {
    subscriber: Subscriber<'a>,
    email: String,
    message: Result<(Envelope, Vec<u8>), SendError>,
}

/// One builder: the next recipient's message, built and signed, onto the
/// bounded queue the workers take from, until the list ends or the run
/// stops.
fn build<'a>(
    letter: &Letter<'_>,
    jobs: &Mutex<Picked<'a, '_>>,
    abort: &AtomicBool,
    spare: &Mutex<Vec<Vec<u8>>>,
    queue: &mpsc::SyncSender<Built<'a>>,
) {
    while !abort.load(Ordering::Relaxed) {
        let next = lock(jobs).next();
        let Some(subscriber) = next else {
            break;
        };
        let recipient = recipient(subscriber, letter.letterhead);
        let mut bytes = lock(spare).pop().unwrap_or_default();
        let message = letter
            .letterhead
            .letter(letter.design, letter.letters, &recipient, &mut bytes)
            .map_err(|unmade| match unmade {
                Unmade::Template(problem) => SendError::Fatal(problem.to_string()),
                Unmade::Address(message) => SendError::Permanent(Reply::local(message)),
                Unmade::Message(message) => SendError::Fatal(message),
            })
            .map(|(envelope, _)| (envelope, bytes));
        let built = Built {
            subscriber,
            email: recipient.email,
            message,
        };
        if queue.send(built).is_err() {
            break;
        }
    }
}

/// One worker: its own connection, opened by the first message, sending
/// what the builders made.
fn work<'a>(
    transport: &Transport,
    letter: &Letter<'_>,
    queue: &Mutex<mpsc::Receiver<Built<'a>>>,
    abort: &AtomicBool,
    record: Record<'_>,
    spare: &Mutex<Vec<Vec<u8>>>,
    results: &mpsc::Sender<Attempt<'a>>,
) {
    let mut session = transport.session();
    let sender_address = letter.letterhead.sender();
    while !abort.load(Ordering::Relaxed) {
        let next = lock(queue).recv();
        let Ok(built) = next else {
            break;
        };
        let subscriber = built.subscriber;
        let outcome = built
            .message
            .and_then(|(envelope, bytes)| {
                let sent = match &mut session {
                    Ok(session) => session.send(&envelope, &bytes),
                    Err(err) => Err(err.clone()),
                };
                lock(spare).push(bytes);
                sent
            })
            .map_err(|err| policy::about_the_sender(err, &sender_address, &built.email));
        let record_error =
            record.and_then(|(recorder, entry)| recorder.record(entry, subscriber, &outcome).err());
        // A relay that cannot take this message (unreachable, login
        // refused, quota spent) would refuse the next too: stop at once.
        if relay_could_not_take(&outcome) || record_error.is_some() {
            abort.store(true, Ordering::Relaxed);
        }
        let attempt = Attempt {
            subscriber,
            outcome,
            record_error,
        };
        if results.send(attempt).is_err() {
            break;
        }
    }
}

/// `mutex` locked, even if a thread panicked holding it: what it guards (a
/// list's place, a queue, spare buffers) stays whole between statements.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
