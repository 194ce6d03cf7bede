use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::config::DateRule;
use crate::post::{Rules, SiteInfo, parse};

fn rules(url: &str) -> Rules {
    Rules {
        site_url: url.into(),
        zone: jiff::tz::TimeZone::get("Asia/Seoul").unwrap(),
        permalink: crate::permalink_style::DEFAULT_PERMALINK.into(),
        dates: DateRule::Jekyll,
        site: SiteInfo {
            title: "Daily Papers".into(),
            ..SiteInfo::default()
        },
    }
}

/// The posts of a site in `root` (its `_posts`), the first rendered.
fn render_in(root: &Path, url: &str, posts: &[(&str, &str)]) -> (String, Vec<String>) {
    let rules = rules(url);
    let dir = root.join("_posts");
    let mut parsed: Vec<Post> = posts
        .iter()
        .map(|(name, text)| parse(&dir.join(name), text, &rules).unwrap())
        .collect();
    let site = Arc::new(SiteContext::new(&parsed, &dir, &rules));
    for post in &mut parsed {
        post.site = Some(site.clone());
    }
    let text = posts[0].1;
    let split = crate::post::front_matter::split(text).unwrap();
    let data = crate::post::front_matter::data(split.yaml);
    let (out, warnings) = render(&parsed[0], data, split.body, split.body_line);
    (out, warnings.iter().map(ToString::to_string).collect())
}

fn render_body(body: &str) -> (String, Vec<String>) {
    let root = tempfile::tempdir().unwrap();
    let text = format!("---\ntitle: A post\ntags: [x, y]\nimage: /i.png\n---\n{body}");
    render_in(
        root.path(),
        "https://example.org/blog",
        &[("2025-12-24-a.md", &text)],
    )
}

#[test]
fn site_page_and_jekylls_url_filters() {
    let (out, warnings) = render_body(
        "{{ site.title }}|{{ page.title }}|{{ page.tags | join: ',' }}|{{ page.image | absolute_url }}|{{ '/x.png' | relative_url }}|{{ site.url }}{{ site.baseurl }}|{{ page.url }}|{{ page.date | date_to_xmlschema }}|{{ page.nothing }}.",
    );
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(
        out,
        "Daily Papers|A post|x,y|https://example.org/blog/i.png|/blog/x.png|https://example.org/blog|/2025/12/24/a.html|2025-12-24T00:00:00+09:00|."
    );
}

#[test]
fn liquids_own_tags_and_jekylls() {
    let (out, warnings) = render_body(
        "{% assign n = 2 %}{% for i in (1..3) %}{{ i | times: n }} {% endfor %}{% capture c %}x{% endcapture %}{% if c == 'x' %}yes{% endif %}\n{% raw %}{{ kept }}{% endraw %}\n{% highlight ruby %}\nputs 1 < 2\n\nputs 3\n{% endhighlight %}",
    );
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(
        out,
        "2 4 6 yes\n{{ kept }}\n<figure class=\"highlight\"><pre><code class=\"language-ruby\" data-lang=\"ruby\">puts 1 &lt; 2&#10;&#10;puts 3</code></pre></figure>"
    );
}

#[test]
fn jekylls_filters() {
    let (out, _) = render_body(
        "{{ 'a <b> & \"c\"' | xml_escape }}|{{ 'a b&c' | cgi_escape }}|{{ 'a b/é' | uri_escape }}|{{ 'Hello World!' | slugify }}|{{ page.tags | jsonify }}|{{ 'one two  three' | number_of_words }}|{{ '*em*' | markdownify | strip }}",
    );
    assert_eq!(
        out,
        "a &lt;b&gt; &amp; &quot;c&quot;|a+b%26c|a%20b/%C3%A9|hello-world|[\"x\",\"y\"]|3|<p><em>em</em></p>"
    );
}

#[test]
fn post_url_link_and_include() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("_includes")).unwrap();
    std::fs::write(
        root.path().join("_includes/note.html"),
        "<b>{{ include.text }}</b>",
    )
    .unwrap();
    let first = "---\ntitle: One\n---\n[2]({% post_url 2018-06-13-two %}) [2]({% link _posts/2018-06-13-two.md %}) [h]({% link _docs/history.md %}#v1) {% include note.html text=\"hi\" %}";
    let (out, warnings) = render_in(
        root.path(),
        "https://example.org/blog",
        &[
            ("2018-06-03-one.md", first),
            ("2018-06-13-two.md", "---\ntitle: Two\n---\n"),
        ],
    );
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(
        out,
        "[2](/blog/2018/06/13/two.html) [2](/blog/2018/06/13/two.html) [h](/blog/docs/history.html#v1) <b>hi</b>"
    );
}

#[test]
fn a_collection_is_a_list_that_sorts_as_in_jekyll() {
    let root = tempfile::tempdir().unwrap();
    let mut rules = rules("https://example.org");
    rules
        .site
        .collections
        .insert("books".into(), "/books/:title/".into());
    let dir = root.path().join("_posts");
    let text = "---\ntitle: One\n---\n{% assign b = site.books | sort: 'date' %}[{{ b | size }}]{% for x in b %}x{% endfor %}";
    let mut post = parse(&dir.join("2025-01-01-one.md"), text, &rules).unwrap();
    post.site = Some(Arc::new(SiteContext::new(
        std::slice::from_ref(&post),
        &dir,
        &rules,
    )));
    let split = crate::post::front_matter::split(text).unwrap();
    let data = crate::post::front_matter::data(split.yaml);
    let (out, warnings) = render(&post, data, split.body, split.body_line);
    assert_eq!(warnings, Vec::<Problem>::new());
    assert_eq!(out, "[0]");
}

#[test]
fn a_link_into_a_collection_takes_its_permalink() {
    let root = tempfile::tempdir().unwrap();
    let mut rules = rules("https://example.org/blog");
    rules
        .site
        .collections
        .insert("docs".into(), "/:collection/:path/".into());
    let dir = root.path().join("_posts");
    let text = "---\ntitle: One\n---\n{% link _docs/history.md %} {% link _docs/sub/page.md %} {% link _notes/a.md %} {% link about.md %}";
    let mut post = parse(&dir.join("2025-01-01-one.md"), text, &rules).unwrap();
    let site = Arc::new(SiteContext::new(std::slice::from_ref(&post), &dir, &rules));
    post.site = Some(site);
    let split = crate::post::front_matter::split(text).unwrap();
    let data = crate::post::front_matter::data(split.yaml);
    let (out, warnings) = render(&post, data, split.body, split.body_line);
    assert_eq!(warnings, Vec::<Problem>::new());
    assert_eq!(
        out,
        "/blog/docs/history/ /blog/docs/sub/page/ /blog/notes/a.html /blog/about.html"
    );
}

#[test]
fn a_plugins_tag_or_filter_is_a_warning_and_never_text() {
    let (out, warnings) =
        render_body("a {% gist 123 %} b {{ 'x' | shout }} c\n{% raw %}{% gist kept %}{% endraw %}");
    assert_eq!(out, "a  b x c\n{% gist kept %}");
    let expected = [
        "_posts/2025-12-24-a.md:6: Liquid tag `gist` is from a Jekyll plugin digest-feed does not know; it is left out",
        "_posts/2025-12-24-a.md:6: Liquid filter `shout` is from a Jekyll plugin digest-feed does not know; it is left out",
    ];
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    for (got, want) in warnings.iter().zip(expected) {
        assert!(got.ends_with(want), "{got}");
    }
}

#[test]
fn broken_liquid_is_a_warning_and_its_markup_is_left_out() {
    let (out, warnings) = render_body("a {% if %} b {{ x | }} c {% raw %}{{ kept }}{% endraw %}");
    assert_eq!(out, "a  b  c {{ kept }}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].ends_with("a.md:6: Liquid: Value expected; the Liquid is left out"),
        "{}",
        warnings[0]
    );
}

#[test]
fn every_render_is_bounded() {
    // Each limit is seen tripping (its warning); unbounded, these would run
    // for hours or exhaust memory, so no clock of ours is needed.
    for (body, why) in [
        (
            "{% for i in (1..100000000000) %}x{% endfor %}",
            "range counts past",
        ),
        (
            "{% assign n = 100000000000 %}{% for i in (1..n) %}x{% endfor %}",
            "range counts past",
        ),
        (
            "{% for a in (1..1000) %}{% for b in (1..1000) %}{% for c in (1..1000) %}{% endfor %}{% endfor %}{% endfor %}",
            "loops run past a million",
        ),
        (
            "{% assign s = 'xxxxxxxxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}",
            "variable grows past",
        ),
        (
            "{% capture s %}x{% endcapture %}{% for i in (1..40) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}",
            "variable grows past",
        ),
        (&"{% if true %}".repeat(1000), "blocks nest more than"),
    ] {
        let (out, warnings) = render_body(body);
        assert_eq!(warnings.len(), 1, "{body}: {warnings:?}");
        assert!(warnings[0].contains(why), "{body}: {}", warnings[0]);
        assert!(!out.contains("{%"), "{body}: {out}");
    }
}

#[test]
fn includes_cannot_recurse_or_leave_the_folder() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("_includes")).unwrap();
    std::fs::write(
        root.path().join("_includes/loop.html"),
        "x{% include loop.html %}",
    )
    .unwrap();
    for body in ["{% include loop.html %}", "{% include ../secret.txt %}"] {
        let text = format!("---\ntitle: t\n---\n{body}");
        let (out, warnings) =
            render_in(root.path(), "https://e.org", &[("2025-01-01-t.md", &text)]);
        assert_eq!(out, "", "{body}");
        assert_eq!(warnings.len(), 1, "{body}: {warnings:?}");
    }
}

#[test]
fn nil_and_text_count_as_numbers_as_in_jekylls_liquid() {
    // Liquid 4 (Ruby) reads nil as 0, "3.5" as 3.5, "12abc" as 12.
    let (out, warnings) = render_body(
        "{{ nothing | minus: 1 }}|{{ nothing | plus: 2 }}|{{ 5 | minus: nothing }}|{{ '3.5' | plus: 1 }}|{{ '12abc' | times: 2 }}|{{ -7 | divided_by: 2 }}|{{ -7 | modulo: 3 }}|{{ 7 | divided_by: 2.0 }}|{{ nothing | abs }}",
    );
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(out, "-1|2|5|4.5|24|-4|2|3.5|0");
    let (out, warnings) = render_body(
        "{{ nothing | ceil }}|{{ '2.1' | ceil }}|{{ -2.5 | floor }}|{{ 2.567 | round: 2 }}|{{ '2.5' | round }}|{{ nothing | at_least: 3 }}|{{ 9 | at_most: '4' }}",
    );
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(out, "0|3|-3|2.57|3|3|4");
}

#[test]
fn a_range_that_counts_down_runs_no_times() {
    let (out, warnings) = render_body(
        "[{% for i in (3..1) %}{{ i }}{% endfor %}][{% for i in (0..-1) %}{{ i }}{% endfor %}][{% assign m = 2 %}{% for i in (m..1) %}{{ i }}{% endfor %}][{% assign n = '3' %}{% for i in (1..n) %}{{ i }}{% endfor %}]",
    );
    assert_eq!(out, "[][][][123]", "{warnings:?}");
    assert_eq!(warnings, Vec::<String>::new());
    // A bound that is no whole number is Liquid's "invalid integer", as in Jekyll.
    let (_, warnings) = render_body("{% for i in (1..page.nothing) %}x{% endfor %}");
    assert!(
        warnings[0].ends_with("Liquid: invalid integer; the Liquid is left out"),
        "{warnings:?}"
    );
}

#[test]
fn jsonify_keeps_text_that_looks_like_a_number_text() {
    let (out, warnings) = render_body(
        "{{ 'inf' | jsonify }} {{ 'NaN' | jsonify }} {{ '007' | jsonify }} {{ '1e3' | jsonify }} {{ 7 | jsonify }} {{ 1.5 | jsonify }} {{ true | jsonify }} {{ nothing | jsonify }} {{ 'a\"\\\n' | jsonify }}",
    );
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(out, r#""inf" "NaN" "007" "1e3" 7 1.5 true null "a\"\\\n""#);
}

#[test]
fn an_unknown_tag_is_one_warning_whatever_its_arguments() {
    let (out, warnings) = render_body(
        "a {% twitter https://x.com/a?b=1 %} b\n{% youtube \"id\" width:560 %}\n{{ 'x' | shout: 'loud', 2 | upcase }}",
    );
    assert_eq!(out, "a  b\n\nX");
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[0].ends_with("a.md:6: Liquid tag `twitter` is from a Jekyll plugin digest-feed does not know; it is left out"), "{warnings:?}");
    assert!(
        warnings[1].contains("a.md:7: Liquid tag `youtube`"),
        "{warnings:?}"
    );
    assert!(
        warnings[2].contains("a.md:8: Liquid filter `shout`"),
        "{warnings:?}"
    );
}

/// A site in a temporary folder with `_includes/` holding `includes`.
fn with_includes(includes: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("_includes")).unwrap();
    for (name, text) in includes {
        std::fs::write(root.path().join("_includes").join(name), text).unwrap();
    }
    root
}

#[test]
fn an_include_parameter_may_hold_an_escaped_quote() {
    let root = with_includes(&[(
        "place.html",
        "<span>{{ include.name }} at {{ include.lat }} {{ include.n }} {{ include.t }}</span>",
    )]);
    let text = "---\ntitle: One\ncount: 3\n---\n{% include place.html name=\"Richat\" lat=\"21°07'26.4\\\"N\" n=page.count t='it\\'s' %}";
    let (out, warnings) = render_in(root.path(), "https://e.org", &[("2025-01-01-one.md", text)]);
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(out, "<span>Richat at 21°07'26.4\"N 3 it's</span>");
    // Whitespace control, a file named by a variable, an include in an include.
    let root = with_includes(&[
        ("a.html", "[{{ include.x }}]"),
        ("b.html", "{% include a.html x=include.y %}"),
    ]);
    let text = "---\ntitle: One\nwidget: a\n---\nx  {%- include {{ page.widget }}.html x='1' -%}  y {% include b.html y=\"2\" %}";
    let (out, warnings) = render_in(root.path(), "https://e.org", &[("2025-01-01-one.md", text)]);
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(out, "x[1]y [2]");
}

#[test]
fn an_error_in_an_include_is_reported_at_the_include() {
    let root = with_includes(&[
        ("broken.html", "line one\nline two\n{% if %}\n"),
        ("outer.html", "x\n{% include broken.html %}"),
        ("plugin.html", "a\n\n{% gist 1 %}{{ 'b' | shout }}"),
    ]);
    let text = "---\ntitle: One\n---\nfirst\n\n{% include plugin.html %}\n{% include outer.html %}";
    let (out, warnings) = render_in(root.path(), "https://e.org", &[("2025-01-01-one.md", text)]);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    let include = |name: &str| {
        root.path()
            .join("_includes")
            .join(name)
            .display()
            .to_string()
    };
    assert!(
        warnings[0].starts_with(&format!("{}:3: Liquid tag `gist`", include("plugin.html"))),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with(&format!(
            "{}:3: Liquid filter `shout`",
            include("plugin.html")
        )),
        "{warnings:?}"
    );
    assert!(
        warnings[2].starts_with(&format!("{}:3: Liquid: ", include("broken.html"))),
        "{warnings:?}"
    );
    assert!(
        warnings[2].ends_with("2025-01-01-one.md:7, whose Liquid is left out"),
        "{warnings:?}"
    );
    assert!(!out.contains("{%"), "{out}");
}

#[test]
fn an_error_while_rendering_names_its_line() {
    let (_, warnings) = render_body("a\n\n{% if true %}\n{{ 1 | divided_by: 0 }}\n{% endif %}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].ends_with("a.md:9: Liquid: divided by 0; the Liquid is left out"),
        "{warnings:?}"
    );
    let root = with_includes(&[(
        "zero.html",
        "x\n{{ 2 | plus: 1 }}\n{{ 1 | modulo: include.n }}",
    )]);
    let text = "---\ntitle: One\n---\n\n{% include zero.html n=0 %}";
    let (_, warnings) = render_in(root.path(), "https://e.org", &[("2025-01-01-one.md", text)]);
    let file = root
        .path()
        .join("_includes/zero.html")
        .display()
        .to_string();
    assert!(
        warnings[0].starts_with(&format!("{file}:3: Liquid: divided by 0; included at ")),
        "{warnings:?}"
    );
}

#[test]
fn a_post_of_eighty_thousand_tags_renders_whole() {
    // 480 KB of `{{a}}` lines: each tag's line is looked up, never counted from the start.
    let (out, warnings) = render_body(&"{{a}}\n".repeat(80_000));
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(out, "\n".repeat(80_000));
    let (out, warnings) = render_body(&"{{a | shout}}\n".repeat(40_000));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(out.len(), 40_000);
}
