//! A real send: the plan's posts in order, each already prepared, handed to
//! the workers, its outcome counted by the policy and its completion
//! recorded; then the run's summary.

use super::policy::Policy;
use super::record::Recorder;
use super::transport::Transport;
use super::{Item, Observer, Setup, recipient, warn_if_clipped, workers};
use crate::config::{Config, Smtp};
use crate::error::{Error, Summary};
use crate::list::subscribers::Part;
use crate::text;

/// A real send's fixed parts.
pub(super) struct Sending<'a> {
    pub(super) config: &'a Config,
    pub(super) setup: &'a Setup,
    pub(super) password: Option<String>,
    pub(super) observer: &'a dyn Observer,
}

/// A relay and how many connections it takes.
type Relay = (Transport, usize);

impl Sending<'_> {
    /// `[smtp]` and its `[[smtp.fallback]]` relays, in order.
    fn relays(&self, smtp: &Smtp) -> Result<Vec<Relay>, Error> {
        let mut relays = vec![(
            Transport::new(smtp, self.password.clone())?,
            smtp.connections.get(),
        )];
        for fallback in &smtp.fallback {
            let password = fallback.password()?;
            relays.push((
                Transport::new(fallback, password)?,
                fallback.connections.get(),
            ));
        }
        Ok(relays)
    }

    /// Sends to `recipients` through the relay in use; what it could not
    /// take (unreachable, login refused, quota spent: none of it sent) goes
    /// to the next relay, so each recipient still gets one copy.
    fn through_relays<'a>(
        &self,
        relays: &[Relay],
        relay: &mut usize,
        (letter, record): (&workers::Letter<'_>, workers::Record<'_>),
        recipients: Part<'a, '_>,
        policy: &mut Policy,
        progress: &dyn super::Progress,
    ) -> Result<workers::PostTally<'a>, Error> {
        let mut tally = workers::PostTally::new(recipients);
        let mut left = recipients.to_selection();
        loop {
            let (transport, connections) = &relays[*relay];
            let got = workers::deliver(
                transport,
                *connections,
                letter,
                left.all(),
                record,
                policy,
                progress,
            )?;
            tally.delivered += got.delivered;
            tally.failed += got.failed;
            tally.deferred += got.deferred;
            left = got.not_taken;
            let stuck = policy.stopped() || policy.full();
            if left.is_empty() || !stuck || *relay + 1 == relays.len() {
                tally.not_taken = left;
                return Ok(tally);
            }
            let why = policy.hand_on().unwrap_or_default();
            *relay += 1;
            self.observer.warning(&format!(
                "{} could not take {} ({why}); the fallback {} tries them",
                transport.server(),
                text::count(left.len(), "recipient"),
                relays[*relay].0.server()
            ));
        }
    }

    /// Sends the plan, post by post, oldest first; records each outcome
    /// when there is a `recorder` (a test send has none).
    pub(super) fn send(
        &self,
        plan: &[Item<'_>],
        recorder: Option<&Recorder>,
    ) -> Result<Summary, Error> {
        let smtp = self.config.smtp().map_err(Error::Invalid)?;
        let relays = self.relays(smtp)?;
        let mut policy = Policy::new(relays[0].0.server().to_string());
        // The relay in use: once one could not take mail, the next post
        // starts at its fallback.
        let mut relay = 0;
        let mut cap = DailyCap::read(smtp.max_per_day, recorder)?;
        for item in plan {
            if policy.stopped() {
                break;
            }
            // Within the daily quota: the rest wait for a later run.
            let owed = item.recipients.len();
            let now = if policy.full() { 0 } else { cap.allows(owed) };
            let recipients = item.recipients.first(now);
            let record = match recorder {
                Some(recorder) => Some((recorder, recorder.start(&item.key)?)),
                None => None,
            };
            if let Some(first) = recipients.iter().next() {
                let email = self
                    .setup
                    .design
                    .personalise(&item.prepared, &recipient(first, &self.setup.letterhead))?;
                warn_if_clipped(&email, &item.label, self.observer);
            }
            let letters = self.setup.letters(&item.prepared, &item.identity);
            let letter = workers::Letter {
                design: &self.setup.design,
                letterhead: &self.setup.letterhead,
                letters: &letters,
            };
            let progress = self
                .observer
                .progress(recipients.len(), &item.prepared.title());
            let tally = self.through_relays(
                &relays,
                &mut relay,
                (&letter, record),
                recipients,
                &mut policy,
                progress.as_ref(),
            );
            progress.finish();
            let tally = tally?;
            cap.spend(tally.delivered);
            // Left by a quota: owed, not failed; a later run sends them.
            let over_quota = (owed - now)
                + if policy.full() {
                    tally.not_taken.len()
                } else {
                    0
                };
            if over_quota > 0 {
                policy.over_quota(over_quota, format!("daily cap of {} reached", cap.per_day));
            }
            if let Some((recorder, entry)) = record
                && tally.deferred == 0
                && tally.not_taken.is_empty()
                && now == owed
                && !policy.stopped()
            {
                recorder.complete(entry)?;
            }
            self.observer.result(&format!(
                "{}: {:?} delivered to {} of {}{}",
                item.label,
                item.prepared.title(),
                tally.delivered,
                text::count(item.recipients.len(), "recipient"),
                item.note
            ));
        }
        let summary = policy.finish().into_result()?;
        self.observer.result(&summary.headline());
        Ok(summary)
    }
}

/// `[smtp] max_per_day` in a run: what the last 24 hours left of it.
struct DailyCap {
    per_day: u64,
    /// `None`: no cap (0), or a test send, which is not counted.
    left: Option<u64>,
}

impl DailyCap {
    fn read(per_day: u64, recorder: Option<&Recorder>) -> Result<DailyCap, Error> {
        let left = match recorder {
            Some(recorder) if per_day > 0 => {
                Some(per_day.saturating_sub(recorder.delivered_in_a_day()?))
            }
            _ => None,
        };
        Ok(DailyCap { per_day, left })
    }

    /// How many of `owed` recipients may be sent now.
    fn allows(&self, owed: usize) -> usize {
        self.left.map_or(owed, |left| {
            usize::try_from(left).map_or(owed, |left| left.min(owed))
        })
    }

    /// Counts messages the relay accepted against what is left.
    fn spend(&mut self, delivered: usize) {
        let delivered = u64::try_from(delivered).unwrap_or(u64::MAX);
        self.left = self.left.map(|left| left.saturating_sub(delivered));
    }
}
