"""A reader's cadence (daily or weekly) chosen on `digest-feed serve`'s
pages, over real HTTP: the sign-up form's choice kept through the double
opt-in, the unsubscribe link's confirm page offering the other cadence
beside the unsubscribe button, its POST recorded over the config's row,
and forged, cross-site or nonsense switches changing nothing."""

import re
import urllib.parse

import pytest

from helpers import mail, query
from list_helpers import Serve, list_site, unsubscribe_targets, wait_for
from smtp_server import free_port

# A subscriber the config lists as weekly, beside Kim and Lee (daily).
WEEKLY_ROW = """
[[subscribers]]
email = "park@example.org"
cadence = "weekly"
"""


@pytest.fixture
def web_site(tmp_path, server):
    port = free_port()
    site = list_site(tmp_path, server.port, port, more=WEEKLY_ROW)
    with Serve(site, port) as web:
        yield site, web


def exported(site) -> dict:
    """`subscribers export` as {email: row}."""
    lines = site.run("subscribers", "export").stdout.splitlines()
    header = lines[0].split(",")
    assert header[-1] == "cadence", header
    return {row["email"]: row for row in (dict(zip(header, line.split(","))) for line in lines[1:])}


def unsubscribe_path(server, address) -> str:
    found = [m for rcpts, m, _ in server.recorder.messages() if rcpts == [address]]
    assert found, address
    return urllib.parse.urlsplit(unsubscribe_targets(found[-1])[0]).path


def switch_form(page: str) -> tuple[str, str, str]:
    """(action, cadence, label) of the confirm page's switch."""
    form = re.search(r'<form method="post" action="([^"]+)">\s*'
                     r'<input type="hidden" name="cadence" value="(\w+)">\s*'
                     r'<button type="submit" class="other">([^<]+)</button>', page)
    assert form, page
    return form.groups()


def test_a_weekly_sign_up_is_weekly_once_confirmed(web_site, server):
    site, web = web_site
    status, _, form = web.request("GET", "/subscribe")
    assert status == 200
    assert '<input type="radio" name="cadence" value="daily" checked> Each post as it comes out' in form
    assert '<input type="radio" name="cadence" value="weekly"> One email a week, with the week\'s posts' in form

    # A choice the form does not offer is refused, and nothing is mailed.
    status, _, page = web.post_form("/subscribe", {"email": "odd@example.org", "cadence": "hourly"})
    assert status == 400 and "<h1>That is not a choice we offer</h1>" in page
    status, _, page = web.post_form("/subscribe", {"email": "new@example.org", "name": "New", "cadence": "weekly"})
    assert status == 200 and "<h1>Check your inbox</h1>" in page
    # A form without the field (an older copy on the blog) signs up daily.
    assert web.post_form("/subscribe", {"email": "plain@example.org"})[0] == 200
    wait_for(lambda: server.recorder.count() == 2)
    assert sorted(server.recorder.recipients()) == ["new@example.org", "plain@example.org"]
    assert query(site, "SELECT email, cadence FROM signups ORDER BY email") == [
        ("new@example.org", "weekly"), ("plain@example.org", "daily")]
    assert query(site, "SELECT * FROM cadences") == [], "a pending sign-up has chosen nothing yet"

    for rcpts, message, _ in server.recorder.messages():
        link = re.search(r"http://127\.0\.0\.1:\d+/confirm/[A-Za-z0-9_-]{22}", message.get_content()).group(0)
        status, _, page = web.post_form(urllib.parse.urlsplit(link).path, {})
        assert status == 200 and "<h1>You are subscribed</h1>" in page, rcpts
        welcome = {"new@example.org": "Its posts come to you once a week, in one email with the week's posts",
                   "plain@example.org": "The newest post comes with the next mailing"}[rcpts[0]]
        assert welcome in page, rcpts

    rows = exported(site)
    assert rows["new@example.org"]["source"] == "sign-up" and rows["new@example.org"]["cadence"] == "weekly"
    assert rows["plain@example.org"]["cadence"] == "daily"
    assert rows["park@example.org"]["cadence"] == "weekly", "the config's row"
    assert rows["kim@example.org"]["cadence"] == "daily"
    listing = site.run("subscribers").stdout
    assert "new@example.org (New)  weekly  [sign-up]" in listing
    assert "plain@example.org  [sign-up]" in listing
    assert query(site, "SELECT email, cadence, source FROM cadences ORDER BY email") == [
        ("new@example.org", "weekly", "sign-up"), ("plain@example.org", "daily", "sign-up")]


def test_the_confirm_page_offers_the_other_cadence_and_its_post_switches(web_site, server):
    site, web = web_site
    mail(site)
    assert "park@example.org" not in server.recorder.recipients(), "plain mail reaches the daily subscribers"
    # Park, weekly, gets the roll-up; a test send to Park carries the same links.
    mail(site, "--to", "park@example.org")
    kim = unsubscribe_path(server, "kim@example.org")
    park = unsubscribe_path(server, "park@example.org")
    token = kim.rsplit("/", 1)[1]

    status, _, page = web.request("GET", kim)
    assert status == 200 and "<h1>Unsubscribe?</h1>" in page and '<form method="post">' in page
    assert "Or get less mail: the week's posts together, in one email a week." in page
    action, cadence, label = switch_form(page)
    assert (action, cadence, label) == (f"http://127.0.0.1:{web.port}/cadence/{token}", "weekly", "Switch to weekly")
    # The config lists Park as weekly: the page offers daily.
    assert switch_form(web.request("GET", park)[2])[1:] == ("daily", "Switch to daily")

    status, _, page = web.post_form(urllib.parse.urlsplit(action).path, {"cadence": cadence})
    assert status == 200 and "<h1>You will get one email a week</h1>" in page
    assert "From now on Daily Papers comes to you once a week: one email with the week" in page
    assert query(site, "SELECT email, cadence, source FROM cadences") == [("kim@example.org", "weekly", "serve")]
    assert query(site, "SELECT * FROM suppressions") == [], "a switch is no unsubscribe"
    assert exported(site)["kim@example.org"]["cadence"] == "weekly", "the choice wins over the config's row"
    # The page now offers daily, at the same URL and at the switch's own.
    for path in [kim, f"/cadence/{token}"]:
        status, _, page = web.request("GET", path)
        assert status == 200 and switch_form(page)[1:] == ("daily", "Switch to daily"), path

    # Park switches to daily, over the config's weekly.
    park_switch = urllib.parse.urlsplit(switch_form(web.request("GET", park)[2])[0]).path
    status, _, page = web.post_form(park_switch, {"cadence": "daily"})
    assert status == 200 and "<h1>You will get every post</h1>" in page
    rows = exported(site)
    assert {address: rows[address]["cadence"] for address in rows} == {
        "kim@example.org": "weekly", "lee@example.org": "daily", "park@example.org": "daily"}
    # Unsubscribing is still one press away.
    status, _, page = web.post_form(kim, {"List-Unsubscribe": "One-Click"})
    assert status == 200 and "<h1>You are unsubscribed</h1>" in page


def test_a_forged_cross_site_or_unknown_switch_changes_nothing(web_site, server):
    site, web = web_site
    mail(site)
    kim = unsubscribe_path(server, "kim@example.org")
    switch = f"/cadence/{kim.rsplit('/', 1)[1]}"
    token = kim.rsplit("/", 1)[1]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in [f"/cadence/{altered}", "/cadence/kim@example.org", "/cadence/AAAAAAAAAAAAAAAAAAAAAA"]:
        status, _, page = web.post_form(path, {"cadence": "weekly"})
        assert status == 404 and "<h1>This link does not work</h1>" in page, path
    # A page on another site posting the switch for a reader whose link it learnt.
    for headers in [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}]:
        status, _, page = web.post_form(switch, {"cadence": "weekly"}, headers)
        assert status == 403 and "<h1>Nothing was changed</h1>" in page, headers
    # Nonsense, or no choice at all.
    for fields in [{"cadence": "hourly"}, {"cadence": ""}, {}]:
        status, _, page = web.post_form(switch, fields)
        assert status == 400 and "<h1>That is not a choice we offer</h1>" in page, fields
    assert query(site, "SELECT * FROM cadences") == []
    assert exported(site)["kim@example.org"]["cadence"] == "daily"
    # The blog's own origin may post it.
    status, _, _ = web.post_form(switch, {"cadence": "weekly"}, {"Origin": f"http://127.0.0.1:{web.port}"})
    assert status == 200
    assert query(site, "SELECT email, cadence FROM cadences") == [("kim@example.org", "weekly")]
