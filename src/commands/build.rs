//! `digest-feed build`: posts in, three feeds (and per-tag feeds) out.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::cli::BuildArgs;
use super::report::Report;
use crate::config::{Config, ItemKind};
use crate::error::Error;
use crate::feed::{self, Channel, Item, Person};
use crate::output::{self, Written};
use crate::post::{Post, Rendered, Rules, permalink};
use crate::posts_folder;

/// Runs `build`.
pub(super) fn run(config: &Config, args: &BuildArgs, report: Report) -> Result<(), Error> {
    let posts_dir = args
        .posts
        .clone()
        .unwrap_or_else(|| config.posts.dir.clone());
    let out_dir = args.out.clone().unwrap_or_else(|| config.feed.out.clone());
    let rules = Rules::from_config(config);
    let posts_folder::Loaded {
        posts, problems, ..
    } = posts_folder::load_published(&posts_dir, &rules, posts_folder::cutoff(config))?;
    if !problems.is_empty() {
        if !args.skip_invalid {
            return Err(Error::Invalid(problems));
        }
        for problem in &problems {
            report.warning(format!("{problem} (skipped)"));
        }
    }
    report.detail(format!(
        "{} published posts in {}",
        posts.len(),
        posts_dir.display()
    ));

    let mut renderer = Renderer {
        skip_invalid: args.skip_invalid,
        report,
        cache: HashMap::new(),
    };
    let mut outputs: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let main = channel(config, "", &config.site.title, &posts, &mut renderer)?;
    let main_items = main.items.len();
    for (name, bytes) in feed::render_all(&main)? {
        outputs.push((out_dir.join(name), bytes));
    }
    let mut tag_feeds = 0;
    if config.feed.per_tag {
        for (slug, (tag, tagged)) in posts_by_tag(&posts, report) {
            let folder = format!("tags/{slug}/");
            let title = format!("{} — {tag}", config.site.title);
            let channel = channel(config, &folder, &title, &tagged, &mut renderer)?;
            for (name, bytes) in feed::render_all(&channel)? {
                outputs.push((out_dir.join(&folder).join(name), bytes));
            }
            tag_feeds += 1;
        }
    }

    // Every output was rendered before the first is written: a failure above
    // leaves all of the previous outputs in place.
    let changed = write_all(&outputs, report)?;
    let kind = match config.feed.items {
        ItemKind::Posts => "posts",
        ItemKind::Papers => "papers",
    };
    report.detail(format!(
        "rendered {} of {} posts",
        renderer.cache.len(),
        posts.len()
    ));
    report.result(format!(
        "Feeds in {}: {}, {}, {} ({main_items} {kind}; {changed} of {} files changed)",
        if out_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &out_dir
        }
        .display(),
        out_dir.join(feed::RSS_FILE).display(),
        out_dir.join(feed::ATOM_FILE).display(),
        out_dir.join(feed::JSON_FILE).display(),
        outputs.len(),
    ));
    if tag_feeds > 0 {
        report.result(format!(
            "Per-tag feeds for {tag_feeds} tags in {}",
            out_dir.join("tags").display()
        ));
    }
    Ok(())
}

/// Writes every output; how many changed.
fn write_all(outputs: &[(PathBuf, Vec<u8>)], report: Report) -> Result<usize, Error> {
    let mut changed = 0;
    for (path, bytes) in outputs {
        let written = output::write_atomically(path, bytes)?;
        if written == Written::Changed {
            changed += 1;
        }
        report.detail(format!(
            "{} {}",
            if written == Written::Changed {
                "wrote"
            } else {
                "unchanged"
            },
            path.display()
        ));
    }
    Ok(changed)
}

/// Renders each post at most once, however many feeds it is in.
struct Renderer {
    skip_invalid: bool,
    report: Report,
    /// `None` for a post that failed and was skipped.
    cache: HashMap<PathBuf, Option<Rendered>>,
}

impl Renderer {
    /// The rendered post; `None` when it failed and `--skip-invalid` skips it.
    fn render(&mut self, post: &Post) -> Result<Option<&Rendered>, Error> {
        if !self.cache.contains_key(&post.source) {
            let rendered =
                match posts_folder::read(&post.source).and_then(|text| post.render(&text)) {
                    Ok(rendered) => Some(rendered),
                    Err(problem) if self.skip_invalid => {
                        self.report.warning(format!("{problem} (skipped)"));
                        None
                    }
                    Err(problem) => return Err(problem.into()),
                };
            self.cache.insert(post.source.clone(), rendered);
        }
        Ok(self.cache[&post.source].as_ref())
    }
}

/// A channel of the newest `feed.limit` items from `posts` (newest first).
fn channel(
    config: &Config,
    folder: &str,
    title: &str,
    posts: &[Post],
    renderer: &mut Renderer,
) -> Result<Channel, Error> {
    let limit = config.feed.limit;
    let mut items: Vec<Item> = Vec::with_capacity(limit);
    for post in posts {
        if items.len() >= limit {
            break;
        }
        let Some(body) = renderer.render(post)? else {
            continue;
        };
        items.extend(
            feed::items_for(post, body, config.feed.items)
                .into_iter()
                .take(limit - items.len()),
        );
    }
    let home_url = format!("{}/", config.site.url);
    Ok(Channel {
        title: title.to_string(),
        description: config.site.description.clone(),
        language: config.site.language.clone(),
        base_url: format!("{home_url}{}{folder}", config.feed.url_path),
        home_url,
        author: Person::parse(&config.site.author),
        items,
    })
}

/// Posts grouped by tag slug (Jekyll's default slugify), in slug order,
/// each group newest first; the first spelling seen names the tag.
fn posts_by_tag(posts: &[Post], report: Report) -> BTreeMap<String, (String, Vec<Post>)> {
    let mut groups: BTreeMap<String, (String, Vec<Post>)> = BTreeMap::new();
    for post in posts {
        let mut slugs: Vec<String> = Vec::new();
        for tag in &post.tags {
            let slug = permalink::slugify(tag);
            if slug.is_empty() {
                report.warning(format!(
                    "{}: tag {tag:?} has no letters or digits to name a folder; it gets no feed",
                    post.source.display()
                ));
            } else if !slugs.contains(&slug) {
                slugs.push(slug.clone());
                groups
                    .entry(slug)
                    .or_insert_with(|| (tag.clone(), Vec::new()))
                    .1
                    .push(post.clone());
            }
        }
    }
    groups
}
