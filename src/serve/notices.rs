//! The confirmation mails a sign-up asks for, sent one at a time by one
//! thread from a short queue: a flood of sign-ups fills the queue and the
//! rest are dropped, never held in memory or sent in parallel.

use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use crate::config::Config;
use crate::mail::list;

/// Confirmations waiting at most.
const WAITING: usize = 32;

/// One notice to send.
#[derive(Debug)]
pub(super) struct Notice {
    to: String,
    subject: String,
    text: String,
}

/// The sign-up confirmation for `to`, with its `link`.
pub(super) fn confirmation(config: &Config, to: &str, link: &str) -> Notice {
    let title = &config.site.title;
    Notice {
        to: to.to_string(),
        subject: format!("Confirm your subscription to {title}"),
        text: format!(
            "Someone, we hope you, asked to receive {title} by email at {to}.\n\n\
             To confirm, open this link and press the button:\n\n{link}\n\n\
             If it was not you, ignore this message: you will not hear from us again.\n\n\
             {}\n",
            config.site.url
        ),
    }
}

/// The queue and its sending thread.
#[derive(Debug)]
pub(super) struct Queue {
    sender: SyncSender<Notice>,
}

impl Queue {
    /// Starts the sending thread.
    pub(super) fn start(config: Config) -> Queue {
        let (sender, receiver) = sync_channel::<Notice>(WAITING);
        std::thread::spawn(move || {
            for notice in receiver {
                if let Err(err) =
                    list::send_notice(&config, &notice.to, &notice.subject, &notice.text)
                {
                    eprintln!("digest-feed serve: {err}");
                }
            }
        });
        Queue { sender }
    }

    /// Queues a notice; drops it (with a line on stderr) when the queue is full.
    pub(super) fn send(&self, notice: Notice) {
        match self.sender.try_send(notice) {
            Ok(()) => {}
            Err(TrySendError::Full(notice)) => eprintln!(
                "digest-feed serve: {} confirmations are waiting already; the one to {} is dropped",
                WAITING, notice.to
            ),
            Err(TrySendError::Disconnected(_)) => {
                eprintln!(
                    "digest-feed serve: the sending thread has stopped; no confirmation is sent"
                );
            }
        }
    }
}
