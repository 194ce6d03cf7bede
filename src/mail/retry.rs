//! What a failed send means and whether it is tried again: the reply
//! classifier (a server's reply → [`SendError`]) and the retry policy
//! (which failure is retried, how many times, after what wait). Pure: no
//! socket and no clock here; the transport measures the time and sleeps.

use std::fmt;
use std::time::Duration;

/// What a server answered: its reply code, when there was one, and the
/// whole reply as text (`550 5.1.1 <a@b>: no such user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    /// The three-digit code; `None` for a refusal made before anything was
    /// sent (a message that could not be built).
    pub code: Option<u16>,
    /// The reply as the server worded it, on one line.
    pub text: String,
}

impl Reply {
    /// A refusal that is ours, not the server's.
    pub(super) fn local(text: impl Into<String>) -> Self {
        Reply {
            code: None,
            text: text.into(),
        }
    }

    /// Whether the reply is about the login, not the recipient (RFC 4954's
    /// 530, 534, 535, 538): every message would get it.
    pub(super) fn refuses_the_login(&self) -> bool {
        matches!(self.code, Some(530 | 534 | 535 | 538))
    }

    /// Whether a server that refuses EHLO may take HELO (RFC 5321 §4.1.4:
    /// "command unrecognized", "not implemented" and the like).
    pub(super) fn refuses_ehlo(&self) -> bool {
        matches!(self.code, Some(500 | 501 | 502 | 550))
    }

    /// Whether the relay refuses because the sender's quota is spent
    /// (Gmail's "550 5.4.5 Daily user sending quota exceeded", SES's "454
    /// Throttling failure: Daily message quota exceeded"): not about the
    /// recipient, who is owed the message once the quota refills.
    pub(super) fn over_quota(&self) -> bool {
        let text = self.text.to_ascii_lowercase();
        self.code.is_some()
            && (text.contains(" 5.4.5 ")
                || text.contains(" 4.4.5 ")
                || text.contains("quota exceeded")
                || text.contains("sending quota")
                || text.contains("sending limit exceeded"))
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why one message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SendError {
    /// A 5xx reply about this message: retrying will not help.
    Permanent(Reply),
    /// A 4xx reply that outlasted the retries: this recipient is owed the
    /// message, and the next run tries again.
    Transient(Reply),
    /// Nothing can be sent in this run: the server cannot be reached, stops
    /// answering or drops every connection. A later run may get through.
    Fatal(String),
    /// Nothing can be sent until a setting is fixed: the login or the
    /// sender is refused, TLS does not match the server, its certificate is
    /// not trusted. Running again as it is will not help.
    Misconfigured(String),
}

/// The reply classifier: what a server's refusal of a command means for
/// the run. A refused login fails every message, so it is a setting to
/// fix; otherwise a 5xx is this message's for good and a 4xx for now.
pub(super) fn judge(reply: Reply, server: &str) -> SendError {
    match reply.code {
        _ if reply.refuses_the_login() => SendError::Misconfigured(login_refused(server, &reply)),
        Some(500..=599) => SendError::Permanent(reply),
        _ => SendError::Transient(reply),
    }
}

/// The same refusal while the connection is opened (greeting, HELO,
/// STARTTLS): about the connection, so about every message, never about
/// the recipient. A refusal for good is for the owner to look into; one
/// for now is retried like a lost connection.
pub(super) fn judge_opening(reply: Reply, server: &str) -> Failure {
    match judge(reply, server) {
        SendError::Permanent(reply) => Failure::Reply(SendError::Misconfigured(format!(
            "{server} refused the connection: {reply}"
        ))),
        SendError::Transient(reply) => {
            Failure::NoReply(format!("{server} refused the connection for now: {reply}"))
        }
        other => Failure::Reply(other),
    }
}

/// Why a login failed, and what to fix: the password, never a rerun.
pub(super) fn login_refused(server: &str, reply: &Reply) -> String {
    format!(
        "{server} refused the login: {reply}; check [smtp] username and the password in the \
         environment variable [smtp] password_env names"
    )
}

/// How one attempt failed, before the retry policy decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    /// The server answered (or TLS refused it): retried only if transient.
    Reply(SendError),
    /// No answer at all before the message went out: no connection, no
    /// reply in time, or a dropped one.
    NoReply(String),
    /// The message went out whole, then no answer: it may have been stored.
    Unknown(String),
}

/// What the retry policy says after a failed try.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Try again after this wait.
    Retry(Duration),
    /// Stop trying this message, with this outcome.
    GiveUp(SendError),
}

/// The retry policy for every message of a transport.
///
/// A 4xx about the message (451 greylisting, 4.7.x throttling) spends one
/// of `retries`. A lost connection (none made, no answer, a drop, a 421
/// closing it) is about the connection, not the message: it is reconnected
/// without spending them, but only while the time spent on this message
/// stays within `timeout`, so an unreachable server stops the run in about
/// `timeout`. A message that went out whole and then got no answer may have
/// been stored: it is never sent again in this run (the next run sends it,
/// so at most one copy too many).
#[derive(Debug, Clone, Copy)]
pub(super) struct Policy {
    /// `[smtp] retries`.
    pub retries: u32,
    /// `[smtp] timeout_s`.
    pub timeout: Duration,
    /// The wait before the n-th retry (from 0); [`backoff`] but in tests.
    pub backoff: fn(u32) -> Duration,
}

/// The failed tries of one message so far: the retry policy's memory.
#[derive(Debug, Default)]
pub(super) struct Tries {
    /// 4xx replies about the message: each spends one of `retries`.
    deferrals: u32,
    /// Connections lost or never made: about the connection, not the message.
    reconnects: u32,
}

impl Policy {
    /// What to do after `failure`, `elapsed` into this message.
    pub(super) fn next(&self, tries: &mut Tries, failure: Failure, elapsed: Duration) -> Next {
        // None the first time (a server closing a connection after so many
        // messages is routine), then the backoff.
        let reconnect_delay = match tries.reconnects {
            0 => Duration::ZERO,
            n => (self.backoff)(n - 1),
        };
        let in_time = elapsed + reconnect_delay < self.timeout;
        match failure {
            Failure::Reply(SendError::Transient(reply)) if reply.code != Some(421) => {
                if tries.deferrals >= self.retries {
                    return Next::GiveUp(SendError::Transient(reply));
                }
                tries.deferrals += 1;
                Next::Retry((self.backoff)(tries.deferrals - 1))
            }
            // 421: the server closes this connection (too many messages on
            // it, shutting down): a fresh one, at once.
            Failure::Reply(SendError::Transient(reply)) if !in_time => {
                Next::GiveUp(SendError::Transient(reply))
            }
            Failure::Reply(SendError::Transient(_)) => {
                tries.reconnects += 1;
                Next::Retry(reconnect_delay)
            }
            Failure::Reply(error) => Next::GiveUp(error),
            Failure::Unknown(reason) => Next::GiveUp(SendError::Transient(Reply::local(reason))),
            // No reply after every retry: the server is unreachable for
            // every message, not just this one.
            Failure::NoReply(reason) if tries.reconnects > self.retries || !in_time => {
                Next::GiveUp(SendError::Fatal(reason))
            }
            Failure::NoReply(_) => {
                tries.reconnects += 1;
                Next::Retry(reconnect_delay)
            }
        }
    }
}

/// 0.5 s, 1 s, 2 s, … capped at 30 s, each with up to 50 % added at random
/// so that parallel connections do not retry in step.
pub(super) fn backoff(attempt: u32) -> Duration {
    spread(attempt, fastrand::f64())
}

/// [`backoff`] with its random part, in `0.0..1.0`, given.
fn spread(attempt: u32, random: f64) -> Duration {
    let base = Duration::from_millis(500).saturating_mul(1 << attempt.min(6));
    let base = base.min(Duration::from_secs(30));
    base + base.mul_f64(random * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The longest `backoff` can be: every jitter at its top.
    fn slowest(attempt: u32) -> Duration {
        spread(attempt, 1.0)
    }

    fn reply(code: u16) -> Reply {
        Reply {
            code: Some(code),
            text: format!("{code} 4.7.1 try later"),
        }
    }

    fn policy(retries: u32, timeout_s: u64) -> Policy {
        Policy {
            retries,
            timeout: Duration::from_secs(timeout_s),
            backoff: slowest,
        }
    }

    /// Runs the policy over one failure after another, each try taking
    /// `each`, with the clock kept here; the outcome and when it came.
    fn run(
        failure: impl Fn() -> Failure,
        each: Duration,
        policy: Policy,
    ) -> (SendError, Duration, Vec<Duration>) {
        let (mut tries, mut elapsed, mut waits) = (Tries::default(), Duration::ZERO, Vec::new());
        loop {
            elapsed += each;
            match policy.next(&mut tries, failure(), elapsed) {
                Next::Retry(wait) => {
                    waits.push(wait);
                    elapsed += wait;
                }
                Next::GiveUp(error) => return (error, elapsed, waits),
            }
        }
    }

    #[test]
    fn an_unreachable_server_is_given_up_within_the_timeout_not_retries_times_it() {
        let refused = || Failure::NoReply("connection refused".into());
        for retries in [0, 3, 100] {
            let (error, elapsed, waits) = run(refused, Duration::ZERO, policy(retries, 5));
            assert_eq!(error, SendError::Fatal("connection refused".into()));
            assert!(
                elapsed < Duration::from_secs(5),
                "{retries} retries: {elapsed:?}"
            );
            assert!(waits.len() <= retries as usize + 1, "{waits:?}");
            assert_eq!(
                waits.first(),
                Some(&Duration::ZERO),
                "the first reconnect is at once"
            );
        }
    }

    #[test]
    fn a_server_silent_for_the_whole_timeout_is_not_tried_again() {
        let silent = || Failure::NoReply("no greeting".into());
        let (error, elapsed, waits) = run(silent, Duration::from_secs(2), policy(3, 2));
        assert!(matches!(error, SendError::Fatal(_)));
        assert_eq!((elapsed, waits), (Duration::from_secs(2), Vec::new()));
    }

    #[test]
    fn a_deferral_spends_the_retries_with_growing_waits() {
        let greylisted = || Failure::Reply(SendError::Transient(reply(451)));
        let (error, _, waits) = run(greylisted, Duration::ZERO, policy(3, 5));
        assert_eq!(error, SendError::Transient(reply(451)));
        assert_eq!(waits, [slowest(0), slowest(1), slowest(2)]);
    }

    #[test]
    fn a_421_reconnects_at_once_without_spending_a_retry() {
        let (mut tries, policy) = (Tries::default(), policy(0, 5));
        let closing = Failure::Reply(SendError::Transient(reply(421)));
        assert_eq!(
            policy.next(&mut tries, closing, Duration::ZERO),
            Next::Retry(Duration::ZERO)
        );
        assert_eq!(tries.deferrals, 0);
        let late = Failure::Reply(SendError::Transient(reply(421)));
        let given_up = policy.next(&mut tries, late, Duration::from_secs(5));
        assert_eq!(given_up, Next::GiveUp(SendError::Transient(reply(421))));
    }

    #[test]
    fn a_refusal_or_a_message_that_may_have_been_stored_is_never_sent_again() {
        let refused = SendError::Permanent(reply(550));
        let next = policy(3, 5).next(
            &mut Tries::default(),
            Failure::Reply(refused.clone()),
            Duration::ZERO,
        );
        assert_eq!(next, Next::GiveUp(refused));
        let unknown = Failure::Unknown("no answer after the message".into());
        let next = policy(3, 5).next(&mut Tries::default(), unknown, Duration::ZERO);
        let owed = SendError::Transient(Reply::local("no answer after the message"));
        assert_eq!(next, Next::GiveUp(owed));
    }

    fn said(code: u16, text: &str) -> Reply {
        Reply {
            code: Some(code),
            text: format!("{code} {text}"),
        }
    }

    #[test]
    fn a_5xx_is_for_good_a_4xx_for_now_and_a_refused_login_a_setting_to_fix() {
        let server = "mx.example.org:25";
        let unknown = said(550, "5.1.1 <a@example.org>: no such user");
        assert_eq!(
            judge(unknown.clone(), server),
            SendError::Permanent(unknown)
        );
        let greylisted = said(451, "4.7.1 Greylisted");
        assert_eq!(
            judge(greylisted.clone(), server),
            SendError::Transient(greylisted)
        );
        for code in [530, 534, 535, 538] {
            let SendError::Misconfigured(why) = judge(said(code, "5.7.8 no"), server) else {
                panic!("{code} is not about the login");
            };
            assert!(
                why.starts_with(&format!(
                    "mx.example.org:25 refused the login: {code} 5.7.8 no; check"
                )),
                "{why}"
            );
        }
    }

    #[test]
    fn a_refusal_while_connecting_is_about_every_message_not_the_recipient() {
        let server = "mx.example.org:25";
        let closed = judge_opening(said(554, "5.7.1 no service for you"), server);
        let why = "mx.example.org:25 refused the connection: 554 5.7.1 no service for you";
        assert_eq!(closed, Failure::Reply(SendError::Misconfigured(why.into())));
        let busy = judge_opening(said(421, "4.3.2 too busy"), server);
        let why = "mx.example.org:25 refused the connection for now: 421 4.3.2 too busy";
        assert_eq!(busy, Failure::NoReply(why.into()));
        assert!(matches!(
            judge_opening(said(535, "5.7.8 no"), server),
            Failure::Reply(SendError::Misconfigured(_))
        ));
    }

    #[test]
    fn only_an_unrecognised_command_reply_to_ehlo_means_try_helo() {
        assert!(said(502, "5.5.2 Error: command not recognized").refuses_ehlo());
        assert!(said(500, "5.5.1 unrecognized").refuses_ehlo());
        assert!(!said(554, "5.7.1 go away").refuses_ehlo());
        assert!(!said(421, "4.3.2 busy").refuses_ehlo());
        assert!(!Reply::local("502").refuses_ehlo());
    }

    #[test]
    fn a_relays_quota_reply_is_told_from_a_refused_recipient() {
        assert!(said(550, "5.4.5 Daily user sending quota exceeded.").over_quota());
        assert!(said(454, "Throttling failure: Daily message quota exceeded.").over_quota());
        assert!(!said(550, "5.1.1 <a@example.org>: no such user").over_quota());
        assert!(
            !said(
                452,
                "4.2.2 The email account that you tried to reach is over quota"
            )
            .over_quota()
        );
        assert!(!Reply::local("quota exceeded").over_quota());
    }

    #[test]
    fn backoff_doubles_from_half_a_second_adds_at_most_half_and_stops_at_30_s() {
        let secs = |s: f64| Duration::from_secs_f64(s);
        assert_eq!((spread(0, 0.0), spread(0, 1.0)), (secs(0.5), secs(0.75)));
        assert_eq!((spread(3, 0.0), spread(3, 0.5)), (secs(4.0), secs(5.0)));
        assert_eq!((spread(6, 0.0), spread(20, 1.0)), (secs(30.0), secs(45.0)));
        let random = backoff(2);
        assert!(random >= secs(2.0) && random <= secs(3.0), "{random:?}");
    }
}
