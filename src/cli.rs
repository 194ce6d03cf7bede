//! The command line (SPEC §2), declared with clap's derive API.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Publishes a daily digest blog's posts as RSS, Atom and JSON feeds.
#[derive(Debug, Parser)]
#[command(name = "digest-feed", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The config file.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        default_value = "config.toml"
    )]
    pub config: PathBuf,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more about what is done.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write feed.xml (RSS 2.0), atom.xml (Atom 1.0) and feed.json (JSON Feed 1.1).
    Build(BuildArgs),
    /// Check the config, every post and the email templates; list every problem.
    Check(CheckArgs),
    /// Write the HTML email of one post to a file and print its path.
    Preview(PreviewArgs),
    /// Mail new posts to the subscribers (once each), or a test send with --to.
    Mail(MailArgs),
    /// Show the delivery state: each post mailed, its failures, and what `mail` would send next.
    Status,
}

/// `build`'s options.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The posts folder (default: [posts] dir).
    #[arg(long, value_name = "DIR")]
    pub posts: Option<PathBuf>,
    /// The output folder (default: [feed] out).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Warn about invalid posts and build from the rest.
    #[arg(long)]
    pub skip_invalid: bool,
}

/// `check`'s options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The posts folder (default: [posts] dir).
    #[arg(long, value_name = "DIR")]
    pub posts: Option<PathBuf>,
}

/// `preview`'s options.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The post: its path or its date YYYY-MM-DD (default: the newest).
    #[arg(long, value_name = "SEL")]
    pub post: Option<String>,
    /// Where to write the HTML (default: preview.html beside the delivery state).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `mail`'s options.
#[derive(Debug, Args)]
pub struct MailArgs {
    /// Render every message exactly as it would be sent; connect to nothing, record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send this post (its path or its date YYYY-MM-DD) to every subscriber who has not had it.
    #[arg(long, value_name = "SEL")]
    pub post: Option<String>,
    /// A test send to this address instead of the subscribers; records nothing. Repeatable.
    #[arg(long, value_name = "ADDR")]
    pub to: Vec<String>,
    /// With --dry-run: also write each message as an .eml file here.
    #[arg(long, value_name = "DIR", requires = "dry_run")]
    pub eml_dir: Option<PathBuf>,
    /// Try again the recipients whose server refused a post for good.
    #[arg(long)]
    pub retry_failed: bool,
}
