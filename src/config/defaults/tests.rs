//! Which sets apply to a post, which wins, and what a wrong one says.

use std::path::Path;

use super::*;
use crate::config::jekyll;

const BLOG: &str = "/blog";

fn defaults(yaml: &str) -> Result<FrontMatterDefaults, Vec<String>> {
    let config =
        jekyll::parse(yaml).map_err(|(line, message)| vec![format!("{line:?}: {message}")])?;
    read(
        &config.defaults.0,
        Path::new(BLOG),
        Path::new("blog/_config.yml"),
    )
    .map_err(|problems| problems.iter().map(ToString::to_string).collect())
}

/// The defaults of the post at `path` below the blog.
fn of(defaults: &FrontMatterDefaults, path: &str) -> DefaultValues {
    defaults.for_post(&Path::new(BLOG).join(path))
}

fn author(defaults: &FrontMatterDefaults, path: &str) -> Option<String> {
    of(defaults, path).author
}

#[test]
fn a_path_covers_what_starts_with_it_as_text() {
    let set = defaults(
        "defaults:\n  - scope: {path: _posts/news}\n    values: {author: News}\n  - scope: {path: /_posts}\n    values: {author: Slash}\n",
    )
    .unwrap();
    assert_eq!(
        author(&set, "_posts/news/2025-01-01-a.md").as_deref(),
        Some("News")
    );
    // The start of the text, not of a folder: Jekyll's `start_with?`.
    assert_eq!(
        author(&set, "_posts/newsletter/2025-01-01-a.md").as_deref(),
        Some("News")
    );
    // A leading `/` is kept in the comparison: it covers nothing.
    assert_eq!(author(&set, "_posts/2025-01-01-a.md"), None);
    // A post outside the blog: only sets for every file.
    assert_eq!(
        set.for_post(Path::new("/elsewhere/_posts/news/a.md"))
            .author,
        None
    );
}

#[test]
fn a_type_other_than_posts_never_applies() {
    let set = defaults(
        "defaults:\n  - scope: {path: '', type: pages}\n    values: {author: Page}\n  - scope: {type: drafts}\n    values: {tags: [draft]}\n  - scope: {path: '', type: post}\n    values: {category: Old name}\n",
    )
    .unwrap();
    let values = of(&set, "_posts/2025-01-01-a.md");
    assert_eq!((values.author, values.tags), (None, None));
    assert_eq!(values.category, Some(vec!["Old name".to_string()]));
}

#[test]
fn the_more_specific_scope_wins_whatever_the_order() {
    let set = defaults(concat!(
        "defaults:\n",
        "  - scope: {path: _posts/news}\n    values: {author: Deep}\n",
        "  - scope: {path: _posts}\n    values: {author: Shallow, slug: s}\n",
        "  - scope: {path: ''}\n    values: {author: Everyone, title: T}\n",
    ))
    .unwrap();
    let deep = of(&set, "_posts/news/2025-01-01-a.md");
    assert_eq!(deep.author.as_deref(), Some("Deep"));
    // A key only a weaker set has still comes through.
    assert_eq!(
        (deep.slug.as_deref(), deep.title.as_deref()),
        (Some("s"), Some("T"))
    );
    assert_eq!(
        author(&set, "_posts/2025-01-01-a.md").as_deref(),
        Some("Shallow")
    );
}

#[test]
fn of_two_as_long_the_typed_then_the_later_wins() {
    let set = defaults(concat!(
        "defaults:\n",
        "  - scope: {path: _posts, type: posts}\n    values: {author: Typed}\n",
        "  - scope: {path: _posts}\n    values: {author: Untyped}\n",
        "  - scope: {path: /_posts/, type: posts}\n    values: {tags: [later]}\n",
    ))
    .unwrap();
    assert_eq!(
        author(&set, "_posts/2025-01-01-a.md").as_deref(),
        Some("Typed")
    );
    let set = defaults(concat!(
        "defaults:\n",
        "  - scope: {path: _posts}\n    values: {author: First}\n",
        "  - scope: {path: _posts}\n    values: {author: Second}\n",
    ))
    .unwrap();
    assert_eq!(
        author(&set, "_posts/2025-01-01-a.md").as_deref(),
        Some("Second")
    );
}

#[test]
fn a_later_set_merges_under_the_last_winner_not_the_first() {
    // Jekyll's `all` compares each set with the last one that won, not with
    // the one that set the key: C is weaker than B, so A's author stays.
    let set = defaults(concat!(
        "defaults:\n",
        "  - scope: {path: ''}\n    values: {author: A}\n",
        "  - scope: {path: _posts}\n    values: {tags: [b]}\n",
        "  - scope: {path: ''}\n    values: {author: C, slug: c}\n",
    ))
    .unwrap();
    let values = of(&set, "_posts/2025-01-01-x.md");
    assert_eq!(values.author.as_deref(), Some("A"));
    assert_eq!(values.slug.as_deref(), Some("c"));
    assert_eq!(values.tags, Some(vec!["b".to_string()]));
}

#[test]
fn globs_match_a_folder_or_the_post() {
    let set = defaults(concat!(
        "defaults:\n",
        "  - scope: {path: '_posts/*/drafts'}\n    values: {published: false}\n",
        "  - scope: {path: '_posts/**/2025-*-special.md'}\n    values: {author: Special}\n",
        "  - scope: {path: '_posts/?*ews/'}\n    values: {tags: news}\n",
    ))
    .unwrap();
    assert_eq!(
        of(&set, "_posts/ml/drafts/2025-01-01-a.md").published,
        Some(false)
    );
    assert_eq!(of(&set, "_posts/drafts/2025-01-01-a.md").published, None);
    assert_eq!(
        author(&set, "_posts/2025-01-01-special.md").as_deref(),
        Some("Special")
    );
    assert_eq!(
        author(&set, "_posts/a/b/2025-02-01-special.md").as_deref(),
        Some("Special")
    );
    assert_eq!(author(&set, "_posts/2024-02-01-special.md"), None);
    assert_eq!(
        of(&set, "_posts/news/2025-01-01-a.md").tags,
        Some(vec!["news".to_string()])
    );
    // A trailing `/` globs folders only.
    assert_eq!(of(&set, "_posts/news").tags, None);
    assert!(glob_name("a*b*c", "aXbYbZc") && !glob_name("a*b", "aXbY") && glob_name("*", ""));
}

#[test]
fn values_read_as_front_matter_reads_them() {
    let set = defaults(concat!(
        "defaults:\n",
        "  - scope: {path: ''}\n",
        "    values:\n",
        "      layout: post\n",
        "      image: /img/x.png\n",
        "      tags: one two\n",
        "      category: Big Data\n",
        "      categories: [ML, 2025]\n",
        "      published: no\n",
        "      render_with_liquid: false\n",
        "      excerpt_separator: <!--more-->\n",
        "      permalink: /news/:year/:title/\n",
        "      author: 7\n",
    ))
    .unwrap();
    let values = of(&set, "_posts/2025-01-01-a.md");
    assert_eq!(values.tags, Some(vec!["one".into(), "two".into()]));
    assert_eq!(values.category, Some(vec!["Big Data".into()]));
    assert_eq!(values.categories, Some(vec!["ML".into(), "2025".into()]));
    assert_eq!(
        (values.published, values.render_with_liquid),
        (Some(false), Some(false))
    );
    assert_eq!(values.excerpt_separator.as_deref(), Some("<!--more-->"));
    assert_eq!(values.permalink.as_deref(), Some("/news/:year/:title/"));
    assert_eq!(values.author.as_deref(), Some("7"));
    // A theme's keys: no setting, but Liquid's `page.*` has them.
    assert_eq!(
        values.data[0],
        ("layout".to_string(), Data::Text("post".into()))
    );
    assert_eq!(values.data.len(), 10);
}

#[test]
fn another_types_values_are_not_checked() {
    // A collection's permalink has placeholders a post's has not.
    let set = defaults(
        "defaults:\n  - scope: {path: _docs, type: docs}\n    values: {permalink: '/:collection/:path/', date: 2025-01-01}\n",
    )
    .unwrap();
    assert!(set.is_empty());
}

#[test]
fn no_defaults_and_empty_ones_are_nothing() {
    assert!(defaults("title: x\n").unwrap().is_empty());
    assert!(defaults("defaults:\n").unwrap().is_empty());
    assert!(defaults("defaults: []\n").unwrap().is_empty());
}

#[test]
fn a_wrong_entry_names_the_file_line_and_key() {
    let err = defaults(concat!(
        "defaults:\n",
        "  - scope: {path: ''}\n",
        "    values:\n",
        "      layout: post\n",
        "      permalink: /:yaer/:title/\n",
        "      tags: {a: 1}\n",
        "      published: \"false\"\n",
        "      date: 2025-01-01\n",
        "  - scope:\n      path: [a]\n    values: {author: x}\n",
        "  - scope: _posts\n    values: {author: x}\n",
        "  - scope: {path: _posts}\n",
    ))
    .unwrap_err();
    assert_eq!(
        err,
        [
            "blog/_config.yml:5: defaults: entry 1: `permalink`: unknown placeholder `:yaer`; use :year, :month, :day, :title, :categories and the others Jekyll documents",
            "blog/_config.yml:6: defaults: entry 1: `tags`: must be a list like [a, b] or a space-separated string",
            "blog/_config.yml:7: defaults: entry 1: `published`: must be true or false, unquoted",
            "blog/_config.yml:8: defaults: entry 1: `date`: digest-feed does not read it from defaults; write it in each post's front matter",
            "blog/_config.yml:9: defaults: entry 2: `scope`'s `path` must be text, like `_posts/news`",
            "blog/_config.yml:12: defaults: entry 3: `scope` must be a mapping, like `scope: {path: _posts, type: posts}`",
            "blog/_config.yml:14: defaults: entry 4 has no `values`; give it `values:` with front matter keys, like `author: Kim`",
        ]
    );
}

#[test]
fn a_defaults_of_the_wrong_shape_is_refused_where_it_is() {
    let err = defaults("title: x\ndefaults:\n  scope: {path: ''}\n").unwrap_err();
    assert!(err[0].starts_with("Some(3): invalid type: map"), "{err:?}");
    assert!(
        err[0].contains("expected `defaults`: a list of entries"),
        "{err:?}"
    );
    let err = defaults("defaults:\n  - scope: {path: ''}\n    values: [a]\n").unwrap_err();
    assert!(
        err[0].contains("expected a `defaults` entry's `values`: a mapping"),
        "{err:?}"
    );
    let err = defaults("defaults:\n  - layout: post\n  - just text\n").unwrap_err();
    assert!(err[0].starts_with("Some(3): "), "{err:?}");
    assert!(
        err[0].contains("expected a `defaults` entry: a mapping"),
        "{err:?}"
    );
}

#[test]
fn a_post_is_named_by_its_path_in_the_blog() {
    let root = Path::new("/blog");
    let below = |source: &str| below(root, Path::new(source));
    assert_eq!(below("/blog/_posts/a.md").as_deref(), Some("_posts/a.md"));
    assert_eq!(
        below("/blog/_digest-feed/../_posts/./x/a.md").as_deref(),
        Some("_posts/x/a.md")
    );
    assert_eq!(below("/other/_posts/a.md"), None);
    let here = std::env::current_dir().unwrap();
    assert_eq!(
        super::below(&absolute(Path::new("")), Path::new("_posts/a.md")).as_deref(),
        Some("_posts/a.md")
    );
    assert_eq!(absolute(Path::new("")), here);
}
