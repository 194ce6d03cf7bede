//! `digest-feed inbox` (SPEC §2): reads the list's mailbox once and acts on
//! what it finds: unsubscribe mails (the List-Unsubscribe mailto, its token
//! in the Subject), bounces (RFC 3464 reports, matched by the VERP envelope
//! sender), complaints (ARF), sign-ups by mail and their confirmations.
//!
//! Each message is acted on once: what it asks for is committed to the
//! state first, then the message is marked seen. A crash between the two
//! acts on it again, harmlessly (a suppression or a confirmation stands as
//! it was). Messages for no one (a person's mail) are left unread for the
//! owner. The mailbox is a local Maildir ([`maildir`]) or an IMAP folder
//! over TLS ([`imap`]); either way a message is marked seen only after.

mod imap;
mod maildir;
mod read;

use crate::address::identity;
use crate::config::{Config, InboxSource, List};
use crate::error::{Error, Location, Problem};
use crate::mail::ledger::{Change, Ledger, Left};
use crate::mail::list::{self, Notice, Prompted, Reason};
use crate::token::{self, Purpose, Secret};
use read::Request;

/// What a run did, one line per message acted on.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// `unsubscribed kim@example.org`, `bounced …`, in the mailbox's order.
    pub actions: Vec<String>,
    /// Messages left unread: for no one on the list.
    pub left: usize,
    /// What each message left for the owner is: its sender and subject, or
    /// why it could not be read.
    pub left_for_you: Vec<String>,
    /// Messages an earlier run had acted on but not flagged (it was
    /// stopped between the two): flagged now, nothing done again.
    pub flagged_late: usize,
    /// Sign-ups whose confirmation could not be sent now (the mail server
    /// unreachable, or a 4xx such as greylisting), each with why: their
    /// messages stay unread, and the next run tries again.
    pub deferred: Vec<String>,
    /// The list's private files that others can read.
    pub warnings: Vec<String>,
    /// Unseen messages beyond what one run reads ([`MAX_READ`]): the next
    /// run reads them (what this one left is not read again).
    pub waiting: usize,
}

/// The most messages one run fetches and reads; the rest wait for the next.
/// Messages an earlier run left for the owner are not fetched again, so
/// each run gets further through a mailbox that junk has filled.
pub const MAX_READ: usize = 10_000;

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Acted on and committed: flag it.
    Done,
    /// For no one on the list: left unread for the owner.
    Left,
    /// To try again next run (a confirmation that could not go out yet):
    /// unread, and not the owner's to read.
    Later,
}

/// One message as the mailbox gives it.
struct Incoming {
    /// Its bytes; why not, when it is too large to be a reader's request
    /// or cannot be read.
    bytes: Result<Vec<u8>, String>,
    /// When the mailbox received it, seconds since the epoch.
    received_ts: i64,
    /// Where it is (a Maildir name, an IMAP UID): its name when unread.
    place: String,
}

/// Reads the mailbox `[inbox]` names once. One run at a time per state: a
/// second waits for the first (see [`Ledger::open`]).
pub fn run(config: &Config) -> Result<Summary, Error> {
    let problem = |message: &str| Error::from(Problem::new(Location::file(&config.path), message));
    let list = config.list.as_ref().ok_or_else(|| {
        problem("inbox needs a [list] section (its address, return_path and secret)")
    })?;
    let inbox = config.inbox.as_ref().ok_or_else(|| {
        problem("inbox needs an [inbox] section: maildir = \"/path/to/Maildir\" or imap_host")
    })?;
    let ledger = Ledger::open(config)?;
    let mut reader = Reader {
        config,
        list,
        secret: list::secret(config, list, true)?,
        index: token::Index::default(),
        ledger,
        summary: Summary::default(),
        left: Vec::new(),
        received_ts: 0,
    };
    reader.summary.warnings = list::exposures(config);
    for address in list::known_addresses(config)? {
        reader.know(&address);
    }
    let known = reader.ledger.left_by_place()?;
    match &inbox.source {
        InboxSource::Maildir(dir) => read_maildir(&mut reader, dir, &known)?,
        InboxSource::Imap { .. } => read_imap(&mut reader, &inbox.source, &known)?,
    }
    reader
        .ledger
        .end_run(reader.summary.actions.len(), &reader.left)?;
    Ok(reader.summary)
}

/// Where each message an earlier run left for the owner is.
type Known = std::collections::HashMap<String, Left>;

/// Reads the Maildir `dir`: each unseen message, but those left before.
fn read_maildir(reader: &mut Reader, dir: &std::path::Path, known: &Known) -> Result<(), Error> {
    let mut fetched = 0;
    for entry in maildir::unseen(dir)? {
        if let Some(left) = known.get(&entry.unique) {
            reader.keep(left.clone());
            continue;
        }
        if fetched == MAX_READ {
            reader.summary.waiting += 1;
            continue;
        }
        fetched += 1;
        let bytes = match maildir::read(&entry) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err("too large to be read".to_string()),
            Err(err) => Err(format!("cannot be read: {err}")),
        };
        let incoming = Incoming {
            bytes,
            received_ts: entry.received_ts,
            place: entry.unique.clone(),
        };
        if reader.take(incoming)? {
            maildir::mark_seen(dir, &entry)?;
        }
    }
    Ok(())
}

/// Reads INBOX over IMAP: each unseen message, but those left before, a
/// batch at a time.
fn read_imap(reader: &mut Reader, source: &InboxSource, known: &Known) -> Result<(), Error> {
    let mut mailbox = imap::Mailbox::open(source)?;
    let mut fresh = Vec::new();
    for uid in mailbox.unseen()? {
        match known.get(&mailbox.place(uid)) {
            Some(left) => reader.keep(left.clone()),
            None => fresh.push(uid),
        }
    }
    reader.summary.waiting = fresh.len().saturating_sub(MAX_READ);
    fresh.truncate(MAX_READ);
    for batch in fresh.chunks(imap::BATCH) {
        for message in mailbox.read(batch)? {
            let incoming = Incoming {
                bytes: message
                    .bytes
                    .ok_or_else(|| "too large to be read".to_string()),
                received_ts: message.received_ts,
                place: mailbox.place(message.uid),
            };
            // Flagged one by one, each right after its commit: a stop
            // between two leaves no committed message unflagged but the
            // one in hand.
            if reader.take(incoming)? {
                mailbox.mark_seen(&[message.uid])?;
            }
        }
    }
    mailbox.close();
    Ok(())
}

/// How long a sign-up whose confirmation cannot be sent is tried again.
const GIVE_UP_AFTER: i64 = 2 * 86_400;

/// One run's reading: the key, the addresses a token may name, the state.
struct Reader<'a> {
    config: &'a Config,
    list: &'a List,
    secret: Secret,
    /// Every token a message may carry → the address it names: each known
    /// address signed once per run, not once per message (a mailbox of
    /// 10,000 bounces to a list of 10,000 would be 10^8 signatures).
    index: token::Index,
    ledger: Ledger,
    summary: Summary,
    /// The messages left for the owner, for `status`.
    left: Vec<Left>,
    /// When the message being read was received, seconds since the epoch.
    received_ts: i64,
}

impl Reader<'_> {
    /// Acts on one message, unless an earlier run did; whether to flag it.
    /// A message that cannot be read (too large, another owner's file) is
    /// left for the owner, named, and the run goes on.
    fn take(&mut self, incoming: Incoming) -> Result<bool, Error> {
        let bytes = match incoming.bytes {
            Ok(bytes) => bytes,
            Err(why) => {
                self.keep(Left {
                    fingerprint: format!("unread: {}", incoming.place),
                    sender: String::new(),
                    subject: format!("({why}: {})", incoming.place),
                    received_ts: incoming.received_ts,
                    place: incoming.place,
                });
                return Ok(false);
            }
        };
        self.received_ts = incoming.received_ts;
        let fingerprint = self.secret.fingerprint(&bytes);
        if self.ledger.acted_on(&fingerprint)?.is_some() {
            self.summary.flagged_late += 1;
            return Ok(true);
        }
        let request = read::classify(
            &bytes,
            self.list.return_path.as_deref(),
            self.list.address.as_deref(),
        );
        let outcome = self.act(&fingerprint, request)?;
        if outcome == Outcome::Left {
            let (sender, subject) = read::headline(&bytes);
            self.keep(Left {
                fingerprint,
                sender,
                subject,
                received_ts: incoming.received_ts,
                place: incoming.place,
            });
        }
        Ok(outcome == Outcome::Done)
    }

    /// Leaves a message for the owner (or keeps one an earlier run left).
    fn keep(&mut self, left: Left) {
        self.summary.left += 1;
        let from = if left.sender.is_empty() {
            String::new()
        } else {
            format!("from {}: ", left.sender)
        };
        self.summary
            .left_for_you
            .push(format!("left for you: {from}{}", left.subject));
        self.left.push(left);
    }

    /// Commits `change` with the message's fingerprint and tells of it.
    fn commit(
        &mut self,
        fingerprint: &str,
        change: Change,
        describe: impl FnOnce(bool) -> String,
    ) -> Result<Outcome, Error> {
        let line = self.ledger.commit(fingerprint, change, describe)?;
        self.summary.actions.push(line);
        Ok(Outcome::Done)
    }

    fn find(&self, purpose: Purpose, token: &str) -> Option<String> {
        self.index.find(purpose, token).map(str::to_string)
    }

    /// Adds `address`'s tokens to the index.
    fn know(&mut self, address: &str) {
        let purposes = [Purpose::Unsubscribe, Purpose::Confirm, Purpose::Bounce];
        self.index.add(&self.secret, &purposes, address);
    }

    fn suppress(
        &mut self,
        fingerprint: &str,
        (address, reason, detail): (&str, Reason, &str),
        verb: &str,
    ) -> Result<Outcome, Error> {
        let change = Change::Suppress {
            address,
            reason,
            detail,
        };
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" ({detail})")
        };
        self.commit(fingerprint, change, |_| format!("{verb} {address}{detail}"))
    }

    /// Acts on one request, committed; whether the message was for the list.
    fn act(&mut self, fingerprint: &str, request: Request) -> Result<Outcome, Error> {
        match request {
            Request::Unsubscribe { token } => match self.find(Purpose::Unsubscribe, &token) {
                Some(address) => self.suppress(
                    fingerprint,
                    (&address, Reason::Unsubscribed, ""),
                    "unsubscribed",
                ),
                None => Ok(Outcome::Left),
            },
            Request::Bounce { tag, hard, detail } => {
                let Some(address) = self.find(Purpose::Bounce, &tag) else {
                    return Ok(Outcome::Left);
                };
                if hard {
                    return self.suppress(
                        fingerprint,
                        (&address, Reason::Bounced, &detail),
                        "bounced",
                    );
                }
                let change = Change::SoftBounce {
                    address: &address,
                    detail: &detail,
                };
                self.commit(fingerprint, change, |suppressed| {
                    let verb = if suppressed {
                        "bounced (soft, too often)"
                    } else {
                        "soft bounce from"
                    };
                    format!("{verb} {address} ({detail})")
                })
            }
            Request::Complaint {
                tokens,
                tags,
                detail,
            } => {
                let by_token = tokens
                    .iter()
                    .find_map(|token| self.find(Purpose::Unsubscribe, token));
                match by_token
                    .or_else(|| tags.iter().find_map(|tag| self.find(Purpose::Bounce, tag)))
                {
                    Some(address) => self.suppress(
                        fingerprint,
                        (&address, Reason::Complained, &detail),
                        "complaint from",
                    ),
                    None => Ok(Outcome::Left),
                }
            }
            Request::Subscribe { from, name } => self.subscribe(fingerprint, &from, &name),
            Request::Confirm { token, from } => match self.find(Purpose::Confirm, &token) {
                // Only the address itself confirms: a reply from elsewhere
                // (a forwarder, someone the message was shown to) is left.
                Some(address) if identity(&address) == identity(&from) => self.commit(
                    fingerprint,
                    Change::ConfirmSignup { address: &address },
                    |_| format!("confirmed the sign-up of {address}"),
                ),
                _ => Ok(Outcome::Left),
            },
            Request::AutoReply { from } => self.commit(fingerprint, Change::Nothing, |_| {
                format!("automatic reply from {from}: nothing to do")
            }),
            Request::Other => Ok(Outcome::Left),
        }
    }

    /// A sign-up by mail: a confirmation mailed, then the sign-up recorded
    /// as pending with the message, unless the address is on the list, or
    /// the confirmation is held back (see [`Gate`]). Mailed first: a stop
    /// between the two mails the confirmation again; a stop after the
    /// commit never does. A confirmation the server refuses for good ends
    /// the request (it stays unconfirmed); it never stops the run.
    fn subscribe(&mut self, fingerprint: &str, from: &str, name: &str) -> Result<Outcome, Error> {
        if crate::address::check(from).is_err() {
            return Ok(Outcome::Left);
        }
        let held = if list::on_list(self.config, from)? {
            Some("is on the list already")
        } else {
            self.ledger.confirmation_gate(from)?.held_back()
        };
        if let Some(why) = held {
            return self.commit(fingerprint, Change::Nothing, |_| {
                format!("{from} asked to subscribe and {why}")
            });
        }
        let token = self.secret.token(Purpose::Confirm, from);
        let link = self
            .list
            .public_url
            .as_ref()
            .map(|url| {
                format!("Or open this link and press the button:\n\n{url}/confirm/{token}\n\n")
            })
            .unwrap_or_default();
        let text = list::confirmation_text(
            self.config,
            from,
            &format!("To confirm, reply to this message (keep its subject).\n\n{link}"),
        );
        let subject = format!(
            "confirm {token} (your subscription to {})",
            self.config.site.title
        );
        match list::send_notice(self.config, from, (&subject, &text), Prompted::ByMail) {
            Ok(Notice::Sent) => {}
            Ok(Notice::Refused(reply)) => {
                return self.commit(fingerprint, Change::Nothing, |_| {
                    format!("sign-up of {from}: the confirmation was refused ({reply})")
                });
            }
            // Not sent, not refused: the next run tries again, the rest of
            // the mailbox (unsubscribes above all) read meanwhile; for two
            // days, then the request is given up (a dead domain would
            // otherwise be tried, and reported, for ever).
            Err(Error::Transient(err)) => {
                let age = jiff::Timestamp::now().as_second() - self.received_ts;
                if age > GIVE_UP_AFTER {
                    return self.commit(fingerprint, Change::Nothing, |_| {
                        format!("sign-up of {from}: the confirmation could not be sent for two days ({err}); given up")
                    });
                }
                self.summary
                    .deferred
                    .push(format!("sign-up of {from}: {err}"));
                return Ok(Outcome::Later);
            }
            Err(err) => return Err(err),
        }
        let change = Change::RequestSignup {
            address: from,
            name,
        };
        self.commit(fingerprint, change, |_| {
            format!("sign-up of {from}: confirmation sent")
        })?;
        self.know(from);
        Ok(Outcome::Done)
    }
}
