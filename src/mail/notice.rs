//! The notices the list sends (a sign-up's confirmation), over the same
//! SMTP transport and with the same letterhead as the posts. `serve` and
//! `inbox` come here only to send one; the list itself is [`crate::list`].

use super::message::Letterhead;
pub use super::message::Prompted;
use super::retry::SendError;
use super::transport::Transport;
use crate::config::Config;
use crate::error::{Error, Location, Problem, Transient};

/// How a notice ended, when the server answered for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The server accepted it.
    Sent,
    /// The server refused it for good (a 5xx); its reply. Trying again
    /// would be refused again: the request it answers is done with.
    Refused(String),
}

/// Sends one plain-text notice (a sign-up's confirmation) to `to` over
/// `[smtp]`, with the password from the environment. An error is one a
/// later try may not meet (no connection, a 4xx).
pub fn send_notice(
    config: &Config,
    to: &str,
    (subject, text): (&str, &str),
    prompted: Prompted,
) -> Result<Notice, Error> {
    let email = config.email().map_err(Error::Invalid)?;
    let smtp = config.smtp().map_err(Error::Invalid)?;
    let reply_to = config
        .list
        .as_ref()
        .and_then(|list| list.address.as_deref());
    // The letterhead of the posts: the same From, Message-ID domain and DKIM.
    let letterhead = Letterhead::new(
        &email.from,
        &config.site.title,
        &config.site.url,
        email.dkim.as_ref(),
    )
    .map_err(|message| Problem::new(Location::file(&config.path), message))?;
    // A notice that cannot be made for this address never will be.
    let (envelope, bytes) = match letterhead.notice((to, reply_to), (subject, text), prompted) {
        Ok(built) => built,
        Err(message) => return Ok(Notice::Refused(message)),
    };
    let transport = Transport::new(smtp, smtp.password()?)?;
    // A setting to fix (a TLS mismatch, a refused login) is the owner's
    // (exit 2); anything else may pass (exit 3), and is tried again.
    let unavailable = |err: SendError| match err {
        SendError::Misconfigured(reason) => Error::from(Problem::new(
            Location::file(&config.path),
            format!("[smtp]: {reason}"),
        )),
        SendError::Permanent(reply) | SendError::Transient(reply) => {
            Error::Transient(Transient::Unavailable(format!(
                "cannot send the notice to {to} through {}: {}",
                smtp.server(),
                reply.text
            )))
        }
        SendError::Fatal(reason) => Error::Transient(Transient::Unavailable(format!(
            "cannot send the notice to {to} through {}: {reason}",
            smtp.server()
        ))),
    };
    let mut session = transport.session().map_err(unavailable)?;
    match session.send(&envelope, &bytes) {
        Ok(()) => Ok(Notice::Sent),
        Err(SendError::Permanent(reply)) => Ok(Notice::Refused(reply.text)),
        Err(err) => Err(unavailable(err)),
    }
}
