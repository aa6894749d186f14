//! The grant an upload session was created through, and whether it still holds (migration
//! 0014, issue 12: "an expired or deleted link → 404 at once"). A `/data/` URL is a capability
//! handed out at creation; without this check it would outlive the link, share or membership
//! that allowed the creation for the session's whole life (oCIS works that way: its data
//! gateway checks only the transfer token, README "Uploads through links and shares").
//!
//! Each check is one statement on indexed columns, so that it can run on every request to
//! the upload and again inside the transaction that commits it ([`grant_verdict_on`]).
//!
//! Not re-checked mid-upload: whether the creator of a link or share still holds what they
//! shared (a link narrows with its creator's role when it is opened, `Store::share_by_token`;
//! an upload already under way keeps the link's own bits).

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::db::Db;
use super::error::StoreResult;
use super::groups::effective_role_on;
use super::ids::{NodeId, UserId};
use super::shares::share_bits::READ;
use super::uploads::Upload;

/// What allowed an upload's creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UploadGrant {
    /// The creator's own role in the space, directly or through a group (also every session
    /// stored before migration 0014).
    #[default]
    Member,
    /// A public link: its share id, and the OCS bit the creation needed.
    Link {
        /// `shares.id` of the link.
        share: i64,
        /// The bit the creation needed (create, or update to replace a file).
        need: u32,
    },
    /// Shares the creator received on this node or above it, and the bit the creation needed.
    Share {
        /// The folder (or shared file) the creation went through.
        node: NodeId,
        /// The bit the creation needed.
        need: u32,
    },
}

impl UploadGrant {
    /// The stored columns `grant_link`, `grant_node`, `grant_need`.
    pub(crate) fn columns(&self) -> (Option<i64>, Option<String>, Option<i64>) {
        match *self {
            UploadGrant::Member => (None, None, None),
            UploadGrant::Link { share, need } => (Some(share), None, Some(i64::from(need))),
            UploadGrant::Share { node, need } => {
                (None, Some(node.0.to_string()), Some(i64::from(need)))
            }
        }
    }

    /// From the stored columns (an unreadable node id reads as a grant that reaches nothing).
    pub(crate) fn from_columns(
        link: Option<i64>,
        node: Option<String>,
        need: Option<i64>,
    ) -> UploadGrant {
        let need = need.and_then(|n| u32::try_from(n).ok()).unwrap_or(u32::MAX);
        match (link, node) {
            (Some(share), _) => UploadGrant::Link { share, need },
            (None, Some(node)) => UploadGrant::Share {
                node: NodeId(Uuid::parse_str(&node).unwrap_or(Uuid::nil())),
                need,
            },
            (None, None) => UploadGrant::Member,
        }
    }
}

/// Whether an upload's grant still allows it to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantVerdict {
    /// It does.
    Holds,
    /// The uploader still sees the target but may no longer write there (403).
    ReadOnly,
    /// The link or share is gone, expired or no longer allows uploads, or the uploader lost
    /// access to the space: answer as if nothing were there (404).
    Gone,
}

/// The verdict on `s`'s grant at `now` (unix ns), with one statement on `ex` (the pool, or the
/// transaction that commits the upload).
pub(crate) async fn grant_verdict_on<'e, E>(
    ex: E,
    s: &Upload,
    now: i64,
) -> StoreResult<GrantVerdict>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let Some(user) = s.created_by else {
        // Only sessions made by hand (tools, tests) have no creator: nothing to re-check.
        return Ok(GrantVerdict::Holds);
    };
    match s.grant {
        UploadGrant::Member => Ok(match effective_role_on(ex, s.space, user, true).await? {
            Some(r) if r.can_write() => GrantVerdict::Holds,
            Some(_) => GrantVerdict::ReadOnly,
            None => GrantVerdict::Gone,
        }),
        UploadGrant::Link { share, need } => {
            let bits: Option<i64> = sqlx::query_scalar(
                "SELECT permissions FROM shares WHERE id = $1 AND kind = 'link' \
                 AND space_id = $2 AND (expires_at IS NULL OR expires_at > $3)",
            )
            .bind(share)
            .bind(s.space.to_string())
            .bind(now)
            .fetch_optional(ex)
            .await?;
            // A link that may no longer upload is answered like a deleted one (issue 12).
            Ok(match bits {
                Some(b) if allows(b, need) => GrantVerdict::Holds,
                _ => GrantVerdict::Gone,
            })
        }
        UploadGrant::Share { node, need } => {
            let bits = received_bits_on(ex, user, node, now).await?;
            Ok(if allows(bits, need) {
                GrantVerdict::Holds
            } else if bits & i64::from(READ) != 0 {
                GrantVerdict::ReadOnly
            } else {
                GrantVerdict::Gone
            })
        }
    }
}

fn allows(bits: i64, need: u32) -> bool {
    let need = i64::from(need);
    need != 0 && bits & need == need
}

/// The union of the bits of the unexpired user and group shares `user` receives on `node` or
/// any of its ancestors, in one statement (the ancestors by a recursive walk up `parent_id`).
async fn received_bits_on<'e, E>(ex: E, user: UserId, node: NodeId, now: i64) -> StoreResult<i64>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let rows = sqlx::query(
        "WITH RECURSIVE chain(id, parent_id) AS ( \
             SELECT id, parent_id FROM nodes WHERE id = $1 \
             UNION ALL SELECT n.id, n.parent_id FROM nodes n JOIN chain c ON n.id = c.parent_id) \
         SELECT s.permissions FROM shares s JOIN chain c ON s.node_id = c.id \
         WHERE (s.expires_at IS NULL OR s.expires_at > $3) \
         AND ((s.kind = 'user' AND s.grantee = $2) OR (s.kind = 'group' AND s.grantee IN \
             (SELECT group_id FROM group_members WHERE user_id = $2)))",
    )
    .bind(node.0.to_string())
    .bind(user.to_string())
    .bind(now)
    .fetch_all(ex)
    .await?;
    let mut bits = 0;
    for row in &rows {
        bits |= row.try_get::<i64, _>(0)?;
    }
    Ok(bits)
}

impl Store {
    /// Whether the grant upload `s` was created through still holds now.
    pub async fn upload_grant(&self, s: &Upload) -> StoreResult<GrantVerdict> {
        grant_verdict_on(&self.db, s, self.clock.now_ns()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_survive_their_columns() {
        let node = NodeId(Uuid::new_v4());
        for g in [
            UploadGrant::Member,
            UploadGrant::Link { share: 7, need: 4 },
            UploadGrant::Share { node, need: 2 },
        ] {
            let (l, n, need) = g.columns();
            assert_eq!(UploadGrant::from_columns(l, n, need), g);
        }
    }

    #[test]
    fn a_grant_allows_only_the_bit_it_needed() {
        assert!(allows(0b101, 4));
        assert!(!allows(0b001, 4));
        assert!(!allows(31, 0));
    }
}
