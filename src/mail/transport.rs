//! SMTP delivery over lettre's async connection, one per sending thread:
//! opened as `[smtp]` says (TLS mode, login), each step within `timeout_s`,
//! messages spaced for `rate_per_second`, a failed try judged and retried
//! as [`super::retry`] decides.
//!
//! lettre speaks the protocol: greeting, EHLO and the extensions offered,
//! STARTTLS and implicit TLS, AUTH, the commands, replies and their codes. Here is only what lettre 0.11.23 leaves undone:
//! - `TCP_NODELAY`: lettre never sets it, and without it every message
//!   waits out the server's delayed ACK (40 ms on Linux) before its final
//!   `.` goes out, capping a connection at about 23 messages a second
//!   (lettre PR #1159, unreleased). So the socket is ours, handed to lettre;
//!   with implicit TLS lettre must open it (its async API cannot put TLS
//!   under a socket of ours before the greeting), so that path goes without.
//! - A bound on what a server sends unasked ([`Bounded`]): lettre checks a
//!   reply line's length only once the line has ended.
//! - HELO for a server that refuses EHLO: lettre only says EHLO, so
//!   [`Bounded`] rewrites the word on a second connection.
//! - A time limit on every step: lettre's async client times only the TCP
//!   connect.
//! - The message's dot-stuffing in one search, not a byte at a time
//!   ([`Stuffed`]): the same bytes on the wire, a third of a send's CPU less.
//! - Which step failed: a message sent whole whose reply never came may
//!   have been stored, so MAIL, RCPT, DATA and the message go one by one
//!   rather than through lettre's `send`, which cannot tell.
//! - What to fix when TLS fails: lettre reports a failed handshake as a
//!   connection error, so rustls's own error is looked for under it.
//! - The password blanked out of a refusal that echoes it.

use std::error::Error as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use super::retry::{self, Failure, Next, Reply, SendError, Tries};
use crate::config::{Smtp, TlsMode};
use crate::error::Problem;

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
    /// `retries` and `timeout_s`; the timeout also bounds every step.
    policy: retry::Policy,
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
                    let path = ca.path.display();
                    let why = format!("[smtp] ca_file {path} is not a PEM certificate: {err}");
                    Problem::new(ca.location.clone(), why)
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
            policy: retry::Policy {
                retries: smtp.retries,
                timeout: smtp.timeout,
                backoff: retry::backoff,
            },
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

    /// Opens a connection: TCP, TLS as configured, the greeting and EHLO
    /// (or HELO), then AUTH. Each step gets `timeout_s`.
    async fn open(&self) -> Result<AsyncSmtpConnection, Failure> {
        let opened = match &self.tls {
            Security::Wrapper(parameters) => {
                let server = (self.host.as_str(), self.port);
                let parameters = Some(parameters.clone());
                let connect = AsyncSmtpConnection::connect_tokio1(
                    server,
                    None,
                    &self.hello,
                    parameters,
                    None,
                );
                self.within(connect).await?
            }
            Security::Plain | Security::Starttls(_) => match self.connect(false).await? {
                // RFC 5321 §4.1.4: a server that does not take EHLO may take HELO.
                Err(err) if self.said(&err).is_ok_and(|reply| reply.refuses_ehlo()) => {
                    self.connect(true).await?
                }
                greeted => greeted,
            },
        };
        let mut connection = opened.map_err(|err| self.opening_failed(&err))?;
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
                .map_err(|err| self.opening_failed(&err))?;
        }
        if let Some(credentials) = &self.credentials {
            let login = connection.auth(&[Mechanism::Plain, Mechanism::Login], credentials);
            self.within(login).await?.map_err(|err| match self.said(&err) {
                // Whatever the server answered, a failed login fails every message.
                Ok(reply) => Failure::Reply(SendError::Misconfigured(retry::login_refused(&self.describe, &reply))),
                Err(_) if err.is_client() => Failure::Reply(SendError::Misconfigured(format!(
                    "{} offers no login digest-feed speaks (AUTH PLAIN or LOGIN), which [smtp] username asks for",
                    self.describe
                ))),
                Err(failure) => failure,
            })?;
        }
        Ok(connection)
    }

    /// Our socket (with `TCP_NODELAY`), the greeting, and EHLO, or HELO
    /// when `helo`: lettre's answer, or the failure to get one.
    async fn connect(&self, helo: bool) -> Result<Result<AsyncSmtpConnection, SmtpError>, Failure> {
        let socket = self
            .within(tokio::net::TcpStream::connect((
                self.host.as_str(),
                self.port,
            )))
            .await?
            .map_err(|err| Failure::NoReply(format!("cannot talk to {}: {err}", self.describe)))?;
        // Best effort: a socket without it still works, only slower.
        let _ = socket.set_nodelay(true);
        let stream = Box::new(Bounded {
            socket,
            unasked: 0,
            helo,
        });
        self.within(AsyncSmtpConnection::connect_with_transport(
            stream,
            &self.hello,
        ))
        .await
    }

    /// `step`, or no reply if it takes longer than `timeout_s`.
    async fn within<T>(&self, step: impl Future<Output = T>) -> Result<T, Failure> {
        tokio::time::timeout(self.policy.timeout, step)
            .await
            .map_err(|_| {
                let seconds = self.policy.timeout.as_secs();
                Failure::NoReply(format!(
                    "{} did not answer within {seconds} s (timeout_s)",
                    self.describe
                ))
            })
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

    /// What `err` says: the server's reply, or the failure when none came.
    /// Every secret is blanked out of its text: a server may echo the AUTH
    /// line (the password in base64) in its refusal, and that refusal is
    /// printed and recorded.
    fn said(&self, err: &SmtpError) -> Result<Reply, Failure> {
        if let Some(tls) = rustls_error(err) {
            return Err(Failure::Reply(SendError::Misconfigured(
                self.tls_failed(tls),
            )));
        }
        let Some(code) = err.status() else {
            let why = format!("cannot talk to {}: {err}", self.describe);
            return Err(Failure::NoReply(redact(why, &self.secrets)));
        };
        // lettre keeps the reply's text, every line of it, as the source.
        let text = err.source().map(ToString::to_string).unwrap_or_default();
        let text = format!("{code} {}", crate::text::one_line(&text));
        Ok(Reply {
            code: Some(code.into()),
            text: redact(text.trim_end().to_string(), &self.secrets),
        })
    }

    /// What `err` means for the message being sent.
    fn failed(&self, err: &SmtpError) -> Failure {
        self.said(err).map_or_else(
            |failure| failure,
            |reply| Failure::Reply(retry::judge(reply, &self.describe)),
        )
    }

    /// What `err` means while the connection is being opened.
    fn opening_failed(&self, err: &SmtpError) -> Failure {
        self.said(err).map_or_else(
            |failure| failure,
            |reply| retry::judge_opening(reply, &self.describe),
        )
    }

    /// What to fix when TLS failed: a refused certificate, a port that does
    /// not speak TLS first.
    fn tls_failed(&self, tls: &rustls::Error) -> String {
        match tls {
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
        }
    }

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
        let mut addresses = envelope.from().into_iter().chain(envelope.to());
        if addresses.any(|address| !AsRef::<str>::as_ref(address).is_ascii()) {
            if !server.supports_feature(Extension::SmtpUtfEight) {
                // This recipient only: the next one may well be ASCII.
                let why = format!(
                    "the address needs SMTPUTF8, which {} does not offer",
                    self.describe
                );
                return Err(Failure::Reply(SendError::Permanent(Reply::local(why))));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !bytes.is_ascii() {
            if !server.supports_feature(Extension::EightBitMime) {
                let why = format!(
                    "the message is 8-bit, and {} does not offer 8BITMIME",
                    self.describe
                );
                return Err(Failure::Reply(SendError::Permanent(Reply::local(why))));
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
            connection.command(Data).await
        };
        self.within(commands)
            .await?
            .map_err(|err| self.failed(&err))?;
        let sent = self.within(data(connection, bytes)).await;
        match sent.and_then(|replied| replied.map_err(|err| self.failed(&err))) {
            Ok(_) => Ok(()),
            Err(Failure::NoReply(reason)) => Err(Failure::Unknown(format!(
                "{reason} after the whole message was sent; it may have been delivered, \
                 so it is not sent again in this run (the next run sends it)"
            ))),
            Err(replied) => Err(replied),
        }
    }
}

/// The message after DATA's 354, and the end of the data: the bytes
/// lettre's `AsyncSmtpConnection::message` sends, made faster. lettre
/// copies the message a byte at a time through its dot-stuffing state
/// machine (80 µs for an 81 KB message, a third of a send's CPU); here the
/// same transparency (RFC 5321 §4.5.2, as lettre applies it: a dot that
/// starts the message or follows a CRLF gets another) is a search for the
/// few places it applies, and the text goes out with `CRLF . CRLF` through
/// lettre's `command`, which writes it as it is and reads the reply the
/// same way. A message that is not UTF-8 (the MIME lettre makes is ASCII)
/// goes through `message`.
async fn data(
    connection: &mut AsyncSmtpConnection,
    bytes: &[u8],
) -> Result<lettre::transport::smtp::response::Response, SmtpError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => connection.command(Stuffed(text)).await,
        Err(_) => connection.message(bytes).await,
    }
}

/// A message dot-stuffed and ended, as lettre's codec and `message` write it.
struct Stuffed<'a>(&'a str);

impl std::fmt::Display for Stuffed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0;
        if text.starts_with('.') {
            f.write_str(".")?;
        }
        // Line ends are found by memchr (a search for CRLF-dot is not).
        let bytes = text.as_bytes();
        let mut from = 0;
        for (at, _) in text.match_indices('\n') {
            if at > 0 && bytes[at - 1] == b'\r' && bytes.get(at + 1) == Some(&b'.') {
                f.write_str(&text[from..=at])?;
                f.write_str(".")?;
                from = at + 1;
            }
        }
        f.write_str(&text[from..])?;
        f.write_str("\r\n.\r\n")
    }
}

/// One sending thread's connection to the server.
pub(super) struct Session<'t> {
    transport: &'t Transport,
    runtime: tokio::runtime::Runtime,
    connection: Option<AsyncSmtpConnection>,
}

impl Session<'_> {
    /// Sends `bytes`, trying again as the transport's [`retry::Policy`] says,
    /// waiting its backoff between tries.
    pub(super) fn send(&mut self, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendError> {
        let started = Instant::now();
        let mut tries = Tries::default();
        loop {
            self.transport.wait_for_slot();
            let Err(failure) = self.attempt(envelope, bytes) else {
                return Ok(());
            };
            match self
                .transport
                .policy
                .next(&mut tries, failure, started.elapsed())
            {
                Next::Retry(wait) => std::thread::sleep(wait),
                Next::GiveUp(error) => return Err(error),
            }
        }
    }

    /// One try on the open connection, or a new one. After any failure the
    /// connection is dropped (lettre has closed it), so a retry starts fresh.
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
            transport.deliver(&mut open, envelope, bytes).await?;
            *connection = Some(open);
            Ok(())
        })
    }
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

/// The rustls error under a lettre error, if TLS is what failed. lettre
/// reports a failed handshake as a connection error (not a TLS one) around
/// another, around the `io::Error` that carries rustls's.
fn rustls_error(err: &SmtpError) -> Option<&rustls::Error> {
    let mut causes = std::iter::successors(err.source(), |inner| (*inner).source());
    causes.find_map(|inner| {
        inner
            .downcast_ref::<std::io::Error>()?
            .get_ref()?
            .downcast_ref()
    })
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

impl AsyncTokioStream for Bounded {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.socket.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// An SMTP peer in this process: a std listener on 127.0.0.1, served by
    /// a thread, each connection by the next script. A script's first line
    /// is the greeting, then one a command, and after a `354`, one for the
    /// message's end. `DROP` closes the connection unanswered, as the end of
    /// a script does; a `421` closes it after saying so; QUIT always gets
    /// `221`. Each connection's transcript is the verbs it heard, `.` for a
    /// message's end.
    struct Peer {
        port: u16,
        done: Arc<AtomicBool>,
        thread: std::thread::JoinHandle<Vec<Vec<String>>>,
    }

    const GREETING: &str = "220 scripted ESMTP";
    const EHLO: &str = "250-scripted\r\n250 8BITMIME";
    /// A whole delivery: greeting, EHLO, MAIL, RCPT, DATA, the message.
    const DELIVERS: [&str; 6] = [
        GREETING,
        EHLO,
        "250 ok",
        "250 ok",
        "354 go on",
        "250 queued",
    ];
    const DELIVERED: [&str; 5] = ["EHLO", "MAIL", "RCPT", "DATA", "."];

    impl Peer {
        fn start(scripts: &[&[&str]]) -> Peer {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let done = Arc::new(AtomicBool::new(false));
            let scripts: Vec<Vec<String>> = scripts
                .iter()
                .map(|script| script.iter().map(ToString::to_string).collect())
                .collect();
            let hung_up = Arc::clone(&done);
            let thread = std::thread::spawn(move || {
                let mut transcripts = Vec::new();
                for script in scripts {
                    let (socket, _) = listener.accept().unwrap();
                    if hung_up.load(Ordering::SeqCst) {
                        break;
                    }
                    transcripts.push(converse(socket, &script));
                }
                transcripts
            });
            Peer { port, done, thread }
        }

        /// Each connection's transcript, once the client is done. A peer
        /// still waiting for a connection the client never made is woken
        /// by one of ours, and stops.
        fn transcripts(self) -> Vec<Vec<String>> {
            self.done.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            self.thread.join().unwrap()
        }
    }

    /// One connection, as `script` says; the verbs heard.
    fn converse(socket: TcpStream, script: &[String]) -> Vec<String> {
        let mut out = socket.try_clone().unwrap();
        let mut replies = script.iter();
        let mut heard = Vec::new();
        let mut say = |reply: Option<&String>| match reply {
            Some(reply) if reply != "DROP" => {
                out.write_all(format!("{reply}\r\n").as_bytes()).is_ok()
            }
            _ => false,
        };
        if !say(replies.next()) {
            return heard;
        }
        let mut in_message = false;
        for line in BufReader::new(socket).lines() {
            let Ok(line) = line else { break };
            if in_message && line != "." {
                continue;
            }
            let verb = line
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            heard.push(verb.clone());
            let reply = if verb == "QUIT" {
                Some(&"221 bye".to_string()).cloned()
            } else {
                replies.next().cloned()
            };
            if !say(reply.as_ref())
                || verb == "QUIT"
                || reply.as_ref().is_some_and(|r| r.starts_with("421"))
            {
                break;
            }
            in_message = reply.is_some_and(|r| r.starts_with("354"));
        }
        heard
    }

    /// A plain transport to the peer on `port`, retrying at once.
    fn transport(port: u16, retries: u32) -> Transport {
        Transport {
            host: "127.0.0.1".into(),
            port,
            tls: Security::Plain,
            credentials: None,
            hello: ClientId::Domain("digest-feed.test".into()),
            policy: retry::Policy {
                retries,
                timeout: Duration::from_secs(30),
                backoff: |_| Duration::ZERO,
            },
            next_slot: None,
            describe: "the peer".into(),
            secrets: Vec::new(),
        }
    }

    /// From list@example.org to kim@example.org.
    fn envelope() -> Envelope {
        let from = "list@example.org".parse().unwrap();
        Envelope::new(Some(from), vec!["kim@example.org".parse().unwrap()]).unwrap()
    }

    /// `messages` messages to kim@example.org through one session to the
    /// peer, retrying `retries` times; each outcome, and the transcripts.
    fn send(
        peer: Peer,
        retries: u32,
        messages: usize,
    ) -> (Vec<Result<(), SendError>>, Vec<Vec<String>>) {
        let transport = transport(peer.port, retries);
        let envelope = envelope();
        let mut session = transport.session().unwrap();
        let sent = (0..messages)
            .map(|_| session.send(&envelope, b"Subject: x\r\n\r\nHello\r\n"))
            .collect();
        drop(session);
        (sent, peer.transcripts())
    }

    fn said(code: u16, text: &str) -> Reply {
        Reply {
            code: Some(code),
            text: text.into(),
        }
    }

    /// `DELIVERED`, then these verbs.
    fn delivered_then(more: &[&'static str]) -> Vec<&'static str> {
        [&DELIVERED[..], more].concat()
    }

    /// A peer that takes one message on each of `connections`
    /// connections and keeps the bytes after DATA, up to and with the
    /// line holding only a dot.
    fn capture(connections: usize) -> (u16, std::thread::JoinHandle<Vec<Vec<u8>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let thread = std::thread::spawn(move || {
            (0..connections)
                .map(|_| {
                    let (socket, _) = listener.accept().unwrap();
                    let mut out = socket.try_clone().unwrap();
                    let mut reader = BufReader::new(socket);
                    out.write_all(b"220 hi\r\n").unwrap();
                    let mut data = Vec::new();
                    let mut line = Vec::new();
                    let mut in_data = false;
                    while reader.read_until(b'\n', &mut line).unwrap() > 0 {
                        if in_data {
                            data.extend_from_slice(&line);
                            if line == b".\r\n" {
                                in_data = false;
                                out.write_all(b"250 queued\r\n").unwrap();
                            }
                        } else if line.starts_with(b"DATA") {
                            in_data = true;
                            out.write_all(b"354 go on\r\n").unwrap();
                        } else if line.starts_with(b"QUIT") {
                            out.write_all(b"221 bye\r\n").unwrap();
                            break;
                        } else if line.starts_with(b"EHLO") {
                            out.write_all(b"250-hi\r\n250 8BITMIME\r\n").unwrap();
                        } else {
                            out.write_all(b"250 ok\r\n").unwrap();
                        }
                        line.clear();
                    }
                    data
                })
                .collect()
        });
        (port, thread)
    }

    #[test]
    fn the_message_goes_out_dot_stuffed_as_lettres_message_sends_it() {
        let messages: [&[u8]; 7] = [
            b"Subject: x\r\n\r\nHello\r\n",
            b".starts with a dot\r\n..two\r\n.\r\n\r\n.\r\n.",
            b"a\r\n.b\r\n..c\r\n...\r\nd.\r\n.",
            b"bare\n.line feed\r.carriage\r\r\n.return",
            b"no line end at the end",
            "Ü\r\n.ü 8-bit\r\n".as_bytes(),
            b"not utf-8 \xff\r\n.dot\r\n",
        ];
        let (port, peer) = capture(2);
        let transport = transport(port, 0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            // lettre's own: MAIL, RCPT, DATA, then `message`.
            let mut theirs = transport.open().await.unwrap();
            let envelope = envelope();
            for message in messages {
                theirs
                    .command(Mail::new(envelope.from().cloned(), Vec::new()))
                    .await
                    .unwrap();
                theirs
                    .command(Rcpt::new(envelope.to()[0].clone(), Vec::new()))
                    .await
                    .unwrap();
                theirs.command(Data).await.unwrap();
                theirs.message(message).await.unwrap();
            }
            let _ = theirs.quit().await;
            let mut ours = transport.open().await.unwrap();
            for message in messages {
                transport
                    .deliver(&mut ours, &envelope, message)
                    .await
                    .unwrap();
            }
            let _ = ours.quit().await;
        });
        let captured = peer.join().unwrap();
        assert_eq!(captured[0].len(), captured[1].len());
        assert_eq!(
            String::from_utf8_lossy(&captured[1]),
            String::from_utf8_lossy(&captured[0])
        );
        // A line's dot doubled: the transparency was applied.
        assert!(
            captured[1].windows(8).any(|w| w == b"\r\n...two"),
            "{captured:?}"
        );
    }

    #[test]
    fn a_message_goes_out_on_one_connection_kept_for_the_next() {
        let second = ["250 ok", "250 ok", "354 go on", "250 queued"];
        let peer = Peer::start(&[&[&DELIVERS[..], &second].concat()]);
        let (sent, heard) = send(peer, 0, 2);
        assert_eq!(sent, [Ok(()), Ok(())]);
        assert_eq!(
            heard,
            [delivered_then(&["MAIL", "RCPT", "DATA", ".", "QUIT"])]
        );
    }

    #[test]
    fn a_refused_greeting_is_about_the_server_not_the_recipient() {
        let peer = Peer::start(&[&["554 5.3.2 no SMTP service here"]]);
        let why = "the peer refused the connection: 554 5.3.2 no SMTP service here";
        let (sent, heard) = send(peer, 3, 1);
        assert_eq!(sent, [Err(SendError::Misconfigured(why.into()))]);
        assert_eq!(heard, [Vec::<String>::new()], "no retry");
    }

    #[test]
    fn a_server_refusing_ehlo_is_greeted_with_helo_on_a_new_connection() {
        let refuses = [GREETING, "502 5.5.2 Error: command not recognized"];
        let (sent, heard) = send(Peer::start(&[&refuses, &DELIVERS]), 0, 1);
        assert_eq!(sent, [Ok(())]);
        assert_eq!(
            heard,
            [
                vec!["EHLO", "QUIT"],
                vec!["HELO", "MAIL", "RCPT", "DATA", ".", "QUIT"]
            ]
        );
    }

    #[test]
    fn a_421_mid_session_reconnects_at_once_without_spending_a_retry() {
        let closes = [
            &DELIVERS[..],
            &["421 4.7.0 too many messages on this connection"],
        ]
        .concat();
        let (sent, heard) = send(Peer::start(&[&closes, &DELIVERS]), 0, 2);
        assert_eq!(sent, [Ok(()), Ok(())]);
        assert_eq!(
            heard,
            [delivered_then(&["MAIL"]), delivered_then(&["QUIT"])]
        );
    }

    #[test]
    fn a_452_or_a_drop_before_the_message_is_tried_again_on_a_new_connection() {
        // A refusal ends the connection (lettre's own `send` does the same):
        // the retry starts from a fresh one, whatever state the server kept.
        // A 452 spends one of the retries, a drop none.
        for (at_rcpt, retries) in [("452 4.2.2 mailbox full", 1), ("DROP", 0)] {
            let interrupted = [GREETING, EHLO, "250 ok", at_rcpt];
            let (sent, heard) = send(Peer::start(&[&interrupted, &DELIVERS]), retries, 1);
            assert_eq!(sent, [Ok(())], "{at_rcpt}");
            let again = delivered_then(&["QUIT"]);
            assert_eq!(heard, [vec!["EHLO", "MAIL", "RCPT"], again], "{at_rcpt}");
        }
    }

    #[test]
    fn a_452_that_outlasts_the_retries_is_owed() {
        let full = [GREETING, EHLO, "250 ok", "452 4.2.2 mailbox full"];
        let (sent, heard) = send(Peer::start(&[&full, &full]), 1, 1);
        let owed = SendError::Transient(said(452, "452 4.2.2 mailbox full"));
        assert_eq!(sent, [Err(owed)]);
        assert_eq!(heard, [["EHLO", "MAIL", "RCPT"]; 2]);
    }

    #[test]
    fn a_5xx_to_data_or_to_the_message_is_refused_for_good_without_a_retry() {
        let refusals = [
            (4, "554 5.5.1 no valid recipients", 554),
            (5, "550 5.7.1 message looks like spam", 550),
        ];
        for (steps, reply, code) in refusals {
            let refused = [&DELIVERS[..steps], &[reply]].concat();
            let (sent, heard) = send(Peer::start(&[&refused]), 3, 1);
            assert_eq!(sent, [Err(SendError::Permanent(said(code, reply)))]);
            assert_eq!(heard, [&DELIVERED[..steps]], "one connection, no retry");
        }
    }

    #[test]
    fn a_5xx_to_the_recipient_is_refused_in_the_servers_words() {
        let refused = [
            GREETING,
            EHLO,
            "250 ok",
            "550-5.1.1 <kim@example.org>:\r\n550 5.1.1 no such user",
        ];
        let (sent, _) = send(Peer::start(&[&refused]), 3, 1);
        let text = "550 5.1.1 <kim@example.org>: no such user";
        assert_eq!(sent, [Err(SendError::Permanent(said(550, text)))]);
    }

    #[test]
    fn a_refused_login_is_a_setting_to_fix() {
        let refused = [GREETING, EHLO, "530 5.7.0 Authentication required"];
        let (sent, _) = send(Peer::start(&[&refused]), 3, 1);
        let [Err(SendError::Misconfigured(why))] = &sent[..] else {
            panic!("{sent:?}");
        };
        assert!(
            why.starts_with("the peer refused the login: 530 5.7.0 Authentication required; check"),
            "{why}"
        );
    }

    #[test]
    fn a_connection_dropped_after_the_whole_message_never_sends_it_twice() {
        let drops = [&DELIVERS[..5], &["DROP"]].concat();
        let (sent, heard) = send(Peer::start(&[&drops, &DELIVERS]), 3, 1);
        let [Err(SendError::Transient(reply))] = &sent[..] else {
            panic!("{sent:?}");
        };
        assert_eq!(reply.code, None);
        assert!(
            reply.text.starts_with("cannot talk to the peer: "),
            "{reply}"
        );
        assert!(reply.text.ends_with("after the whole message was sent; it may have been delivered, so it is not sent again in this run (the next run sends it)"), "{reply}");
        assert_eq!(
            heard,
            [delivered_then(&[])],
            "one connection, no second copy"
        );
    }

    #[test]
    fn a_server_that_drops_every_connection_ends_the_run() {
        let drops = [GREETING, "DROP"];
        let (sent, heard) = send(Peer::start(&[&drops, &drops, &drops]), 1, 1);
        let [Err(SendError::Fatal(why))] = &sent[..] else {
            panic!("{sent:?}");
        };
        assert!(why.starts_with("cannot talk to the peer: "), "{why}");
        // The first reconnect at once, then `retries` more, then it stops.
        assert_eq!(heard, [["EHLO"]; 3]);
    }

    /// The outcome of one message sent as `papers`, password `hunter22`,
    /// to a peer that offers `auth` in its EHLO and answers the login with
    /// `login`.
    fn log_in(auth: &str, login: &str) -> Result<(), SendError> {
        let ehlo = format!("250-scripted\r\n{auth}");
        let peer = Peer::start(&[&[GREETING, &ehlo, login]]);
        let transport = Transport {
            credentials: Some(Credentials::new("papers".into(), "hunter22".into())),
            secrets: secrets(Some("papers"), Some("hunter22")),
            ..transport(peer.port, 3)
        };
        let sent = transport.session().unwrap().send(&envelope(), b"Hello\r\n");
        peer.transcripts();
        sent
    }

    #[test]
    fn a_refused_login_never_shows_the_password_it_echoes() {
        let echo = "535 5.7.8 AUTH PLAIN AHBhcGVycwBodW50ZXIyMg== failed for hunter22";
        let Err(SendError::Misconfigured(why)) = log_in("250 AUTH PLAIN LOGIN", echo) else {
            panic!("not a setting to fix");
        };
        let said = "the peer refused the login: 535 5.7.8 AUTH PLAIN [redacted] failed for [redacted]; check";
        assert!(why.starts_with(said), "{why}");
    }

    #[test]
    fn a_server_offering_no_login_while_a_username_is_set_is_a_setting_to_fix() {
        let Err(SendError::Misconfigured(why)) = log_in("250 8BITMIME", "unused") else {
            panic!("not a setting to fix");
        };
        assert!(
            why.starts_with("the peer offers no login digest-feed speaks"),
            "{why}"
        );
    }

    #[test]
    fn a_password_of_three_letters_is_not_blanked_out_alone() {
        // It would blank out every "abc" in every reply; its base64 forms stay.
        let blanked = secrets(Some("papers"), Some("abc"));
        assert_eq!(blanked, ["AHBhcGVycwBhYmM=", "YWJj"]);
    }
}
