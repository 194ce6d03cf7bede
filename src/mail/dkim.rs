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
//! The body hash is mail-auth's, fed to SHA-256 in large pieces
//! ([`Gathered`]): its relaxed canonicalisation writes the body a word at a
//! time, and SHA-256 taking a few bytes a call was a third of a signature's
//! cost.

use mail_auth::common::crypto::{
    Algorithm, Ed25519Key, HashContext, HashImpl, HashOutput, RsaKey, Sha256, SigningKey,
};
use mail_auth::common::headers::{HeaderWriter as _, Writable, Writer};
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

enum Inner {
    Rsa(DkimSigner<Gathered<RsaKey<Sha256>>, Done>),
    Ed25519(DkimSigner<Gathered<Ed25519Key>, Done>),
}

/// A run's signer, made once from `[email.dkim]`.
pub(super) struct Signer {
    inner: Inner,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
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
        let inner = match dkim.algorithm {
            DkimAlgorithm::RsaSha256 => Inner::Rsa(configure(
                Gathered(RsaKey::<Sha256>::from_key_der(dkim.key.der()).map_err(refused)?),
                dkim,
            )),
            DkimAlgorithm::Ed25519Sha256 => {
                let der = dkim.key.der();
                Inner::Ed25519(configure(
                    Gathered(
                        Ed25519Key::from_pkcs8_maybe_unchecked_der(der.secret_der())
                            .map_err(refused)?,
                    ),
                    dkim,
                ))
            }
        };
        Ok(Signer { inner })
    }

    /// The `DKIM-Signature` header (CRLF-terminated) that goes first on
    /// `message` (headers and body, CRLF).
    pub(super) fn header(&self, message: &[u8]) -> Result<String, String> {
        Ok(match &self.inner {
            Inner::Rsa(signer) => signer.sign(message),
            Inner::Ed25519(signer) => signer.sign(message),
        }
        .map_err(|err| format!("cannot sign the message (DKIM): {err}"))?
        .to_header())
    }
}

/// A key whose body hash takes the canonical body in pieces of at least
/// [`GATHER_BYTES`]: the same bytes in the same order, so the same hash.
struct Gathered<K>(K);

/// How much of the canonical body is gathered before SHA-256 takes it.
const GATHER_BYTES: usize = 16 * 1024;

impl<K: SigningKey<Hasher = Sha256>> SigningKey for Gathered<K> {
    type Hasher = Sha256;

    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        self.0.sign(input)
    }

    fn hash(&self, data: impl Writable) -> HashOutput {
        let mut gather = Gather {
            context: <Sha256 as HashImpl>::hasher(),
            pending: Vec::with_capacity(GATHER_BYTES),
        };
        data.write(&mut gather);
        gather.context.write(&gather.pending);
        gather.context.complete()
    }

    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }
}

/// A hash context behind a buffer.
struct Gather<C> {
    context: C,
    pending: Vec<u8>,
}

impl<C: Writer> Writer for Gather<C> {
    fn write(&mut self, buf: &[u8]) {
        if self.pending.len() + buf.len() > GATHER_BYTES {
            self.context.write(&self.pending);
            self.pending.clear();
        }
        if buf.len() >= GATHER_BYTES {
            self.context.write(buf);
        } else {
            self.pending.extend_from_slice(buf);
        }
    }
}

fn configure<T: SigningKey>(key: T, dkim: &Dkim) -> DkimSigner<T, Done> {
    DkimSigner::from_key(key)
        .domain(dkim.domain.clone())
        .selector(dkim.selector.clone())
        .headers(SIGNED_HEADERS)
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
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

    #[test]
    fn a_gathered_body_hash_is_mail_auths_own() {
        let dkim = test_dkim();
        let key =
            || Ed25519Key::from_pkcs8_maybe_unchecked_der(dkim.key.der().secret_der()).unwrap();
        let gathered = configure(Gathered(key()), &dkim);
        let plain = configure(key(), &dkim);
        let words = "word  with\tspace \t and tabs   \r\n".repeat(900);
        for body in [
            String::new(),
            "\r\n\r\n\r\n".to_string(),
            "one line without an end".to_string(),
            format!("{words}\r\n \r\n\t\r\n\r\n"),
            format!("{}\r\n{words}", "x".repeat(40_000)),
        ] {
            let message =
                format!("From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n\r\n{body}");
            let header = |signed: mail_auth::Result<mail_auth::dkim::Signature>| {
                signed
                    .unwrap()
                    .to_header()
                    .split(' ')
                    .filter(|word| !word.starts_with("t=") && !word.starts_with("b="))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            assert_eq!(
                header(gathered.sign(message.as_bytes())),
                header(plain.sign(message.as_bytes())),
                "{body:?}"
            );
        }
    }
}
