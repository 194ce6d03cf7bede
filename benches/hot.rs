//! The hot pieces, measured by criterion (`cargo bench`): one post read into
//! its model (what `build` does for every post), one post rendered (what it
//! does for each post in a feed), and one email personalised and encoded
//! (what `mail` does for every recipient).

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use digest_feed::config::Config;
use digest_feed::email::{Design, Recipient};
use digest_feed::feed;
use digest_feed::mail::message::Letterhead;
use digest_feed::post::{self, Rules};

const POST: &str = include_str!("../example/_posts/2025-12-24-daily-papers.md");
const POST_PATH: &str = "_posts/2025-12-24-daily-papers.md";
const CONFIG: &str = r#"
[site]
title = "Daily Papers"
url = "https://papers.example.org"
timezone = "Asia/Seoul"

[email]
from = "Daily Papers <papers@example.org>"
"#;

fn post_pieces(c: &mut Criterion) {
    let config =
        Config::parse(CONFIG, Path::new("config.toml")).expect("the bench config is valid");
    let rules = Rules::from_config(&config);
    let path = Path::new(POST_PATH);
    c.bench_function("post: front matter to model", |b| {
        b.iter(|| post::parse(path, std::hint::black_box(POST), &rules).expect("valid post"));
    });
    let model = post::parse(path, POST, &rules).expect("valid post");
    c.bench_function("post: body rendered with its papers", |b| {
        b.iter(|| model.render(std::hint::black_box(POST)).expect("renders"));
    });
    c.bench_function("feed: RSS, Atom and JSON Feed of 20 posts", |b| {
        let rendered = model.render(POST).expect("renders");
        let one_post = feed::items_for(&model, &rendered, config.feed.items, None);
        let channel = feed::Channel {
            files: digest_feed::config::FeedFiles::default(),
            title: config.site.title.clone(),
            description: config.site.description.clone(),
            language: config.site.language.clone(),
            home_url: format!("{}/", config.site.url),
            base_url: format!("{}/", config.site.url),
            author: None,
            items: (0..20).flat_map(|_| one_post.clone()).take(20).collect(),
            quiet_since: model.date.clone(),
            hub: None,
        };
        b.iter(|| feed::render_all(std::hint::black_box(&channel)).expect("renders"));
    });
}

fn email_pieces(c: &mut Criterion) {
    // The mail setup reads the post from disk, as `mail` does.
    let site = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir_all(site.path().join("_posts")).expect("a posts folder");
    std::fs::write(site.path().join(POST_PATH), POST).expect("the post is written");
    let config_path = site.path().join("config.toml");
    let config = Config::parse(CONFIG, &config_path).expect("the bench config is valid");
    let email = config.email().expect("the [email] settings are valid");
    let design = Design::load(&config, email).expect("the templates compile");
    let letterhead = Letterhead::new(
        &email.from,
        &config.site.title,
        &config.site.url,
        email.dkim.as_ref(),
    )
    .expect("the sender is valid");
    let rules = Rules::from_config(&config);
    let model = post::parse(&site.path().join(POST_PATH), POST, &rules).expect("valid post");
    let rendered = model.render(POST).expect("renders");
    let prepared = design
        .prepare(&model, &rendered)
        .expect("the email renders");
    let recipient = Recipient {
        email: "kim@example.org".into(),
        name: "김철수".into(),
        token: String::new(),
    };
    c.bench_function("email: personalised and encoded for one recipient", |b| {
        b.iter(|| {
            let email = design
                .personalise(&prepared, std::hint::black_box(&recipient))
                .expect("personalises");
            letterhead
                .build(&recipient, email, "https://papers.example.org/post")
                .expect("encodes")
        });
    });
}

criterion_group!(benches, post_pieces, email_pieces);
criterion_main!(benches);
