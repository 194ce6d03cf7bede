//! Who is owed which posts in the next weekly roll-up (`mail --weekly`): a
//! pure function of the published posts, the weekly subscribers and what
//! the state recorded (each address's last roll-up, what the roll-ups and
//! the daily mail did with each recent post), read once before planning.
//!
//! A weekly subscriber is owed every post published since their last
//! roll-up (the first: the last seven days) that they want by its tags and
//! have never had, by a roll-up or by the daily mail (a reader who switched
//! from daily gets no post twice). Subscribers owed the same posts form one
//! group: its email is rendered once.

use std::collections::{HashMap, HashSet};

use crate::config::Cadence;
use crate::error::Error;
use crate::list::subscribers::{Selection, Subscriber, Subscribers};
use crate::post::Post;
use crate::store::weekly::Held;
use crate::store::{Ended, Outcome, Outcomes, State};

/// A week, in seconds: the first roll-up's window, and how far before the
/// last roll-up a post added late (dated before it, published after it)
/// is still looked for.
pub(super) const WEEK: i64 = 7 * 86_400;

/// The furthest back a roll-up looks: eight weeks. A reader whose last
/// roll-up is older (they were daily meanwhile, or the weekly job did not
/// run) gets at most these weeks' posts, and a plan reads at most these
/// weeks' history, however old the list.
pub(super) const LOOKBACK: i64 = 8 * WEEK;

/// One roll-up: its posts, oldest first, and who is owed exactly those.
#[derive(Debug)]
pub(super) struct Group<'a> {
    pub(super) posts: Vec<&'a Post>,
    /// Borrowed from the subscriber list, as a daily plan's are.
    pub(super) recipients: Selection<'a>,
}

/// What the state knows that a roll-up plan needs.
#[derive(Debug, Default)]
pub(super) struct RollupHistory {
    /// Address key → its last roll-up (seconds since the epoch).
    last: HashMap<String, i64>,
    /// Post URL → address key → what a roll-up did with it.
    held: Held,
    /// Post URL → address key → what the daily mail did with it.
    daily: HashMap<String, Outcomes>,
}

impl RollupHistory {
    /// Reads what planning the roll-up at `now` for `subscribers` needs:
    /// the roll-ups and daily deliveries of the posts any window can hold.
    pub(super) fn read(
        state: &State,
        subscribers: &Subscribers,
        now: i64,
    ) -> Result<RollupHistory, Error> {
        let last = state.last_rollups()?;
        let weekly: HashSet<String> = subscribers
            .iter()
            .filter(|s| s.cadence() == Cadence::Weekly)
            .map(Subscriber::key)
            .collect();
        let cutoff = weekly
            .iter()
            .map(|key| since(last.get(key).copied(), now))
            .min()
            .unwrap_or(now);
        let held = state.rollups_since(cutoff)?;
        // The daily mail's outcomes for the weekly subscribers alone: a
        // post's deliveries to a large daily list are read one post at a time.
        let mut daily = HashMap::new();
        for post in state.posts()? {
            if post.published_ts >= cutoff {
                let outcomes = state.outcomes_among(&post.url, |key| weekly.contains(key))?;
                daily.insert(post.url.clone(), outcomes);
            }
        }
        Ok(RollupHistory { last, held, daily })
    }

    /// Whether the subscriber keyed `key` has had `post` (or was refused it
    /// for good, unless those are retried).
    fn had(&self, post: &Post, key: &str, retry_failed: bool) -> bool {
        let daily = self.daily.get(&post.key).and_then(|d| d.get(key));
        let rolled =
            self.held
                .get(&post.key)
                .and_then(|h| h.get(key))
                .map(|outcome| match outcome {
                    Outcome::Delivered => Ended::Delivered,
                    Outcome::Failed(_) => Ended::Failed,
                });
        [daily, rolled]
            .into_iter()
            .flatten()
            .any(|ended| match ended {
                Ended::Delivered => true,
                Ended::Failed => !retry_failed,
            })
    }
}

/// The start of the window of a subscriber whose last roll-up was at
/// `last`: a week before it (so a post dated before it but published
/// after it still goes out), or a week before `now` for the first; never
/// more than [`LOOKBACK`] before `now`.
fn since(last: Option<i64>, now: i64) -> i64 {
    last.unwrap_or(now)
        .saturating_sub(WEEK)
        .max(now.saturating_sub(LOOKBACK))
}

/// The roll-ups to send at `now`: one group per distinct set of posts
/// owed, each oldest first; groups in the order their first recipient is
/// listed. `posts` are the published posts, `subscribers` everyone mailable
/// (the daily ones are left out here).
pub(super) fn plan<'a>(
    posts: &'a [Post],
    subscribers: &'a Subscribers,
    history: &RollupHistory,
    now: i64,
    retry_failed: bool,
) -> Vec<Group<'a>> {
    let published = |post: &Post| post.date.timestamp().as_second();
    let mut oldest_first: Vec<&Post> = posts
        .iter()
        .filter(|post| published(post) <= now && published(post) > now - LOOKBACK)
        .collect();
    oldest_first.sort_by_key(|post| post.date.timestamp());
    let mut groups: Vec<Group<'a>> = Vec::new();
    let mut by_posts: HashMap<Vec<&str>, usize> = HashMap::new();
    for subscriber in subscribers
        .iter()
        .filter(|s| s.cadence() == Cadence::Weekly)
    {
        let key = subscriber.key();
        let since = since(history.last.get(&key).copied(), now);
        // Only the posts of this reader's window are looked at.
        let first = oldest_first.partition_point(|post| published(post) <= since);
        let owed: Vec<&Post> = oldest_first[first..]
            .iter()
            .copied()
            .filter(|post| subscriber.wants(&post.tags) && !history.had(post, &key, retry_failed))
            .collect();
        if owed.is_empty() {
            continue;
        }
        let set: Vec<&str> = owed.iter().map(|post| post.key.as_str()).collect();
        let at = *by_posts.entry(set).or_insert_with(|| {
            groups.push(Group {
                posts: owed,
                recipients: Selection::new(subscribers),
            });
            groups.len() - 1
        });
        groups[at].recipients.push(subscriber);
    }
    groups
}

/// What a roll-up's Message-ID is made from: the same posts to the same
/// recipient give the same one, so a roll-up resent after a crash is
/// known as the same message.
pub(super) fn identity(group: &Group<'_>) -> String {
    let mut identity = String::from("weekly");
    for post in &group.posts {
        identity.push('\n');
        identity.push_str(&post.key);
    }
    identity
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::post::{self, Rules};

    /// Noon UTC on 2025-01-`day`.
    fn day(day: i64) -> i64 {
        1_735_732_800 + (day - 1) * 86_400
    }

    /// The plan at `now` of subscribers who never had a roll-up.
    fn first_plan<'s>(posts: &'s [Post], subscribers: &'s Subscribers, now: i64) -> Vec<Group<'s>> {
        plan(posts, subscribers, &RollupHistory::default(), now, false)
    }

    fn post(day: u32, tags: &str) -> Post {
        let rules = Rules {
            site_url: "https://e.org".into(),
            zone: jiff::tz::TimeZone::UTC,
            ..crate::post::test_rules()
        };
        let text = format!(
            "---\ntitle: Day {day}\ndate: 2025-01-{day:02} 12:00:00\ntags: [{tags}]\n---\nBody\n"
        );
        let path = format!("_posts/2025-01-{day:02}-day-{day}.md");
        post::parse(Path::new(&path), &text, &rules).unwrap()
    }

    /// Newest first, as the posts folder gives them: days 1 to 14, the
    /// even days tagged `vision`, the odd ones `nlp`.
    fn posts() -> Vec<Post> {
        (1..=14)
            .rev()
            .map(|d| post(d, if d % 2 == 0 { "vision" } else { "nlp" }))
            .collect()
    }

    type Person<'t> = (&'t str, &'t [&'t str], Cadence);

    fn subscriber<'t>(email: &'t str, tags: &'t [&'t str], cadence: Cadence) -> Person<'t> {
        (email, tags, cadence)
    }

    fn weekly<'t>(email: &'t str, tags: &'t [&'t str]) -> Person<'t> {
        subscriber(email, tags, Cadence::Weekly)
    }

    fn list(people: Vec<Person>) -> Subscribers {
        let mut list = Subscribers::default();
        for (email, tags, cadence) in people {
            list.push(email, "", tags, cadence).unwrap();
        }
        list
    }

    /// Each group as (its posts' days, its recipients).
    fn shape(groups: &[Group]) -> Vec<(Vec<String>, Vec<String>)> {
        groups
            .iter()
            .map(|g| {
                (
                    g.posts
                        .iter()
                        .map(|p| p.title.replace("Day ", ""))
                        .collect(),
                    g.recipients.iter().map(|s| s.email().to_string()).collect(),
                )
            })
            .collect()
    }

    fn days(days: &[u32]) -> Vec<String> {
        days.iter().map(ToString::to_string).collect()
    }

    fn emails(emails: &[&str]) -> Vec<String> {
        emails.iter().map(ToString::to_string).collect()
    }

    /// A history where `who` had each post of `days` by `how`.
    fn had(history: &mut RollupHistory, who: &str, days: &[u32], daily: bool, outcome: &Outcome) {
        for d in days {
            let url = post(*d, "").key;
            if daily {
                let ended = match outcome {
                    Outcome::Delivered => Ended::Delivered,
                    Outcome::Failed(_) => Ended::Failed,
                };
                history.daily.entry(url).or_default().insert(who, ended);
            } else {
                history
                    .held
                    .entry(url)
                    .or_default()
                    .insert(who.to_string(), outcome.clone());
            }
        }
    }

    #[test]
    fn a_first_rollup_holds_the_last_seven_days_for_those_who_share_it_once() {
        let posts = posts();
        let subscribers = list(vec![
            weekly("a@e.org", &[]),
            subscriber("daily@e.org", &[], Cadence::Daily),
            weekly("b@e.org", &[]),
        ]);
        // At noon on day 14: after noon on day 7, a week ago, to now.
        let groups = first_plan(&posts, &subscribers, day(14));
        assert_eq!(
            shape(&groups),
            vec![(
                days(&[8, 9, 10, 11, 12, 13, 14]),
                emails(&["a@e.org", "b@e.org"])
            )],
            "one rendering for both; the daily subscriber is not in it"
        );
        assert_eq!(identity(&groups[0]).lines().count(), 8);
    }

    #[test]
    fn tags_apply_per_post_and_make_groups_of_their_own() {
        let posts = posts();
        let subscribers = list(vec![
            weekly("all@e.org", &[]),
            weekly("vision@e.org", &["vision"]),
            weekly("also-vision@e.org", &["Vision"]),
            weekly("nothing@e.org", &["cooking"]),
        ]);
        let groups = first_plan(&posts, &subscribers, day(14));
        assert_eq!(
            shape(&groups),
            vec![
                (days(&[8, 9, 10, 11, 12, 13, 14]), emails(&["all@e.org"])),
                (
                    days(&[8, 10, 12, 14]),
                    emails(&["vision@e.org", "also-vision@e.org"])
                ),
            ],
            "no roll-up for a subscriber owed nothing"
        );
    }

    #[test]
    fn a_post_had_by_the_daily_mail_or_a_rollup_is_never_sent_again() {
        let posts = posts();
        let subscribers = list(vec![weekly("switched@e.org", &[]), weekly("w@e.org", &[])]);
        let mut history = RollupHistory::default();
        // Daily until day 10, then weekly.
        had(
            &mut history,
            "switched@e.org",
            &[7, 8, 9, 10],
            true,
            &Outcome::Delivered,
        );
        // Last week's roll-up (day 7 at noon) held days 1 to 7.
        history.last.insert("w@e.org".into(), day(7));
        had(
            &mut history,
            "w@e.org",
            &[1, 2, 3, 4, 5, 6, 7],
            false,
            &Outcome::Delivered,
        );
        let groups = plan(&posts, &subscribers, &history, day(14), false);
        assert_eq!(
            shape(&groups),
            vec![
                (days(&[11, 12, 13, 14]), emails(&["switched@e.org"])),
                (days(&[8, 9, 10, 11, 12, 13, 14]), emails(&["w@e.org"]))
            ]
        );
        // A second run right after the roll-ups went out: nothing.
        for who in ["switched@e.org", "w@e.org"] {
            history.last.insert(who.into(), day(14));
            had(
                &mut history,
                who,
                &[8, 9, 10, 11, 12, 13, 14],
                false,
                &Outcome::Delivered,
            );
        }
        assert!(plan(&posts, &subscribers, &history, day(14), false).is_empty());
    }

    #[test]
    fn a_post_added_late_goes_into_the_next_rollup() {
        // The roll-up of day 14 went out before day 13's post was pushed.
        let posts = posts();
        let subscribers = list(vec![weekly("w@e.org", &[])]);
        let mut history = RollupHistory::default();
        history.last.insert("w@e.org".into(), day(14));
        had(
            &mut history,
            "w@e.org",
            &[8, 9, 10, 11, 12, 14],
            false,
            &Outcome::Delivered,
        );
        let groups = plan(&posts, &subscribers, &history, day(15), false);
        assert_eq!(shape(&groups), vec![(days(&[13]), emails(&["w@e.org"]))]);
    }

    #[test]
    fn a_refused_rollup_is_sent_again_only_when_failures_are_retried() {
        let posts = posts();
        let subscribers = list(vec![weekly("gone@e.org", &[])]);
        let mut history = RollupHistory::default();
        history.last.insert("gone@e.org".into(), day(14));
        let refused = Outcome::Failed("550 mailbox full".into());
        had(
            &mut history,
            "gone@e.org",
            &[8, 9, 10, 11, 12, 13, 14],
            false,
            &refused,
        );
        assert!(plan(&posts, &subscribers, &history, day(14), false).is_empty());
        let groups = plan(&posts, &subscribers, &history, day(14), true);
        assert_eq!(shape(&groups)[0].0.len(), 7);
    }

    #[test]
    fn a_reader_back_after_months_gets_at_most_eight_weeks() {
        let posts: Vec<Post> = (1..=28).rev().map(|d| post(d, "")).collect();
        let subscribers = list(vec![weekly("back@e.org", &[])]);
        let mut history = RollupHistory::default();
        // Their last roll-up was a year before day 1.
        history
            .last
            .insert("back@e.org".into(), day(1) - 365 * 86_400);
        let now = day(1) + LOOKBACK + 3_600;
        let groups = plan(&posts, &subscribers, &history, now, false);
        let days: Vec<String> = shape(&groups)[0].0.clone();
        assert_eq!(
            days.first().map(String::as_str),
            Some("2"),
            "day 1 is over eight weeks old"
        );
        assert_eq!(days.len(), 27);
    }

    #[test]
    fn a_post_of_the_future_waits() {
        let posts = posts();
        let subscribers = list(vec![weekly("w@e.org", &[])]);
        // At noon on day 10, days 11 to 14 are not out yet.
        let groups = first_plan(&posts, &subscribers, day(10));
        assert_eq!(
            shape(&groups),
            vec![(days(&[4, 5, 6, 7, 8, 9, 10]), emails(&["w@e.org"]))]
        );
    }
}
