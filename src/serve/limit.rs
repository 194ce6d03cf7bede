//! Requests per client: a token bucket per address (burst [`BURST`], then one
//! every [`REFILL`]), in a table of at most [`CLIENTS`] entries; and a time
//! limit on every request. Behind a proxy on this machine, the client is the
//! last `X-Forwarded-For` hop the proxy added.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{App, REQUEST_TIME, pages};

/// Requests a client may make at once.
const BURST: f64 = 20.0;
/// The time that gives a client one more request.
const REFILL: Duration = Duration::from_secs(3);
/// The most clients remembered; beyond it, idle ones are forgotten first.
const CLIENTS: usize = 10_000;

/// One client's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Every client's bucket.
#[derive(Debug)]
pub(super) struct Limits {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    /// Requests a client may make at once.
    burst: f64,
    /// The time that gives a client one more.
    refill: Duration,
}

impl Default for Limits {
    /// Every request: [`BURST`] at once, then one every [`REFILL`].
    fn default() -> Limits {
        Limits::new(BURST, REFILL)
    }
}

/// Sign-ups a client may make at once, and then one every [`SIGNUP_REFILL`]:
/// each mails a confirmation to an address of the client's choosing.
const SIGNUP_BURST: f64 = 5.0;
/// The time that gives a client one more sign-up: five an hour.
const SIGNUP_REFILL: Duration = Duration::from_mins(12);
/// Sign-ups of all clients at once.
const ALL_SIGNUPS_BURST: f64 = 300.0;
/// The time that gives all clients one more sign-up: 300 an hour.
const ALL_SIGNUPS_REFILL: Duration = Duration::from_secs(12);

impl Limits {
    fn new(burst: f64, refill: Duration) -> Limits {
        Limits {
            buckets: Mutex::new(HashMap::new()),
            burst,
            refill,
        }
    }

    /// The sign-ups' own, stricter limit.
    pub(super) fn signups() -> Limits {
        Limits::new(SIGNUP_BURST, SIGNUP_REFILL)
    }

    /// All sign-ups together: a ceiling of [`ALL_SIGNUPS_BURST`], then one
    /// every [`ALL_SIGNUPS_REFILL`] (300 an hour), for whoever holds more
    /// networks than the per-client limit can tell apart. Counted before
    /// anything is known of the address, so it tells no one who is on the
    /// list; high enough that a flood must be large to reach it.
    pub(super) fn all_signups() -> Limits {
        Limits::new(ALL_SIGNUPS_BURST, ALL_SIGNUPS_REFILL)
    }

    /// Takes one from the one bucket every client shares.
    pub(super) fn take_shared(&self) -> bool {
        self.take(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    /// Takes one from `client`'s bucket; `false` when it is empty.
    pub(super) fn take(&self, client: IpAddr) -> bool {
        self.admit(client, Instant::now())
    }

    /// Takes one request from `client`'s bucket; `false` when it is empty.
    fn admit(&self, client: IpAddr, now: Instant) -> bool {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let client = network(client);
        if buckets.len() >= CLIENTS && !buckets.contains_key(&client) {
            // Full buckets are those of clients idle long enough to be as new.
            let idle = self.refill.mul_f64(self.burst);
            buckets.retain(|_, bucket| now.duration_since(bucket.at) < idle);
            // Still full (a flood from many addresses): the longest quiet
            // client is forgotten, never the newcomer refused. Refusing would
            // let one flood shut everyone out; forgetting costs only a fresh
            // burst to whoever has more than CLIENTS networks, and what is
            // dear (a confirmation mail) has a budget of its own.
            if buckets.len() >= CLIENTS
                && let Some(quietest) = buckets
                    .iter()
                    .min_by_key(|(_, bucket)| bucket.at)
                    .map(|(network, _)| *network)
            {
                buckets.remove(&quietest);
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let earned = now.duration_since(bucket.at).as_secs_f64() / self.refill.as_secs_f64();
        bucket.tokens = (bucket.tokens + earned).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The network a client's requests are counted by: an IPv4 address alone;
/// for IPv6 its /64, the least a site is given, whose 2^64 addresses would
/// otherwise each be a new client.
fn network(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from_bits(
                v6.to_bits() & !u128::from(u64::MAX),
            )),
        },
    }
}

/// The client a request comes from: the peer, or, when the peer is a proxy
/// on this machine, the last address it put in `X-Forwarded-For`.
pub(super) fn client(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    // Listening on `[::]`, an IPv4 peer arrives as `::ffff:a.b.c.d`: the
    // proxy on 127.0.0.1 is then `::ffff:127.0.0.1`, loopback all the same.
    let peer = peer.ip().to_canonical();
    if !peer.is_loopback() {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .next_back()
        .and_then(|hop| hop.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer)
}

/// The middleware: refuses a client over its rate (429), and a request
/// that takes longer than [`REQUEST_TIME`] (503).
pub(super) async fn guard(
    State(app): State<Arc<App>>,
    ConnectInfo(super::connection::Peer(peer)): ConnectInfo<super::connection::Peer>,
    request: Request,
    next: Next,
) -> Response {
    let client = client(peer, request.headers());
    if !app.limits.admit(client, Instant::now()) {
        let mut response = pages::too_many(&app.config).into_response();
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("3"),
        );
        return response;
    }
    match tokio::time::timeout(REQUEST_TIME, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            pages::trouble(&app.config).1,
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_and_time_refills() {
        let limits = Limits::default();
        let start = Instant::now();
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let admitted = (0..50).filter(|_| limits.admit(client, start)).count();
        assert_eq!(admitted, 20);
        assert!(
            limits.admit("192.0.2.2".parse().unwrap(), start),
            "another client is not held back"
        );
        assert!(limits.admit(client, start + REFILL));
        assert!(!limits.admit(client, start + REFILL));
    }

    #[test]
    fn the_client_behind_a_local_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "198.51.100.7, 203.0.113.9".parse().unwrap(),
        );
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        assert_eq!(
            client(local, &headers),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client(remote, &headers),
            remote.ip(),
            "only a local proxy is believed"
        );
        // `listen = "[::]:8025"`: the proxy on 127.0.0.1 arrives mapped into IPv6.
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        assert_eq!(
            client(mapped, &headers),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        let mapped_remote: SocketAddr = "[::ffff:192.0.2.1]:5000".parse().unwrap();
        assert_eq!(
            client(mapped_remote, &headers),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn an_ipv6_network_is_one_client_and_a_full_table_shuts_no_one_out() {
        let limits = Limits::default();
        let start = Instant::now();
        // Addresses of one /64 share a bucket.
        let admitted = (0..50_u16)
            .filter(|n| limits.admit(format!("2001:db8::{n:x}").parse().unwrap(), start))
            .count();
        assert_eq!(admitted, 20);
        // A flood from more networks than the table holds…
        for n in 0..(u32::try_from(CLIENTS).unwrap() + 10) {
            let network =
                std::net::Ipv6Addr::from_bits(0x2001_0db8_0001_u128 << 80 | u128::from(n) << 64);
            limits.admit(IpAddr::V6(network), start);
        }
        // …leaves room for a newcomer.
        assert!(limits.admit("192.0.2.77".parse().unwrap(), start));
        assert_eq!(
            network("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }
}
