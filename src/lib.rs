//! digest-feed: turns a Jekyll posts folder of daily digests into RSS 2.0,
//! Atom 1.0 and JSON Feed 1.1, and mails each new post to its subscribers.
//!
//! Data flows one way: [`commands`] read the command line and call the
//! stages; [`config`] and [`posts_folder`] read; [`post`] models; [`feed`]
//! and [`email`] render the model into bytes; [`output`] writes them;
//! [`outbox`] decides what a `mail` run sends and renders each post's
//! email once, and [`mail`] sends that prepared plan. [`list`] is the mailing list (its subscribers,
//! tokens, sign-ups and suppressions), which `serve` and `inbox` change;
//! [`store`] is the delivery state (`SQLite`) beneath the list and the mail.
//! `web_client` is the one HTTP client (a WebSub hub's ping, a post's page
//! fetched to see it is live). [`error`], [`address`], [`permalink_style`],
//! `slug` and [`text`] are leaves every stage may stand on.
//! `tests/architecture.rs` keeps the imports flowing that way.

pub(crate) mod address;
pub(crate) mod build_cache;
pub mod commands;
pub mod config;
pub mod email;
pub mod error;
pub mod feed;
pub mod inbox;
pub mod list;
pub mod mail;
pub mod outbox;
pub(crate) mod output;
pub(crate) mod permalink_style;
pub mod post;
pub(crate) mod posts_folder;
pub mod serve;
pub(crate) mod slug;
pub(crate) mod store;
pub(crate) mod text;
pub(crate) mod web_client;

pub use commands::run;
pub use error::Error;
