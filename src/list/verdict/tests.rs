//! The judge on replies and bounces real servers send (most from the
//! sisimai project's set of real bounces, and the providers' own pages).

use super::*;

#[test]
fn codes_are_read_strictly() {
    assert_eq!(enhanced_code("#5.1.1)"), Some((5, 1, 1)));
    assert_eq!(enhanced_code("(5.1.10)"), Some((5, 1, 10)));
    assert_eq!(enhanced_code("5.12.2025"), None, "a date");
    assert_eq!(enhanced_code("5.12."), None);
    assert_eq!(enhanced_code("v2.1.0"), None, "a version");
}

#[test]
fn a_missing_mailbox_suppresses() {
    for gone in [
        "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown",
        "550 No such user here",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound",
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
        "550 5.4.1 <x@example.com>: Recipient\n   address rejected: Access denied",
        "550 5.5.0 Requested action not taken: mailbox unavailable",
        "smtp; 550 User unknown",
        "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0]",
        "554 delivery error: dd Requested mail action aborted - mta1",
        "550 5.5.0 Invalid recipient",
        "550 5.1.351 Remote server returned '550 5.1.351 unknown recipient'",
        "550 Unrouteable address",
        "550 User not found",
        "550 5.2.1 <x@att.net>: mailbox disabled",
        "550 5.1.1 <sender.jones@example.org>: user unknown",
        "550 User unknown (corporate mail: separate accounts)",
    ] {
        assert!(no_such_user(gone), "{gone}");
    }
}

#[test]
fn no_other_refusal_suppresses() {
    for not in [
        "554 5.7.1 Relay access denied",
        "552 5.2.2 Mailbox full",
        "553 5.1.0 <bounces@example.org>: Sender address rejected: User unknown in local recipient table",
        "554 5.7.1 <kim@example.org>: Recipient address rejected: Access denied",
        "550 Sender address rejected: user unknown",
        "450 4.1.1 <x@example.org>: Recipient address rejected: User unknown (try later)",
        "450 Recipient address rejected: unverified address: user unknown",
        "550 5.4.1 Message rejected: host unreachable",
        "550 5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages",
        "553 5.1.3 http://www.spamhaus.org/query/bl?ip=192.0.2.1",
        "550 Requested action not taken: mailbox unavailable (rejected for policy reasons)",
        "554 5.7.9 Message not accepted for policy reasons",
        "smtp; 450 Recipient address rejected: User unknown",
        "550 5.1.1 <k@example.com> - 203.0.113.222 has sent to too many recipients this hour",
        "550 5.1.7 No such domain example.net",
    ] {
        assert!(!no_such_user(not), "{not}");
    }
}

#[test]
fn reports_and_old_bounces() {
    assert!(report_says_bad_address("5.1.1", ""));
    assert!(report_says_bad_address("5.0.0", "smtp; 550 User\n unknown"));
    assert!(!report_says_bad_address(
        "5.7.1",
        "smtp; 550 5.7.1 spam; user unknown"
    ));
    assert!(!report_says_bad_address("4.4.7", "delivery time expired"));
    assert!(
        !report_says_bad_address(
            "5.1.1",
            "smtp; 550 5.7.1 IP address blacklisted by recipient"
        ),
        "the remote server's own code outranks the Status"
    );
    assert!(report_says_bad_address(
        "5.4.4",
        "Host or domain name not found. Name service error"
    ));
    let qmail = "Hi. This is the qmail-send program.\n<gone@example.net>:\n\
                 Sorry, no mailbox here by that name. (#5.1.1)\n\
                 --- Below this line is a copy of the message.\n";
    assert!(bounce_text_says_bad_address(qmail));
    let qmail_policy = "<lee@example.org>:\nRemote host said: 554 5.7.1 <lee@example.org>: \
                        Recipient address rejected: Access denied\n";
    assert!(!bounce_text_says_bad_address(qmail_policy));
    let sendmail = "   ----- The following addresses had permanent fatal errors -----\n<gone@example.org>\n\
                    (reason: 550 5.1.1 <gone@example.org>... User unknown)\n";
    assert!(bounce_text_says_bad_address(sendmail));
    let quoting = "<lee@example.org>:\n550 5.7.1 blocked\n\
                   ------ This is a copy of the message, including all the headers. ------\n\
                   This paper's author does not exist; user unknown.\n";
    assert!(
        !bounce_text_says_bad_address(quoting),
        "the returned copy says nothing"
    );
    assert!(!bounce_text_says_bad_address("I am away until 5.12.2025."));
}
