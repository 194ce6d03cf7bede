"""`digest-feed inbox` over a local Maildir and over IMAP (a real Dovecot): an unsubscribe mail, an RFC 3464
bounce to the VERP address, an ARF complaint, a sign-up and its confirmation
land in the mailbox; `inbox` acts on each once (a second run does nothing
new; a real kill -9 between the commit and the flag, and a message put back
unread, change nothing), and the next `mail` goes to exactly the right people."""

import imaplib
import json
import os
import re
import sqlite3
import ssl
import threading
import time
from contextlib import closing

import pytest

from crash import HoldingProxy, inbox_killed_at_flag
from helpers import TIMEOUT, add_post, mail, query
from list_helpers import list_site, unsubscribe_targets
from mailboxes import PASSWORD, Dovecot, Maildir
from smtp_server import free_port

MORE = """
[[subscribers]]
email = "park@example.org"

[[subscribers]]
email = "choi@example.org"
"""


@pytest.fixture(params=["maildir", "imap"])
def box(request, tmp_path):
    """The list's mailbox: a Maildir in the site, or a Dovecot of the test's own."""
    if request.param == "maildir":
        yield Maildir(tmp_path / "site")
    else:
        with Dovecot() as dovecot:
            yield dovecot


@pytest.fixture
def site(tmp_path, server, box):
    return list_site(tmp_path / "site", server.port, free_port(), inbox=box.config, more=MORE)


def inbox(site, box):
    return site.run("inbox", env=box.env).stdout.splitlines()


def received(server):
    return {rcpts[0]: (message, sender) for (rcpts, message, _), sender in zip(server.recorder.messages(), server.recorder.senders)}


BOUNCE = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: {verp}
Subject: Undelivered Mail Returned to Sender
Date: Thu, 25 Dec 2025 08:00:00 +0900
Message-ID: <bounce-1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Arrival-Date: Thu, 25 Dec 2025 07:59:00 +0900

Final-Recipient: rfc822; lee@example.org
Original-Recipient: rfc822;lee@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <lee@example.org>: Recipient address rejected: User unknown

--B
Content-Type: text/rfc822-headers

From: Daily Papers <papers@example.org>
To: lee@example.org
Subject: Daily Papers

--B--
"""

COMPLAINT = """\
From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>
To: list@example.org
Subject: FW: Daily Papers
Date: Thu, 25 Dec 2025 09:00:00 +0900
Message-ID: <arf-1@yahoo.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="A"

--A
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--A
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/1.0
Version: 1
Original-Mail-From: <{verp}>
Arrival-Date: Thu, 25 Dec 2025 08:30:00 +0900
Reported-Domain: example.org

--A
Content-Type: message/rfc822

{original}
--A--
"""


def full_mailbox(verp: str) -> str:
    """A report that the message failed for a full mailbox: a soft bounce (the address is good)."""
    return (BOUNCE.format(verp=verp).replace("Status: 5.1.1", "Status: 5.2.2")
            .replace("550 5.1.1 <lee@example.org>: Recipient address rejected: User unknown", "552 5.2.2 Mailbox full"))


def test_inbox_acts_on_each_message_once(site, server, box):
    mail(site)
    messages = received(server)
    assert sorted(messages) == ["choi@example.org", "kim@example.org", "lee@example.org", "park@example.org"]
    _, kim_mailto = unsubscribe_targets(messages["kim@example.org"][0])
    kim_token = kim_mailto.rsplit("%20", 1)[1]
    lee_verp = messages["lee@example.org"][1]
    park_message, park_verp = messages["park@example.org"]
    # The complaint quotes the original with its address redacted, as Yahoo does.
    original = park_message.as_string().replace("park@example.org", "redacted@example.org")

    box.deliver("1.unsubscribe", f"From: Kim <kim@example.org>\nTo: list@example.org\nSubject: unsubscribe {kim_token}\n"
                                   "Message-ID: <u1@example.org>\n\nPlease remove me.\n")
    box.deliver("2.bounce", BOUNCE.format(verp=lee_verp))
    box.deliver("3.complaint", COMPLAINT.format(verp=park_verp, original=original))
    box.deliver("4.signup", "From: New Reader <new@example.org>\nTo: list@example.org\nSubject: subscribe\n"
                              "Message-ID: <s1@example.org>\n\nsubscribe\n")
    box.deliver("5.person", "From: Fan <fan@example.org>\nTo: list@example.org\nSubject: Thanks!\n"
                              "Message-ID: <p1@example.org>\n\nLove the digest.\n")
    server.recorder.clear()
    assert inbox(site, box) == [
        "unsubscribed kim@example.org",
        "bounced lee@example.org (5.1.1 550 5.1.1 <lee@example.org>: Recipient address rejected: User unknown)",
        "complaint from park@example.org (abuse report (example.org))",
        "sign-up of new@example.org: confirmation sent",
        "Inbox read: 4 messages acted on, 1 left for you",
    ]
    assert sorted(query(site, "SELECT email, reason, source FROM suppressions")) == [
        ("kim@example.org", "unsubscribed", "inbox"),
        ("lee@example.org", "bounced", "inbox"),
        ("park@example.org", "complained", "inbox"),
    ]
    confirmation = received(server)["new@example.org"][0]
    token = re.fullmatch(r"confirm ([A-Za-z0-9_-]{22}) \(your subscription to Daily Papers\)", confirmation["Subject"]).group(1)
    assert "reply to this message" in confirmation.get_content()
    assert "new@example.org  [sign-up pending since" in site.run("subscribers").stdout
    assert box.unseen() == ["5.person"], "the person's mail is left unread"
    assert box.seen() == ["1.unsubscribe", "2.bounce", "3.complaint", "4.signup"]

    # The reply confirms; a second run then finds nothing new.
    box.deliver("6.confirm", f"From: New Reader <new@example.org>\nTo: list@example.org\n"
                               f"Subject: Re: {confirmation['Subject']}\nMessage-ID: <c1@example.org>\n\nyes\n")
    assert inbox(site, box) == ["confirmed the sign-up of new@example.org", "Inbox read: 1 message acted on, 1 left for you"]
    assert inbox(site, box) == ["Inbox read: 0 messages acted on, 1 left for you"]

    # Messages put back unread (the owner's mail client, or a crash): known by their fingerprint, flagged, nothing redone.
    before = query(site, "SELECT email, reason, at FROM suppressions ORDER BY email")
    box.unflag("2.bounce")
    box.unflag("1.unsubscribe")
    box.unflag("6.confirm")
    assert inbox(site, box) == ["Inbox read: 0 messages acted on, 1 left for you; 3 messages an earlier run acted on "
                                "but was stopped before marking read, marked now"]
    assert box.unseen() == ["5.person"]
    assert query(site, "SELECT email, reason, at FROM suppressions ORDER BY email") == before

    # The next mail: exactly the right people.
    server.recorder.clear()
    add_post(site, "2025-12-25-next.md", "Next day", "2025-12-25")
    mail(site)
    assert server.recorder.recipients() == ["choi@example.org", "new@example.org"]
    status = site.run("status").stdout
    assert "park@example.org: complained " in status and "lee@example.org: bounced " in status


def test_a_soft_bounce_counts_and_a_forged_token_is_left(site, server, box):
    mail(site)
    lee_verp = received(server)["lee@example.org"][1]
    soft = full_mailbox(lee_verp)
    box.deliver("1.soft", soft)
    box.deliver("2.forged", "From: x@example.org\nTo: list@example.org\nSubject: unsubscribe AAAAAAAAAAAAAAAAAAAAAA\n\nx\n")
    out = inbox(site, box)
    assert out[0].startswith("soft bounce from lee@example.org (5.2.2")
    assert out[-1] == "Inbox read: 1 message acted on, 1 left for you"
    assert query(site, "SELECT email FROM suppressions") == []


SIGNUP = "From: New Reader <new@example.org>\nTo: list@example.org\nSubject: subscribe\nMessage-ID: <s1@example.org>\n\nsubscribe\n"


@pytest.mark.parametrize("nth", [1, 2])
def test_a_kill_between_the_commit_and_the_flag_loses_nothing_and_doubles_nothing(site, server, box, nth):
    mail(site)
    messages = received(server)
    lee_verp = messages["lee@example.org"][1]
    _, kim_mailto = unsubscribe_targets(messages["kim@example.org"][0])
    soft = full_mailbox(lee_verp)
    box.deliver("1.soft", soft)
    box.deliver("2.signup", SIGNUP)
    box.deliver("3.unsubscribe", f"From: kim@example.org\nTo: list@example.org\nSubject: unsubscribe {kim_mailto.rsplit('%20', 1)[1]}\n\nbye\n")
    server.recorder.clear()

    # kill -9 as the run flags message `nth`: its change is committed, its flag never set.
    assert inbox_killed_at_flag(site, box, nth) == -9
    names = ["1.soft", "2.signup", "3.unsubscribe"]
    assert box.unseen() == names[nth - 1:]
    soft_bounces = "SELECT COUNT(*) FROM soft_bounces WHERE email = 'lee@example.org'"
    assert query(site, soft_bounces) == [(1,)]
    assert len(server.recorder.messages()) == nth - 1, "the confirmation went out only if the kill came after it"

    # The rerun flags the killed message without acting again, and acts on the rest.
    out = inbox(site, box)
    late = "; 1 message an earlier run acted on but was stopped before marking read, marked now"
    acted = {1: "2 messages", 2: "1 message"}[nth]
    assert out[-1] == f"Inbox read: {acted} acted on, 0 left for you{late}"
    assert box.unseen() == []
    assert query(site, soft_bounces) == [(1,)], "the soft bounce counted once"
    assert server.recorder.recipients() == ["new@example.org"], "one confirmation, never two"
    assert query(site, "SELECT email, confirmed_at FROM signups") == [("new@example.org", None)]
    assert query(site, "SELECT email, reason FROM suppressions") == [("kim@example.org", "unsubscribed")]
    assert inbox(site, box) == ["Inbox read: 0 messages acted on, 0 left for you"]

    server.recorder.clear()
    add_post(site, "2025-12-25-next.md", "Next day", "2025-12-25")
    mail(site)
    assert server.recorder.recipients() == ["choi@example.org", "lee@example.org", "park@example.org"]


def test_the_proxy_that_holds_the_flag_leaves_nothing_running_after_its_test():
    """The kill test's proxy, once its block ends, has closed the client's connection and left no thread:
    a thread it left blocked on a closed socket once read the next test's bytes (crash.py tells how)."""
    with Dovecot() as dovecot:
        dovecot.deliver("1.x", "Subject: x\n\nx\n")
        before = set(threading.enumerate())
        held = threading.Event()
        with HoldingProxy(dovecot, 1, on_hold=held.set) as proxy:
            client = imaplib.IMAP4_SSL("127.0.0.1", proxy.port, timeout=TIMEOUT,
                                       ssl_context=ssl.create_default_context(cafile=str(dovecot.ca_file)))
            client.login("list", PASSWORD)
            client.select("INBOX")
            client.send(b"h1 UID STORE 1 +FLAGS.SILENT (\\Seen)\r\n")
            assert held.wait(TIMEOUT), "the proxy never held the STORE"
            assert proxy.stores == 1
        assert client.readline() == b"", "the held session ends with the block"
        client.shutdown()
        assert set(threading.enumerate()) == before


def test_status_names_what_has_waited_over_two_days(site, server, box):
    assert "List mailbox: never read. Run `digest-feed inbox` daily" in site.run("status").stdout
    three_days_ago = int(time.time()) - 3 * 86_400
    box.deliver("1.old", "From: Fan <fan@example.org>\nTo: list@example.org\nSubject: please take me off\n\nthanks\n",
                received=three_days_ago)
    box.deliver("2.new", "From: Other <other@example.org>\nTo: list@example.org\nSubject: hello\n\nhi\n")
    assert inbox(site, box) == ["Inbox read: 0 messages acted on, 2 left for you"]
    status = site.run("status").stdout
    assert re.search(r"^List mailbox: last read 20\S+Z: 0 messages acted on, 2 left for you$", status, re.M), status
    assert "Left for you over two days (1 of 2; a request to leave must be honoured within two days" in status
    received = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(three_days_ago))
    assert f'  received {received} from Fan <fan@example.org>: "please take me off"\n' in status
    assert "hello" not in status, "a message left for under two days is not overdue"
    overdue = json.loads(site.run("status", "--json").stdout)["inbox"]["overdue"]
    assert overdue == [{"sender": "Fan <fan@example.org>", "subject": "please take me off", "received_ts": three_days_ago}]

    # The owner reads it (and acts by hand): the next run no longer names it.
    box.read_by_owner("1.old")
    assert inbox(site, box) == ["Inbox read: 0 messages acted on, 1 left for you"]
    assert "Left for you over two days" not in site.run("status").stdout

    # A mailbox unread for three days is named.
    with closing(sqlite3.connect(site.state)) as db, db:
        db.execute("UPDATE inbox_runs SET at = ?", (received,))
    assert (f"List mailbox: last read {received}: 0 messages acted on, 1 left for you; over two days ago: requests "
            "that came since are not honoured yet, run `digest-feed inbox`") in site.run("status").stdout


def test_forged_reports_and_automatic_replies_suppress_no_one(site, server, box):
    mail(site)
    lee_verp = received(server)["lee@example.org"][1]
    park = received(server)["park@example.org"][0]
    # A report naming kim, sent to the list's address (no VERP tag), and one to a VERP tag nobody was given.
    box.deliver("1.no-tag", BOUNCE.format(verp="list@example.org").replace("lee@example.org", "kim@example.org"))
    box.deliver("2.fake-tag", BOUNCE.format(verp="bounces+AAAAAAAAAAAAAAAAAAAAAA@example.org"))
    # A complaint naming park, quoting an "original" without park's token or VERP tag.
    fake = park.as_string().split("List-Unsubscribe")[0] + "\nSubject: x\n\nforged\n"
    forged = COMPLAINT.format(verp="attacker@example.net", original=fake) \
        .replace("Reported-Domain: example.org", "Original-Rcpt-To: park@example.org\nReported-Domain: example.org")
    box.deliver("3.complaint", forged)
    # An out-of-office reply to lee's VERP address: a date that looks like a status code, marked automatic.
    box.deliver("4.away", f"From: Lee <lee@example.org>\nTo: {lee_verp}\nSubject: Auto: Daily Papers\n"
                          "Auto-Submitted: auto-replied\n\nI am away until 5.12.2025.\n")
    assert inbox(site, box) == ["automatic reply from lee@example.org: nothing to do",
                                "Inbox read: 1 message acted on, 3 left for you"]
    assert query(site, "SELECT email FROM suppressions") == []
    assert query(site, "SELECT COUNT(*) FROM soft_bounces") == [(0,)]
    assert box.unseen() == ["1.no-tag", "2.fake-tag", "3.complaint"], "left for the owner to look at"


def test_sign_ups_by_mail_are_no_mail_bomb_and_a_refusal_stops_nothing(site, server, box):
    mail(site)
    _, kim_mailto = unsubscribe_targets(received(server)["kim@example.org"][0])
    server.recorder.clear()
    for n in range(30):
        box.deliver(f"{n:02}.signup", SIGNUP.replace("new@example.org", "victim@example.org").replace("<s1@", f"<s{n}@"))
    out = inbox(site, box)
    assert out[0] == "sign-up of victim@example.org: confirmation sent"
    assert out[1:30] == ["victim@example.org asked to subscribe and was mailed a confirmation within the last day: not again yet"] * 29
    assert server.recorder.recipients() == ["victim@example.org"], "one confirmation for 30 requests"

    # A confirmation the server refuses for good ends that request; the unsubscribe after it is still honoured.
    server.recorder.reject["gone@example.org"] = "550 5.1.1 <gone@example.org>: no such user"
    box.deliver("40.signup", SIGNUP.replace("new@example.org", "gone@example.org"))
    box.deliver("41.unsubscribe", f"From: kim@example.org\nTo: list@example.org\nSubject: unsubscribe {kim_mailto.rsplit('%20', 1)[1]}\n\nbye\n")
    assert inbox(site, box) == [
        "sign-up of gone@example.org: the confirmation was refused (550 5.1.1 <gone@example.org>: no such user)",
        "unsubscribed kim@example.org",
        "Inbox read: 2 messages acted on, 0 left for you",
    ]
    assert query(site, "SELECT email FROM signups ORDER BY email") == [("victim@example.org",)]


def test_what_mail_servers_and_responders_really_send(site, server, box):
    mail(site)
    messages = received(server)
    lee_verp, kim_verp = messages["lee@example.org"][1], messages["kim@example.org"][1]
    _, choi_mailto = unsubscribe_targets(messages["choi@example.org"][0])
    # A vacation notice as Sieve sends it: to the envelope sender (the VERP address), null sender, marked automatic.
    for n in range(3):
        box.deliver(f"0{n}.vacation", f"Return-Path: <>\nFrom: Kim <kim@example.org>\nTo: {kim_verp}\n"
                                      f"Subject: Away\nAuto-Submitted: auto-replied\nMessage-ID: <v{n}@x>\n\nAway.\n")
    # A delay warning: the server still tries.
    box.deliver("10.delayed", BOUNCE.format(verp=lee_verp).replace("Action: failed", "Action: delayed")
                .replace("Status: 5.1.1", "Status: 4.4.7"))
    # A report with the undefined 5.0.0 whose diagnostic says the mailbox is gone.
    box.deliver("11.gone", BOUNCE.format(verp=lee_verp).replace("Status: 5.1.1", "Status: 5.0.0")
                .replace("550 5.1.1 <lee@example.org>: Recipient address rejected: User unknown", "550 User unknown"))
    # An unsubscribe mail some program sent for its person: the token is the proof.
    box.deliver("12.unsubscribe", f"From: choi@example.org\nTo: list@example.org\nAuto-Submitted: auto-generated\n"
                                  f"Subject: unsubscribe {choi_mailto.rsplit('%20', 1)[1]}\n\n\n")
    out = inbox(site, box)
    assert out == ["automatic reply from kim@example.org: nothing to do"] * 3 + [
        "automatic reply from MAILER-DAEMON@mx.example.org: nothing to do",
        "bounced lee@example.org (5.0.0 550 User unknown)",
        "unsubscribed choi@example.org",
        "Inbox read: 6 messages acted on, 0 left for you",
    ]
    assert sorted(query(site, "SELECT email, reason FROM suppressions")) == [
        ("choi@example.org", "unsubscribed"), ("lee@example.org", "bounced")]


def test_a_deferred_confirmation_blocks_nothing_and_is_sent_later(site, server, box):
    mail(site)
    _, kim_mailto = unsubscribe_targets(received(server)["kim@example.org"][0])
    server.recorder.clear()
    server.recorder.reject["grey@example.org"] = "451 4.7.1 Greylisted, try again in 5 minutes"
    box.deliver("1.signup", SIGNUP.replace("new@example.org", "grey@example.org"))
    box.deliver("2.unsubscribe", f"From: kim@example.org\nTo: list@example.org\n"
                                 f"Subject: unsubscribe {kim_mailto.rsplit('%20', 1)[1]}\n\n\n")
    result = site.run("inbox", env=box.env, code=3)
    assert result.stdout.splitlines() == ["unsubscribed kim@example.org", "Inbox read: 1 message acted on, 0 left for you"]
    assert "sign-up of grey@example.org: " in result.stderr and "451 4.7.1 Greylisted" in result.stderr
    assert "the next `digest-feed inbox` tries again" in result.stderr
    assert box.unseen() == ["1.signup"]
    # The server takes it now: the next run sends it, once.
    del server.recorder.reject["grey@example.org"]
    assert inbox(site, box) == ["sign-up of grey@example.org: confirmation sent", "Inbox read: 1 message acted on, 0 left for you"]
    assert server.recorder.recipients() == ["grey@example.org"]
    confirmation = received(server)["grey@example.org"][0]
    assert confirmation["Reply-To"] == "list@example.org", "a reply reaches the list's mailbox"
    # A sign-up that cannot be confirmed for two days is given up, not tried (and reported) for ever.
    server.recorder.reject["dead@example.org"] = "451 4.4.0 DNS lookup failed"
    box.deliver("4.old-signup", SIGNUP.replace("new@example.org", "dead@example.org"), received=int(time.time()) - 3 * 86_400)
    out = inbox(site, box)
    assert out[0].startswith("sign-up of dead@example.org: the confirmation could not be sent for two days (")
    assert out[0].endswith("451 4.4.0 DNS lookup failed); given up")
    assert box.unseen() == []
    # A German Outlook's reply confirms too.
    box.deliver("3.reply", f"From: grey@example.org\nTo: list@example.org\nSubject: AW: {confirmation['Subject']}\n\nja\n")
    assert inbox(site, box) == ["confirmed the sign-up of grey@example.org", "Inbox read: 1 message acted on, 0 left for you"]


# The list under attack: what a stranger with the list's address can send.

def confirm_reply(server, address: str) -> str:
    """A reply to the confirmation `address` was sent, as a mail client makes it."""
    confirmation = received(server)[address][0]
    return f"From: {address}\nTo: list@example.org\nSubject: Re: {confirmation['Subject']}\n\nyes\n"


def test_a_name_with_line_breaks_signed_up_by_mail_never_stops_mail(site, server, box):
    mail(site)
    server.recorder.clear()
    # The From name is an RFC 2047 word that decodes to CR LF and a header of the attacker's.
    box.deliver("1.signup", "From: =?utf-8?Q?Evil=0D=0ABcc:_victim@example.org?= <evil@example.org>\n"
                            "To: list@example.org\nSubject: subscribe\nMessage-ID: <evil1@example.org>\n\nsubscribe\n")
    assert inbox(site, box)[0] == "sign-up of evil@example.org: confirmation sent"
    box.deliver("2.confirm", confirm_reply(server, "evil@example.org"))
    assert inbox(site, box)[0] == "confirmed the sign-up of evil@example.org"
    assert query(site, "SELECT name FROM signups") == [("Evil Bcc: victim@example.org",)]
    server.recorder.clear()
    # Every later mail runs to its end, and the name stays on the To line.
    mail(site)
    add_post(site, "2025-12-25-next.md", "Next day", "2025-12-25")
    mail(site)
    raws = [raw for rcpts, _, raw in server.recorder.messages() if rcpts == ["evil@example.org"]]
    assert len(raws) == 2
    assert all(b"\r\nBcc:" not in raw for raw in raws)


def test_forged_sign_ups_mail_a_bounded_number_of_confirmations(site, server, box):
    mail(site)
    server.recorder.clear()
    for n in range(80):
        box.deliver(f"{n:03}.forged", SIGNUP.replace("new@example.org", f"victim+{n}@example.org")
                    .replace("<s1@", f"<f{n}@"))
    # One person in three spellings of an IDN domain: one confirmation.
    for n, spelling in enumerate(["a@bücher.de", "a@xn--bcher-kva.de", "A@BÜCHER.DE"]):
        box.deliver(f"1{n}.idn", SIGNUP.replace("new@example.org", spelling).replace("<s1@", f"<i{n}@"))
    out = inbox(site, box)
    sent = [line for line in out if line.endswith("confirmation sent")]
    assert len(sent) == 50, "the hour's budget of confirmations, for inbox as for serve"
    assert sum("the hour's budget of confirmations is spent" in line for line in out) == 33
    assert server.recorder.count() == 50
    # A second run the same hour mails no one.
    box.deliver("2.more", SIGNUP.replace("new@example.org", "victim+999@example.org"))
    assert server.recorder.count() == 50 and "budget" in inbox(site, box)[0]


def test_idn_spellings_of_one_person_get_one_confirmation(site, server, box):
    mail(site)
    server.recorder.clear()
    for n, spelling in enumerate(["a@bücher.de", "a@xn--bcher-kva.de", "A@BÜCHER.DE"]):
        box.deliver(f"{n}.idn", SIGNUP.replace("new@example.org", spelling).replace("<s1@", f"<i{n}@"))
    out = inbox(site, box)
    assert out[0] == "sign-up of a@bücher.de: confirmation sent"
    assert all("was mailed a confirmation within the last day" in line for line in out[1:3]), out
    assert server.recorder.recipients() == ["a@xn--bcher-kva.de"]


def test_a_bad_row_in_the_subscribers_file_stops_no_unsubscribe(site, server, box):
    mail(site)
    _, kim_mailto = unsubscribe_targets(received(server)["kim@example.org"][0])
    config = site.path / "config.toml"
    config.write_text(config.read_text().replace("[email]\n", '[email]\nsubscribers_file = "subscribers.csv"\n', 1))
    (site.path / "subscribers.csv").write_text("email,name\nann@example.org,Ann\nANN@example.org,Ann again\n"
                                               "not an address,X\n")
    box.deliver("1.unsubscribe", f"From: kim@example.org\nTo: list@example.org\n"
                                 f"Subject: unsubscribe {kim_mailto.rsplit('%20', 1)[1]}\n\nbye\n")
    box.deliver("2.signup", SIGNUP)
    assert inbox(site, box)[:2] == ["unsubscribed kim@example.org", "sign-up of new@example.org: confirmation sent"]


def test_two_inbox_runs_at_once_mail_each_confirmation_once(site, server, box):
    import subprocess
    from helpers import binary
    mail(site)
    server.recorder.clear()
    for n in range(6):
        box.deliver(f"{n}.signup", SIGNUP.replace("new@example.org", f"new{n}@example.org").replace("<s1@", f"<t{n}@"))
    runs = [subprocess.Popen([binary(), "inbox"], cwd=site.path, env={**os.environ, **box.env},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    # communicate: both pipes read while the runs go on (a full pipe would stop one), then closed.
    outputs = [run.communicate(timeout=TIMEOUT) for run in runs]
    results = [(run.returncode, out, err) for run, (out, err) in zip(runs, outputs)]
    for code, out, err in results:
        assert code == 0, (out, err)
        assert "UNIQUE" not in err
    assert sorted(server.recorder.recipients()) == [f"new{n}@example.org" for n in range(6)], "each once"


def test_inbox_v_says_what_it_left_for_you(site, server, box):
    box.deliver("1.person", "From: Fan <fan@example.org>\nTo: list@example.org\nSubject: please take me off\n\nthanks\n")
    result = site.run("-v", "inbox", env=box.env)
    assert "left for you: from Fan <fan@example.org>: please take me off" in result.stderr
    # The next run does not read it again, and still says it is there.
    again = site.run("-v", "inbox", env=box.env)
    assert "left for you: from Fan <fan@example.org>: please take me off" in again.stderr
    assert again.stdout.splitlines()[-1] == "Inbox read: 0 messages acted on, 1 left for you"
