//! The failure policy of a send: what one failure means for the run. A
//! refusal about the sender, a failed login or an unreachable server stops
//! it; so do ten failures alike in a row. Everything counted ends up in the
//! run's [`Summary`].

use super::retry::{Reply, SendError};
use crate::error::{OverQuota, Summary};

/// After this many messages in a row fail alike with no delivery between
/// them, the failure is about the run, not the recipients: stop. Alike
/// means deferred (4xx after every retry: 421, throttling), or refused for
/// good with the very same reply, one that does not even name them ("554
/// 5.7.1 Relay access denied").
pub(super) const ALIKE_IN_A_ROW: usize = 10;

/// What one message's outcome counted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tally {
    /// Accepted by the server.
    Delivered,
    /// Refused for good.
    Failed,
    /// Deferred, or not sent because the run stops.
    Deferred,
}

/// The current run of failures alike.
#[derive(Debug, Default)]
struct Streak {
    what: Option<Alike>,
    count: usize,
}

/// What makes two failures alike.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Alike {
    /// Any deferral is like any other: the text varies with the recipient.
    Deferred,
    /// A refusal, with its code and text.
    Refused(Reply),
}

impl Streak {
    /// Counts a failure; true when the streak is long enough to stop the run.
    fn push(&mut self, what: Alike) -> bool {
        if self.what.as_ref() == Some(&what) {
            self.count += 1;
        } else {
            self.what = Some(what);
            self.count = 1;
        }
        self.count >= ALIKE_IN_A_ROW
    }
}

/// The policy for one run: it counts each outcome and says when to stop.
#[derive(Debug)]
pub(super) struct Policy {
    streak: Streak,
    summary: Summary,
}

impl Policy {
    /// A policy for a run through `server` (`host:port`, for messages).
    pub(super) fn new(server: String) -> Self {
        Policy {
            streak: Streak::default(),
            summary: Summary {
                server,
                ..Summary::default()
            },
        }
    }

    /// Counts what happened to the message to `address`.
    pub(super) fn count(&mut self, address: &str, outcome: Result<(), SendError>) -> Tally {
        let server = &self.summary.server;
        let (tally, stop) = match outcome {
            Err(SendError::Permanent(reply) | SendError::Transient(reply))
                if reply.over_quota() =>
            {
                // Counted with those it leaves, by the caller.
                self.over_quota(0, format!("{server} says its quota is spent: {reply}"));
                (Tally::Deferred, None)
            }
            Ok(()) => {
                self.summary.sent += 1;
                self.streak = Streak::default();
                (Tally::Delivered, None)
            }
            Err(SendError::Permanent(reply)) => {
                let stop = self.streak.push(Alike::Refused(reply.clone())).then(|| {
                    format!(
                        "{server} refused {ALIKE_IN_A_ROW} recipients in a row with the same reply ({reply}), \
                         which is about this run, not them; they are recorded as failed: fix the \
                         cause, then run `digest-feed mail --retry-failed`"
                    )
                });
                self.summary.failed.push((address.to_string(), reply.text));
                (Tally::Failed, stop)
            }
            Err(SendError::Transient(reply)) => {
                let stop = self.streak.push(Alike::Deferred).then(|| {
                    format!("{server} deferred {ALIKE_IN_A_ROW} messages in a row (last: {reply})")
                });
                self.summary
                    .deferred
                    .push((address.to_string(), reply.text));
                (Tally::Deferred, stop)
            }
            Err(SendError::Fatal(reason)) => (Tally::Deferred, Some(reason)),
            Err(SendError::Misconfigured(reason)) => {
                if self.summary.stopped.is_none() {
                    self.summary.fix_first = true;
                }
                (Tally::Deferred, Some(reason))
            }
        };
        if let Some(reason) = stop {
            self.summary.stopped.get_or_insert(reason);
        }
        tally
    }

    /// `count` recipients left for a later run because a quota is spent;
    /// the first reason given is the one the run reports.
    pub(super) fn over_quota(&mut self, count: usize, why: String) {
        self.summary
            .over_quota
            .get_or_insert_with(|| Box::new(OverQuota { count: 0, why }))
            .count += count;
    }

    /// Whether a quota is spent: nothing more goes out in this run.
    pub(super) fn full(&self) -> bool {
        self.summary.over_quota.is_some()
    }

    /// The relay could not take what is left; the next one will try:
    /// why this one stopped, which no longer stops the run.
    pub(super) fn hand_on(&mut self) -> Option<String> {
        self.summary.fix_first = false;
        self.streak = Streak::default();
        let quota = self.summary.over_quota.take().map(|quota| quota.why);
        self.summary.stopped.take().or(quota)
    }

    /// Whether the run must stop.
    pub(super) fn stopped(&self) -> bool {
        self.summary.stopped.is_some()
    }

    /// Everything counted.
    pub(super) fn finish(self) -> Summary {
        self.summary
    }
}

/// A refusal that names the sender's address and not the recipient's is
/// about the sender ("553 5.7.1 <papers@example.org>: Sender address
/// rejected"): every message would get it, so it stops the run instead of
/// marking each recipient failed.
pub(super) fn about_the_sender(err: SendError, sender: &str, recipient: &str) -> SendError {
    match err {
        SendError::Permanent(reply)
            if contains_ignoring_case(&reply.text, sender)
                && !contains_ignoring_case(&reply.text, recipient) =>
        {
            SendError::Misconfigured(format!(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> SendError {
        SendError::Permanent(Reply {
            code: text.get(..3).and_then(|code| code.parse().ok()),
            text: text.into(),
        })
    }

    fn deferred(text: &str) -> SendError {
        SendError::Transient(Reply {
            code: Some(421),
            text: text.into(),
        })
    }

    fn policy() -> Policy {
        Policy::new("smtp.example.org:587".into())
    }

    #[test]
    fn ten_deferrals_in_a_row_stop_the_run() {
        let mut policy = policy();
        for n in 0..ALIKE_IN_A_ROW {
            assert!(!policy.stopped(), "stopped after {n}");
            // Different texts: deferrals are alike whatever the server says.
            let tally = policy.count(
                &format!("{n}@e.org"),
                Err(deferred(&format!("421 busy {n}"))),
            );
            assert_eq!(tally, Tally::Deferred);
        }
        assert!(policy.stopped());
        let summary = policy.finish();
        assert_eq!(summary.deferred.len(), ALIKE_IN_A_ROW);
        assert_eq!(
            summary.stopped.as_deref(),
            Some("smtp.example.org:587 deferred 10 messages in a row (last: 421 busy 9)")
        );
        assert_eq!(summary.into_result().unwrap_err().exit_code(), 3);
    }

    #[test]
    fn a_delivery_resets_the_streak() {
        let mut policy = policy();
        for round in 0..3 {
            for n in 0..ALIKE_IN_A_ROW - 1 {
                policy.count(&format!("{round}-{n}@e.org"), Err(deferred("421 busy")));
            }
            assert_eq!(policy.count("ok@e.org", Ok(())), Tally::Delivered);
        }
        assert!(!policy.stopped());
        assert_eq!(policy.finish().sent, 3);
    }

    #[test]
    fn the_same_refusal_ten_times_stops_the_run_and_different_ones_do_not() {
        let mut policy = policy();
        for n in 0..ALIKE_IN_A_ROW * 2 {
            policy.count(
                &format!("{n}@e.org"),
                Err(refused(&format!("550 no such user {n}"))),
            );
        }
        assert!(
            !policy.stopped(),
            "refusals that name their recipient are theirs"
        );
        for n in 0..ALIKE_IN_A_ROW {
            assert!(!policy.stopped());
            let tally = policy.count(
                &format!("r{n}@e.org"),
                Err(refused("554 5.7.1 Relay access denied")),
            );
            assert_eq!(tally, Tally::Failed);
        }
        assert!(policy.stopped());
        let summary = policy.finish();
        assert_eq!(summary.failed.len(), ALIKE_IN_A_ROW * 3);
        assert!(
            summary.stopped.as_deref().unwrap().starts_with(
                "smtp.example.org:587 refused 10 recipients in a row with the same reply (554 5.7.1 Relay access denied)"
            )
        );
    }

    #[test]
    fn a_fatal_error_stops_at_once_and_the_first_reason_stands() {
        let mut policy = policy();
        assert_eq!(
            policy.count("a@e.org", Err(SendError::Fatal("login refused".into()))),
            Tally::Deferred
        );
        policy.count("b@e.org", Err(SendError::Fatal("later".into())));
        let summary = policy.finish();
        assert_eq!(summary.stopped.as_deref(), Some("login refused"));
        assert!(summary.deferred.is_empty() && summary.failed.is_empty());
    }

    #[test]
    fn a_setting_to_fix_is_not_a_reason_to_run_again() {
        let mut policy = policy();
        policy.count("a@e.org", Ok(()));
        let login = "smtp.example.org:587 refused the login: 535 5.7.8 bad credentials";
        policy.count("b@e.org", Err(SendError::Misconfigured(login.into())));
        let summary = policy.finish();
        assert!(summary.fix_first);
        assert!(
            summary.to_string().ends_with(&format!(
                "Stopped: {login}. What was delivered is recorded; fix that, then run `digest-feed mail` again."
            )),
            "{summary}"
        );
    }

    #[test]
    fn the_summary_says_what_to_do_next() {
        let mut policy = policy();
        policy.count("a@e.org", Ok(()));
        policy.count("b@e.org", Err(refused("550 5.1.1 <b@e.org>: no such user")));
        let summary = policy.finish();
        assert_eq!(
            summary.to_string(),
            "Sent 1, failed 1, deferred 0 via smtp.example.org:587\n  \
             failed for good: b@e.org: 550 5.1.1 <b@e.org>: no such user\n\
             Recipients that failed for good are not retried; `digest-feed mail --retry-failed` tries them again."
        );
        assert_eq!(summary.into_result().unwrap_err().exit_code(), 1);
    }

    #[test]
    fn a_refusal_naming_only_the_sender_is_about_the_sender() {
        let sender = "papers@example.org";
        let err = about_the_sender(
            refused("553 5.7.1 <Papers@Example.org>: Sender address rejected"),
            sender,
            "a@e.org",
        );
        assert!(
            matches!(err, SendError::Misconfigured(reason) if reason.starts_with("the server refused the sender papers@example.org: 553"))
        );
        let naming_both = refused("550 <a@e.org> from <papers@example.org> refused");
        assert_eq!(
            about_the_sender(naming_both.clone(), sender, "a@e.org"),
            naming_both
        );
    }
}
