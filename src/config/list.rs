//! `[list]`, `[inbox]` and `[serve]` (SPEC §3): the subscriber lifecycle's
//! settings, as written and checked into [`super::ListSettings`], [`super::Inbox`]
//! and [`super::Serve`].

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::file::{Lines, is_loopback};
use super::{Inbox, InboxSource, ListSettings, Serve};
use crate::address;
use crate::error::Problem;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawList {
    public_url: Option<Spanned<String>>,
    return_path: Option<Spanned<String>>,
    address: Option<Spanned<String>>,
    secret_file: String,
    soft_bounces: u32,
    soft_bounce_days: u32,
}

impl Default for RawList {
    fn default() -> Self {
        RawList {
            public_url: None,
            return_path: None,
            address: None,
            secret_file: ".digest-feed/secret".into(),
            soft_bounces: 3,
            soft_bounce_days: 30,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawInbox {
    maildir: Option<Spanned<String>>,
    imap_host: Option<Spanned<String>>,
    imap_port: u16,
    username: String,
    password_env: String,
    ca_file: Option<String>,
}

impl Default for RawInbox {
    fn default() -> Self {
        RawInbox {
            maildir: None,
            imap_host: None,
            imap_port: 993,
            username: String::new(),
            password_env: "DIGEST_FEED_IMAP_PASSWORD".into(),
            ca_file: None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawServe {
    listen: Option<Spanned<String>>,
}

/// `[list]`: the public URL checked (https, or http for a loopback host),
/// the addresses parsed, the secret's path resolved.
pub(super) fn list(
    raw: &RawList,
    base: &Path,
    lines: &Lines,
    problems: &mut Vec<Problem>,
) -> ListSettings {
    let public_url = raw.public_url.as_ref().and_then(|url| {
        public_url(url.get_ref())
            .map_err(|message| problems.push(Problem::new(lines.at(url.span()), message)))
            .ok()
    });
    let mut email = |key: &str, value: Option<&Spanned<String>>| {
        let value = value?;
        let text = value.get_ref().trim();
        match address::check(text) {
            Ok(()) => Some(text.to_string()),
            Err(message) => {
                problems.push(Problem::new(
                    lines.at(value.span()),
                    format!(
                        "[list] {key}: {message}; write a bare address like \"list@example.org\""
                    ),
                ));
                None
            }
        }
    };
    let return_path = email("return_path", raw.return_path.as_ref());
    let list_address = email("address", raw.address.as_ref());
    if raw.soft_bounces == 0 || raw.soft_bounce_days == 0 {
        problems.push(Problem::new(
            super::Location::file(lines.path),
            "[list] soft_bounces and soft_bounce_days must be at least 1",
        ));
    }
    ListSettings {
        public_url,
        return_path,
        address: list_address,
        secret_file: base.join(&raw.secret_file),
        soft_bounces: raw.soft_bounces.max(1),
        soft_bounce_days: raw.soft_bounce_days.max(1),
    }
}

/// `public_url` without a trailing slash: `https://`, or `http://` for a
/// server on this machine (a test, or a tunnel).
fn public_url(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    match url::Url::parse(trimmed) {
        Ok(url) if url.scheme() == "https" && url.host().is_some() => Ok(trimmed.to_string()),
        Ok(url) if url.scheme() == "http" && url.host_str().is_some_and(is_loopback) => {
            Ok(trimmed.to_string())
        }
        Ok(url) if url.scheme() == "http" => Err(format!(
            "[list] public_url {text:?} must be https:// (one-click unsubscribe requires it); http:// is allowed only for a loopback host"
        )),
        _ => Err(format!(
            "[list] public_url {text:?} is not an absolute https:// address such as \"https://example.org/list\""
        )),
    }
}

/// `[inbox]`: exactly one of `maildir` and `imap_host`.
pub(super) fn inbox(
    raw: RawInbox,
    base: &Path,
    lines: &Lines,
    problems: &mut Vec<Problem>,
) -> Option<Inbox> {
    let source = match (&raw.maildir, &raw.imap_host) {
        (Some(maildir), None) => InboxSource::Maildir(base.join(maildir.get_ref())),
        (None, Some(host)) if !host.get_ref().trim().is_empty() => InboxSource::Imap {
            host: host.get_ref().trim().to_string(),
            port: raw.imap_port,
            username: raw.username,
            password_env: raw.password_env,
            ca_file: raw.ca_file.map(|file| base.join(file)),
        },
        (Some(maildir), Some(_)) => {
            problems.push(Problem::new(
                lines.at(maildir.span()),
                "[inbox] sets both maildir and imap_host; keep one",
            ));
            return None;
        }
        _ => {
            problems.push(Problem::new(
                super::Location::file(lines.path),
                "[inbox] needs maildir = \"/path/to/Maildir\" or imap_host = \"imap.example.org\"",
            ));
            return None;
        }
    };
    Some(Inbox { source })
}

/// `[serve]`: the address to listen on.
pub(super) fn serve(raw: &RawServe, lines: &Lines, problems: &mut Vec<Problem>) -> Serve {
    let default = SocketAddr::from(([127, 0, 0, 1], 8025));
    let listen = match &raw.listen {
        None => default,
        Some(listen) => listen.get_ref().parse().unwrap_or_else(|_| {
            problems.push(Problem::new(
                lines.at(listen.span()),
                format!(
                    "[serve] listen {:?} is not an address and port such as \"127.0.0.1:8025\"",
                    listen.get_ref()
                ),
            ));
            default
        }),
    };
    Serve { listen }
}
