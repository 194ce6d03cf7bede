//! `mail --weekly`: the roll-ups planned ([`super::rollup`]), each distinct
//! set of posts rendered once into one prepared item, then handed to
//! [`crate::mail`] to send (or to the dry run) like a day's posts.

use std::collections::HashMap;

use super::rollup::{self, Group, RollupHistory};
use super::{Chosen, Request, hand_over};
use crate::config::{Cadence, Config};
use crate::email::Design;
use crate::error::{Error, Summary};
use crate::list::subscribers::Subscribers;
use crate::mail::{self, Observer, Setup};
use crate::post::{Post, Rendered};
use crate::posts_folder;
use crate::store::State;

/// What a run's lines begin with for a roll-up, where a post's give its file.
const LABEL: &str = "Weekly roll-up";

/// What `mail --weekly` says when no weekly subscriber is owed a post.
pub(super) const NOTHING_NEW: &str =
    "Nothing new for the weekly roll-up: every weekly subscriber has had every post of their week.";

/// The run after the lock and the state: who is owed which posts, and
/// their roll-ups sent (or shown, for a dry run).
pub(super) fn run(
    config: &Config,
    (setup, password): (&Setup, Option<String>),
    (posts, subscribers): (&[Post], &Subscribers),
    state: Option<State>,
    request: &Request,
    observer: &dyn Observer,
) -> Result<Option<Summary>, Error> {
    let now = jiff::Timestamp::now().as_second();
    let history = match &state {
        Some(state) => RollupHistory::read(state, subscribers, now)?,
        None => RollupHistory::default(),
    };
    let groups = rollup::plan(posts, subscribers, &history, now, request.retry_failed);
    if groups.is_empty() {
        observer.result(NOTHING_NEW);
        return Ok(None);
    }
    let chosen = prepare(&setup.design, groups, "");
    hand_over(config, (setup, password), chosen, state, request, observer)
}

/// A test send (`--weekly --to`), or its dry run: the roll-up of the last
/// seven days to the given addresses, nothing recorded, its Message-ID new.
pub(super) fn test_send(
    config: &Config,
    (setup, password): (&Setup, Option<String>),
    posts: &[Post],
    recipients: &Subscribers,
    request: &Request,
    observer: &dyn Observer,
) -> Result<Option<Summary>, Error> {
    let mut weekly = recipients.clone();
    weekly.set_cadences(|_| Cadence::Weekly);
    let now = jiff::Timestamp::now().as_second();
    let mut groups = rollup::plan(posts, &weekly, &RollupHistory::default(), now, false);
    // Every test recipient is owed the same week: one roll-up to them all.
    groups.truncate(1);
    if groups.is_empty() {
        observer.result("No post published in the last seven days to send.");
        return Ok(None);
    }
    let salt = jiff::Timestamp::now().to_string();
    let chosen = prepare(&setup.design, groups, &salt);
    hand_over(config, (setup, password), chosen, None, request, observer)
}

/// Each group's roll-up rendered once; each post's body rendered once
/// however many groups hold it. `salt` (a test send's) makes the
/// Message-IDs new.
fn prepare<'a>(
    design: &Design,
    groups: Vec<Group<'a>>,
    salt: &str,
) -> Result<Vec<Chosen<'a>>, Error> {
    let mut bodies: HashMap<&str, Rendered> = HashMap::new();
    for post in groups.iter().flat_map(|group| &group.posts) {
        if !bodies.contains_key(post.key.as_str()) {
            let text = posts_folder::read(&post.source)?;
            bodies.insert(&post.key, crate::email::render_body(post, &text)?);
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let with_bodies: Vec<(&Post, &Rendered)> = group
                .posts
                .iter()
                .filter_map(|post| Some((*post, bodies.get(post.key.as_str())?)))
                .collect();
            let prepared = design.prepare_rollup(&with_bodies)?;
            let last_day = group
                .posts
                .last()
                .map(|post| post.date.strftime("%Y-%m-%d").to_string())
                .unwrap_or_default();
            Ok(Chosen {
                item: mail::Item {
                    prepared,
                    key: mail::Key::Rollup(
                        group
                            .posts
                            .iter()
                            .map(|post| (post.key.clone(), post.date.timestamp().as_second()))
                            .collect(),
                    ),
                    identity: format!("{}{salt}", rollup::identity(&group)),
                    label: LABEL.to_string(),
                    note: String::new(),
                    recipients: group.recipients,
                },
                day: format!("weekly-{last_day}"),
            })
        })
        .collect()
}
