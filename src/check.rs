//! `digest-feed check`: every problem in the config and the posts, not just the first.

use crate::cli::CheckArgs;
use crate::config::Config;
use crate::error::{Error, Problem};
use crate::post::{self, Rules};
use crate::posts_folder;
use crate::report::Report;

/// Runs `check` on an already-valid config; config problems stop earlier.
pub fn run(config: &Config, args: &CheckArgs, report: Report) -> Result<(), Error> {
    let posts_dir = args
        .posts
        .clone()
        .unwrap_or_else(|| config.posts.dir.clone());
    let loaded = posts_folder::load(&posts_dir, &Rules::from_config(config))?;
    let total = loaded.posts.len() + loaded.problems.len();
    let (visible, duplicates) = post::published(loaded.posts, jiff::Timestamp::now());
    let mut problems: Vec<Problem> = loaded.problems.into_iter().chain(duplicates).collect();
    // Rendering fails only on absurd nesting, but check promises every problem.
    for post in &visible {
        if let Err(problem) =
            posts_folder::read(&post.source).and_then(|text| post.render(&text).map(drop))
        {
            problems.push(problem);
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    report.result(format!(
        "{}: config and {} post files are valid ({} published now)",
        config.path.display(),
        total,
        visible.len()
    ));
    Ok(())
}
