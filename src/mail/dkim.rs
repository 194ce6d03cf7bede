//! DKIM signatures (RFC 6376; Ed25519 per RFC 8463), by mail-auth: one
//! `DKIM-Signature` per message over the exact bytes that go on the wire,
//! relaxed/relaxed, covering the headers of SPEC §4.
//!
//! mail-auth rather than lettre's `dkim` feature: lettre's signer reads only
//! PKCS#1 RSA keys and raw Ed25519 seeds (not the PKCS#8 PEM that
//! `openssl genpkey` writes), signs RSA with the pure-Rust `rsa` crate (2.07
//! ms a signature in a micro-benchmark here, against ring's 0.94 ms), and canonicalises its own
//! `Message` rather than the bytes we send. mail-auth with its `ring`
//! backend signs what is sent, with the ring already linked for TLS.
//!
//! What every message shares is made once per run, in [`Signer::new`]: the
//! key parsed, the domain, selector and header list set. Per message there
//! is one body hash, one header hash and one signature.
//!
//! The body hash is mail-auth's canonicalisation and SHA-256, but a start
//! of the body that many messages share (a post's, up to its first personal
//! line) can be canonicalised and hashed once ([`Signer::prefix`]), and the
//! runs of shared bytes after it (the HTML part, between the recipients'
//! lines) canonicalised once ([`Signer::shared_run`]): each message's body
//! hash resumes from the prefix's state, canonicalises only the bytes
//! around the runs and feeds each run's canonical form as it is to
//! SHA-256. mail-auth then signs the headers with that body hash, through
//! a key type of ours whose `SigningKey::hash` goes on from it
//! ([`Resumed`]).
//!
//! Why the pieces can be canonicalised apart: mail-auth's relaxed
//! canonicaliser holds nothing back after a byte that is not white space
//! or a line break (no space to fold, no line break that might end the
//! body), so begun afresh there it writes what it would have written going
//! on. Every cut is made just after such a byte; the last piece must hold
//! one too, since the body's final CRLF is written only when the piece
//! that finishes the canonicalisation has content.

use std::ops::Range;

use mail_auth::common::crypto::{
    Algorithm, Ed25519Key, HashContext, HashImpl, HashOutput, RsaKey, Sha256, SigningKey,
};
use mail_auth::common::headers::{HeaderWriter as _, Writable, Writer};
use mail_auth::dkim::canonicalize::BodyHasher;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done};

use crate::config::{Dkim, DkimAlgorithm};

/// The headers the signature covers (SPEC §4). A header listed but absent
/// (List-Unsubscribe-Post for a `mailto:` target) is signed as absent, so
/// nobody can add it on the way.
pub(super) const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Reply-To",
];

enum Key {
    Rsa(RsaKey<Sha256>),
    Ed25519(Ed25519Key),
}

/// A run's signer, made once from `[email.dkim]`.
pub(super) struct Signer {
    key: Key,
    domain: String,
    selector: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

/// The start of a body many messages share, relaxed-canonicalised and
/// hashed once: a message whose body starts with [`BodyPrefix::bytes`] has
/// its body hash resumed from here (see [`Signer::prefix`]).
pub(super) struct BodyPrefix {
    bytes: Vec<u8>,
    /// SHA-256 over the canonical form of `bytes`, not finished.
    context: BodyContext,
}

impl std::fmt::Debug for BodyPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyPrefix")
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl BodyPrefix {
    /// The body's first bytes this prefix stands for.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A run of body bytes that many messages share after bytes of their own
/// (a shared segment of a part's encoded body), its inside canonicalised
/// once: everything after its first byte that is not white space or a line
/// break up to its last such byte, so that both cuts fall just after one.
#[derive(Debug)]
pub(super) struct SharedRun {
    /// Where the canonicalised inside starts and ends in the run.
    inside: Range<usize>,
    /// The run's length, to check the place a message says it holds it.
    len: usize,
    /// mail-auth's relaxed canonical form of the inside.
    canonical: Vec<u8>,
}

/// Whether `byte` is white space or a line break to mail-auth's relaxed
/// body canonicalisation (after which it may hold something back).
fn blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// Whether `bytes` hold a byte that is not [`blank`].
fn has_content(bytes: &[u8]) -> bool {
    bytes.iter().any(|&byte| !blank(byte))
}

impl Signer {
    /// The signer of `dkim`'s key. The config checked the key with the same
    /// ring, so a refusal here is a bug, reported as a sentence.
    pub(super) fn new(dkim: &Dkim) -> Result<Signer, String> {
        let refused = |err: mail_auth::Error| {
            format!(
                "[email.dkim] private_key_file {}: cannot sign with it: {err}",
                dkim.key_file.display()
            )
        };
        let key = match dkim.algorithm {
            DkimAlgorithm::RsaSha256 => {
                Key::Rsa(RsaKey::<Sha256>::from_key_der(dkim.key.der()).map_err(refused)?)
            }
            DkimAlgorithm::Ed25519Sha256 => Key::Ed25519(
                Ed25519Key::from_pkcs8_maybe_unchecked_der(dkim.key.der().secret_der())
                    .map_err(refused)?,
            ),
        };
        Ok(Signer {
            key,
            domain: dkim.domain.clone(),
            selector: dkim.selector.clone(),
        })
    }

    /// The `DKIM-Signature` header (CRLF-terminated) that goes first on
    /// `message` (headers and body, CRLF).
    pub(super) fn header(&self, message: &[u8]) -> Result<String, String> {
        self.sign(message, None)
    }

    /// The shareable start of a body that starts with `body`: up to its
    /// last byte that is not white space or a line break, so that mail-auth's
    /// relaxed canonicalisation of the rest, begun afresh, writes what it
    /// would have written going on (nothing is pending at such a byte: no
    /// space to fold, no line break to hold back as a possible trailing
    /// empty line). `None` when there is no such byte.
    pub(super) fn prefix(body: &[u8]) -> Option<BodyPrefix> {
        let end = body.iter().rposition(|&byte| !blank(byte))? + 1;
        let mut context = <Sha256 as HashImpl>::hasher();
        // mail-auth's own canonicalisation, never finished: its last step
        // (the final CRLF) belongs to the whole body.
        BodyHasher::new(Borrowed(&mut context), Canonicalization::Relaxed, 0).write(&body[..end]);
        Some(BodyPrefix {
            bytes: body[..end].to_vec(),
            context,
        })
    }

    /// `bytes`, a run many messages will share after bytes of their own,
    /// with its inside canonicalised once; `None` when it has no inside
    /// (fewer than two bytes that are not white space or line breaks).
    pub(super) fn shared_run(bytes: &[u8]) -> Option<SharedRun> {
        let start = bytes.iter().position(|&byte| !blank(byte))? + 1;
        let end = bytes.iter().rposition(|&byte| !blank(byte))? + 1;
        if start >= end {
            return None;
        }
        let mut canonical = Vec::with_capacity(end - start);
        // mail-auth's own canonicalisation of the inside, never finished:
        // it starts and ends just after a byte with content, where nothing
        // is held back.
        BodyHasher::new(&mut canonical, Canonicalization::Relaxed, 0).write(&bytes[start..end]);
        Some(SharedRun {
            inside: start..end,
            len: bytes.len(),
            canonical,
        })
    }

    /// [`Signer::header`] of the message whose header section is `head`
    /// (each field with its CRLF, without the empty line) and whose body is
    /// `prefix`'s bytes (if any) then `rest`, where `runs` say where
    /// [`SharedRun`]s sit in `rest` (in order, apart): the body hash
    /// resumes from `prefix`, canonicalises the bytes of `rest` around the
    /// runs' insides and takes each inside's canonical form as made once;
    /// mail-auth signs the headers with it. A run whose place is not as
    /// long as the run, or not in order, is canonicalised with the rest,
    /// and so are the last runs when nothing
    /// but white space and line breaks follows them (see the module's
    /// doc); a body whose `rest` is only that is signed whole.
    pub(super) fn header_after(
        &self,
        head: &[u8],
        prefix: Option<&BodyPrefix>,
        rest: &[u8],
        runs: &[(Range<usize>, &SharedRun)],
    ) -> Result<String, String> {
        if prefix.is_some() && !has_content(rest) {
            // Begun afresh on `rest`, canonicalisation would not know the
            // prefix had content, and leave out the body's final CRLF.
            let prefix = prefix.map_or(&[][..], BodyPrefix::bytes);
            let mut message = Vec::with_capacity(head.len() + 2 + prefix.len() + rest.len());
            for piece in [head, b"\r\n", prefix, rest] {
                message.extend_from_slice(piece);
            }
            return self.sign(&message, None);
        }
        let context = Self::body_hash(prefix, rest, runs);
        // The body is hashed: mail-auth gets the headers and an empty body,
        // whose canonical form adds nothing to the hash it resumes.
        let mut message = Vec::with_capacity(head.len() + 2);
        message.extend_from_slice(head);
        message.extend_from_slice(b"\r\n");
        self.sign(&message, Some(&context))
    }

    /// SHA-256 over the canonical form of `prefix`'s bytes then `rest`,
    /// with `runs` as [`Signer::header_after`] takes them: finished, the
    /// body's final CRLF included, when `rest` has content or there is no
    /// prefix.
    fn body_hash(
        prefix: Option<&BodyPrefix>,
        rest: &[u8],
        runs: &[(Range<usize>, &SharedRun)],
    ) -> BodyContext {
        let mut runs = runs;
        while let Some(((place, run), earlier)) = runs.split_last() {
            if rest
                .get(place.start + run.inside.end..)
                .is_some_and(has_content)
            {
                break;
            }
            runs = earlier;
        }
        let mut context = prefix.map_or_else(<Sha256 as HashImpl>::hasher, |prefix| {
            prefix.context.clone()
        });
        let mut from = 0;
        for (place, run) in runs {
            if place.len() != run.len || place.start < from || place.end > rest.len() {
                continue;
            }
            let inside = place.start + run.inside.start..place.start + run.inside.end;
            BodyHasher::new(Borrowed(&mut context), Canonicalization::Relaxed, 0)
                .write(&rest[from..inside.start]);
            context.write(&run.canonical);
            from = inside.end;
        }
        let mut last = BodyHasher::new(context, Canonicalization::Relaxed, 0);
        last.write(&rest[from..]);
        last.finish().0
    }

    /// mail-auth's signature of `message`, whose body hash goes on from
    /// `body` (the hash of the bytes before the message's own body).
    fn sign(&self, message: &[u8], body: Option<&BodyContext>) -> Result<String, String> {
        match &self.key {
            Key::Rsa(key) => self.signer(key, body).sign(message),
            Key::Ed25519(key) => self.signer(key, body).sign(message),
        }
        .map(|signature| signature.to_header())
        .map_err(|err| format!("cannot sign the message (DKIM): {err}"))
    }

    /// mail-auth's signer of `key`, relaxed/relaxed over [`SIGNED_HEADERS`].
    fn signer<'k, K: SigningKey<Hasher = Sha256>>(
        &self,
        key: &'k K,
        body: Option<&'k BodyContext>,
    ) -> DkimSigner<Resumed<'k, K>, Done> {
        DkimSigner::from_key(Resumed { key, body })
            .domain(self.domain.clone())
            .selector(self.selector.clone())
            .headers(SIGNED_HEADERS)
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed)
    }
}

/// SHA-256 over a canonical body so far, not finished.
type BodyContext = <Sha256 as HashImpl>::Context;

/// A key whose body hash goes on from a state: mail-auth's
/// `SigningKey::hash` gets the canonical form of the body it was given and
/// hashes it on from there.
struct Resumed<'k, K> {
    key: &'k K,
    body: Option<&'k BodyContext>,
}

impl<K: SigningKey<Hasher = Sha256>> SigningKey for Resumed<'_, K> {
    type Hasher = Sha256;

    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        self.key.sign(input)
    }

    fn hash(&self, data: impl Writable) -> HashOutput {
        let mut context = self
            .body
            .map_or_else(<Sha256 as HashImpl>::hasher, Clone::clone);
        data.write(&mut context);
        context.complete()
    }

    fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }
}

/// A hash context borrowed for mail-auth's `BodyHasher`, which owns what
/// it writes to.
struct Borrowed<'c, C>(&'c mut C);

impl<C: Writer> Writer for Borrowed<'_, C> {
    fn write(&mut self, buf: &[u8]) {
        self.0.write(buf);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An Ed25519 key made for these tests, and nowhere else.
    const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKuK+Hma8MYqGlUre/7u/yLxeMfQzQJprW2ZYj/NYVCj\n-----END PRIVATE KEY-----\n";

    /// `[email.dkim]` with [`TEST_KEY`], read as a config reads it.
    pub(in crate::mail) fn test_dkim() -> Dkim {
        let dir = std::env::temp_dir().join(format!(
            "digest-feed-dkim-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("dkim.pem"), TEST_KEY).unwrap();
        let config = crate::config::Config::parse(
            "[site]\ntitle = \"Daily Papers\"\nurl = \"https://papers.example.org\"\n\n\
             [email]\nfrom = \"papers@example.org\"\nsubscribers_file = \"subscribers.csv\"\n\n\
             [email.dkim]\ndomain = \"example.org\"\nprivate_key_file = \"dkim.pem\"\n\
             algorithm = \"ed25519-sha256\"\n",
            &dir.join("config.toml"),
        )
        .unwrap();
        let dkim = config.email().unwrap().dkim.clone().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        dkim
    }

    /// A `DKIM-Signature` header, folded or not, as its tags without the
    /// signing time `t=` and the signature `b=`, which differ between two
    /// signings a second apart (the body hash `bh=` and the rest stay).
    /// mail-auth folds the header, so a tag can start a continuation line.
    pub(in crate::mail) fn without_time_and_signature(header: &str) -> String {
        header
            .replace("\r\n", "")
            .split(';')
            .map(|tag| tag.split_whitespace().collect::<String>())
            .filter(|tag| !tag.starts_with("t=") && !tag.starts_with("b="))
            .collect::<Vec<_>>()
            .join(";")
    }

    #[test]
    fn a_folded_signature_loses_only_its_time_and_signature() {
        let header = "DKIM-Signature: v=1; a=ed25519-sha256; s=digest; d=example.org;\r\n\tc=relaxed/relaxed; h=From:To;\r\n\tt=1796674705; bh=abc=;\r\n\tb=rCNz\r\n\tmore=";
        let later = header
            .replace("t=1796674705", "t=1796674706")
            .replace("rCNz", "zzzz");
        assert_eq!(
            without_time_and_signature(header),
            without_time_and_signature(&later)
        );
        assert_eq!(
            without_time_and_signature(header),
            "DKIM-Signature:v=1;a=ed25519-sha256;s=digest;d=example.org;c=relaxed/relaxed;h=From:To;bh=abc="
        );
        assert_ne!(
            without_time_and_signature(header),
            without_time_and_signature(&header.replace("bh=abc=", "bh=abd="))
        );
    }

    #[test]
    fn a_body_hash_resumed_from_a_shared_start_is_mail_auths_own() {
        let signer = Signer::new(&test_dkim()).unwrap();
        let head = "From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n";
        let words = "word  with\tspace \t and tabs   \r\n\r\n \r\nx".repeat(40);
        let mut resumed = 0;
        for body in [
            "\r\n\r\n\r\n".to_string(),
            "one line without an end".to_string(),
            format!("{words}\r\n \r\n\t\r\n\r\n"),
            format!("  lead\r\n{}\r\n{words} end\r\n", "x".repeat(3000)),
        ] {
            let whole = signer
                .header(format!("{head}\r\n{body}").as_bytes())
                .unwrap();
            // Shared starts ending anywhere: in a word, in spaces, at line ends.
            for at in (0..=body.len()).step_by(5) {
                let Some(prefix) = Signer::prefix(&body.as_bytes()[..at]) else {
                    continue;
                };
                let rest = &body.as_bytes()[prefix.bytes().len()..];
                let header = signer
                    .header_after(head.as_bytes(), Some(&prefix), rest, &[])
                    .unwrap();
                assert_eq!(
                    without_time_and_signature(&header),
                    without_time_and_signature(&whole),
                    "{body:?} at {at}"
                );
                resumed += 1;
            }
        }
        assert!(resumed > 100, "{resumed}");
    }

    #[test]
    fn a_body_hash_with_runs_canonicalised_once_is_mail_auths_own() {
        let signer = Signer::new(&test_dkim()).unwrap();
        let head = "From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n";
        let words = "word  with\tspace \t and tabs   \r\n\r\n \r\nx=\r\n".repeat(6);
        let bodies = [
            format!("{words}\r\n \r\n\t\r\n\r\n"),
            format!("  lead\r\n{}\r\n{words} end\r\n", "x".repeat(90)),
            format!("<p>a b</p>\r\n\r\n{words}\r\n--b--\r\n"),
            format!("\r\n\r\n{words}  \r\n\r\n"),
            "lone\rcarriage\r\r\nreturns\r \r\n\x0b\x0c end".to_string(),
        ];
        let mut cases = 0;
        for body in &bodies {
            let bytes = body.as_bytes();
            let whole = without_time_and_signature(
                &signer
                    .header(format!("{head}\r\n{body}").as_bytes())
                    .unwrap(),
            );
            // With the body's shared start hashed once, or not at all.
            let starts = [0, 7, 23].map(|at| Signer::prefix(&bytes[..at.min(bytes.len())]));
            for prefix in &starts {
                let rest = &bytes[prefix.as_ref().map_or(0, |prefix| prefix.bytes().len())..];
                // One run, then two, at every few bytes and of every few lengths.
                for start in (0..rest.len()).step_by(5) {
                    for len in (1..=rest.len() - start).step_by(6) {
                        let Some(first) = Signer::shared_run(&rest[start..start + len]) else {
                            continue;
                        };
                        let second_at = start + len + (len % 5);
                        let second = rest
                            .get(second_at..second_at + 9)
                            .and_then(Signer::shared_run);
                        let mut runs = vec![(start..start + len, &first)];
                        runs.extend(second.as_ref().map(|run| (second_at..second_at + 9, run)));
                        let header = signer
                            .header_after(head.as_bytes(), prefix.as_ref(), rest, &runs)
                            .unwrap();
                        assert_eq!(
                            without_time_and_signature(&header),
                            whole,
                            "{body:?}, runs at {start} ({len}) and {second_at}"
                        );
                        cases += 1;
                    }
                }
            }
        }
        assert!(cases > 5_000, "{cases}");
    }

    /// mail-auth's relaxed body hash of `body` in one go.
    fn whole_body_hash(body: &[u8]) -> HashOutput {
        let mut hasher =
            BodyHasher::new(<Sha256 as HashImpl>::hasher(), Canonicalization::Relaxed, 0);
        hasher.write(body);
        hasher.finish().0.complete()
    }

    #[test]
    fn a_body_hash_spliced_at_runs_is_mail_auths_own_for_every_short_body() {
        // Every body of up to six bytes of content, blanks and line breaks
        // (lone CRs and LFs, CRLFs, trailing blanks, blank-only runs), with
        // one run at every place and of every length, after no shared start
        // and after one; then two runs in every body of up to five bytes.
        const BYTES: [u8; 5] = [b'a', b' ', b'\t', b'\r', b'\n'];
        let starts = [None, Signer::prefix(b"x"), Signer::prefix(b"x \r\n\r\ny")];
        let mut cases = 0;
        for len in 0..=6_u32 {
            for code in 0..5_usize.pow(len) {
                let rest: Vec<u8> = (0..len)
                    .map(|digit| BYTES[code / 5_usize.pow(digit) % 5])
                    .collect();
                for prefix in &starts {
                    if prefix.is_some() && !has_content(&rest) {
                        continue; // signed whole by header_after
                    }
                    let before = prefix.as_ref().map_or(&[][..], BodyPrefix::bytes);
                    let expected = whole_body_hash(&[before, &rest].concat());
                    let mut places = Vec::new();
                    for start in 0..rest.len() {
                        for end in start + 1..=rest.len() {
                            places.push(std::iter::once(start..end).collect());
                            if len <= 5 {
                                for second in end..rest.len() {
                                    for second_end in second + 1..=rest.len() {
                                        places.push(vec![start..end, second..second_end]);
                                    }
                                }
                            }
                        }
                    }
                    for place in places {
                        let made: Vec<_> = place
                            .iter()
                            .map(|range| Signer::shared_run(&rest[range.clone()]))
                            .collect();
                        let runs: Vec<_> = place
                            .iter()
                            .zip(&made)
                            .filter_map(|(range, run)| Some((range.clone(), run.as_ref()?)))
                            .collect();
                        let got = Signer::body_hash(prefix.as_ref(), &rest, &runs).complete();
                        assert!(
                            got == expected,
                            "{:?} after {:?}, runs at {place:?}",
                            String::from_utf8_lossy(&rest),
                            String::from_utf8_lossy(before)
                        );
                        cases += 1;
                    }
                }
            }
        }
        assert!(cases > 100_000, "{cases}");
    }
}
