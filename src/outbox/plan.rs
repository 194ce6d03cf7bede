//! Which posts go out in a run, and to whom (SPEC §2): a pure function of
//! the published posts, the subscribers and the delivery history, read from
//! the state once before planning.

use std::collections::HashMap;

use crate::error::Error;
use crate::list::subscribers::Subscriber;
use crate::post::Post;
use crate::store::{Deliveries, MailedPost, Outcome, State};

/// One post and who is owed it in this run.
#[derive(Debug)]
pub(super) struct Delivery<'a> {
    pub(super) post: &'a Post,
    /// Borrowed from the subscriber list: a plan for 100,000 copies nothing.
    pub(super) recipients: Vec<&'a Subscriber>,
    /// Subscribers left out by their tags.
    pub(super) not_wanted: usize,
}

/// What the state knows that planning needs: every post it has mailed, and
/// the outcome of each recipient of those a run may take up again.
#[derive(Debug, Default)]
pub(super) struct History {
    mailed: Vec<MailedPost>,
    deliveries: HashMap<String, Deliveries>,
}

impl History {
    /// Reads the mailed posts, and the deliveries of those a plan can
    /// choose: unfinished ones, the one `--post` names, and with
    /// `--retry-failed` every one.
    pub(super) fn read(
        state: &State,
        selected: Option<&Post>,
        retry_failed: bool,
    ) -> Result<History, Error> {
        let mailed = state.posts()?;
        let mut deliveries = HashMap::new();
        for post in &mailed {
            let chosen = !post.completed
                || retry_failed
                || selected.is_some_and(|selected| selected.key == post.url);
            if chosen {
                deliveries.insert(post.url.clone(), state.deliveries(&post.url)?);
            }
        }
        Ok(History { mailed, deliveries })
    }
}

/// Which posts go out, oldest first, and to whom.
pub(super) fn plan<'a>(
    posts: &'a [Post],
    selected: Option<&'a Post>,
    subscribers: &'a [Subscriber],
    history: &History,
    retry_failed: bool,
) -> Vec<Delivery<'a>> {
    let no_deliveries = Deliveries::new();
    let mut plan = Vec::new();
    for (post, only_failed, known_as) in choose(posts, selected, &history.mailed, retry_failed) {
        let done = history
            .deliveries
            .get(known_as.unwrap_or(&post.key))
            .unwrap_or(&no_deliveries);
        let mut recipients = Vec::new();
        let mut not_wanted = 0;
        for subscriber in subscribers {
            if !subscriber.wants(&post.tags) {
                not_wanted += 1;
                continue;
            }
            let owed = match done.get(&subscriber.key()) {
                Some(Outcome::Delivered) => false,
                Some(Outcome::Failed(_)) => retry_failed,
                None => !only_failed,
            };
            if owed {
                recipients.push(subscriber);
            }
        }
        // A finished post retried for its failures alone is left out when none are owed;
        // any other post goes in, so that it is recorded and its turn passes.
        if !only_failed || !recipients.is_empty() {
            plan.push(Delivery {
                post,
                recipients,
                not_wanted,
            });
        }
    }
    plan
}

/// The posts to consider, oldest first, each with whether only its failed
/// recipients are owed (a finished post retried with `--retry-failed`), and
/// the URL the state knows it by when that is not its URL now.
fn choose<'a, 'm>(
    posts: &'a [Post],
    selected: Option<&'a Post>,
    mailed: &'m [MailedPost],
    retry_failed: bool,
) -> Vec<(&'a Post, bool, Option<&'m str>)> {
    let mut chosen: Vec<(&Post, bool, Option<&str>)> = Vec::new();
    if let Some(post) = selected {
        let known = known_posts(posts, mailed);
        chosen.push((
            post,
            false,
            known.get(post.key.as_str()).map(|m| m.url.as_str()),
        ));
    } else if mailed.is_empty() {
        // A first run sends the newest post, never the archive.
        chosen.extend(posts.first().map(|post| (post, false, None)));
    } else {
        let newest = mailed
            .iter()
            .map(|m| m.published_ts)
            .max()
            .unwrap_or(i64::MIN);
        let known = known_posts(posts, mailed);
        for post in posts {
            let known_as = known
                .get(post.key.as_str())
                .map(|m| m.url.as_str())
                .filter(|url| *url != post.key);
            match known.get(post.key.as_str()) {
                // Begun but not finished (a crash, a lost connection): resume.
                Some(m) if !m.completed => chosen.push((post, false, known_as)),
                Some(_) if retry_failed => chosen.push((post, true, known_as)),
                None if post.date.timestamp().as_second() >= newest => {
                    chosen.push((post, false, None));
                }
                // Finished, or older than the newest mailed: not this run's.
                Some(_) | None => {}
            }
        }
    }
    chosen.sort_by_key(|(post, _, _)| post.date.timestamp());
    chosen
}

/// The mailed post each published post is, by its URL now. A post is
/// mailed once whatever happens to its URL (a renamed file, edited
/// categories, a new `site.url`): a post whose URL the state does not know
/// is the mailed post whose URL no published post has any more, published
/// at the same instant, with the same title, or the only such pair.
fn known_posts<'a, 'm: 'a>(
    posts: &'a [Post],
    mailed: &'m [MailedPost],
) -> HashMap<&'a str, &'m MailedPost> {
    let mut known: HashMap<&str, &MailedPost> =
        mailed.iter().map(|m| (m.url.as_str(), m)).collect();
    let current: std::collections::HashSet<&str> = posts.iter().map(|p| p.key.as_str()).collect();
    let mut moved: HashMap<i64, Vec<&MailedPost>> = HashMap::new();
    for m in mailed.iter().filter(|m| !current.contains(m.url.as_str())) {
        moved.entry(m.published_ts).or_default().push(m);
    }
    let mut unknown: HashMap<i64, Vec<&Post>> = HashMap::new();
    for post in posts.iter().filter(|p| !known.contains_key(p.key.as_str())) {
        unknown
            .entry(post.date.timestamp().as_second())
            .or_default()
            .push(post);
    }
    for (ts, new) in &unknown {
        let Some(old) = moved.get(ts) else { continue };
        for post in new {
            let same_title = old.iter().find(|m| m.title == post.title);
            let only = (old.len() == 1 && new.len() == 1).then(|| old[0]);
            if let Some(m) = same_title.copied().or(only) {
                known.insert(post.key.as_str(), m);
            }
        }
    }
    known
}

#[cfg(test)]
mod tests;
