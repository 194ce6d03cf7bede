//! `digest-feed check`: every problem in the config, the posts, the email
//! templates and the subscribers, not just the first.

use super::cli::CheckArgs;
use super::report::Report;
use crate::config::{Config, ItemKind, PaperShape};
use crate::email::Design;
use crate::error::{Error, Problem};
use crate::list::subscribers;
use crate::post::Rules;
use crate::posts_folder;
use crate::text;

/// Everything `mail` reads: `[email]`, the templates, the subscribers,
/// `[smtp]`; their problems into `problems`; how many subscribers.
fn check_mail(config: &Config, problems: &mut Vec<Problem>, report: Report) -> usize {
    let mut subscribers = 0;
    match config.email() {
        Ok(email) => {
            if let Err(mut more) = Design::load(config, email) {
                problems.append(&mut more);
            }
            match subscribers::load(config) {
                Ok(list) => {
                    subscribers = list.len();
                    warn_smtputf8(&list, report);
                }
                Err(mut more) => problems.append(&mut more),
            }
        }
        Err(mut more) => problems.append(&mut more),
    }
    if let Err(mut more) = config.smtp() {
        problems.append(&mut more);
    }
    subscribers
}

/// Runs `check` on an already-valid config; config problems stop earlier.
pub(super) fn run(config: &Config, args: &CheckArgs, report: Report) -> Result<(), Error> {
    let posts_dir = args
        .posts
        .clone()
        .unwrap_or_else(|| config.posts.dir.clone());
    let posts_folder::Loaded {
        posts: visible,
        mut problems,
        files: total,
        ignored,
        ..
    } = posts_folder::load_published(
        &posts_dir,
        &Rules::from_config(config),
        posts_folder::cutoff(config),
    )?;
    let papers = config.feed.items == ItemKind::Papers;
    let mails = config.mails();
    note_what_jekyll_would(&ignored, &visible, report);
    let found_papers = render_posts(config, &visible, &mut problems, report);
    problems.extend(super::build::tag_problems(config, &visible));
    // A feeds-only site sets nothing of [email]; once it names a sender or
    // subscribers, everything `mail` reads is checked too.
    let subscribers = if mails {
        check_mail(config, &mut problems, report)
    } else {
        0
    };
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    warn_committed_subscribers(config, report);
    if let Some(advice) = super::links::jekyll_feed_advice(config) {
        report.warning(advice);
    }
    for path in config.published_private_files() {
        report.warning(format!(
            "{}: `jekyll build` would publish it with the blog; move it into {}/ (Jekyll skips \
             folders that start with `_`) or add it to `exclude` in _config.yml",
            path.display(),
            crate::config::JEKYLL_FOLDER
        ));
    }
    report.result(format!(
        "{}: config and {} are valid ({} published now{}){}",
        config.path.display(),
        text::count(total, "post file"),
        visible.len(),
        if papers {
            format!(", {}", text::count(found_papers, "paper"))
        } else {
            String::new()
        },
        if mails {
            format!(
                "; email templates compile; {}",
                text::count(subscribers, "subscriber")
            )
        } else {
            String::new()
        }
    ));
    Ok(())
}

/// Renders every post, as `build` and `mail` would: a post that cannot be
/// rendered is a problem; what rendering warns of is a warning; with `-v`,
/// each post's papers and their shape. Returns how many papers were found.
fn render_posts(
    config: &Config,
    visible: &[crate::post::Post],
    problems: &mut Vec<Problem>,
    report: Report,
) -> usize {
    // Rendering fails only on absurd nesting, but check promises every
    // problem; and it says what rendering warns of (a plugin's Liquid tag,
    // a post where papers mode finds no paper).
    let papers = config.feed.items == ItemKind::Papers;
    let mails = config.mails();
    let mut found_papers = 0;
    for post in visible {
        match posts_folder::read(&post.source).and_then(|text| post.render(&text)) {
            Ok(rendered) => {
                for warning in &rendered.warnings {
                    report.warning(warning.to_string());
                }
                if mails && rendered.html.len() > crate::email::MAX_BODY_BYTES {
                    report.warning(format!(
                        "{}: its HTML is {}, over the 512 KB an email carries: `mail` and \
                         `preview` refuse it (its feeds are fine); shorten it or split it",
                        post.source.display(),
                        text::size(rendered.html.len())
                    ));
                }
                if let Some(shape) = rendered.paper_shape {
                    report.detail(format!(
                        "{}: {} ({})",
                        post.source.display(),
                        text::count(rendered.papers.len(), "paper"),
                        shape_name(shape)
                    ));
                    found_papers += rendered.papers.len();
                } else if papers {
                    report.warning(format!(
                        "{}: feed.items = \"papers\" finds no paper in this post (no numbered headings \
                         like `## 1. Title`, bold numbers like `**1. Title**`, ordered list of links or \
                         headings that are one link)",
                        post.source.display()
                    ));
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    found_papers
}

/// How `check -v` names the shape a post's papers were found in.
fn shape_name(shape: PaperShape) -> &'static str {
    match shape {
        PaperShape::Headings => "numbered headings",
        PaperShape::Bold => "bold numbers",
        PaperShape::List => "ordered list",
        PaperShape::Links => "link headings",
        PaperShape::Auto => "any shape",
    }
}

/// What Jekyll would say of the posts folder and does not stop a build:
/// files it does not read as posts, posts sharing a URL, keys written twice.
fn note_what_jekyll_would(
    ignored: &[std::path::PathBuf],
    visible: &[crate::post::Post],
    report: Report,
) {
    for path in ignored {
        report.warning(format!(
            "{}: not a post: Jekyll reads only files named YYYY-MM-DD-title in _posts, so it is left out",
            path.display()
        ));
    }
    for note in visible.iter().flat_map(|post| &post.notes) {
        report.warning(note.to_string());
    }
}

/// Names the subscribers whose address needs a server offering SMTPUTF8.
/// A blog kept in git (most are, and GitHub Pages' are public) commits its
/// config with it: `[[subscribers]]` there would publish every address.
fn warn_committed_subscribers(config: &Config, report: Report) {
    let Some(first) = config.subscribers.entries.first() else {
        return;
    };
    if config
        .blog_root()
        .is_some_and(|root| root.join(".git").exists())
    {
        report.warning(format!(
            "{}: [[subscribers]] in the config are committed with the blog, and a public repository shows \
             every address; move them into a CSV file ([email] subscribers_file = \"subscribers.csv\", header \
             row email,name,tags), which init's .gitignore keeps out of git",
            first.location
        ));
    }
}

fn warn_smtputf8(list: &subscribers::Subscribers, report: Report) {
    let utf8: Vec<&str> = list
        .iter()
        .map(subscribers::Subscriber::email)
        .filter(|email| crate::address::needs_smtputf8(email))
        .collect();
    if !utf8.is_empty() {
        report.warning(format!(
            "{} subscribers can be mailed only through a server that offers SMTPUTF8 \
             (elsewhere each fails, the rest are sent): {}",
            utf8.len(),
            utf8.join(", ")
        ));
    }
}
