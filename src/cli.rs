//! The `spacedav` command line: argument types (clap derive) and dispatch. `main.rs` only calls
//! [`run`]. `serve` lives in `cli/serve.rs`, the admin commands in `cli/admin.rs`; both reach the
//! server through the same library API the tests use.

mod admin;
mod groups;
mod maintenance;
mod open;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::{self, LogFormat, Overrides, Sources};

/// spacedav: an ownCloud Infinite Scale compatible file server.
#[derive(Debug, Parser)]
#[command(name = "spacedav", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command accepts: where the configuration comes from.
#[derive(Debug, Clone, Args, Default)]
pub struct Global {
    /// Config file (default: config/spacedav.toml if it exists, else built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Address to bind, IP:PORT (port 0 picks a free one).
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Runtime data root.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_root: Option<String>,
    /// Public base URL.
    #[arg(long, global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// An unpacked ownCloud Web build to serve at `/`.
    #[arg(long, global = true, value_name = "DIR")]
    pub web_assets: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server until SIGINT/SIGTERM (the default).
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage project spaces.
    #[command(subcommand)]
    Space(SpaceCommand),
    /// Manage groups (a group's role in a space is granted to all its members).
    #[command(subcommand)]
    Group(GroupCommand),
    /// Issue Bearer tokens; create, list and revoke app tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect and clean tus upload sessions.
    #[command(subcommand)]
    Uploads(UploadsCommand),
    /// Re-hash every stored file and compare with its recorded checksums.
    Fsck,
    /// Check the configuration (file, env, flags) without starting: print the effective
    /// configuration (secrets redacted) and exit 0, or every problem and exit 2.
    CheckConfig,
}

/// Where a password comes from.
#[derive(Debug, Clone, Args, Default)]
pub struct PasswordArgs {
    /// The password (visible in the process list; prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `spacedav user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (and their personal space); prints a random password if none is given.
    Add {
        /// Login name.
        name: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Display name (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
    },
    /// List users.
    List,
    /// Set a user's password (from --password, --password-stdin, else stdin).
    Passwd {
        /// Login name.
        name: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Remove a user.
    Remove {
        /// Login name.
        name: String,
    },
}

/// `spacedav space ...`.
#[derive(Debug, Subcommand)]
pub enum SpaceCommand {
    /// Create a project space.
    Create {
        /// Display name.
        name: String,
        /// Alias slug (`project/<alias>`; default: derived from the name).
        #[arg(long)]
        alias: Option<String>,
        /// Quota in bytes (default: unlimited).
        #[arg(long, value_name = "BYTES")]
        quota: Option<u64>,
        /// User who manages the space (default: admin).
        #[arg(long, value_name = "USER")]
        owner: Option<String>,
    },
    /// List spaces.
    List,
    /// Set a space's quota.
    Quota {
        /// Space id, alias or name.
        space: String,
        /// Bytes, or `unlimited`.
        #[arg(value_parser = parse_quota)]
        quota: Quota,
    },
    /// Show, add or remove members of a project space.
    Members {
        /// Space id, alias or name.
        space: String,
        /// Add (or change) a member: USER:ROLE, role viewer, editor or manager.
        #[arg(long, value_name = "USER:ROLE", value_parser = parse_member)]
        add: Vec<(String, String)>,
        /// Remove a member.
        #[arg(long, value_name = "USER")]
        remove: Vec<String>,
        /// Grant (or change) a group's role: GROUP:ROLE, role viewer, editor or manager.
        #[arg(long, value_name = "GROUP:ROLE", value_parser = parse_member)]
        add_group: Vec<(String, String)>,
        /// Revoke a group's role.
        #[arg(long, value_name = "GROUP")]
        remove_group: Vec<String>,
    },
}

/// `spacedav group ...`.
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Add {
        /// Group name (unique, case-insensitive).
        name: String,
        /// Display name (default: the name).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List groups.
    List,
    /// Show, add or remove the members of a group.
    Members {
        /// Group name.
        group: String,
        /// Add a user.
        #[arg(long, value_name = "USER")]
        add: Vec<String>,
        /// Remove a user.
        #[arg(long, value_name = "USER")]
        remove: Vec<String>,
    },
}

/// A quota argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// At most this many bytes.
    Bytes(u64),
    /// No limit.
    Unlimited,
}

fn parse_quota(s: &str) -> Result<Quota, String> {
    if s.eq_ignore_ascii_case("unlimited") {
        return Ok(Quota::Unlimited);
    }
    s.parse()
        .map(Quota::Bytes)
        .map_err(|_| "expected a number of bytes or `unlimited`".into())
}

fn parse_member(s: &str) -> Result<(String, String), String> {
    let (user, role) = s
        .rsplit_once(':')
        .ok_or("expected NAME:ROLE, e.g. alice:editor")?;
    let role = role.to_ascii_lowercase();
    if user.is_empty() || !matches!(role.as_str(), "viewer" | "editor" | "manager") {
        return Err("expected USER:ROLE with role viewer, editor or manager".into());
    }
    Ok((user.to_string(), role))
}

/// `spacedav uploads ...`.
#[derive(Debug, Subcommand)]
pub enum UploadsCommand {
    /// List upload sessions: id, space, target, offset/length, state, expiry.
    List,
    /// Delete expired upload sessions with their partial data and quota reservations.
    Clean,
}

/// `spacedav token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a Bearer token for a user.
    Issue {
        /// Login name.
        #[arg(long)]
        user: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
    /// Create an app token (a password for Basic auth the user can revoke); printed once.
    AppCreate {
        /// Login name.
        #[arg(long)]
        user: String,
        /// Lifetime, e.g. `72h`, `30m`, `1h30m`.
        #[arg(long, default_value = "720h")]
        expiry: String,
        /// What the token is for.
        #[arg(long)]
        label: Option<String>,
    },
    /// List a user's app tokens: id, label, created, expires (no secrets).
    AppList {
        /// Login name.
        #[arg(long)]
        user: String,
    },
    /// Add an OpenID Connect signing key for every node of the installation; it signs after
    /// their next start, and the old keys still verify until removed.
    NewSigningKey,
    /// Retire OpenID Connect signing key NUMBER (not the newest) on every node, from their
    /// next start: tokens it signed stop verifying.
    RemoveSigningKey {
        /// The key's number (`oidc-signing-NUMBER`).
        number: u64,
    },
    /// Revoke an app token by its id (or the token itself).
    AppRevoke {
        /// Login name.
        #[arg(long)]
        user: String,
        /// Id from `app-list`, or the token.
        token: String,
    },
}

/// Installs the global tracing subscriber on stderr (stdout carries only what scripts parse):
/// level from `RUST_LOG`, else `default_level`.
fn init_tracing(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // Colour codes only for a person at a terminal, not in files or CI logs.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    // Only `run` calls this, once per process; an error would mean a subscriber is already set.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

impl Global {
    fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen.clone(),
            data_root: self.data_root.clone(),
            public_url: self.public_url.clone(),
            log_format: self.log_format.clone(),
            web_assets: self.web_assets.clone(),
        }
    }
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    run_with_idle(|| {})
}

/// How often a runtime worker that runs out of work calls the `idle` of [`run_with_idle`].
const IDLE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// [`run`], calling `idle` on a runtime worker thread when it runs out of work, at most once
/// per [`IDLE_EVERY`] per thread. The binary passes its allocator's collection (`main.rs`):
/// a worker that goes idle otherwise keeps the memory it freed until its next allocation.
pub fn run_with_idle(idle: fn()) -> ExitCode {
    let cli = Cli::parse();
    let sources = Sources::from_process(cli.global.config.as_deref(), cli.global.overrides());
    if matches!(cli.command, Some(Command::CheckConfig)) {
        return check_config(sources);
    }
    let loaded = sources.and_then(|sources| config::load(&sources));
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("spacedav: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(move || {
            thread_local! {
                static LAST: std::cell::Cell<Option<std::time::Instant>> =
                    const { std::cell::Cell::new(None) };
            }
            let now = std::time::Instant::now();
            if LAST
                .get()
                .is_none_or(|at| now.duration_since(at) >= IDLE_EVERY)
            {
                LAST.set(Some(now));
                idle();
            }
        })
        .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("spacedav: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve::serve(loaded).await,
            Command::User(cmd) => admin::user(loaded.config, cmd).await,
            Command::Space(cmd) => admin::space(loaded.config, cmd).await,
            Command::Group(cmd) => groups::group(loaded.config, cmd).await,
            Command::Token(cmd) => admin::token(loaded.config, cmd).await,
            Command::Uploads(cmd) => maintenance::uploads(loaded.config, cmd).await,
            Command::Fsck => maintenance::fsck(loaded.config).await,
            Command::CheckConfig => unreachable!("handled before the configuration is loaded"),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("spacedav: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `spacedav check-config`: like loading for `serve`, but nothing is opened or written.
fn check_config(sources: Result<Sources, config::ConfigError>) -> ExitCode {
    match sources.and_then(|sources| config::check(&sources)) {
        Ok(checked) => {
            let mut out = String::from("# spacedav check-config: the configuration is valid\n");
            for note in &checked.notes {
                out.push_str(&format!("# note: {note}\n"));
            }
            out.push('\n');
            out.push_str(&checked.effective);
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("spacedav: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("spacedav").chain(args.iter().copied()))
    }

    #[test]
    fn no_subcommand_means_serve_and_flags_are_global() {
        let cli = parse(&["--listen", "127.0.0.1:0", "--data-root", "/d"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.global.listen.as_deref(), Some("127.0.0.1:0"));
        let cli = parse(&["user", "list", "--config", "x.toml"]).unwrap();
        assert_eq!(cli.global.config, Some(PathBuf::from("x.toml")));
    }

    #[test]
    fn quota_and_member_arguments_are_checked() {
        let rows: &[(&[&str], bool)] = &[
            (&["space", "quota", "p", "100"], true),
            (&["space", "quota", "p", "Unlimited"], true),
            (&["space", "quota", "p", "-1"], false),
            (&["space", "quota", "p", "1GB"], false),
            (&["space", "members", "p", "--add", "alice:editor"], true),
            (&["space", "members", "p", "--add", "alice:owner"], false),
            (&["space", "members", "p", "--add", "alice"], false),
            (
                &["user", "add", "bob", "--password", "x", "--password-stdin"],
                false,
            ),
            (&["token", "issue"], false),
        ];
        for (args, ok) in rows {
            assert_eq!(parse(args).is_ok(), *ok, "{args:?}");
        }
    }
}
