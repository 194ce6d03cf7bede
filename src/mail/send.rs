//! A real send: the plan's posts in order, each prepared once, handed to
//! the workers, its outcome counted by the policy and its completion
//! recorded; then the run's summary.

use super::plan::Delivery;
use super::policy::Policy;
use super::record::Recorder;
use super::transport::Transport;
use super::{Observer, Setup, recipient, skipped_note, warn_if_clipped, workers};
use crate::config::Config;
use crate::error::{Error, Summary};
use crate::posts_folder;
use crate::text;

/// A real send's fixed parts.
pub(super) struct Sending<'a> {
    pub(super) config: &'a Config,
    pub(super) setup: &'a Setup,
    pub(super) password: Option<String>,
    pub(super) observer: &'a dyn Observer,
}

impl Sending<'_> {
    /// Sends the plan, post by post, oldest first; records each outcome
    /// when there is a `recorder` (a test send has none).
    pub(super) fn send(
        &self,
        plan: &[Delivery],
        recorder: Option<&Recorder>,
        salt: &str,
    ) -> Result<Summary, Error> {
        let smtp = self.config.smtp().map_err(Error::Invalid)?;
        let transport = Transport::new(smtp, self.password.clone())?;
        let mut policy = Policy::new(transport.server().to_string());
        let mut cap = DailyCap::read(smtp.max_per_day, recorder)?;
        for delivery in plan {
            if policy.stopped() {
                break;
            }
            // Within the daily quota: the rest wait for a later run.
            let owed = delivery.recipients.len();
            let now = if policy.full() { 0 } else { cap.allows(owed) };
            let recipients = &delivery.recipients[..now];
            let post = delivery.post;
            let text = posts_folder::read(&post.source)?;
            let prepared = self
                .setup
                .design
                .prepare(post, &crate::email::render_body(post, &text)?)?;
            let record = match recorder {
                Some(recorder) => Some((recorder, recorder.start(post)?)),
                None => None,
            };
            if let Some(&first) = recipients.first() {
                let email = self
                    .setup
                    .design
                    .personalise(&prepared, &recipient(first, &self.setup.letterhead))?;
                warn_if_clipped(&email, post, self.observer);
            }
            let letter = workers::Letter {
                design: &self.setup.design,
                letterhead: &self.setup.letterhead,
                prepared: &prepared,
                identity: &format!("{}{salt}", post.key),
            };
            let progress = self.observer.progress(recipients.len(), &post.title);
            let tally = workers::deliver(
                &transport,
                smtp.connections.get(),
                &letter,
                recipients,
                record,
                &mut policy,
                progress.as_ref(),
            );
            progress.finish();
            let tally = tally?;
            // Recipients never tried: the run stopped before their turn.
            let untried = owed - tally.delivered - tally.failed - tally.deferred;
            cap.spend(tally.delivered);
            if policy.full() || now < owed {
                // Stopped by a quota: whoever it left is owed, not failed.
                policy.over_quota(untried, format!("daily cap of {} reached", cap.per_day));
            }
            if let Some((recorder, post_id)) = record
                && tally.deferred == 0
                && untried == 0
                && !policy.stopped()
            {
                recorder.complete(post_id)?;
            }
            self.observer.result(&format!(
                "{}: {:?} delivered to {} of {}{}{}",
                post.source.display(),
                prepared.title(),
                tally.delivered,
                text::count(delivery.recipients.len(), "recipient"),
                skipped_note(delivery.not_wanted),
                super::shared_url_note(post)
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
