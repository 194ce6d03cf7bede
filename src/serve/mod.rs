//! `digest-feed serve` (SPEC §2): the list's small web endpoint, meant to sit
//! behind the blog's HTTPS proxy. One-click unsubscribe (RFC 8058: a `POST`
//! of `List-Unsubscribe=One-Click`), a confirm page for a `GET` (a `GET`
//! never unsubscribes: mail scanners follow links) that also offers the
//! other cadence (daily or weekly, `POST /cadence/TOKEN`), and sign-up with
//! double opt-in and a choice of cadence (the confirmation mail goes out
//! through `[smtp]`).
//!
//! axum lives here and nowhere else, on the Tokio the mail transport uses.
//! What a client controls is bounded: bodies ([`BODY_LIMIT`]), requests per
//! client ([`limit`]), the time a request may take ([`REQUEST_TIME`]), the
//! connections open at once and their life ([`connection`]), the
//! sign-ups waiting to be handled ([`signups`]), the work a token costs
//! ([`tokens`]: an index, not a read of the whole list). No page tells
//! whether an address is on the list.

mod connection;
mod limit;
mod pages;
mod signups;
mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::config::{Cadence, Config};
use crate::error::{Error, Location, Problem, Transient};
use crate::list;
use crate::list::token::Purpose;
pub use signups::Log;

/// The largest request body taken: a sign-up form is far smaller.
pub const BODY_LIMIT: usize = 4 * 1024;

/// The longest a request may take, from its body to its answer.
const REQUEST_TIME: Duration = Duration::from_secs(20);

/// What every request shares.
struct App {
    config: Config,
    log: Log,
    public_url: String,
    limits: limit::Limits,
    /// Sign-ups per client: stricter, each mails someone.
    signup_limits: limit::Limits,
    /// Sign-ups of every client together: a ceiling.
    all_signups: limit::Limits,
    signups: signups::Queue,
    tokens: Arc<tokens::Tokens>,
}

/// Serves until the process is stopped; `ready` hears the address once it
/// listens, `log` each line for the owner (a warning, a trouble with a
/// request or a sign-up).
pub fn run(config: &Config, ready: impl FnOnce(SocketAddr, &str), log: Log) -> Result<(), Error> {
    let list = config.list.as_ref().ok_or_else(|| {
        Problem::new(
            Location::file(&config.path),
            "serve needs a [list] section with public_url, e.g. public_url = \"https://example.org/list\"",
        )
    })?;
    let Some(public_url) = list.public_url.clone() else {
        return Err(Problem::new(
            Location::file(&config.path),
            "[list] public_url is missing: serve needs the address its pages are reached at",
        )
        .into());
    };
    // What a request needs is checked before the first one comes.
    config.email().map_err(Error::Invalid)?;
    config.smtp().map_err(Error::Invalid)?.password()?;
    let secret = list::secret(config, list, true)?;
    for exposed in list::exposures(config) {
        log(&format!("warning: {exposed}"));
    }
    let tokens = Arc::new(tokens::Tokens::new(config, secret.clone())?);
    // Built now, not by the first reader's request.
    if let Err(err) = tokens.warm(config) {
        log(&format!("digest-feed serve: {err}"));
    }
    let app = Arc::new(App {
        signups: signups::Queue::start(signups::Worker {
            config: config.clone(),
            secret,
            public_url: public_url.clone(),
            tokens: Arc::clone(&tokens),
            log: Arc::clone(&log),
        }),
        log,
        tokens,
        config: config.clone(),
        public_url,
        limits: limit::Limits::default(),
        signup_limits: limit::Limits::signups(),
        all_signups: limit::Limits::all_signups(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Each request that reads the state or the list takes one of these:
        // a flood queues for them instead of holding a list in memory per request.
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .map_err(|err| unavailable(format!("cannot start the server's runtime: {err}")))?;
    runtime.block_on(async {
        let listen = config.serve.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|err| unavailable(format!("cannot listen on {listen}: {err}")))?;
        let address = listener.local_addr().unwrap_or(listen);
        ready(address, &app.public_url);
        axum::serve(
            connection::Guarded::new(listener),
            router(app).into_make_service_with_connect_info::<connection::Peer>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|err| unavailable(format!("the server stopped: {err}")))
    })
}

fn unavailable(message: String) -> Error {
    Error::Transient(Transient::Unavailable(message))
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(signup_form).post(signup))
        .route("/subscribe", get(signup_form).post(signup))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route(
            "/cadence/{token}",
            get(unsubscribe_page).post(switch_cadence),
        )
        .route("/confirm/{token}", get(confirm_page).post(confirm))
        .fallback(not_found)
        .layer(axum::middleware::map_response(private_page))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            limit::guard,
        ))
        .with_state(app)
}

type Shared = State<Arc<App>>;

/// Every page holds or follows a token: it tells no other site where it
/// came from (the link back to the blog would carry the token in its
/// `Referer`), and no other site may frame it (a click on a hidden
/// "unsubscribe" button).
async fn private_page(mut response: Response) -> Response {
    use axum::http::HeaderValue;
    use axum::http::header;
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Whether a browser says the request comes from another site: a form
/// posted from a page elsewhere (`Sec-Fetch-Site: cross-site`, or an
/// `Origin` that is neither the list's nor the blog's). A request without
/// either header (curl, an old browser) is not refused: the budgets still
/// bound it.
fn cross_site(app: &App, headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if value("sec-fetch-site").is_some_and(|site| site.eq_ignore_ascii_case("cross-site")) {
        return true;
    }
    let Some(origin) = value("origin") else {
        return false;
    };
    let origin_of = |url: &str| {
        url::Url::parse(url)
            .ok()
            .map(|url| url.origin().ascii_serialization())
    };
    let ours = [origin_of(&app.public_url), origin_of(&app.config.site.url)];
    !ours
        .iter()
        .flatten()
        .any(|own| own.eq_ignore_ascii_case(origin))
}

async fn not_found(State(app): Shared) -> Response {
    pages::not_found(&app.config).into_response()
}

/// Runs blocking work (`SQLite`, the subscriber list) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|err| Err(unavailable(format!("a request failed: {err}"))))
}

/// The address `token` names for `purpose`, if it names one.
async fn find(app: &Arc<App>, purpose: Purpose, token: String) -> Result<Option<String>, Error> {
    if token.len() != crate::list::token::TOKEN_CHARS {
        return Ok(None);
    }
    let app = Arc::clone(app);
    blocking(move || app.tokens.find(&app.config, purpose, &token)).await
}

/// The address `token` names for `purpose`, or the page to answer with:
/// a bad link, or trouble on our side.
async fn named(app: &Arc<App>, purpose: Purpose, token: String) -> Result<String, Response> {
    match find(app, purpose, token).await {
        Ok(Some(address)) => Ok(address),
        Ok(None) => Err(pages::bad_link(&app.config).into_response()),
        Err(err) => Err(failed(app, &err)),
    }
}

fn failed(app: &App, err: &Error) -> Response {
    (app.log)(&format!("digest-feed serve: {err}"));
    pages::trouble(&app.config).into_response()
}

/// The confirm page of an unsubscribe link (and of its `/cadence/` twin):
/// the unsubscribe button, and the switch to the cadence the subscriber
/// does not have now.
async fn unsubscribe_page(State(app): Shared, Path(token): Path<String>) -> Response {
    let address = match named(&app, Purpose::Unsubscribe, token.clone()).await {
        Ok(address) => address,
        Err(page) => return page,
    };
    let shared = Arc::clone(&app);
    let now = blocking(move || cadence_now(&shared, &address)).await;
    match now {
        Ok(now) => {
            let switch = format!("{}/cadence/{token}", app.public_url);
            pages::unsubscribe_confirm(&app.config, now, &switch).into_response()
        }
        Err(err) => failed(&app, &err),
    }
}

/// RFC 8058's one-click `POST` (body `List-Unsubscribe=One-Click`), and the
/// confirm page's button: either unsubscribes at once.
async fn unsubscribe(
    State(app): Shared,
    Path(token): Path<String>,
    _body: axum::body::Bytes,
) -> Response {
    let address = match named(&app, Purpose::Unsubscribe, token).await {
        Ok(address) => address,
        Err(page) => return page,
    };
    let shared = Arc::clone(&app);
    let done = blocking(move || {
        list::suppress(
            &shared.config,
            &[address],
            list::Reason::Unsubscribed,
            "",
            "serve",
        )
    })
    .await;
    match done {
        Ok(_) => pages::unsubscribed(&app.config).into_response(),
        Err(err) => failed(&app, &err),
    }
}

/// How often `address` is mailed now: its choice, else its row's as the
/// index knows it. Blocks: one lookup in the state.
fn cadence_now(app: &App, address: &str) -> Result<Cadence, Error> {
    let chosen = list::chosen_cadence(&app.config, address)?;
    Ok(chosen.unwrap_or_else(|| app.tokens.cadence(address)))
}

/// The switch's field: the cadence wanted.
#[derive(Debug, serde::Deserialize)]
struct CadenceForm {
    #[serde(default)]
    cadence: String,
}

/// The confirm page's switch of cadence: token-checked as unsubscribe is,
/// refused from another site as a sign-up is (a page elsewhere could
/// otherwise post it for a reader whose link it learnt), then recorded
/// over the config's or CSV's row. An empty or unknown choice changes
/// nothing.
async fn switch_cadence(
    State(app): Shared,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<CadenceForm>,
) -> Response {
    if cross_site(&app, &headers) {
        return pages::cross_site_switch(&app.config).into_response();
    }
    let address = match named(&app, Purpose::Unsubscribe, token).await {
        Ok(address) => address,
        Err(page) => return page,
    };
    let Some(cadence) = chosen(&form.cadence).filter(|_| !form.cadence.trim().is_empty()) else {
        return pages::not_a_cadence(&app.config).into_response();
    };
    let shared = Arc::clone(&app);
    let done =
        blocking(move || list::choose_cadence(&shared.config, &address, cadence, "serve")).await;
    match done {
        Ok(()) => pages::cadence_switched(&app.config, cadence).into_response(),
        Err(err) => failed(&app, &err),
    }
}

/// A form's cadence field: `daily` (or left out) or `weekly`; `None` for
/// anything else.
fn chosen(field: &str) -> Option<Cadence> {
    Cadence::parse(field).ok()
}

async fn signup_form(State(app): Shared) -> Html<String> {
    pages::signup_form(&app.config)
}

/// The sign-up form's fields.
#[derive(Debug, serde::Deserialize)]
struct SignupForm {
    email: String,
    #[serde(default)]
    name: String,
    /// `daily` or `weekly`; a form without the field (an older copy
    /// embedded in the blog) signs up daily.
    #[serde(default)]
    cadence: String,
}

/// A sign-up: its address's form checked, then queued for [`signups`],
/// which records and mails. The answer is the same, as soon, whether the
/// address was new, pending or on the list already.
async fn signup(
    State(app): Shared,
    ConnectInfo(connection::Peer(peer)): ConnectInfo<connection::Peer>,
    headers: HeaderMap,
    Form(form): Form<SignupForm>,
) -> Response {
    if cross_site(&app, &headers) {
        return pages::cross_site(&app.config).into_response();
    }
    let email = form.email.trim().to_string();
    if email.len() > 254 || crate::address::check(&email).is_err() {
        return pages::not_an_address(&app.config).into_response();
    }
    let Some(cadence) = chosen(&form.cadence) else {
        return pages::not_a_cadence(&app.config).into_response();
    };
    let client = limit::client(peer, &headers);
    if !app.signup_limits.take(client) || !app.all_signups.take_shared() {
        return pages::too_many_signups(&app.config).into_response();
    }
    let name = crate::address::display_name(&form.name);
    app.signups.push(signups::Signup {
        email,
        name,
        source: format!("serve {client}"),
        cadence,
    });
    pages::check_inbox(&app.config).into_response()
}

async fn confirm_page(State(app): Shared, Path(token): Path<String>) -> Response {
    match named(&app, Purpose::Confirm, token).await {
        Ok(_) => pages::signup_confirm(&app.config).into_response(),
        Err(page) => page,
    }
}

async fn confirm(
    State(app): Shared,
    ConnectInfo(connection::Peer(peer)): ConnectInfo<connection::Peer>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let address = match named(&app, Purpose::Confirm, token).await {
        Ok(address) => address,
        Err(page) => return page,
    };
    let client = limit::client(peer, &headers);
    let shared = Arc::clone(&app);
    // Nothing to add to the index: the address was found in it, and a
    // confirmed sign-up is as known as a pending one.
    let done = blocking(move || {
        list::confirm_signup(&shared.config, &address, &format!("serve {client}"))?;
        cadence_now(&shared, &address)
    })
    .await;
    match done {
        Ok(cadence) => pages::subscribed(&app.config, cadence).into_response(),
        Err(err) => failed(&app, &err),
    }
}
