use super::*;
use crate::post;

fn site() -> SiteContext {
    SiteContext {
        title: "Daily Papers".into(),
        url: "https://papers.example.org".into(),
        description: "Daily summaries".into(),
        language: "ko".into(),
        author: "Papers Bot <papers@example.org>".into(),
    }
}

fn sources(html: &str, text: &str, subject: &str, unsubscribe: &str) -> TemplateSources {
    TemplateSources {
        html: Source::new("templates/email.html", html),
        text: Source::new("templates/email.txt", text),
        subject: Source::new("config.toml [email] subject", subject),
        list_unsubscribe: Source::new("config.toml [email] list_unsubscribe", unsubscribe),
    }
}

fn default_sources() -> TemplateSources {
    sources(
        DEFAULT_HTML,
        DEFAULT_TEXT,
        "[{{ site.title }}] {{ post.title }}",
        "https://papers.example.org/unsubscribe?email={{ subscriber.email | urlencode }}",
    )
}

fn example_post() -> PostContext {
    let text = include_str!("../../example/_posts/2025-12-24-daily-papers.md");
    let post = parse_post(text);
    let rendered = post.render(text).unwrap();
    PostContext::new(&post, &rendered)
}

/// `text` as the post file `_posts/2025-12-24-daily-papers.md`.
fn parse_post(text: &str) -> Post {
    let rules = crate::post::test_rules();
    let path = std::path::Path::new("_posts/2025-12-24-daily-papers.md");
    post::parse(path, text, &rules).unwrap()
}

fn reader(email: &str, name: &str) -> Recipient {
    Recipient {
        email: email.into(),
        name: name.into(),
        token: String::new(),
    }
}

#[test]
fn the_default_email_of_the_example_post() {
    let sources = default_sources();
    let templates = Templates::compile(&sources, site()).unwrap();
    let post = example_post();
    let prepared = templates.prepare(&post, &sources).unwrap();
    assert!(
        prepared.is_fast(),
        "the default templates only print the recipient's values"
    );
    let email = templates
        .personalise(
            &prepared,
            &reader("kim+news@example.org", "김철수"),
            &sources,
        )
        .unwrap();
    assert_eq!(email.subject, "[Daily Papers] Daily Papers — 2025-12-24");
    assert_eq!(
        email.unsubscribe_url,
        "https://papers.example.org/unsubscribe?email=kim%2Bnews%40example.org"
    );
    for paper in &post.papers {
        assert!(email.html.contains(&paper.url), "{}", paper.url);
        assert!(email.html.contains(&paper.title), "{}", paper.title);
        assert!(email.text.contains(&paper.url), "{}", paper.url);
    }
    assert!(
        !email.html.contains("<style"),
        "CSS is inlined, no <style> block left"
    );
    assert!(!email.html.contains("<script"));
    assert!(
        email.html.contains("style=\""),
        "styles are inlined into attributes"
    );
    assert!(
        email.html.contains("href=\"#paper-2\""),
        "the contents link down to each paper"
    );
    assert!(
        email.html.contains(&post.url),
        "the footer links to the post on the web"
    );
    assert!(email.html.contains("kim+news@example.org"));
    assert!(email.text.contains(
        "수신 거부: https://papers.example.org/unsubscribe?email=kim%2Bnews%40example.org"
    ));
    assert!(
        email.html.contains("<a name=\"paper-2\""),
        "anchors Gmail and Outlook follow"
    );
    assert!(
        email
            .html
            .contains("<!--[if mso]><table role=\"presentation\" width=\"600\"")
    );
    assert!(email.html.contains("mso-padding-alt: 10px 20px"));
    for words in ["이번 호에 실린 논문", "웹에서 읽기", "논문 3편"] {
        assert!(email.html.contains(words), "{words}");
    }
    assert!(
        email
            .html
            .contains("kim+news@example.org 주소로 보내 드리는 Daily Papers 소식입니다.")
    );
    // The Goal line is the callout, shown once.
    let goal = &post.papers[0].summary;
    assert_eq!(
        email.html.matches(goal.as_str()).count(),
        1,
        "the callout only"
    );
    assert!(
        email.text.contains("본 연구는"),
        "the text part carries the prose"
    );
}

#[test]
fn the_default_email_holds_the_whole_digest_in_order() {
    let text = "---\ntitle: Digest\n---\n\nTwo papers today. ![chart](/assets/chart.png)\n\n\
        1. **Alpha** - 👍 3\n   - [HF](https://hf.co/a)\n2. **Beta** - 👍 1\n   - [HF](https://hf.co/b)\n\n\
        Closing words.\n";
    let post = parse_post(text);
    let rendered = post.render(text).unwrap();
    let sources = default_sources();
    let templates = Templates::compile(&sources, site()).unwrap();
    let prepared = templates
        .prepare(&PostContext::new(&post, &rendered), &sources)
        .unwrap();
    let email = templates
        .personalise(&prepared, &reader("kim@example.org", ""), &sources)
        .unwrap();
    for part in [&email.html, &email.text] {
        let at = |needle: &str| {
            part.find(needle)
                .unwrap_or_else(|| panic!("{needle} not in {part}"))
        };
        assert!(at("Two papers today.") < at("Alpha"));
        assert!(at("Alpha") < at("Beta") && at("Beta") < at("Closing words."));
    }
    assert!(
        email
            .html
            .contains("src=\"https://papers.example.org/assets/chart.png\""),
        "{}",
        email.html
    );
    assert!(email.html.contains("href=\"#paper-2\""));
    assert!(
        email.html.contains("id=\"paper-2\""),
        "an id anchor, for Gmail's apps"
    );
}

#[test]
fn the_words_follow_the_site_language() {
    let sources = default_sources();
    let english = SiteContext {
        language: "en-GB".into(),
        ..site()
    };
    let templates = Templates::compile(&sources, english).unwrap();
    let prepared = templates.prepare(&example_post(), &sources).unwrap();
    let email = templates
        .personalise(&prepared, &reader("a@example.org", ""), &sources)
        .unwrap();
    for words in [
        "In this issue",
        "Read on the web",
        "3 papers",
        "You receive Daily Papers at a@example.org.",
    ] {
        assert!(email.html.contains(words), "{words}");
    }
    assert!(email.text.contains("Unsubscribe: https://"));
    assert_eq!(words("ko-KR")["unsubscribe"], "수신 거부");
}

#[test]
fn a_summary_block_is_dropped_from_the_body() {
    let html = "<h2>Intro</h2>\n<ul>\n<li>Goal: a &amp; b</li>\n</ul>\n<p>More</p>";
    assert_eq!(
        without_summary(html, "a & b"),
        "<h2>Intro</h2>\n\n<p>More</p>"
    );
    assert_eq!(
        without_summary("<p>First.</p><p>x</p>", "First."),
        "<p>x</p>"
    );
    assert_eq!(without_summary("<p>Other</p>", "First."), "<p>Other</p>");
}

#[test]
fn filling_in_equals_rendering_per_recipient() {
    let sources = default_sources();
    let templates = Templates::compile(&sources, site()).unwrap();
    let post = example_post();
    let prepared = templates.prepare(&post, &sources).unwrap();
    for recipient in [
        reader("a@example.org", "Reader"),
        reader("b@example.org", ""),
        reader("c@example.org", "Kim & Lee <co>"),
        reader("d@example.org", "박영희"),
    ] {
        let fast = templates
            .personalise(&prepared, &recipient, &sources)
            .unwrap();
        let slow = templates
            .render_direct(&Content::Post(post.clone()), &recipient, &sources)
            .unwrap();
        assert_eq!(fast, slow, "{recipient:?}");
    }
}

#[test]
fn a_template_that_transforms_a_value_is_rendered_per_recipient() {
    let sources = sources(
        "<p>{{ subscriber.name | upper }}</p>",
        "{{ subscriber.name | truncate(length=3) }}",
        "{% if subscriber.name %}Hi {{ subscriber.name }}{% else %}Hello{% endif %}",
        "",
    );
    let templates = Templates::compile(&sources, site()).unwrap();
    let prepared = templates.prepare(&example_post(), &sources).unwrap();
    assert!(!prepared.is_fast());
    let email = templates
        .personalise(&prepared, &reader("a@example.org", "Reader"), &sources)
        .unwrap();
    assert!(email.html.contains("READER"), "{}", email.html);
    assert_eq!(email.subject, "Hi Reader");
    let email = templates
        .personalise(&prepared, &reader("a@example.org", ""), &sources)
        .unwrap();
    assert_eq!(email.subject, "Hello");
    assert_eq!(email.unsubscribe_url, "");
}

#[test]
fn a_subject_never_spans_lines() {
    let sources = sources("x", "x", "{{ post.title }}\r\nBcc: evil@example.org", "");
    let templates = Templates::compile(&sources, site()).unwrap();
    let prepared = templates.prepare(&example_post(), &sources).unwrap();
    let email = templates
        .personalise(&prepared, &reader("a@example.org", "A"), &sources)
        .unwrap();
    assert_eq!(
        email.subject,
        "Daily Papers — 2025-12-24 Bcc: evil@example.org"
    );
}

#[test]
fn template_errors_name_the_file_and_line() {
    let err = Templates::compile(
        &sources("<p>\n{% if %}\n</p>", "x", "{{ post.title }}", ""),
        site(),
    )
    .unwrap_err();
    assert_eq!(err.len(), 1);
    assert!(
        err[0]
            .to_string()
            .starts_with("templates/email.html:2: template: "),
        "{}",
        err[0]
    );

    // A variable that does not exist is found before any post is rendered.
    let err = Templates::compile(
        &sources("x", "line one\n{{ post.titel }}", "{{ post.title }}", ""),
        site(),
    )
    .unwrap_err();
    assert!(
        err[0]
            .to_string()
            .starts_with("templates/email.txt:2: template: "),
        "{}",
        err[0]
    );
}

#[test]
fn a_body_past_the_limit_is_refused_naming_the_file() {
    let text = include_str!("../../example/_posts/2025-12-24-daily-papers.md");
    let post = parse_post(text);
    assert!(render_body(&post, text).is_ok());
    // Under the limit as Markdown, over it as HTML: every cell becomes `<td>…</td>`.
    let rows = "| 1 | a | b |\n".repeat(MAX_BODY_BYTES / 16);
    let table =
        format!("---\ntitle: T\ndate: 2025-12-24\n---\n| # | x | y |\n|---|---|---|\n{rows}");
    assert!(table.len() < MAX_BODY_BYTES);
    let err = render_body(&parse_post(&table), &table)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("_posts/2025-12-24-daily-papers.md: its body is HTML of "),
        "{err}"
    );
    // Over it as written, or as Liquid writes it: refused before the
    // Markdown is rendered.
    let long = format!("{text}{}", "Words. ".repeat(MAX_BODY_BYTES / 7));
    let liquid = format!(
        "---\ntitle: T\ndate: 2025-12-24\n---\n{{% for i in (1..{}) %}}|a|a|a|a|a|\n{{% endfor %}}",
        MAX_BODY_BYTES / 10
    );
    for text in [long, liquid] {
        let err = render_body(&parse_post(&text), &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains(": its body is "), "{err}");
        assert!(!err.contains("HTML of"), "{err}");
        assert!(err.contains("at most 512 KB"), "{err}");
    }
}

fn rollup_sources(subject: &str) -> TemplateSources {
    TemplateSources {
        html: Source::new("(built-in weekly.html)", rollup::DEFAULT_HTML),
        text: Source::new("(built-in weekly.txt)", rollup::DEFAULT_TEXT),
        subject: Source::new("config.toml [email] weekly_subject", subject),
        list_unsubscribe: Source::new(
            "config.toml [email] list_unsubscribe",
            "https://papers.example.org/unsubscribe?email={{ subscriber.email | urlencode }}",
        ),
    }
}

/// The example blog's three posts, oldest first, as a roll-up sees them.
fn example_week() -> Vec<PostContext> {
    [
        (
            "_posts/2025-12-22-weekly-notes.md",
            include_str!("../../example/_posts/2025-12-22-weekly-notes.md"),
        ),
        (
            "_posts/2025-12-23-daily-papers.md",
            include_str!("../../example/_posts/2025-12-23-daily-papers.md"),
        ),
        (
            "_posts/2025-12-24-daily-papers.md",
            include_str!("../../example/_posts/2025-12-24-daily-papers.md"),
        ),
    ]
    .iter()
    .map(|(path, text)| {
        let mut post = parse_post(text);
        post.source = path.into();
        let rendered = post.render(text).unwrap();
        PostContext::new(&post, &rendered)
    })
    .collect()
}

#[test]
fn the_weekly_rollup_puts_every_headline_before_the_posts() {
    let sources = rollup_sources(crate::config::DEFAULT_WEEKLY_SUBJECT);
    let templates = Templates::compile_rollup(&sources, site()).unwrap();
    let week = example_week();
    // Handed newest first: the roll-up reads oldest first all the same.
    let reversed: Vec<PostContext> = week.iter().rev().cloned().collect();
    let prepared = templates
        .prepare_content(Content::Rollup(RollupContext::new(reversed)), &sources)
        .unwrap();
    assert!(prepared.is_fast(), "rendered once, filled in per recipient");
    assert_eq!(prepared.title(), "the week of 2025-12-22 (3 posts)");
    let email = templates
        .personalise(&prepared, &reader("kim@example.org", "김철수"), &sources)
        .unwrap();
    assert_eq!(email.subject, "Daily Papers: the week of 2025-12-22");
    assert_eq!(
        email.unsubscribe_url,
        "https://papers.example.org/unsubscribe?email=kim%40example.org"
    );
    assert!(!email.html.contains("<style"), "CSS is inlined");
    for (part, is_html) in [(&email.html, true), (&email.text, false)] {
        // The headlines: every post's title and every paper, in order,
        // all before the first post's body begins.
        let first_body = week
            .iter()
            .filter_map(|post| post.papers.first())
            .map(|paper| part.find(&paper.summary).unwrap())
            .min()
            .unwrap();
        let mut at = 0;
        for post in &week {
            let title = if is_html {
                html_escape::encode_text(&post.title).to_string()
            } else {
                post.title.clone()
            };
            let found = part[at..].find(&title).map(|i| i + at);
            let found = found.unwrap_or_else(|| panic!("{} in the headlines", post.title));
            assert!(found < first_body, "{} is a headline", post.title);
            assert!(part.contains(&post.url), "{} linked", post.url);
            for paper in &post.papers {
                let link = part[found..].find(&paper.url).unwrap() + found;
                assert!(link < first_body, "{} is a headline", paper.title);
            }
            at = found;
        }
    }
    let html = &email.html;
    for post in &week {
        assert!(
            html.contains(&format!("href=\"{}\"", post.url)),
            "the post's title links to it"
        );
        for paper in &post.papers {
            assert!(html.contains(&format!("href=\"{}\"", paper.url)));
        }
    }
    assert!(html.contains("kim@example.org"));
}

#[test]
fn the_weekly_words_follow_the_site_language() {
    let sources = rollup_sources("{{ site.title }} {{ posts | length }}");
    let english = SiteContext {
        language: "en".into(),
        ..site()
    };
    let templates = Templates::compile_rollup(&sources, english).unwrap();
    let prepared = templates
        .prepare_content(
            Content::Rollup(RollupContext::new(example_week())),
            &sources,
        )
        .unwrap();
    let email = templates
        .personalise(&prepared, &reader("a@example.org", ""), &sources)
        .unwrap();
    assert_eq!(email.subject, "Daily Papers 3");
    assert!(
        email.html.contains("The week of 2025-12-22"),
        "{}",
        email.html
    );
    assert!(
        email.text.starts_with("The week of 2025-12-22\n"),
        "{}",
        email.text
    );
    let korean = Templates::compile_rollup(&sources, site()).unwrap();
    let prepared = korean
        .prepare_content(
            Content::Rollup(RollupContext::new(example_week())),
            &sources,
        )
        .unwrap();
    let email = korean
        .personalise(&prepared, &reader("a@example.org", ""), &sources)
        .unwrap();
    assert!(
        email.html.contains("2025-12-22 주간 소식"),
        "{}",
        email.html
    );
}

#[test]
fn a_weekly_template_naming_a_post_variable_is_refused_at_load() {
    // weekly.html sees `posts`, not `post`: found by `check`, not mid-send.
    let mut sources = rollup_sources("{{ site.title }}");
    sources.html = Source::new("templates/weekly.html", "<p>{{ post.title }}</p>");
    let err = Templates::compile_rollup(&sources, site()).unwrap_err();
    assert_eq!(err.len(), 1);
    assert!(
        err[0].to_string().starts_with("templates/weekly.html"),
        "{}",
        err[0]
    );
}

#[test]
fn an_unsubscribe_target_without_tags_is_what_tera_prints() {
    for target in [
        "mailto:papers@example.org?subject=unsubscribe",
        "  https://papers.example.org/u?a=1&b=<2>  \n",
        "mailto:편지@예시.한국?subject=수신%20거부 {x} }}",
    ] {
        let sources = sources(DEFAULT_HTML, DEFAULT_TEXT, "s", target);
        let templates = Templates::compile(&sources, site()).unwrap();
        let reader = reader("kim@example.org", "Kim");
        let mut context = tera::Context::new();
        context.insert("subscriber", &reader);
        context.insert("site", &templates.site);
        let printed = templates
            .render(UNSUBSCRIBE, &context, &sources.list_unsubscribe)
            .unwrap();
        assert_eq!(
            templates.unsubscribe_url(&reader, &sources).unwrap(),
            printed.trim()
        );
    }
}
