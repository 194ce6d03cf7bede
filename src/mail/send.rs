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
        for delivery in plan {
            if policy.stopped() {
                break;
            }
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
            if let Some(&first) = delivery.recipients.first() {
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
            let progress = self
                .observer
                .progress(delivery.recipients.len(), &post.title);
            let tally = workers::deliver(
                &transport,
                smtp.connections.get(),
                &letter,
                &delivery.recipients,
                record,
                &mut policy,
                progress.as_ref(),
            );
            progress.finish();
            let tally = tally?;
            // Recipients never tried: the run stopped before their turn.
            let untried =
                delivery.recipients.len() - tally.delivered - tally.failed - tally.deferred;
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
