//! The planner alone: posts, subscribers and a history in, a plan out.

use std::path::Path;

use super::*;
use crate::post::{self, Rules};

fn post(name: &str, title: &str, tags: &str) -> Post {
    let rules = Rules {
        site_url: "https://e.org".into(),
        zone: jiff::tz::TimeZone::UTC,
        ..crate::post::test_rules()
    };
    let text = format!("---\ntitle: {title}\ntags: [{tags}]\n---\nBody\n");
    post::parse(Path::new(&format!("_posts/{name}.md")), &text, &rules).unwrap()
}

/// Newest first, as the posts folder gives them.
fn posts() -> Vec<Post> {
    vec![
        post("2025-01-03-c", "C", "papers"),
        post("2025-01-02-b", "B", "papers"),
        post("2025-01-01-a", "A", "news"),
    ]
}

/// A list of `(address, tags)`.
fn list<const N: usize>(people: [(&str, &[&str]); N]) -> Subscribers {
    let mut list = Subscribers::default();
    for (email, tags) in people {
        list.push(email, "", tags, crate::config::Cadence::Daily)
            .unwrap();
    }
    list
}

fn mailed(post: &Post, completed: bool) -> MailedPost {
    MailedPost {
        id: 0,
        url: post.key.clone(),
        title: post.title.clone(),
        published_at: String::new(),
        published_ts: post.date.timestamp().as_second(),
        completed,
    }
}

/// A post the state knows: whether it is finished, and its recipients' outcomes.
type Known<'a> = (&'a Post, bool, &'a [(&'a str, Ended)]);

fn history(entries: &[Known]) -> History {
    History {
        mailed: entries
            .iter()
            .map(|(post, done, _)| mailed(post, *done))
            .collect(),
        deliveries: entries
            .iter()
            .map(|(post, _, outcomes)| {
                let outcomes = outcomes.iter().map(|(a, o)| (*a, *o));
                (post.key.clone(), Outcomes::of(outcomes))
            })
            .collect(),
    }
}

/// Each delivery as (title, recipients, not wanted).
fn shape(plan: &[Delivery]) -> Vec<(String, Vec<String>, usize)> {
    plan.iter()
        .map(|d| {
            let to = d.recipients.iter().map(|s| s.email().to_string()).collect();
            (d.post.title.clone(), to, d.not_wanted)
        })
        .collect()
}

fn plan_of(
    posts: &[Post],
    selected: Option<&Post>,
    subscribers: &Subscribers,
    history: &History,
    retry_failed: bool,
) -> Vec<(String, Vec<String>, usize)> {
    shape(&plan(posts, selected, subscribers, history, retry_failed))
}

#[test]
fn a_first_run_sends_only_the_newest_post() {
    let subscribers = list([("a@e.org", &[]), ("b@e.org", &[])]);
    assert_eq!(
        plan_of(&posts(), None, &subscribers, &History::default(), false),
        [("C".into(), vec!["a@e.org".into(), "b@e.org".into()], 0)]
    );
}

#[test]
fn an_unfinished_post_resumes_with_those_still_owed_and_newer_posts_follow() {
    let posts = posts();
    let subscribers = list([("a@e.org", &[]), ("b@e.org", &[])]);
    let history = history(&[
        (&posts[2], true, &[]),
        (&posts[1], false, &[("a@e.org", Ended::Delivered)]),
    ]);
    assert_eq!(
        plan_of(&posts, None, &subscribers, &history, false),
        [
            ("B".into(), vec!["b@e.org".into()], 0),
            ("C".into(), vec!["a@e.org".into(), "b@e.org".into()], 0),
        ]
    );
}

#[test]
fn a_finished_post_is_not_sent_again_even_when_edited_and_older_new_posts_wait() {
    let mut posts = posts();
    posts[1].title = "B, edited".into();
    let subscribers = list([("a@e.org", &[])]);
    // B went out; A (older, never mailed) is not sent: only posts from the newest mailed on.
    let history = history(&[(&posts[1], true, &[("a@e.org", Ended::Delivered)])]);
    assert_eq!(
        plan_of(&posts, None, &subscribers, &history, false),
        [("C".into(), vec!["a@e.org".into()], 0)]
    );
    let everything_sent = history_with_all_sent(&posts[..1]);
    assert!(plan_of(&posts[..1], None, &subscribers, &everything_sent, false).is_empty());
}

fn history_with_all_sent(posts: &[Post]) -> History {
    let entries: Vec<Known> = posts.iter().map(|p| (p, true, &[][..])).collect();
    history(&entries)
}

#[test]
fn retry_failed_takes_only_the_refused_recipients_of_finished_posts() {
    let posts = posts();
    let subscribers = list([("a@e.org", &[]), ("b@e.org", &[])]);
    let failed = Ended::Failed;
    let history = history(&[
        (
            &posts[1],
            true,
            &[("a@e.org", Ended::Delivered), ("b@e.org", failed)],
        ),
        (
            &posts[0],
            true,
            &[("a@e.org", Ended::Delivered), ("b@e.org", Ended::Delivered)],
        ),
    ]);
    assert!(plan_of(&posts, None, &subscribers, &history, false).is_empty());
    assert_eq!(
        plan_of(&posts, None, &subscribers, &history, true),
        [("B".into(), vec!["b@e.org".into()], 0)]
    );
}

#[test]
fn tags_leave_out_who_does_not_want_the_post() {
    let posts = posts();
    let subscribers = list([
        ("all@e.org", &[]),
        ("papers@e.org", &["PAPERS"]),
        ("news@e.org", &["news"]),
    ]);
    assert_eq!(
        plan_of(&posts, None, &subscribers, &History::default(), false),
        [(
            "C".into(),
            vec!["all@e.org".into(), "papers@e.org".into()],
            1
        )]
    );
    assert_eq!(
        plan_of(
            &posts,
            Some(&posts[2]),
            &subscribers,
            &History::default(),
            false
        ),
        [("A".into(), vec!["all@e.org".into(), "news@e.org".into()], 1)]
    );
}

#[test]
fn a_selected_post_goes_to_whoever_has_not_had_it() {
    let posts = posts();
    let subscribers = list([("a@e.org", &[]), ("b@e.org", &[])]);
    let history = history(&[(
        &posts[2],
        true,
        &[("A@E.org".to_lowercase().as_str(), Ended::Delivered)],
    )]);
    assert_eq!(
        plan_of(&posts, Some(&posts[2]), &subscribers, &history, false),
        [("A".into(), vec!["b@e.org".into()], 0)]
    );
}

#[test]
fn posts_sharing_a_url_are_each_mailed_once() {
    // Jekyll builds every `/posts/daily-papers/`; each is its own post here.
    let shared: Vec<Post> = ["2025-01-03-c", "2025-01-02-b", "2025-01-01-a"]
        .into_iter()
        .map(|name| {
            let mut post = post(name, name, "");
            post.url = "https://e.org/posts/daily-papers/".into();
            post.key = post.url.clone();
            post
        })
        .collect();
    let now = jiff::Timestamp::from_second(1_900_000_000).unwrap();
    let posts = post::published(shared, now);
    let keys: std::collections::HashSet<&str> = posts.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys.len(), 3);
    let subscribers = list([("a@e.org", &[])]);
    // The oldest was mailed: the two after it are owed, each once.
    let history = History {
        mailed: vec![mailed(&posts[2], true)],
        deliveries: HashMap::new(),
    };
    assert_eq!(
        plan_of(&posts, None, &subscribers, &history, false),
        [
            ("2025-01-02-b".into(), vec!["a@e.org".into()], 0),
            ("2025-01-03-c".into(), vec!["a@e.org".into()], 0)
        ]
    );
    let history = history_with_all_sent(&posts);
    assert!(plan_of(&posts, None, &subscribers, &history, false).is_empty());
}

#[test]
fn a_mailed_post_whose_url_changed_is_not_mailed_again() {
    let posts = posts();
    let subscribers = list([("a@e.org", &[])]);
    let mut history = history_with_all_sent(&posts);
    // Every URL moved (a new site.url), or one file renamed: the same posts.
    for m in &mut history.mailed {
        m.url = m.url.replace("https://e.org", "https://old.example");
    }
    assert!(plan_of(&posts, None, &subscribers, &history, false).is_empty());
    let mut renamed = posts.clone();
    renamed[0].url = "https://e.org/2025/01/03/c-renamed.html".into();
    renamed[0].key = renamed[0].url.clone();
    let history = history_with_all_sent(&posts);
    assert!(plan_of(&renamed, None, &subscribers, &history, false).is_empty());
    // A new post on the same instant as a mailed one that is still there is new.
    let mut same_day = posts.clone();
    let mut twin = posts[0].clone();
    twin.url = "https://e.org/2025/01/03/twin.html".into();
    twin.key = twin.url.clone();
    twin.title = "Twin".into();
    same_day.insert(0, twin);
    assert_eq!(
        plan_of(&same_day, None, &subscribers, &history, false),
        [("Twin".into(), vec!["a@e.org".into()], 0)]
    );
}
