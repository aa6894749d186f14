//! `spacedav group add|list|members` and the group grants of `spacedav space members`.

use std::process::ExitCode;

use anyhow::{Context, bail};

use super::GroupCommand;
use super::open::{open, user_named};
use crate::config::Config;
use crate::spaces::{Group, Role, Space, Store, StoreError};

async fn group_named(store: &Store, name: &str) -> anyhow::Result<Group> {
    match store.group_by_name(name).await {
        Err(StoreError::NotFound) => bail!("no group named {name:?}"),
        other => Ok(other?),
    }
}

/// `spacedav group ...`.
pub(crate) async fn group(config: Config, cmd: GroupCommand) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    let store = state.store();
    match cmd {
        GroupCommand::Add { name, display_name } => {
            let g = match store
                .create_group(&name, display_name.as_deref().unwrap_or_default())
                .await
            {
                Err(StoreError::NameTaken(n)) => bail!("a group named {n:?} exists"),
                other => other?,
            };
            println!("created group {} ({})", g.name, g.id);
        }
        GroupCommand::List => {
            for g in store.groups(None).await? {
                let n = store.group_members(g.id).await?.len();
                println!("{}\t{}\t{}\t{n} members", g.id, g.name, g.display_name);
            }
        }
        GroupCommand::Members { group, add, remove } => {
            let g = group_named(store, &group).await?;
            for name in add {
                let u = user_named(store, &name).await?;
                store.set_group_member(g.id, u.id, true).await?;
            }
            for name in remove {
                let u = user_named(store, &name).await?;
                store.set_group_member(g.id, u.id, false).await?;
            }
            for u in store.group_members(g.id).await? {
                println!("{}", u.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Grant and revoke group roles in `space` (`spacedav space members --add-group/--remove-group`).
pub(super) async fn grant(
    store: &Store,
    space: &Space,
    add: Vec<(String, String)>,
    remove: Vec<String>,
) -> anyhow::Result<()> {
    for (name, role) in add {
        let g = group_named(store, &name).await?;
        let role = Role::parse(&role).context("role checked by the argument parser")?;
        store
            .set_group_grant(space.id.space, g.id, Some(role))
            .await?;
    }
    for name in remove {
        let g = group_named(store, &name).await?;
        store.set_group_grant(space.id.space, g.id, None).await?;
    }
    Ok(())
}
