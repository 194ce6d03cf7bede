//! The list's tokens: every per-subscriber link or address carries one,
//! an HMAC-SHA256 of the address and the purpose under a secret key, cut to
//! 128 bits and written in base64url. Nothing in a token reveals the
//! address: the side that reads one finds its subscriber in an [`Index`]
//! of the tokens of every address it knows, each signed once. A forged or
//! altered token matches no one; a token for one purpose is no good for
//! another.
//!
//! The key lives in `[list] secret_file`: 32 random bytes, made on first
//! use with mode 0600, never published. The MAC and the randomness are
//! ring's, the same ring that signs DKIM and speaks TLS.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Location, Problem};

/// How many bytes of the MAC a token keeps: 128 bits.
const TOKEN_BYTES: usize = 16;

/// The characters of a token (base64url, no padding): 22 of them.
pub const TOKEN_CHARS: usize = 22;

/// What a token lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Unsubscribe this address (links, the mailto, one-click).
    Unsubscribe,
    /// Confirm this address's sign-up (double opt-in).
    Confirm,
    /// The envelope sender's tag (VERP): a bounce to it names this address.
    Bounce,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Unsubscribe => b"unsubscribe",
            Purpose::Confirm => b"confirm",
            Purpose::Bounce => b"bounce",
        }
    }
}

/// The key that signs every token.
#[derive(Clone)]
pub struct Secret {
    key: hmac::Key,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// Reads the key at `path`, making it first (32 random bytes, mode
    /// 0600, its folder too) when there is none, unless links signed with a
    /// key were already mailed (`mailed_before`, as the delivery state
    /// tells): a new key would silently turn every one of them into a dead
    /// link, so a lost key is an error that says what to do.
    pub fn load_or_create(path: &Path, mailed_before: bool) -> Result<Secret, Error> {
        match std::fs::metadata(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && mailed_before => {
                Err(Problem::new(
                    Location::file(path),
                    format!(
                        "the list's secret key is missing, yet the delivery state shows links signed \
                         with it were mailed: a new key would make every unsubscribe and confirmation \
                         link already sent a dead link. Restore the file from a backup; only if it is \
                         lost for good, make a new one with `head -c 32 /dev/urandom > {0} && chmod 600 {0}`",
                        path.display()
                    ),
                )
                .into())
            }
            _ => Secret::load(path),
        }
    }

    /// A warning when the key at `path` can be read by other users of the
    /// machine: whoever reads it can unsubscribe anyone.
    pub fn exposure(path: &Path) -> Option<String> {
        readable_by_others(
            path,
            "the list's secret key (whoever reads it can unsubscribe anyone)",
        )
    }

    fn load(path: &Path) -> Result<Secret, Error> {
        match std::fs::read(path) {
            Ok(bytes) => Secret::from_bytes(&bytes).ok_or_else(|| {
                Problem::new(
                    Location::file(path),
                    format!(
                        "the list's secret key must be 32 bytes, this file has {}; restore it, or delete it to make a new \
                         one (every link already mailed then stops working)",
                        bytes.len()
                    ),
                )
                .into()
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Secret::create(path),
            Err(err) => Err(Error::io("cannot read the list's secret key", path, err)),
        }
    }

    fn from_bytes(bytes: &[u8]) -> Option<Secret> {
        let key: [u8; 32] = bytes.try_into().ok()?;
        Some(Secret {
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
        })
    }

    fn create(path: &Path) -> Result<Secret, Error> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut key = [0_u8; 32];
        SystemRandom::new().fill(&mut key).map_err(|_| {
            Error::from(Problem::new(
                Location::file(path),
                "cannot make the list's secret key: the system gave no randomness",
            ))
        })?;
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|err| Error::io("cannot create folder", folder, err))?;
        }
        // create_new: two processes making it at once agree on the winner's key.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        match file {
            Ok(mut file) => {
                file.write_all(&key)
                    .and_then(|()| file.sync_all())
                    .map_err(|err| Error::io("cannot write the list's secret key", path, err))?;
                Ok(Secret {
                    key: hmac::Key::new(hmac::HMAC_SHA256, &key),
                })
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Secret::load(path),
            Err(err) => Err(Error::io("cannot create the list's secret key", path, err)),
        }
    }

    fn mac(&self, purpose: Purpose, email: &str) -> hmac::Tag {
        let mut mac = hmac::Context::with_key(&self.key);
        mac.update(purpose.label());
        mac.update(b"\0");
        mac.update(email.trim().to_lowercase().as_bytes());
        mac.sign()
    }

    /// The token for `email` (compared without case) and `purpose`.
    pub fn token(&self, purpose: Purpose, email: &str) -> String {
        base64url(&self.mac(purpose, email).as_ref()[..TOKEN_BYTES])
    }

    /// A message's fingerprint: how `inbox` knows a message it has acted
    /// on when a crash left it unflagged (keyed, so the state holds nothing
    /// anyone without the key could match against a message of theirs).
    pub fn fingerprint(&self, message: &[u8]) -> String {
        let mut mac = hmac::Context::with_key(&self.key);
        mac.update(b"message\0");
        mac.update(message);
        base64url(mac.sign().as_ref())
    }

    /// The key's fingerprint, for the state to remember which key signed
    /// the links it mailed; it reveals nothing of the key.
    pub fn id(&self) -> String {
        self.fingerprint(b"the list's key")
    }

    /// Whether `token` is `email`'s for `purpose`, compared in constant
    /// time: ring compares whole tags only, so the token is compared by
    /// its own MAC against the MAC of the one expected (equal MACs, equal
    /// tokens), and the time taken tells nothing about either.
    pub fn verify(&self, purpose: Purpose, email: &str, token: &str) -> bool {
        let Some(bytes) = from_base64url(token) else {
            return false;
        };
        let expected = self.mac(purpose, email);
        let expected = &expected.as_ref()[..TOKEN_BYTES];
        bytes.len() == TOKEN_BYTES
            && hmac::verify(&self.key, expected, hmac::sign(&self.key, &bytes).as_ref()).is_ok()
    }
}

/// The addresses tokens name, each address signed once per purpose: a
/// token is then found by one map lookup, not by signing every address the
/// list holds (`serve` per request, `inbox` per message).
///
/// Tokens are secrets, yet a map lookup is fine: the key is the whole
/// token, so a match needs all 128 bits of the MAC, and what the lookup's
/// time could tell (which bucket, how long a prefix matched) helps no one
/// forge one.
#[derive(Debug, Default)]
pub struct Index {
    addresses: HashMap<(Purpose, [u8; TOKEN_CHARS]), Arc<str>>,
}

impl Index {
    /// Adds `address`'s tokens for `purposes`. The first spelling of an
    /// address wins; another case of it has the same token.
    pub fn add(&mut self, secret: &Secret, purposes: &[Purpose], address: &str) {
        let address: Arc<str> = Arc::from(address);
        for &purpose in purposes {
            if let Ok(key) = secret.token(purpose, &address).as_bytes().try_into() {
                self.addresses
                    .entry((purpose, key))
                    .or_insert_with(|| Arc::clone(&address));
            }
        }
    }

    /// The address whose token for `purpose` is `token`.
    pub fn find(&self, purpose: Purpose, token: &str) -> Option<&str> {
        let key = token.as_bytes().try_into().ok()?;
        self.addresses.get(&(purpose, key)).map(AsRef::as_ref)
    }
}

/// A warning when the file at `path` (`what` it is) can be read by users
/// other than its owner; `None` when it cannot, or is not there.
pub fn readable_by_others(path: &Path, what: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| {
        format!(
            "{}: {what} is readable by other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}

/// RFC 4648 §5 base64url without padding.
fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The bytes of a base64url token; `None` for anything but the canonical
/// spelling (the engine refuses stray bits in the last character).
fn from_base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn tokens_are_bound_to_the_address_and_the_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/secret");
        let secret = Secret::load_or_create(&path, false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(Secret::exposure(&path), None);
        let again = Secret::load_or_create(&path, true).unwrap();
        let token = secret.token(Purpose::Unsubscribe, "Kim@Example.org");
        assert_eq!(token.len(), TOKEN_CHARS);
        assert_eq!(token, again.token(Purpose::Unsubscribe, "kim@example.org"));
        assert!(!token.contains("kim"));
        assert!(secret.verify(Purpose::Unsubscribe, "kim@example.org", &token));
        assert!(!secret.verify(Purpose::Confirm, "kim@example.org", &token));
        assert!(!secret.verify(Purpose::Unsubscribe, "lee@example.org", &token));
        let mut sloppy = token.clone().into_bytes();
        sloppy[TOKEN_CHARS - 1] = if sloppy[TOKEN_CHARS - 1] == b'A' {
            b'B'
        } else {
            b'A'
        };
        let sloppy = String::from_utf8(sloppy).unwrap();
        assert!(!secret.verify(Purpose::Unsubscribe, "kim@example.org", &sloppy));
        let mut altered = token.clone().into_bytes();
        altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(!secret.verify(Purpose::Unsubscribe, "kim@example.org", &altered));
        let mut list = Index::default();
        for address in ["lee@example.org", "kim@example.org"] {
            list.add(&secret, &[Purpose::Unsubscribe], address);
        }
        assert_eq!(
            list.find(Purpose::Unsubscribe, &token),
            Some("kim@example.org")
        );
        assert_eq!(list.find(Purpose::Unsubscribe, &altered), None);
        assert_eq!(list.find(Purpose::Unsubscribe, "not a token"), None);
        let other = Secret::from_bytes(&[7; 32]).unwrap();
        assert!(!other.verify(Purpose::Unsubscribe, "kim@example.org", &token));
    }

    /// Links already mailed must keep working: the token is HMAC-SHA256 of
    /// `purpose\0address`, cut to 16 bytes, whatever library computes it
    /// (the values here are Python's `hmac` module's).
    #[test]
    fn tokens_and_fingerprints_are_the_hmac_sha256_they_always_were() {
        let secret = Secret::from_bytes(&[7; 32]).unwrap();
        let token = secret.token(Purpose::Unsubscribe, " Kim@Example.org ");
        assert_eq!(token, "Z1IkDDIYTyOpLGyVKMooTw");
        assert_eq!(
            secret.fingerprint(b"hello"),
            "rRy4YoHtzBrk--PWl5uVWQw3R1ttDsjpBVtVNc7U-i0"
        );
    }

    #[test]
    fn a_damaged_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, b"short").unwrap();
        let err = Secret::load_or_create(&path, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("secret key must be 32 bytes, this file has 5"),
            "{err}"
        );
    }

    #[test]
    fn a_lost_key_is_not_made_anew_once_links_went_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let err = Secret::load_or_create(&path, true).unwrap_err().to_string();
        assert!(
            err.contains("the list's secret key is missing, yet"),
            "{err}"
        );
        assert!(err.contains("Restore the file from a backup"), "{err}");
        assert!(!path.exists(), "no new key made");
        Secret::load_or_create(&path, false).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warning = Secret::exposure(&path).unwrap();
        assert!(
            warning.contains("is readable by other users (mode 644)"),
            "{warning}"
        );
    }

    #[test]
    fn base64url_round_trips() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", &[0xff; 16]] {
            assert_eq!(from_base64url(&base64url(bytes)).unwrap(), bytes);
        }
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
    }
}
