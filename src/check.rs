//! `digest-feed check`: every problem in the config, the posts, the email
//! templates and the subscribers, not just the first.

use crate::cli::CheckArgs;
use crate::config::Config;
use crate::error::Error;
use crate::mail;
use crate::post::Rules;
use crate::posts_folder;
use crate::report::Report;

/// Runs `check` on an already-valid config; config problems stop earlier.
pub fn run(config: &Config, args: &CheckArgs, report: Report) -> Result<(), Error> {
    let posts_dir = args
        .posts
        .clone()
        .unwrap_or_else(|| config.posts.dir.clone());
    let posts_folder::Loaded {
        posts: visible,
        mut problems,
        files: total,
    } = posts_folder::load_published(
        &posts_dir,
        &Rules::from_config(config),
        jiff::Timestamp::now(),
    )?;
    // Rendering fails only on absurd nesting, but check promises every problem.
    for post in &visible {
        if let Err(problem) =
            posts_folder::read(&post.source).and_then(|text| post.render(&text).map(drop))
        {
            problems.push(problem);
        }
    }
    // A feeds-only site sets nothing of [email]; once it names a sender or
    // subscribers, everything `mail` reads is checked too.
    let mails = config.email.from.is_some()
        || !config.subscribers.is_empty()
        || config.email.subscribers_file.is_some();
    let mut subscribers = 0;
    if mails {
        match mail::setup(config) {
            Ok(setup) => subscribers = setup.subscribers.len(),
            Err(mut more) => problems.append(&mut more),
        }
        problems.extend(mail::transport::check_settings(config, false));
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    report.result(format!(
        "{}: config and {} post files are valid ({} published now){}",
        config.path.display(),
        total,
        visible.len(),
        if mails {
            format!("; email templates compile; {subscribers} subscribers")
        } else {
            String::new()
        }
    ));
    Ok(())
}
