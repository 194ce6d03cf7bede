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

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter as _;
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
    Rsa(DkimSigner<RsaKey<Sha256>, Done>),
    Ed25519(DkimSigner<Ed25519Key, Done>),
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
                RsaKey::<Sha256>::from_key_der(dkim.key.der()).map_err(refused)?,
                dkim,
            )),
            DkimAlgorithm::Ed25519Sha256 => {
                let der = dkim.key.der();
                Inner::Ed25519(configure(
                    Ed25519Key::from_pkcs8_maybe_unchecked_der(der.secret_der())
                        .map_err(refused)?,
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

fn configure<T: mail_auth::common::crypto::SigningKey>(key: T, dkim: &Dkim) -> DkimSigner<T, Done> {
    DkimSigner::from_key(key)
        .domain(dkim.domain.clone())
        .selector(dkim.selector.clone())
        .headers(SIGNED_HEADERS)
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
}
