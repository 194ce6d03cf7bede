//! The one HTTP client (ureq, over rustls): a GET whose body is read only up
//! to a bound, and a form POST. What `ping` tells a WebSub hub and what
//! `mail --wait-live` fetches to see a post is live. Every request has a
//! deadline, so no server can hold a run for ever.

use std::io::Read;
use std::time::Duration;

/// A request that got no HTTP answer: the address, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreachable {
    /// The address asked.
    pub(crate) url: String,
    /// The client's reason (refused, timed out, TLS, bad address).
    pub(crate) reason: String,
}

/// An answer: its status and the start of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The HTTP status code.
    pub(crate) status: u16,
    /// The body's first bytes (up to the bound asked for), as UTF-8 with
    /// anything else replaced.
    pub(crate) body: String,
}

/// An HTTP client whose every request ends within `timeout`.
pub(crate) struct Client {
    agent: ureq::Agent,
}

impl Client {
    /// A client whose requests each end within `timeout`, redirects followed.
    pub(crate) fn new(timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // A 404 or a 500 is an answer the caller reads, not an error.
            .http_status_as_error(false)
            .user_agent(concat!("digest-feed/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: config.into(),
        }
    }

    /// GET `url`; the body is read up to `limit` bytes, the rest left unread.
    pub(crate) fn get(&self, url: &str, limit: u64) -> Result<Answer, Unreachable> {
        let unreachable = |reason: String| Unreachable {
            url: url.to_string(),
            reason,
        };
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|err| unreachable(err.to_string()))?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|err| unreachable(err.to_string()))?;
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// POST `fields` form-encoded to `url`; the answer's status.
    pub(crate) fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Result<u16, Unreachable> {
        let response = self
            .agent
            .post(url)
            .send_form(fields.iter().copied())
            .map_err(|err| Unreachable {
                url: url.to_string(),
                reason: err.to_string(),
            })?;
        Ok(response.status().as_u16())
    }
}
