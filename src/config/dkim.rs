//! `[email.dkim]` (SPEC §3): the signing domain, the selector and the
//! private key, read and checked here, once, so that a key that cannot sign
//! is a config problem that names its format and the `openssl` line that
//! converts it, never a failure halfway through a send.
//!
//! rustls-pki-types reads the PEM, ring checks the key (ring is what signs
//! it too, through mail-auth in `mail/dkim.rs`), spki writes the RSA public
//! key as DKIM's DNS record wants it, and base64 encodes it.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde::Deserialize;

/// `[email.dkim] algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Algorithm {
    /// RSA with SHA-256 (RFC 6376), a key of 2048 bits or more.
    #[serde(rename = "rsa-sha256")]
    RsaSha256,
    /// Ed25519 with SHA-256 (RFC 8463).
    #[serde(rename = "ed25519-sha256")]
    Ed25519Sha256,
}

impl Algorithm {
    /// The name `a=` and the config use.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RsaSha256 => "rsa-sha256",
            Algorithm::Ed25519Sha256 => "ed25519-sha256",
        }
    }

    /// The key type a DNS record names (`k=`).
    pub fn key_type(self) -> &'static str {
        match self {
            Algorithm::RsaSha256 => "rsa",
            Algorithm::Ed25519Sha256 => "ed25519",
        }
    }
}

/// `[email.dkim]`, checked.
#[derive(Debug, Clone)]
pub struct Dkim {
    /// The signing domain (`d=`), in its ASCII (punycode) form.
    pub domain: String,
    /// The selector (`s=`): the key's record is `<selector>._domainkey.<domain>`.
    pub selector: String,
    /// What the key signs with.
    pub algorithm: Algorithm,
    /// The private key, checked.
    pub key: Key,
    /// The key file, for messages.
    pub key_file: PathBuf,
}

impl Dkim {
    /// Where the key's DNS record goes.
    pub fn record_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    /// The DNS TXT record's text: `v=DKIM1; k=…; p=…`.
    pub fn record(&self) -> String {
        format!(
            "v=DKIM1; k={}; p={}",
            self.algorithm.key_type(),
            self.key.public_key
        )
    }
}

/// A private key that ring accepted, with its public half for DNS.
pub struct Key {
    der: PrivateKeyDer<'static>,
    /// The public key as base64, as a DKIM record's `p=` holds it.
    pub public_key: String,
    /// The RSA modulus size; `None` for Ed25519.
    pub bits: Option<usize>,
}

impl Key {
    /// The key as DER, for the signer.
    pub fn der(&self) -> PrivateKeyDer<'_> {
        self.der.clone_key()
    }
}

impl Clone for Key {
    fn clone(&self) -> Self {
        Key {
            der: self.der.clone_key(),
            public_key: self.public_key.clone(),
            bits: self.bits,
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

/// `[email.dkim]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDkim {
    domain: String,
    #[serde(default = "default_selector")]
    selector: String,
    private_key_file: String,
    #[serde(default = "default_algorithm")]
    algorithm: Algorithm,
}

fn default_selector() -> String {
    "digest".into()
}

fn default_algorithm() -> Algorithm {
    Algorithm::RsaSha256
}

/// Checks `[email.dkim]`, reading its key file (relative to `base`).
/// The error is a sentence for the config's problem list.
pub(super) fn check(raw: &RawDkim, base: &Path) -> Result<Dkim, String> {
    let domain = crate::address::ascii_domain(&raw.domain)
        .ok_or_else(|| format!("[email.dkim] domain {:?} is not a domain name", raw.domain))?;
    let selector = raw.selector.trim().to_ascii_lowercase();
    let selector_ok = !selector.is_empty()
        && selector.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !selector_ok {
        return Err(format!(
            "[email.dkim] selector {:?} must be letters, digits and hyphens (a DNS label), e.g. \"digest\"",
            raw.selector
        ));
    }
    let key_file = base.join(&raw.private_key_file);
    let key = read_key(&key_file, raw.algorithm)?;
    Ok(Dkim {
        domain,
        selector,
        algorithm: raw.algorithm,
        key,
        key_file,
    })
}

/// The `openssl` lines that make a key digest-feed reads.
fn how_to_make(algorithm: Algorithm, path: &Path) -> String {
    let path = path.display();
    match algorithm {
        Algorithm::RsaSha256 => format!(
            "make one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out {path}`"
        ),
        Algorithm::Ed25519Sha256 => {
            format!("make one with `openssl genpkey -algorithm ed25519 -out {path}`")
        }
    }
}

/// Reads and checks the PEM key at `path` for `algorithm`.
fn read_key(path: &Path, algorithm: Algorithm) -> Result<Key, String> {
    let shown = path.display();
    let what = match algorithm {
        Algorithm::RsaSha256 => {
            "an RSA private key in PEM (\"BEGIN PRIVATE KEY\", PKCS#8, or \"BEGIN RSA PRIVATE KEY\", PKCS#1)"
        }
        Algorithm::Ed25519Sha256 => "an Ed25519 private key in PEM (\"BEGIN PRIVATE KEY\", PKCS#8)",
    };
    let pem = std::fs::read(path).map_err(|err| {
        format!(
            "[email.dkim] private_key_file {shown}: cannot read it ({err}); it must hold {what}; {}",
            how_to_make(algorithm, path)
        )
    })?;
    let der = parse_pem(&pem, path, algorithm, what)?;
    let refused = |why: &str| {
        format!(
            "[email.dkim] private_key_file {shown}: {why}; convert it with \
             `openssl pkey -in {shown} -out {shown}.pkcs8` (PKCS#8) and name that file, or {}",
            how_to_make(algorithm, path)
        )
    };
    let rsa = match (algorithm, &der) {
        (Algorithm::RsaSha256, PrivateKeyDer::Pkcs1(pkcs1)) => {
            Some(RsaKeyPair::from_der(pkcs1.secret_pkcs1_der()))
        }
        (Algorithm::RsaSha256, PrivateKeyDer::Pkcs8(pkcs8)) => {
            Some(RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der()))
        }
        _ => None,
    };
    if let Some(pair) = rsa {
        let pair = pair.map_err(|err| {
            refused(&format!(
                "not an RSA private key of 2048 to 8192 bits that ring can use ({err}); \
                 for an Ed25519 key set algorithm = \"ed25519-sha256\""
            ))
        })?;
        return Ok(Key {
            public_key: base64::engine::general_purpose::STANDARD
                .encode(rsa_spki(pair.public_key().as_ref())?),
            bits: Some(pair.public().modulus_len() * 8),
            der: der.clone_key(),
        });
    }
    match (algorithm, &der) {
        (Algorithm::Ed25519Sha256, PrivateKeyDer::Pkcs8(pkcs8)) => {
            let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8.secret_pkcs8_der())
                .map_err(|err| {
                    refused(&format!(
                        "not an Ed25519 private key ({err}); for an RSA key set algorithm = \"rsa-sha256\""
                    ))
                })?;
            Ok(Key {
                public_key: base64::engine::general_purpose::STANDARD
                    .encode(pair.public_key().as_ref()),
                bits: None,
                der: der.clone_key(),
            })
        }
        (_, PrivateKeyDer::Sec1(_)) => Err(refused(
            "an EC (SEC1) key; DKIM signs with RSA or Ed25519 only",
        )),
        (Algorithm::Ed25519Sha256, _) => Err(refused(
            "an RSA (PKCS#1) key, but algorithm = \"ed25519-sha256\"",
        )),
        (Algorithm::RsaSha256, _) => Err(refused("a key format digest-feed does not read")),
    }
}

/// The PEM private key in `pem`; the error says what the file is and how to convert it.
fn parse_pem(
    pem: &[u8],
    path: &Path,
    algorithm: Algorithm,
    what: &str,
) -> Result<PrivateKeyDer<'static>, String> {
    let shown = path.display();
    PrivateKeyDer::from_pem_slice(pem).map_err(|_| {
        let openssh = String::from_utf8_lossy(pem).contains("BEGIN OPENSSH PRIVATE KEY");
        let hint = if openssh {
            format!(
                "it is an OpenSSH key, which a DKIM key is not; {}",
                how_to_make(algorithm, path)
            )
        } else {
            format!(
                "if it is DER, convert it with `openssl pkey -inform DER -in {shown} -out {shown}.pem`; or {}",
                how_to_make(algorithm, path)
            )
        };
        format!("[email.dkim] private_key_file {shown}: no PEM private key in it; it must hold {what}; {hint}")
    })
}

/// An RSA public key (PKCS#1 `RSAPublicKey`) as the `SubjectPublicKeyInfo`
/// that DKIM records carry (what `openssl pkey -pubout` writes).
fn rsa_spki(rsa_public_key: &[u8]) -> Result<Vec<u8>, String> {
    use spki::der::Encode as _;
    let info = spki::SubjectPublicKeyInfoRef {
        algorithm: spki::AlgorithmIdentifierRef {
            oid: spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
            parameters: Some(spki::der::AnyRef::NULL),
        },
        subject_public_key: spki::der::asn1::BitStringRef::from_bytes(rsa_public_key)
            .map_err(|err| format!("[email.dkim] cannot encode the public key: {err}"))?,
    };
    info.to_der()
        .map_err(|err| format!("[email.dkim] cannot encode the public key: {err}"))
}
