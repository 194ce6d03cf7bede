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
    /// The config file [default: config.toml, else _digest-feed/config.toml; in a Jekyll blog it may be absent]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
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
    Status(StatusArgs),
    /// Print the <link rel="alternate"> tags of the feeds for the blog's <head>.
    Links,
    /// Tell the WebSub hub the [feed] table names of each feed changed since its last ping.
    Ping,
    /// Start a site: a commented config.toml, the default templates, an example post. Never overwrites.
    Init(InitArgs),
    /// Print shell completions (bash, zsh, fish) to standard output.
    Completions(CompletionsArgs),
    /// Print the DNS records the sending domain needs: DKIM (from [email.dkim]'s key), SPF and DMARC.
    Dns,
    /// The list's web endpoint: one-click unsubscribe, confirm pages, sign-up with double opt-in.
    Serve(ServeArgs),
    /// Read the list's mailbox once: unsubscribes, bounces, complaints, sign-ups by mail.
    Inbox,
    /// The list as mail sees it: subscribers and sign-ups, minus the suppressed (with why and when).
    Subscribers(SubscribersArgs),
}

/// `serve`'s options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address and port to listen on (default: [serve] listen, 127.0.0.1:8025).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

/// `subscribers`' options.
#[derive(Debug, Args)]
pub struct SubscribersArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub action: Option<SubscribersAction>,
}

/// What `subscribers` does.
#[derive(Debug, Subcommand)]
pub enum SubscribersAction {
    /// Print every subscriber, suppressed ones with why and when, and pending sign-ups.
    List,
    /// Print the list as CSV (email,name,source,suppressed,reason,at) on standard output.
    Export,
    /// Never mail these addresses again (until unsuppress).
    Suppress {
        /// The addresses.
        #[arg(value_name = "ADDR", required = true)]
        addresses: Vec<String>,
    },
    /// Mail these addresses again.
    Unsuppress {
        /// The addresses.
        #[arg(value_name = "ADDR", required = true)]
        addresses: Vec<String>,
    },
}

/// `init`'s options.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The site's folder (default: this one).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

/// `completions`' options.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
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
    /// Print one JSON object (counts, skipped posts, duration) instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Read every post, neither using nor writing the build cache
    /// (build-cache.json beside the delivery state).
    #[arg(long)]
    pub no_cache: bool,
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
    /// The weekly roll-up instead: every post of the seven days up to the chosen one.
    #[arg(long)]
    pub weekly: bool,
}

/// `mail`'s options.
// Each bool is one command-line switch (clap derive): no state machine hides in them.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
pub struct MailArgs {
    /// Render every message exactly as it would be sent; connect to nothing, record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send this post (its path or its date YYYY-MM-DD) to every subscriber who has not had it.
    #[arg(long, value_name = "SEL", conflicts_with = "weekly")]
    pub post: Option<String>,
    /// The weekly roll-up: each weekly subscriber gets every post since their last one, in one email.
    #[arg(long, conflicts_with = "wait_live")]
    pub weekly: bool,
    /// A test send to this address (or "Name <addr>") instead of the subscribers; records nothing. Repeatable.
    #[arg(long, value_name = "ADDR")]
    pub to: Vec<String>,
    /// With --dry-run: also write each message as an .eml file here.
    #[arg(long, value_name = "DIR", requires = "dry_run")]
    pub eml_dir: Option<PathBuf>,
    /// Try again the recipients whose server refused a post for good.
    #[arg(long)]
    pub retry_failed: bool,
    /// Warn about invalid posts and mail from the rest (without it, one invalid post stops the run).
    #[arg(long)]
    pub skip_invalid: bool,
    /// Print one JSON object (sent, failures with replies, why it stopped, duration).
    #[arg(long)]
    pub json: bool,
    /// First fetch each post's page until it answers 200 with its title, for up to SECONDS (default 600); else send nothing, exit 3.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, require_equals = true, default_missing_value = "600")]
    pub wait_live: Option<u64>,
}

/// `status`' options.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print one JSON object instead of the lines.
    #[arg(long)]
    pub json: bool,
}

/// Shell completions for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "digest-feed", &mut out);
    if shell == clap_complete::Shell::Bash {
        // clap_complete 4.6 names a hyphenated binary's subcommands
        // `digest__feed__subcmd__mail` where it looks them up and
        // `digest__subcmd__feed__subcmd__mail` in the case labels, so nothing
        // after a subcommand completes (clap-rs/clap#6421). One spelling fixes it.
        let script =
            String::from_utf8_lossy(&out).replace("digest__subcmd__feed__", "digest__feed__");
        return script.into_bytes();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_name_every_command() {
        let bash = String::from_utf8(completions(clap_complete::Shell::Bash)).unwrap();
        for command in [
            "build",
            "check",
            "preview",
            "mail",
            "status",
            "init",
            "completions",
            "dns",
        ] {
            assert!(bash.contains(command), "{command}");
        }
    }
}
