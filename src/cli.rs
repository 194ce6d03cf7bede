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
    /// Check the config and every post; list every problem.
    Check(CheckArgs),
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
