//! The weekly roll-up's email (`mail --weekly`): several posts in one
//! message, headlines first (each post's title and its papers, linked),
//! then the posts whole. Its own templates (`weekly.html`, `weekly.txt`,
//! `[email] weekly_subject`), rendered by the same machinery as a post's
//! email: once per distinct set of posts, then personalised per recipient.

use serde::Serialize;

use super::PostContext;

/// The default HTML template of the roll-up, compiled in.
pub(super) const DEFAULT_HTML: &str = include_str!("../../templates/weekly.html");
/// The default plain-text template of the roll-up, compiled in.
pub(super) const DEFAULT_TEXT: &str = include_str!("../../templates/weekly.txt");
/// The roll-up's HTML template's file name in `email.templates`.
pub(super) const HTML_FILE: &str = "weekly.html";
/// The roll-up's text template's file name in `email.templates`.
pub(super) const TEXT_FILE: &str = "weekly.txt";

/// What the roll-up's templates see besides `site`, `words` and the
/// subscriber: `posts`, oldest first, and `week`.
#[derive(Debug, Clone, Serialize)]
pub struct RollupContext {
    /// The posts, oldest first, each as a post's email sees it.
    pub posts: Vec<PostContext>,
    /// The span the posts were published in.
    pub week: Week,
}

/// `week`: the days of the roll-up's first and last post.
#[derive(Debug, Clone, Serialize)]
pub struct Week {
    /// The first post's day, `YYYY-MM-DD`.
    pub start: String,
    /// The last post's day, `YYYY-MM-DD`.
    pub end: String,
    /// How many papers the posts hold together.
    pub papers: usize,
}

impl RollupContext {
    /// The roll-up of `posts` (any order: it is sorted oldest first).
    pub fn new(mut posts: Vec<PostContext>) -> Self {
        posts.sort_by(|a, b| a.date_iso.cmp(&b.date_iso).then(a.url.cmp(&b.url)));
        let day = |post: Option<&PostContext>| post.map(|p| p.date.clone()).unwrap_or_default();
        let week = Week {
            start: day(posts.first()),
            end: day(posts.last()),
            papers: posts.iter().map(|post| post.papers.len()).sum(),
        };
        RollupContext { posts, week }
    }

    /// What a run's lines call it: `the week of 2026-11-30 (7 posts)`.
    pub fn label(&self) -> String {
        format!(
            "the week of {} ({})",
            self.week.start,
            crate::text::count(self.posts.len(), "post")
        )
    }

    /// A roll-up of two sample posts, to find a template's errors at load.
    pub(super) fn sample(site_url: &str) -> Self {
        let post = |n: u32| PostContext {
            title: format!("Sample {n}"),
            date: format!("2025-01-0{n}"),
            date_iso: format!("2025-01-0{n}T00:00:00+00:00"),
            url: format!("{site_url}/sample-{n}.html"),
            ..super::sample_post(site_url)
        };
        RollupContext::new(vec![post(1), post(2)])
    }
}
