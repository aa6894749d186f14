//! The admin subcommands: users, spaces, tokens. Each opens the same state the server opens
//! (the database is safe to share with a running server) and prints plain lines to stdout.

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use rand::Rng;
use rand::distributions::Alphanumeric;

use super::open::{open, user_named};
use super::{PasswordArgs, Quota, SpaceCommand, TokenCommand, UserCommand};
use crate::auth;
use crate::auth::app_tokens;
use crate::config::Config;
use crate::spaces::{Grantee, NewSpace, NewUser, Role, Space, SpaceKind, Store};

/// Default owner of new project spaces: the administrator created on first start.
const ADMIN: &str = "admin";

fn random_password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// The password from `--password`, the first line of stdin (`--password-stdin`, or `fallback_stdin`),
/// or `None`.
fn password(args: &PasswordArgs, fallback_stdin: bool) -> anyhow::Result<Option<String>> {
    if let Some(p) = &args.password {
        return Ok(Some(p.clone()));
    }
    if !(args.password_stdin || fallback_stdin) {
        return Ok(None);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim_end_matches(['\n', '\r']);
    if line.is_empty() {
        bail!("empty password on stdin");
    }
    Ok(Some(line.to_string()))
}

/// `spacedav user ...`.
pub(crate) async fn user(config: Config, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    let store = state.store();
    match cmd {
        UserCommand::Add {
            name,
            password: pw,
            admin,
            display_name,
            email,
        } => {
            let given = password(&pw, false)?;
            let generated = given.is_none();
            let password = given.unwrap_or_else(random_password);
            let user = store
                .create_user(NewUser {
                    display_name: display_name.unwrap_or_else(|| name.clone()),
                    name,
                    email,
                    password_hash: auth::hash_password(&password),
                    is_admin: admin,
                })
                .await?;
            println!("created user {} ({})", user.name, user.id.0);
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::List => {
            for u in store.users().await? {
                let role = if u.is_admin { "admin" } else { "user" };
                let email = u.email.as_deref().unwrap_or("-");
                println!(
                    "{}\t{}\t{role}\t{}\t{email}",
                    u.id.0, u.name, u.display_name
                );
            }
        }
        UserCommand::Passwd { name, password: pw } => {
            let user = user_named(store, &name).await?;
            let password = password(&pw, true)?.expect("stdin fallback yields a password");
            store
                .set_password(user.id, &auth::hash_password(&password))
                .await?;
            println!("password of {} changed", user.name);
        }
        UserCommand::Remove { name } => {
            let user = user_named(store, &name).await?;
            store.remove_user(user.id).await?;
            println!("removed user {}", user.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The space named by `key`: its id (`{storage}${uuid}` or the uuid), its alias (with or without
/// `project/`), or its name.
pub(super) async fn find_space(store: &Store, key: &str) -> anyhow::Result<Space> {
    let spaces = store.spaces().await?;
    let found = spaces
        .iter()
        .find(|s| s.id.to_string() == key || s.id.space.to_string() == key)
        .or_else(|| spaces.iter().find(|s| s.alias == key))
        .or_else(|| spaces.iter().find(|s| s.alias == format!("project/{key}")))
        .or_else(|| spaces.iter().find(|s| s.name == key));
    found
        .cloned()
        .with_context(|| format!("no space with id, alias or name {key:?}"))
}

fn show_quota(quota: Option<u64>) -> String {
    quota.map_or_else(|| "unlimited".into(), |q| q.to_string())
}

/// `spacedav space ...`.
pub(crate) async fn space(config: Config, cmd: SpaceCommand) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    let store = state.store();
    match cmd {
        SpaceCommand::Create {
            name,
            alias,
            quota,
            owner,
        } => {
            let owner = user_named(store, owner.as_deref().unwrap_or(ADMIN)).await?;
            let space = store
                .create_project_space(NewSpace {
                    name,
                    alias,
                    quota,
                    owner: owner.id,
                })
                .await?;
            println!("created space {} ({})", space.alias, space.id);
        }
        SpaceCommand::List => {
            for s in store.spaces().await? {
                let kind = match s.kind {
                    SpaceKind::Personal => "personal",
                    SpaceKind::Project => "project",
                };
                let quota = show_quota(s.quota);
                println!("{}\t{kind}\t{}\t{}\tquota {quota}", s.id, s.alias, s.name);
            }
        }
        SpaceCommand::Quota { space, quota } => {
            let space = find_space(store, &space).await?;
            let quota = match quota {
                Quota::Bytes(b) => Some(b),
                Quota::Unlimited => None,
            };
            store.set_quota(space.id.space, quota).await?;
            println!("quota of {} set to {}", space.alias, show_quota(quota));
        }
        SpaceCommand::Members {
            space,
            add,
            remove,
            add_group,
            remove_group,
        } => {
            let space = find_space(store, &space).await?;
            for (name, role) in add {
                let user = user_named(store, &name).await?;
                let role = Role::parse(&role).context("role checked by the argument parser")?;
                store
                    .set_member(space.id.space, user.id, Some(role))
                    .await?;
            }
            for name in remove {
                let user = user_named(store, &name).await?;
                store.set_member(space.id.space, user.id, None).await?;
            }
            super::groups::grant(store, &space, add_group, remove_group).await?;
            for (grantee, role) in store.grantees(space.id.space).await? {
                let name = match grantee {
                    Grantee::User(u) => u.name,
                    Grantee::Group(g) => format!("group:{}", g.name),
                };
                println!("{name}\t{}", role.as_str());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `spacedav token issue`.
pub(crate) async fn token(config: Config, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let data_root = config.data_root.clone();
    let state = open(config).await?;
    if let TokenCommand::NewSigningKey = cmd {
        let path = auth::oidc::keys::add_shared_key(state.store(), &data_root)
            .await
            .context("adding an OpenID Connect signing key")?;
        println!(
            "added {}; it signs after each node's next start",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let TokenCommand::RemoveSigningKey { number } = cmd {
        auth::oidc::keys::remove_shared_key(state.store(), &data_root, number)
            .await
            .context("removing an OpenID Connect signing key")?;
        println!("removed signing key {number}; every node drops it at its next start");
        return Ok(ExitCode::SUCCESS);
    }
    // The installation's secret, as the database records it (issue 14), not this node's file.
    let secret = state.config().token_secret.clone();
    let store = state.store();
    match cmd {
        TokenCommand::Issue { user, ttl } => {
            let user = user_named(store, &user).await?;
            let ttl = Duration::from_secs(ttl);
            let token = auth::issue_token(secret.as_bytes(), &user, ttl, store.clock())?;
            println!("{token}");
        }
        TokenCommand::AppCreate {
            user,
            expiry,
            label,
        } => {
            let user = user_named(store, &user).await?;
            let Some(expiry) = app_tokens::parse_expiry(&expiry) else {
                bail!("--expiry {expiry:?}: use e.g. 72h, 30m or 1h30m");
            };
            let (_, secret) =
                app_tokens::create_token(store, &user, expiry, label.as_deref()).await?;
            println!("{secret}");
        }
        TokenCommand::AppList { user } => {
            let user = user_named(store, &user).await?;
            let now = store.clock().unix_secs() as i64;
            let date = |s: i64| crate::http::rfc3339(crate::spaces::Mtime(s * 1_000_000_000));
            for t in store.app_tokens(user.id, now).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    t.id,
                    t.label,
                    date(t.created_at),
                    date(t.expires_at)
                );
            }
        }
        TokenCommand::NewSigningKey | TokenCommand::RemoveSigningKey { .. } => {
            unreachable!("handled above")
        }
        TokenCommand::AppRevoke { user, token } => {
            let user = user_named(store, &user).await?;
            if !app_tokens::revoke_token(store, &user, &token).await? {
                bail!("{} has no such app token", user.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
