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

use crate::config::{Config, InboxSource, List};
use crate::error::{Error, Location, Problem};
use crate::mail::list::{self, Reason};
use crate::token::{Purpose, Secret};
use read::Request;

/// What a run did, one line per message acted on.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// `unsubscribed kim@example.org`, `bounced …`, in the mailbox's order.
    pub actions: Vec<String>,
    /// Messages left unread: for no one on the list.
    pub left: usize,
}

/// Reads the mailbox `[inbox]` names once.
pub fn run(config: &Config) -> Result<Summary, Error> {
    let problem = |message: &str| Error::from(Problem::new(Location::file(&config.path), message));
    let list = config.list.as_ref().ok_or_else(|| {
        problem("inbox needs a [list] section (its address, return_path and secret)")
    })?;
    let inbox = config.inbox.as_ref().ok_or_else(|| {
        problem("inbox needs an [inbox] section: maildir = \"/path/to/Maildir\" or imap_host")
    })?;
    let secret = Secret::load_or_create(&list.secret_file)?;
    let mut reader = Reader {
        config,
        list,
        secret,
        known: list::known_addresses(config)?,
        summary: Summary::default(),
    };
    let act = |reader: &mut Reader, bytes: Option<&[u8]>| -> Result<bool, Error> {
        let Some(bytes) = bytes else {
            reader.summary.left += 1;
            return Ok(false);
        };
        let request = read::classify(bytes, list.return_path.as_deref(), list.address.as_deref());
        let acted = reader.act(request)?;
        if !acted {
            reader.summary.left += 1;
        }
        Ok(acted)
    };
    match &inbox.source {
        InboxSource::Maildir(dir) => {
            for entry in maildir::unseen(dir)? {
                if act(&mut reader, maildir::read(&entry)?.as_deref())? {
                    maildir::mark_seen(dir, &entry)?;
                }
            }
        }
        InboxSource::Imap { .. } => {
            let mut mailbox = imap::Mailbox::open(&inbox.source)?;
            for uid in mailbox.unseen()? {
                if act(&mut reader, mailbox.read(uid)?.as_deref())? {
                    mailbox.mark_seen(uid)?;
                }
            }
            mailbox.close();
        }
    }
    Ok(reader.summary)
}

/// One run's reading: the key, and the addresses a token may name.
struct Reader<'a> {
    config: &'a Config,
    list: &'a List,
    secret: Secret,
    known: Vec<String>,
    summary: Summary,
}

impl Reader<'_> {
    fn find(&self, purpose: Purpose, token: &str) -> Option<String> {
        self.secret
            .find(purpose, token, self.known.iter().map(String::as_str))
            .map(str::to_string)
    }

    fn known(&self, address: &str) -> Option<String> {
        self.known
            .iter()
            .find(|known| known.eq_ignore_ascii_case(address.trim()))
            .cloned()
    }

    fn suppress(
        &mut self,
        address: &str,
        reason: Reason,
        detail: &str,
        verb: &str,
    ) -> Result<bool, Error> {
        list::suppress(self.config, &[address.to_string()], reason, detail, "inbox")?;
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" ({detail})")
        };
        self.summary
            .actions
            .push(format!("{verb} {address}{detail}"));
        Ok(true)
    }

    /// Acts on one request, committed; whether the message was for the list.
    fn act(&mut self, request: Request) -> Result<bool, Error> {
        match request {
            Request::Unsubscribe { token } => match self.find(Purpose::Unsubscribe, &token) {
                Some(address) => self.suppress(&address, Reason::Unsubscribed, "", "unsubscribed"),
                None => Ok(false),
            },
            Request::Bounce {
                tag,
                recipients,
                hard,
                detail,
            } => {
                let by_tag = tag.and_then(|tag| self.find(Purpose::Bounce, &tag));
                let Some(address) =
                    by_tag.or_else(|| recipients.iter().find_map(|r| self.known(r)))
                else {
                    return Ok(false);
                };
                if hard {
                    return self.suppress(&address, Reason::Bounced, &detail, "bounced");
                }
                let suppressed = list::soft_bounce(self.config, &address, &detail)?;
                let verb = if suppressed {
                    "bounced (soft, too often)"
                } else {
                    "soft bounce from"
                };
                self.summary
                    .actions
                    .push(format!("{verb} {address} ({detail})"));
                Ok(true)
            }
            Request::Complaint {
                tokens,
                recipients,
                detail,
            } => {
                let by_token = tokens
                    .iter()
                    .find_map(|token| self.find(Purpose::Unsubscribe, token));
                match by_token.or_else(|| recipients.iter().find_map(|r| self.known(r))) {
                    Some(address) => {
                        self.suppress(&address, Reason::Complained, &detail, "complaint from")
                    }
                    None => Ok(false),
                }
            }
            Request::Subscribe { from, name } => self.subscribe(&from, &name),
            Request::Confirm { token } => match self.find(Purpose::Confirm, &token) {
                Some(address) => {
                    list::confirm_signup(self.config, &address, "inbox")?;
                    self.summary
                        .actions
                        .push(format!("confirmed the sign-up of {address}"));
                    Ok(true)
                }
                None => Ok(false),
            },
            Request::Other => Ok(false),
        }
    }

    /// A sign-up by mail: recorded as pending, and a confirmation mailed
    /// (again, if the first was lost) unless the address is on the list.
    fn subscribe(&mut self, from: &str, name: &str) -> Result<bool, Error> {
        if crate::address::check(from).is_err() {
            return Ok(false);
        }
        let on_list = list::members(self.config)?
            .iter()
            .any(|m| m.email.eq_ignore_ascii_case(from) && m.suppressed.is_none());
        if on_list {
            self.summary.actions.push(format!(
                "{from} asked to subscribe and is on the list already"
            ));
            return Ok(true);
        }
        list::request_signup(self.config, from, name, "inbox")?;
        self.known = list::known_addresses(self.config)?;
        let token = self.secret.token(Purpose::Confirm, from);
        let title = &self.config.site.title;
        let link = self
            .list
            .public_url
            .as_ref()
            .map(|url| {
                format!("Or open this link and press the button:\n\n{url}/confirm/{token}\n\n")
            })
            .unwrap_or_default();
        let text = format!(
            "Someone, we hope you, asked to receive {title} by email at {from}.\n\n\
             To confirm, reply to this message (keep its subject).\n\n{link}\
             If it was not you, ignore this message: you will not hear from us again.\n"
        );
        list::send_notice(
            self.config,
            from,
            &format!("confirm {token} (your subscription to {title})"),
            &text,
        )?;
        self.summary
            .actions
            .push(format!("sign-up of {from}: confirmation sent"));
        Ok(true)
    }
}
