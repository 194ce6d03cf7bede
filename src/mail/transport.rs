//! SMTP delivery through lettre: one connection per sending thread, TLS
//! modes, AUTH with the password from the environment, a rate limit, and
//! retries of what the server says may work later.
//!
//! lettre's async connection is used, driven by a small runtime in each
//! sending thread, because it is the one lettre API that accepts a socket
//! we opened: lettre 0.11.23 never sets `TCP_NODELAY`, and without it every
//! message waits out the server's delayed ACK (40 ms on Linux) before its
//! final `.` goes out, capping a connection at about 23 messages a second
//! (lettre PR #1159 fixes it upstream, unreleased as of 0.11.23).

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::config::{Smtp, TlsMode};
use crate::error::Problem;

/// What a server answered: its reply code, when there was one, and the
/// whole reply as text (`550 5.1.1 <a@b>: no such user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    /// The three-digit code lettre read; `None` for a refusal made before
    /// anything was sent (a message that could not be built).
    pub code: Option<u16>,
    /// The reply as the server worded it, on one line.
    pub text: String,
}

impl Reply {
    /// A refusal that is ours, not the server's.
    pub(super) fn local(text: impl Into<String>) -> Self {
        Reply {
            code: None,
            text: text.into(),
        }
    }

    /// Whether the reply is about the login, not the recipient (RFC 4954's
    /// 530, 534, 535, 538): every message would get it.
    pub(super) fn refuses_the_login(&self) -> bool {
        matches!(self.code, Some(530 | 534 | 535 | 538))
    }

    /// Whether the relay refuses because the sender's quota is spent
    /// (Gmail's "550 5.4.5 Daily user sending quota exceeded", SES's "454
    /// Throttling failure: Daily message quota exceeded"): not about the
    /// recipient, who is owed the message once the quota refills.
    pub(super) fn over_quota(&self) -> bool {
        let text = self.text.to_ascii_lowercase();
        self.code.is_some()
            && (text.contains(" 5.4.5 ")
                || text.contains(" 4.4.5 ")
                || text.contains("quota exceeded")
                || text.contains("sending quota")
                || text.contains("sending limit exceeded"))
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why one message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SendError {
    /// A 5xx reply about this message: retrying will not help.
    Permanent(Reply),
    /// A 4xx reply that outlasted the retries: this recipient is owed the
    /// message, and the next run tries again.
    Transient(Reply),
    /// Nothing can be sent in this run: the server cannot be reached, stops
    /// answering or drops every connection. A later run may get through.
    Fatal(String),
    /// Nothing can be sent until a setting is fixed: the login or the
    /// sender is refused, TLS does not match the server, its certificate is
    /// not trusted. Running again as it is will not help.
    Misconfigured(String),
}

/// The `[smtp] tls` setting, with what TLS needs.
enum Security {
    Plain,
    Starttls(TlsParameters),
    Wrapper(TlsParameters),
}

/// How to reach the configured server; [`Transport::session`] opens
/// connections to it.
pub(super) struct Transport {
    host: String,
    port: u16,
    tls: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    retries: u32,
    timeout: Duration,
    /// The earliest instant the next message may start, for `rate_per_second`.
    next_slot: Option<(Mutex<Instant>, Duration)>,
    describe: String,
    /// The password and the forms AUTH sends it in, never to be printed.
    secrets: Vec<String>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("server", &self.describe)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport for `[smtp]`, logging in with `password` when a username is set.
    pub(super) fn new(smtp: &Smtp, password: Option<String>) -> Result<Transport, Problem> {
        let tls_parameters = || -> Result<TlsParameters, Problem> {
            let mut builder = TlsParameters::builder(smtp.host.clone());
            if let Some(ca) = &smtp.ca {
                let certificate = Certificate::from_pem(&ca.pem).map_err(|err| {
                    Problem::new(
                        ca.location.clone(),
                        format!(
                            "[smtp] ca_file {} is not a PEM certificate: {err}",
                            ca.path.display()
                        ),
                    )
                })?;
                builder = builder.add_root_certificate(certificate);
            }
            builder
                .build_rustls()
                .map_err(|err| Problem::new(smtp.location(), format!("[smtp] TLS settings: {err}")))
        };
        let tls = match smtp.tls {
            TlsMode::Tls => Security::Wrapper(tls_parameters()?),
            TlsMode::Starttls => Security::Starttls(tls_parameters()?),
            TlsMode::None => Security::Plain,
        };
        let secrets = secrets(smtp.username.as_deref(), password.as_deref());
        let credentials = smtp
            .username
            .as_ref()
            .map(|user| Credentials::new(user.clone(), password.unwrap_or_default()));
        Ok(Transport {
            secrets,
            describe: smtp.server(),
            host: smtp.host.clone(),
            port: smtp.port,
            tls,
            credentials,
            hello: ClientId::default(),
            retries: smtp.retries,
            timeout: smtp.timeout,
            next_slot: smtp
                .interval
                .map(|interval| (Mutex::new(Instant::now()), interval)),
        })
    }

    /// `host:port`, for messages.
    pub(super) fn server(&self) -> &str {
        &self.describe
    }

    /// A session for one sending thread: it opens a connection when the
    /// first message needs one and keeps it for the next.
    pub(super) fn session(&self) -> Result<Session<'_>, SendError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|err| SendError::Fatal(format!("cannot start the SMTP client: {err}")))?;
        Ok(Session {
            transport: self,
            runtime,
            connection: None,
        })
    }

    /// Opens a connection: TCP (with `TCP_NODELAY`), TLS as configured, the
    /// greeting and EHLO, then AUTH. Each step gets `timeout_s`.
    async fn open(&self) -> Result<AsyncSmtpConnection, Failure> {
        let mut connection = match &self.tls {
            // Implicit TLS: lettre opens this socket itself (no TCP_NODELAY);
            // its async API cannot wrap a socket of ours in TLS before the greeting.
            Security::Wrapper(parameters) => self
                .within(AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    Some(self.timeout),
                    &self.hello,
                    Some(parameters.clone()),
                    None,
                ))
                .await?
                .map_err(|err| self.classify(&err))?,
            Security::Plain | Security::Starttls(_) => match self.connect(false).await {
                // RFC 5321 §4.1.4: a server that does not take EHLO may take HELO.
                Err(Failure::Reply(SendError::Permanent(reply)))
                    if matches!(reply.code, Some(500 | 501 | 502 | 550)) =>
                {
                    self.connect(true).await?
                }
                other => other?,
            },
        };
        if let Security::Starttls(parameters) = &self.tls {
            if !connection.can_starttls() {
                return Err(Failure::Reply(SendError::Misconfigured(format!(
                    "{} does not offer STARTTLS, which [smtp] tls = \"starttls\" requires; \
                     use tls = \"tls\" if it expects TLS from the start (port 465)",
                    self.describe
                ))));
            }
            self.within(connection.starttls(parameters.clone(), &self.hello))
                .await?
                .map_err(|err| self.classify(&err))?;
        }
        if let Some(credentials) = &self.credentials {
            self.within(connection.auth(&[Mechanism::Plain, Mechanism::Login], credentials))
                .await?
                .map_err(|err| match self.classify(&err) {
                    // Whatever the server answered, a failed login fails every message.
                    Failure::Reply(SendError::Permanent(reply) | SendError::Transient(reply)) => {
                        Failure::Reply(SendError::Misconfigured(self.login_refused(&reply)))
                    }
                    other => other,
                })?;
        }
        Ok(connection)
    }

    /// Our socket (with `TCP_NODELAY`), the greeting, and EHLO, or HELO
    /// when `helo`.
    async fn connect(&self, helo: bool) -> Result<AsyncSmtpConnection, Failure> {
        let socket = self
            .within(tokio::net::TcpStream::connect((
                self.host.as_str(),
                self.port,
            )))
            .await?
            .map_err(|err| Failure::NoReply(format!("cannot talk to {}: {err}", self.describe)))?;
        // Best effort: a socket without it still works, only slower.
        let _ = socket.set_nodelay(true);
        self.within(AsyncSmtpConnection::connect_with_transport(
            Box::new(Bounded {
                socket,
                unasked: 0,
                helo,
            }),
            &self.hello,
        ))
        .await?
        .map_err(|err| self.classify(&err))
    }

    /// `step`, or no reply if it takes longer than `timeout_s`.
    async fn within<T>(&self, step: impl std::future::Future<Output = T>) -> Result<T, Failure> {
        tokio::time::timeout(self.timeout, step)
            .await
            .map_err(|_| self.no_answer())
    }

    fn no_answer(&self) -> Failure {
        Failure::NoReply(format!(
            "{} did not answer within {} s (timeout_s)",
            self.describe,
            self.timeout.as_secs()
        ))
    }

    fn wait_for_slot(&self) {
        if let Some((next, interval)) = &self.next_slot {
            let start = {
                let mut next = next
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let start = (*next).max(Instant::now());
                *next = start + *interval;
                start
            };
            let now = Instant::now();
            if start > now {
                std::thread::sleep(start - now);
            }
        }
    }

    /// Why a login failed, and what to fix: the password, never a rerun.
    fn login_refused(&self, reply: &Reply) -> String {
        format!(
            "{} refused the login: {reply}; check [smtp] username and the password in the \
             environment variable [smtp] password_env names",
            self.describe
        )
    }

    /// What `err` means for the run, with every secret blanked out of its
    /// text: a server may echo the AUTH line (the password in base64) in
    /// its refusal, and that refusal is printed and recorded.
    fn classify(&self, err: &lettre::transport::smtp::Error) -> Failure {
        let redact = |text: String| redact(text, &self.secrets);
        match self.classify_raw(err) {
            Failure::Reply(SendError::Permanent(reply)) => {
                Failure::Reply(SendError::Permanent(Reply {
                    text: redact(reply.text),
                    ..reply
                }))
            }
            Failure::Reply(SendError::Transient(reply)) => {
                Failure::Reply(SendError::Transient(Reply {
                    text: redact(reply.text),
                    ..reply
                }))
            }
            Failure::Reply(SendError::Fatal(text)) => {
                Failure::Reply(SendError::Fatal(redact(text)))
            }
            Failure::Reply(SendError::Misconfigured(text)) => {
                Failure::Reply(SendError::Misconfigured(redact(text)))
            }
            Failure::NoReply(text) => Failure::NoReply(redact(text)),
            Failure::Unknown(text) => Failure::Unknown(redact(text)),
        }
    }

    fn classify_raw(&self, err: &lettre::transport::smtp::Error) -> Failure {
        if let Some(tls) = rustls_error(err) {
            let reason = match tls {
                rustls::Error::InvalidCertificate(why) => format!(
                    "the certificate of {} is not trusted ({why:?}); if the server uses a private CA, \
                     name its certificate in [smtp] ca_file",
                    self.describe
                ),
                rustls::Error::InvalidMessage(_) if matches!(self.tls, Security::Wrapper(_)) => {
                    format!(
                        "{} did not answer in TLS ({tls}): it expects a plain start; use \
                         [smtp] tls = \"starttls\" (usually port 587), or its TLS port (usually 465)",
                        self.describe
                    )
                }
                other => format!("TLS with {} failed: {other}", self.describe),
            };
            return Failure::Reply(SendError::Misconfigured(reason));
        }
        if err.is_tls() {
            return Failure::Reply(SendError::Misconfigured(format!(
                "TLS with {} failed: {}; if the server uses a private CA, name its certificate in [smtp] ca_file",
                self.describe,
                reply_text(err)
            )));
        }
        if err.is_permanent() {
            let reply = reply(err);
            if reply.refuses_the_login() {
                return Failure::Reply(SendError::Misconfigured(self.login_refused(&reply)));
            }
            return Failure::Reply(SendError::Permanent(reply));
        }
        if err.is_transient() {
            return Failure::Reply(SendError::Transient(reply(err)));
        }
        if timed_out(err) {
            return self.no_answer();
        }
        Failure::NoReply(format!(
            "cannot talk to {}: {}",
            self.describe,
            reply_text(err)
        ))
    }
}

/// One sending thread's connection to the server.
pub(super) struct Session<'t> {
    transport: &'t Transport,
    runtime: tokio::runtime::Runtime,
    connection: Option<AsyncSmtpConnection>,
}

impl Session<'_> {
    /// Sends `bytes`, retrying transient failures on a fresh connection
    /// with exponential backoff and jitter.
    ///
    /// A 4xx about this message (451 greylisting, 4.7.x throttling) spends
    /// its `smtp.retries`. A lost connection (no connection, no answer, a
    /// drop, a 421 closing it) is about the connection, not the message: it
    /// is reconnected without spending them, but only while the time spent
    /// on this message stays within `timeout_s`, so an unreachable server
    /// stops the run in about `timeout_s`. A message that went out whole
    /// and then got no answer may have been stored: it is never sent again
    /// in this run (the next run sends it, so at most one copy too many).
    pub(super) fn send(&mut self, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendError> {
        let transport = self.transport;
        let started = Instant::now();
        let mut tries = Tries::default();
        loop {
            transport.wait_for_slot();
            let failure = match self.attempt(envelope, bytes) {
                Ok(()) => return Ok(()),
                Err(failure) => failure,
            };
            let limits = (transport.retries, transport.timeout);
            match tries.next(failure, started.elapsed(), limits, backoff) {
                Next::Retry(delay) => std::thread::sleep(delay),
                Next::GiveUp(error) => return Err(error),
            }
        }
    }

    /// One try on the open connection, or a new one. After any failure the
    /// connection is dropped, so a retry starts fresh.
    fn attempt(&mut self, envelope: &Envelope, bytes: &[u8]) -> Result<(), Failure> {
        let Session {
            transport,
            runtime,
            connection,
        } = self;
        runtime.block_on(async {
            let mut open = match connection.take() {
                Some(open) => open,
                None => transport.open().await?,
            };
            let sent = transport.deliver(&mut open, envelope, bytes).await;
            if sent.is_ok() {
                *connection = Some(open);
            }
            sent
        })
    }
}

impl Transport {
    /// MAIL, RCPT, DATA and the message, as lettre's `send` does, but
    /// knowing which step failed: a message sent whole whose reply never
    /// came may have been stored ([`Failure::Unknown`]).
    async fn deliver(
        &self,
        connection: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        bytes: &[u8],
    ) -> Result<(), Failure> {
        let server = connection.server_info();
        let mut options = Vec::new();
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|address| !AsRef::<str>::as_ref(address).is_ascii());
        if non_ascii {
            if !server.supports_feature(Extension::SmtpUtfEight) {
                // This recipient only: the next one may well be ASCII.
                return Err(Failure::Reply(SendError::Permanent(Reply::local(format!(
                    "the address needs SMTPUTF8, which {} does not offer",
                    self.describe
                )))));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !bytes.is_ascii() {
            if !server.supports_feature(Extension::EightBitMime) {
                return Err(Failure::Reply(SendError::Permanent(Reply::local(format!(
                    "the message is 8-bit, and {} does not offer 8BITMIME",
                    self.describe
                )))));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let commands = async {
            connection
                .command(Mail::new(envelope.from().cloned(), options))
                .await?;
            for to in envelope.to() {
                connection
                    .command(Rcpt::new(to.clone(), Vec::new()))
                    .await?;
            }
            connection.command(Data).await.map(drop)
        };
        match self.within(commands).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(self.classify(&err)),
            Err(no_answer) => return Err(no_answer),
        }
        match self.within(connection.message(bytes)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => match self.classify(&err) {
                Failure::NoReply(reason) => Err(Failure::Unknown(unknown(&reason))),
                replied => Err(replied),
            },
            Err(Failure::NoReply(reason)) => Err(Failure::Unknown(unknown(&reason))),
            Err(other) => Err(other),
        }
    }
}

/// The password as AUTH PLAIN and LOGIN send it (base64), and as itself.
fn secrets(username: Option<&str>, password: Option<&str>) -> Vec<String> {
    use base64::Engine;
    let (Some(user), Some(password)) = (username, password) else {
        return Vec::new();
    };
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut secrets = vec![
        encode(format!("\0{user}\0{password}").as_bytes()),
        encode(password.as_bytes()),
        password.to_string(),
    ];
    // A password of a few characters would blank out half of every reply.
    secrets.retain(|secret| secret.len() >= 4);
    secrets
}

fn redact(mut text: String, secrets: &[String]) -> String {
    for secret in secrets {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), "[redacted]");
        }
    }
    text
}

/// Why a message whose reply was lost is not sent again in this run.
fn unknown(reason: &str) -> String {
    format!(
        "{reason} after the whole message was sent; it may have been delivered, \
         so it is not sent again in this run (the next run sends it)"
    )
}

impl Drop for Session<'_> {
    /// Says goodbye politely, but never waits long for it.
    fn drop(&mut self) {
        if let Some(mut connection) = self.connection.take() {
            // The timer must be made inside the runtime, hence the async block.
            let _ = self.runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(1), connection.quit()).await
            });
        }
    }
}

/// The most a server may send before it hears from us again: a reply, an
/// EHLO list or TLS's certificates take a few KiB. lettre checks a reply
/// line's length only once the line has ended, so without this a server
/// sending `220 ` and then bytes without end grows its buffer until the
/// allocator aborts.
const MAX_UNASKED_BYTES: usize = 1024 * 1024;

/// Our socket, under lettre's connection (and under TLS after STARTTLS):
/// a read past [`MAX_UNASKED_BYTES`] since our last write is an error.
#[derive(Debug)]
struct Bounded {
    socket: tokio::net::TcpStream,
    unasked: usize,
    /// Say HELO where lettre says EHLO, which it has no other way to do:
    /// the reply, a plain `250 host`, reads as an EHLO with no extensions.
    helo: bool,
}

impl tokio::io::AsyncRead for Bounded {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = std::pin::Pin::new(&mut this.socket).poll_read(cx, buf);
        if poll.is_ready() {
            this.unasked += buf.filled().len() - before;
            if this.unasked > MAX_UNASKED_BYTES {
                return std::task::Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the server sent over 1 MiB without waiting for a command",
                )));
            }
        }
        poll
    }
}

impl tokio::io::AsyncWrite for Bounded {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let poll = if this.helo && buf.starts_with(b"EHLO ") {
            // The same length, so lettre's count of what was written holds.
            let helo = [b"HELO".as_slice(), &buf[4..]].concat();
            std::pin::Pin::new(&mut this.socket).poll_write(cx, &helo)
        } else {
            std::pin::Pin::new(&mut this.socket).poll_write(cx, buf)
        };
        if let std::task::Poll::Ready(Ok(written)) = &poll
            && *written > 0
        {
            this.unasked = 0;
        }
        poll
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.socket).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.socket).poll_shutdown(cx)
    }
}

impl lettre::transport::smtp::client::AsyncTokioStream for Bounded {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.socket.peer_addr()
    }
}

/// How one attempt failed, before the retry policy decides.
enum Failure {
    /// The server answered (or TLS refused it): retried only if transient.
    Reply(SendError),
    /// No answer at all before the message went out: no connection, no
    /// reply in time, or a dropped one.
    NoReply(String),
    /// The message went out whole, then no answer: it may have been stored.
    Unknown(String),
}

/// What the retry policy says after a failed try.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Try again after this wait.
    Retry(Duration),
    /// Stop trying this message, with this outcome.
    GiveUp(SendError),
}

/// The failed tries of one message so far: the retry policy's memory.
#[derive(Debug, Default)]
struct Tries {
    /// 4xx replies about the message: each spends one of `smtp.retries`.
    deferrals: u32,
    /// Connections lost or never made: about the connection, not the message.
    reconnects: u32,
}

impl Tries {
    /// The retry policy, pure: what to do after `failure`, `elapsed` into
    /// this message, under `(retries, timeout)`, waiting `backoff(n)` before
    /// the n-th retry. See [`Session::send`] for the rules.
    fn next(
        &mut self,
        failure: Failure,
        elapsed: Duration,
        (retries, timeout): (u32, Duration),
        backoff: impl Fn(u32) -> Duration,
    ) -> Next {
        // None the first time (a server closing a connection after so many
        // messages is routine), then the backoff.
        let reconnect_delay = match self.reconnects {
            0 => Duration::ZERO,
            n => backoff(n - 1),
        };
        match failure {
            Failure::Reply(SendError::Transient(reply)) if reply.code != Some(421) => {
                if self.deferrals >= retries {
                    return Next::GiveUp(SendError::Transient(reply));
                }
                self.deferrals += 1;
                Next::Retry(backoff(self.deferrals - 1))
            }
            Failure::Reply(SendError::Transient(reply)) => {
                // 421: the server closes this connection (too many
                // messages on it, shutting down): a fresh one, at once.
                if elapsed + reconnect_delay >= timeout {
                    return Next::GiveUp(SendError::Transient(reply));
                }
                self.reconnects += 1;
                Next::Retry(reconnect_delay)
            }
            Failure::Reply(error) => Next::GiveUp(error),
            Failure::Unknown(reason) => Next::GiveUp(SendError::Transient(Reply::local(reason))),
            Failure::NoReply(reason) => {
                if self.reconnects > retries || elapsed + reconnect_delay >= timeout {
                    // No reply after every retry: the server is unreachable
                    // for every message, not just this one.
                    return Next::GiveUp(SendError::Fatal(reason));
                }
                self.reconnects += 1;
                Next::Retry(reconnect_delay)
            }
        }
    }
}

/// The errors under a lettre error, outermost first.
fn causes(
    err: &lettre::transport::smtp::Error,
) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    std::iter::successors(std::error::Error::source(err), |inner| inner.source())
}

/// The rustls error under a lettre error, if TLS is what failed. lettre
/// reports a refused certificate as a network error around an `io::Error`
/// that carries it.
fn rustls_error(err: &lettre::transport::smtp::Error) -> Option<&rustls::Error> {
    causes(err).find_map(|inner| {
        inner.downcast_ref::<rustls::Error>().or_else(|| {
            inner
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|e| e.downcast_ref::<rustls::Error>())
        })
    })
}

/// Whether a read or write ran past the socket timeout. Rust reports a
/// socket timeout as `WouldBlock` (EAGAIN) on Linux, which lettre's own
/// `is_timeout()` does not count.
fn timed_out(err: &lettre::transport::smtp::Error) -> bool {
    err.is_timeout()
        || causes(err).any(|inner| {
            inner.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            })
        })
}

/// The server's reply (`550 5.1.1 no such user`), or lettre's description
/// of a failure that had no reply.
fn reply_text(err: &lettre::transport::smtp::Error) -> String {
    match err.status() {
        Some(code) => {
            let detail = causes(err)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            let detail = crate::text::one_line(&detail);
            format!("{code} {detail}").trim_end().to_string()
        }
        None => err.to_string(),
    }
}

/// The server's reply, with lettre's code kept as a number.
fn reply(err: &lettre::transport::smtp::Error) -> Reply {
    Reply {
        code: err.status().and_then(|code| code.to_string().parse().ok()),
        text: reply_text(err),
    }
}

/// 0.5 s, 1 s, 2 s, … capped at 30 s, each with up to 50 % added at random
/// so that parallel connections do not retry in step.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(500).saturating_mul(1 << attempt.min(6));
    let base = base.min(Duration::from_secs(30));
    let jitter = base.mul_f64(fastrand::f64() * 0.5);
    base + jitter
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The longest `backoff` can be: every jitter at its top.
    fn slowest(attempt: u32) -> Duration {
        let base = Duration::from_millis(500).saturating_mul(1 << attempt.min(6));
        base.min(Duration::from_secs(30)).mul_f64(1.5)
    }

    fn reply(code: u16) -> Reply {
        Reply {
            code: Some(code),
            text: format!("{code} 4.7.1 try later"),
        }
    }

    /// Runs the policy over one failure after another, each try taking
    /// `each`, with the clock kept here; the outcome and when it came.
    fn run(
        failure: impl Fn() -> Failure,
        each: Duration,
        limits: (u32, Duration),
    ) -> (SendError, Duration, Vec<Duration>) {
        let (mut tries, mut elapsed, mut waits) = (Tries::default(), Duration::ZERO, Vec::new());
        loop {
            elapsed += each;
            match tries.next(failure(), elapsed, limits, slowest) {
                Next::Retry(wait) => {
                    waits.push(wait);
                    elapsed += wait;
                }
                Next::GiveUp(error) => return (error, elapsed, waits),
            }
        }
    }

    #[test]
    fn an_unreachable_server_is_given_up_within_the_timeout_not_retries_times_it() {
        let refused = || Failure::NoReply("connection refused".into());
        for retries in [0, 3, 100] {
            let (error, elapsed, waits) =
                run(refused, Duration::ZERO, (retries, Duration::from_secs(5)));
            assert!(matches!(error, SendError::Fatal(_)), "{error:?}");
            assert!(
                elapsed < Duration::from_secs(5),
                "{retries} retries: {elapsed:?}"
            );
            assert!(waits.len() <= retries as usize + 1, "{waits:?}");
            assert_eq!(
                waits.first(),
                Some(&Duration::ZERO),
                "the first reconnect is at once"
            );
        }
    }

    #[test]
    fn a_server_silent_for_the_whole_timeout_is_not_tried_again() {
        let silent = || Failure::NoReply("no greeting".into());
        let (error, elapsed, waits) =
            run(silent, Duration::from_secs(2), (3, Duration::from_secs(2)));
        assert!(matches!(error, SendError::Fatal(_)));
        assert_eq!((elapsed, waits), (Duration::from_secs(2), Vec::new()));
    }

    #[test]
    fn a_deferral_spends_the_retries_with_growing_waits() {
        let greylisted = || Failure::Reply(SendError::Transient(reply(451)));
        let (error, _, waits) = run(greylisted, Duration::ZERO, (3, Duration::from_secs(5)));
        assert_eq!(error, SendError::Transient(reply(451)));
        assert_eq!(waits, [slowest(0), slowest(1), slowest(2)]);
    }

    #[test]
    fn a_421_reconnects_at_once_without_spending_a_retry() {
        let mut tries = Tries::default();
        let closing = Failure::Reply(SendError::Transient(reply(421)));
        let limits = (0, Duration::from_secs(5));
        assert_eq!(
            tries.next(closing, Duration::ZERO, limits, slowest),
            Next::Retry(Duration::ZERO)
        );
        assert_eq!(tries.deferrals, 0);
        let late = Failure::Reply(SendError::Transient(reply(421)));
        let given_up = tries.next(late, Duration::from_secs(5), limits, slowest);
        assert_eq!(given_up, Next::GiveUp(SendError::Transient(reply(421))));
    }

    #[test]
    fn a_refusal_or_a_message_that_may_have_been_stored_is_never_sent_again() {
        let limits = (3, Duration::from_secs(5));
        let refused = SendError::Permanent(reply(550));
        let next = Tries::default().next(
            Failure::Reply(refused.clone()),
            Duration::ZERO,
            limits,
            slowest,
        );
        assert_eq!(next, Next::GiveUp(refused));
        let unknown = Failure::Unknown("no answer after the message".into());
        let next = Tries::default().next(unknown, Duration::ZERO, limits, slowest);
        let owed = SendError::Transient(Reply::local("no answer after the message"));
        assert_eq!(next, Next::GiveUp(owed));
    }

    /// An SMTP peer in this process, for `connections` connections one
    /// after another: it answers each command whose verb a rule names with
    /// that rule's reply (`250 ok` to the rest), takes any message, and
    /// hands back every command it heard.
    fn scripted_peer(
        connections: usize,
        rules: &[(&str, &str)],
    ) -> (u16, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rules: Vec<(String, String)> = rules
            .iter()
            .map(|(verb, reply)| ((*verb).to_string(), (*reply).to_string()))
            .collect();
        let peer = std::thread::spawn(move || {
            let mut heard = Vec::new();
            for _ in 0..connections {
                let (socket, _) = listener.accept().unwrap();
                let mut out = socket.try_clone().unwrap();
                let mut lines = BufReader::new(socket).lines();
                out.write_all(b"220 scripted ESMTP\r\n").unwrap();
                while let Some(Ok(line)) = lines.next() {
                    let verb = line
                        .split(' ')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_uppercase();
                    let rule = rules
                        .iter()
                        .find(|(v, _)| *v == verb)
                        .map(|(_, r)| r.as_str());
                    let reply = match (verb.as_str(), rule) {
                        (_, Some(reply)) => reply.to_string(),
                        ("EHLO", None) => "250-scripted\r\n250 8BITMIME".to_string(),
                        ("DATA", None) => {
                            out.write_all(b"354 go on\r\n").unwrap();
                            let _ = lines
                                .by_ref()
                                .take_while(|l| l.as_deref().is_ok_and(|l| l != "."))
                                .count();
                            "250 queued".to_string()
                        }
                        ("QUIT", None) => "221 bye".to_string(),
                        _ => "250 ok".to_string(),
                    };
                    heard.push(verb.clone());
                    out.write_all(format!("{reply}\r\n").as_bytes()).unwrap();
                    if verb == "QUIT" || reply.starts_with("421") {
                        break;
                    }
                }
            }
            heard
        });
        (port, peer)
    }

    /// One message through a plain transport to the scripted peer on `port`.
    fn send_to(port: u16) -> Result<(), SendError> {
        let transport = Transport {
            host: "127.0.0.1".into(),
            port,
            tls: Security::Plain,
            credentials: None,
            hello: ClientId::Domain("digest-feed.test".into()),
            retries: 0,
            timeout: Duration::from_secs(30),
            next_slot: None,
            describe: format!("127.0.0.1:{port}"),
            secrets: Vec::new(),
        };
        let from = "list@example.org".parse().unwrap();
        let envelope = Envelope::new(Some(from), vec!["kim@example.org".parse().unwrap()]).unwrap();
        let mut session = transport.session()?;
        let sent = session.send(&envelope, b"Subject: x\r\n\r\nHello\r\n");
        drop(session);
        sent
    }

    #[test]
    fn a_5xx_to_the_recipient_is_refused_for_good_in_the_servers_words() {
        let (port, peer) =
            scripted_peer(1, &[("RCPT", "550 5.1.1 <kim@example.org>: no such user")]);
        let refused = SendError::Permanent(Reply {
            code: Some(550),
            text: "550 5.1.1 <kim@example.org>: no such user".into(),
        });
        assert_eq!(send_to(port), Err(refused));
        assert!(!peer.join().unwrap().contains(&"DATA".to_string()));
    }

    #[test]
    fn a_4xx_is_owed_and_a_refused_login_is_a_setting_to_fix() {
        let (port, peer) = scripted_peer(1, &[("RCPT", "451 4.7.1 Greylisted, try again later")]);
        let Err(SendError::Transient(reply)) = send_to(port) else {
            panic!("not transient")
        };
        assert_eq!(
            (reply.code, reply.text.as_str()),
            (Some(451), "451 4.7.1 Greylisted, try again later")
        );
        peer.join().unwrap();
        let (port, peer) = scripted_peer(1, &[("MAIL", "530 5.7.0 Authentication required")]);
        let Err(SendError::Misconfigured(why)) = send_to(port) else {
            panic!("not misconfigured")
        };
        assert!(
            why.contains("refused the login: 530 5.7.0 Authentication required"),
            "{why}"
        );
        peer.join().unwrap();
    }

    #[test]
    fn a_server_refusing_ehlo_is_greeted_with_helo() {
        let (port, peer) = scripted_peer(2, &[("EHLO", "502 5.5.2 Error: command not recognized")]);
        assert_eq!(send_to(port), Ok(()));
        let heard = peer.join().unwrap();
        // A fresh connection after the refusal, greeted with HELO.
        assert_eq!(
            heard,
            ["EHLO", "QUIT", "HELO", "MAIL", "RCPT", "DATA", "QUIT"]
        );
    }

    #[test]
    fn a_relays_quota_reply_is_told_from_a_refused_recipient() {
        let said = |code: u16, text: &str| Reply {
            code: Some(code),
            text: format!("{code} {text}"),
        };
        assert!(said(550, "5.4.5 Daily user sending quota exceeded.").over_quota());
        assert!(said(454, "Throttling failure: Daily message quota exceeded.").over_quota());
        assert!(!said(550, "5.1.1 <a@example.org>: no such user").over_quota());
        assert!(
            !said(
                452,
                "4.2.2 The email account that you tried to reach is over quota"
            )
            .over_quota()
        );
        assert!(!Reply::local("quota exceeded").over_quota());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(0) >= Duration::from_millis(500) && backoff(0) <= Duration::from_millis(750)
        );
        assert!(backoff(3) >= Duration::from_secs(4));
        assert!(backoff(20) <= Duration::from_secs(45));
    }
}
