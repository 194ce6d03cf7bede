//! The sign-ups the form takes, handled one at a time by one thread from a
//! short queue: whether the address is on the list already, whether a
//! confirmation may go to it now ([`Gate`]: not to a bounced or complaining
//! address, not twice a day, not over the hour's budget), recording it as
//! pending, and mailing the confirmation. The request itself only checks
//! the address's form and queues it, so its answer (and the time the answer
//! takes) is the same for an address on the list, pending or new. Each
//! client may queue a few sign-ups an hour ([`super::limit`]). A flood
//! fills the queue and the rest are dropped, never held in memory or sent
//! in parallel.

use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use super::tokens::Tokens;
use crate::config::{Cadence, Config};
use crate::error::Error;
use crate::list;
use crate::list::token::{Purpose, Secret};
use crate::mail::notice::{self, Notice, Prompted};

/// Where the server's lines go, whole (`digest-feed serve: …`,
/// `warning: …`): what went wrong with a request or a sign-up, for the
/// owner's log. The command hands it in; serve never writes to the
/// terminal itself.
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// Sign-ups waiting at most.
const WAITING: usize = 32;

/// One sign-up the form took.
#[derive(Debug)]
pub(super) struct Signup {
    /// The address, its form checked.
    pub(super) email: String,
    /// The name given, on one line.
    pub(super) name: String,
    /// Where it came from: `serve` and the client's address.
    pub(super) source: String,
    /// How often it asked to be mailed; its own once confirmed.
    pub(super) cadence: Cadence,
}

/// What the sending thread needs.
pub(super) struct Worker {
    pub(super) config: Config,
    pub(super) secret: Secret,
    pub(super) public_url: String,
    pub(super) tokens: Arc<Tokens>,
    pub(super) log: Log,
}

/// The queue and its thread.
pub(super) struct Queue {
    sender: SyncSender<Signup>,
    log: Log,
}

impl Queue {
    /// Starts the thread.
    pub(super) fn start(worker: Worker) -> Queue {
        let (sender, receiver) = sync_channel::<Signup>(WAITING);
        let log = Arc::clone(&worker.log);
        std::thread::spawn(move || {
            for signup in receiver {
                match worker.handle(&signup) {
                    Ok(Some(note)) => (worker.log)(&format!(
                        "digest-feed serve: sign-up of {}: {note}",
                        signup.email
                    )),
                    Ok(None) => {}
                    Err(err) => (worker.log)(&format!(
                        "digest-feed serve: sign-up of {}: {err}",
                        signup.email
                    )),
                }
            }
        });
        Queue { sender, log }
    }

    /// Queues a sign-up; drops it (with a line in the log) when the queue is full.
    pub(super) fn push(&self, signup: Signup) {
        match self.sender.try_send(signup) {
            Ok(()) => {}
            Err(TrySendError::Full(signup)) => (self.log)(&format!(
                "digest-feed serve: {WAITING} sign-ups are waiting already; the one of {} is dropped",
                signup.email
            )),
            Err(TrySendError::Disconnected(_)) => {
                (self.log)(
                    "digest-feed serve: the sign-up thread has stopped; no sign-up is taken",
                );
            }
        }
    }
}

impl Worker {
    /// One sign-up, start to end; why it was held back, if it was.
    fn handle(&self, signup: &Signup) -> Result<Option<String>, Error> {
        let email = &signup.email;
        if list::on_list(&self.config, email)? {
            return Ok(None);
        }
        if let Some(why) = list::confirmation_gate(&self.config, email)?.held_back() {
            return Ok(Some(format!("it {why}")));
        }
        list::request_signup(
            &self.config,
            email,
            &signup.name,
            &signup.source,
            Some(signup.cadence),
        )?;
        // The confirmation link must work as soon as it is mailed.
        self.tokens.add(email);
        let token = self.secret.token(Purpose::Confirm, email);
        let link = format!("{}/confirm/{token}", self.public_url);
        let subject = format!("Confirm your subscription to {}", self.config.site.title);
        let text = list::confirmation_text(
            &self.config,
            email,
            &format!("To confirm, open this link and press the button:\n\n{link}\n\n"),
        );
        // Recorded as mailed only once the server took it (or refused it
        // for good): a greylisted confirmation may be asked for again at once.
        let note =
            match notice::send_notice(&self.config, email, (&subject, &text), Prompted::ByWeb)? {
                Notice::Sent => None,
                Notice::Refused(reply) => Some(format!("the confirmation was refused: {reply}")),
            };
        list::notified(&self.config, email)?;
        Ok(note)
    }
}
