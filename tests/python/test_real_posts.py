"""What a real Jekyll blog's posts bring that digest-feed's own do not: a plugin's Liquid tag,
a post papers mode finds nothing in, a post that cannot be read among good ones. Each is said
in words a user can act on, naming the file and line; none of it shows as text in a feed."""

import json

from helpers import EXAMPLE_POSTS, Site, config, mail

PLUGIN_POST = """---
title: With a plugin's tag
date: 2025-12-25 09:00:00
---

Before {% gist 1234 %} after, {{ "x" | shout }}.
"""


def test_a_plugins_liquid_is_a_warning_never_text(tmp_path):
    site = Site.create(tmp_path, EXAMPLE_POSTS, config(25, connections=1, retries=0))
    (site.path / "_posts" / "2025-12-25-plugin.md").write_text(PLUGIN_POST, encoding="utf-8")
    result = site.build()
    assert "warning: _posts/2025-12-25-plugin.md:6: Liquid tag `gist` is from a Jekyll plugin digest-feed does not know; it is left out" in result.stderr
    assert "warning: _posts/2025-12-25-plugin.md:6: Liquid filter `shout` is from a Jekyll plugin digest-feed does not know; it is left out" in result.stderr
    feed = json.loads(site.out("feed.json").read_text(encoding="utf-8"))
    assert feed["items"][0]["content_html"] == "<p>Before  after, x.</p>\n"
    checked = site.run("check")
    assert "Liquid tag `gist`" in checked.stderr


def test_check_warns_where_papers_mode_finds_no_paper(tmp_path):
    site = Site.create(tmp_path, EXAMPLE_POSTS, config(25, connections=1, retries=0) + '\n[feed]\nitems = "papers"\n')
    result = site.run("check")
    assert ("warning: _posts/2025-12-22-weekly-notes.md: feed.items = \"papers\" finds no paper in this post "
            "(no numbered headings like `## 1. Title`, bold numbers like `**1. Title**`, ordered list of links "
            "or headings that are one link)") in result.stderr
    assert "2025-12-24-daily-papers.md" not in result.stderr


def test_mail_skip_invalid_names_the_post_and_mails_the_rest(tmp_path):
    site = Site.create(tmp_path, EXAMPLE_POSTS, config(25, connections=1, retries=0)
                       + '\n[[subscribers]]\nemail = "kim@example.org"\n')
    (site.path / "_posts" / "2025-12-20-broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    refused = mail(site, "--dry-run", code=2)
    assert "_posts/2025-12-20-broken.md:2:" in refused.stderr
    sent = mail(site, "--dry-run", "--skip-invalid")
    assert "warning: _posts/2025-12-20-broken.md:2:" in sent.stderr and "(skipped)" in sent.stderr
    assert "kim@example.org" in sent.stdout
