"""`--json` on build, mail and status (SPEC §2): one JSON object on standard
output for monitoring, parsed here; and `status` saying when the last run
started and ended and how it ended (issue 13)."""

import json

from helpers import EXAMPLE_POSTS, Site, addresses, mail, site_with_subscribers
from smtp_server import SmtpServer


def test_build_json(make_site):
    site = make_site(EXAMPLE_POSTS, '[site]\nurl = "https://papers.example.org"\ntimezone = "Asia/Seoul"\n')
    result = json.loads(site.run("build", "--json").stdout)
    assert result["items"] == len(list(EXAMPLE_POSTS.iterdir())) and result["kind"] == "posts"
    assert result["files"] == 4 and result["changed"] == 4 and result["skipped"] == []
    assert isinstance(result["milliseconds"], int)
    # Quiet asks for no lines, but the JSON was asked for.
    assert json.loads(site.run("-q", "build", "--json").stdout)["changed"] == 0


def test_mail_and_status_json_with_a_failure_and_the_last_run(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 3)
        refused = addresses(3)[1]
        server.recorder.reject[refused] = "550 5.1.1 no such user"
        status = json.loads(site.run("status", "--json").stdout)
        assert status["mailed"] is None and status["last_run"] is None
        assert status["next"][0]["recipients"] == 3

        result = json.loads(mail(site, "--json", code=1).stdout)
        assert result["exit_code"] == 1 and result["sent"] == 2
        assert result["failed"] == [{"address": refused, "reply": "550 5.1.1 no such user"}]
        assert result["deferred"] == [] and result["stopped"] is None and result["error"] is None

        status = json.loads(site.run("status", "--json").stdout)
        run = status["last_run"]
        assert run["exit_code"] == 1 and run["ended_at"] >= run["started_at"]
        assert run["summary"].startswith("Sent 2, failed 1, deferred 0 via 127.0.0.1:")
        assert status["mailed"][0]["failed"] == [[refused, "550 5.1.1 no such user"]]
        lines = site.run("status").stdout
        assert f"Last run: started {run['started_at']}, ended {run['ended_at']}, exit 1: Sent 2, failed 1" in lines

        # Nothing new: no run recorded, and the JSON says so plainly.
        again = json.loads(mail(site, "--json").stdout)
        assert again["exit_code"] == 0 and again["sent"] == 0


def test_mail_json_names_a_bad_input(tmp_path):
    site = Site.create(tmp_path, EXAMPLE_POSTS, '[site]\nurl = "https://e.org"\n[email]\nfrom = "nobody"\n')
    result = json.loads(site.run("mail", "--json", code=2).stdout)
    assert result["exit_code"] == 2 and result["sent"] == 0
    assert "[email] from \"nobody\" is not an address" in result["error"]


def test_a_bad_subscriber_is_skipped_the_rest_mailed_the_run_exits_1_and_status_says_so(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 2)
        with open(site.path / "subscribers.csv", "a", encoding="utf-8") as csv:
            csv.write("not an address,Bad,\n")
        result = mail(site, code=1)
        assert 'subscribers.csv:4: subscriber: "not an address" is not a valid email address' in result.stderr
        assert server.recorder.recipients() == addresses(2)
        status = site.run("status").stdout
        assert 'Not mailed until fixed: subscribers.csv:4: subscriber: "not an address"' in status
        assert "exit 1: Sent 2, failed 1" in status
