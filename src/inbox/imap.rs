//! The list's mailbox over IMAP (RFC 3501) with TLS from the first byte
//! (port 993): the unseen messages of INBOX, fetched one at a time without
//! marking them (`BODY.PEEK[]`), and flagged `\Seen` once acted on.
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

/// The most unseen messages one run reads; the rest wait for the next.
const MAX_MESSAGES: usize = 10_000;

/// An open IMAP session on INBOX.
pub(super) struct Mailbox {
    runtime: tokio::runtime::Runtime,
    session: Session<TlsStream<TcpStream>>,
    server: String,
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
        let session = runtime.block_on(connect(
            (host, *port),
            (username, &password),
            &connector,
            &server,
        ))?;
        Ok(Mailbox {
            runtime,
            session,
            server,
        })
    }

    /// The UIDs of INBOX's unseen messages, oldest first.
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
        uids.truncate(MAX_MESSAGES);
        Ok(uids)
    }

    /// The message's bytes (`None` when it is too large), without marking
    /// it seen, and when the server received it (its INTERNALDATE, seconds
    /// since the epoch; 0 when the server gives none).
    pub(super) fn read(&mut self, uid: u32) -> Result<(Option<Vec<u8>>, i64), Error> {
        let server = &self.server;
        let session = &mut self.session;
        self.runtime.block_on(async {
            let about = fetch(session, server, uid, "(RFC822.SIZE INTERNALDATE)").await?;
            let received_ts = about
                .as_ref()
                .and_then(async_imap::types::Fetch::internal_date)
                .map_or(0, |date| date.timestamp());
            let size = about.and_then(|fetch| fetch.size);
            if size.is_none_or(|size| u64::from(size) > MAX_MESSAGE) {
                return Ok((None, received_ts));
            }
            let bytes = fetch(session, server, uid, "BODY.PEEK[]")
                .await?
                .and_then(|fetch| fetch.body().map(<[u8]>::to_vec));
            Ok((bytes, received_ts))
        })
    }

    /// Flags the message `\Seen`.
    pub(super) fn mark_seen(&mut self, uid: u32) -> Result<(), Error> {
        let server = &self.server;
        let session = &mut self.session;
        self.runtime.block_on(async {
            let done = async {
                let stream = session
                    .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen)")
                    .await?;
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

/// TCP, TLS, the greeting, the login, INBOX selected.
async fn connect(
    (host, port): (&str, u16),
    (username, password): (&str, &str),
    connector: &TlsConnector,
    server: &str,
) -> Result<Session<TlsStream<TcpStream>>, Error> {
    let tcp = within(server, "connecting", TcpStream::connect((host, port))).await?;
    let name = tls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|err| unavailable(server, err))?;
    let tls = within(server, "TLS", connector.connect(name, tcp)).await?;
    let mut client = async_imap::Client::new(tls);
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
    within(server, "SELECT", session.select("INBOX")).await?;
    Ok(session)
}

/// One message's `query` items.
async fn fetch(
    session: &mut Session<TlsStream<TcpStream>>,
    server: &str,
    uid: u32,
    query: &str,
) -> Result<Option<async_imap::types::Fetch>, Error> {
    let done = async {
        let stream = session.uid_fetch(uid.to_string(), query).await?;
        let mut found = None;
        let replies: Vec<_> = stream.collect().await;
        for reply in replies {
            let fetch = reply?;
            if fetch.uid == Some(uid) {
                found = Some(fetch);
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
