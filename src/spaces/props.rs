//! Dead properties (set by WebDAV PROPPATCH, RFC 4918 §4.3) and per-user favorites in the
//! metadata database (`dav_props`, `dav_favorites`). Both are keyed by node id, so a move
//! keeps them and a delete drops them (the foreign keys cascade); a copy carries dead
//! properties only when the caller asks ([`super::CopySpec::dead_props`]), in its transaction.

use std::collections::{HashMap, HashSet};

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::db::{DbConn, uuid};
use super::error::StoreResult;
use super::ids::{NodeId, UserId};

/// A stored dead property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadProp {
    /// Namespace URI (empty for none).
    pub namespace: String,
    /// Local name.
    pub name: String,
    /// The whole property element as XML, with its own namespace declarations.
    pub xml: String,
}

/// One change of [`Store::change_props`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropChange {
    /// Set (or replace) a dead property.
    Set(DeadProp),
    /// Remove a dead property, if present.
    Remove {
        /// Namespace URI (empty for none).
        namespace: String,
        /// Local name.
        name: String,
    },
    /// Mark the node as the user's favorite, or unmark it.
    Favorite(bool),
}

/// Which nodes a lookup covers: one node with or without its children, or a whole space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeScope {
    /// The node and (when `children`) its direct children.
    Node {
        /// The node.
        id: NodeId,
        /// Whether its direct children are covered too.
        children: bool,
    },
    /// Every node of a space.
    Space(Uuid),
}

impl NodeScope {
    /// The condition on `nodes n` (with its one parameter as `$1`) and the parameter.
    fn filter(&self) -> (&'static str, String) {
        match self {
            NodeScope::Node { id, children: true } => {
                ("(n.id = $1 OR n.parent_id = $1)", id.to_string())
            }
            NodeScope::Node {
                id,
                children: false,
            } => ("n.id = $1", id.to_string()),
            NodeScope::Space(s) => ("n.space_id = $1", s.to_string()),
        }
    }
}

impl Store {
    /// Apply `changes` to the dead properties of `node` and to `user`'s favorites, in one
    /// transaction (a PROPPATCH is all or nothing).
    pub async fn change_props(
        &self,
        user: UserId,
        node: NodeId,
        changes: &[PropChange],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for change in changes {
            let q = match change {
                PropChange::Set(p) => sqlx::query(
                    "INSERT INTO dav_props (node_id, namespace, name, xml) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (node_id, namespace, name) DO UPDATE SET xml = excluded.xml",
                )
                .bind(node.to_string())
                .bind(p.namespace.as_str())
                .bind(p.name.as_str())
                .bind(p.xml.as_str()),
                PropChange::Remove { namespace, name } => sqlx::query(
                    "DELETE FROM dav_props WHERE node_id = $1 AND namespace = $2 AND name = $3",
                )
                .bind(node.to_string())
                .bind(namespace.as_str())
                .bind(name.as_str()),
                PropChange::Favorite(on) => sqlx::query(if *on {
                    "INSERT INTO dav_favorites (user_id, node_id) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING"
                } else {
                    "DELETE FROM dav_favorites WHERE user_id = $1 AND node_id = $2"
                })
                .bind(user.to_string())
                .bind(node.to_string()),
            };
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.durable().await
    }

    /// The dead properties of every node in `scope`, by namespace and name, in one query.
    pub async fn dead_props(
        &self,
        scope: NodeScope,
    ) -> StoreResult<HashMap<NodeId, Vec<DeadProp>>> {
        let (cond, arg) = scope.filter();
        let rows = sqlx::query(&format!(
            "SELECT p.node_id, p.namespace, p.name, p.xml FROM dav_props p \
             JOIN nodes n ON n.id = p.node_id WHERE {cond} ORDER BY p.namespace, p.name"
        ))
        .bind(arg)
        .fetch_all(&self.db)
        .await?;
        let mut out: HashMap<NodeId, Vec<DeadProp>> = HashMap::new();
        for r in rows {
            let id = NodeId(uuid(r.try_get(0)?)?);
            out.entry(id).or_default().push(DeadProp {
                namespace: r.try_get(1)?,
                name: r.try_get(2)?,
                xml: r.try_get(3)?,
            });
        }
        Ok(out)
    }

    /// The nodes in `scope` that `user` marked as favorite, in one query.
    pub async fn favorites(&self, user: UserId, scope: NodeScope) -> StoreResult<HashSet<NodeId>> {
        let (cond, arg) = scope.filter();
        let ids: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT f.node_id FROM dav_favorites f JOIN nodes n ON n.id = f.node_id \
             WHERE f.user_id = $2 AND {cond}"
        ))
        .bind(arg)
        .bind(user.to_string())
        .fetch_all(&self.db)
        .await?;
        ids.iter().map(|s| Ok(NodeId(uuid(s)?))).collect()
    }
}

/// Give `to` the dead properties of `from` (a copy of one node), inside the copy's
/// transaction.
pub(super) async fn copy_props_in(conn: &mut DbConn, from: NodeId, to: NodeId) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO dav_props (node_id, namespace, name, xml) \
         SELECT $1, namespace, name, xml FROM dav_props WHERE node_id = $2",
    )
    .bind(to.to_string())
    .bind(from.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Copy the dead properties of a whole copied tree inside the copy's transaction: each node
/// below `from` gives its properties to the node at the same relative path below `to`.
pub(super) async fn copy_props_tree_in(
    conn: &mut DbConn,
    from: NodeId,
    to: NodeId,
) -> StoreResult<()> {
    sqlx::query(
        "WITH RECURSIVE \
         src(id, rel) AS (SELECT CAST($1 AS TEXT), CAST('' AS TEXT) UNION ALL \
             SELECT n.id, s.rel || '/' || n.name FROM nodes n JOIN src s ON n.parent_id = s.id), \
         dst(id, rel) AS (SELECT CAST($2 AS TEXT), CAST('' AS TEXT) UNION ALL \
             SELECT n.id, d.rel || '/' || n.name FROM nodes n JOIN dst d ON n.parent_id = d.id) \
         INSERT INTO dav_props (node_id, namespace, name, xml) \
         SELECT dst.id, p.namespace, p.name, p.xml \
         FROM src JOIN dst ON src.rel = dst.rel JOIN dav_props p ON p.node_id = src.id",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spaces::locks::tests::fixture;
    use crate::spaces::{CopyDepth, CopySpec, Overwrite, SpacePath};

    fn prop(name: &str, xml: &str) -> DeadProp {
        DeadProp {
            namespace: "urn:x".into(),
            name: name.into(),
            xml: xml.into(),
        }
    }

    #[tokio::test]
    async fn props_and_favorites_change_copy_and_list_by_scope() {
        let (store, user, _dir) = fixture().await;
        let space = user.id.0;
        let path = |s: &str| SpacePath::parse(s).unwrap();
        let dir = store.create_folder(space, &path("d")).await.unwrap();
        let sub = store.create_folder(space, &path("d/s")).await.unwrap();
        let other = store.create_folder(space, &path("o")).await.unwrap();

        let changes = [
            PropChange::Set(prop("b", "<b xmlns=\"urn:x\">1</b>")),
            PropChange::Set(prop("a", "<a xmlns=\"urn:x\">1</a>")),
            PropChange::Set(prop("a", "<a xmlns=\"urn:x\">2</a>")),
            PropChange::Set(prop("c", "<c xmlns=\"urn:x\"/>")),
            PropChange::Remove {
                namespace: "urn:x".into(),
                name: "c".into(),
            },
            PropChange::Favorite(true),
        ];
        store.change_props(user.id, sub.id, &changes).await.unwrap();
        store
            .change_props(user.id, other.id, &[PropChange::Favorite(true)])
            .await
            .unwrap();
        let want = vec![
            prop("a", "<a xmlns=\"urn:x\">2</a>"),
            prop("b", "<b xmlns=\"urn:x\">1</b>"),
        ];

        let scopes = [
            (
                NodeScope::Node {
                    id: dir.id,
                    children: false,
                },
                0,
                0,
            ),
            (
                NodeScope::Node {
                    id: dir.id,
                    children: true,
                },
                1,
                1,
            ),
            (
                NodeScope::Node {
                    id: sub.id,
                    children: false,
                },
                1,
                1,
            ),
            (NodeScope::Space(space), 1, 2),
        ];
        for (scope, props, favorites) in scopes {
            let dead = store.dead_props(scope).await.unwrap();
            assert_eq!(dead.len(), props, "{scope:?}");
            if props > 0 {
                assert_eq!(dead[&sub.id], want, "{scope:?}");
            }
            let fav = store.favorites(user.id, scope).await.unwrap();
            assert_eq!(fav.len(), favorites, "{scope:?}");
            assert!(favorites == 0 || fav.contains(&sub.id), "{scope:?}");
        }

        store
            .change_props(user.id, other.id, &[PropChange::Favorite(false)])
            .await
            .unwrap();
        let fav = store
            .favorites(user.id, NodeScope::Space(space))
            .await
            .unwrap();
        assert_eq!(fav, HashSet::from([sub.id]));

        let spec = |depth| CopySpec {
            overwrite: Overwrite::Refuse,
            depth,
            dead_props: true,
            mtime: None,
        };
        let (one, _) = store
            .copy(space, &path("d/s"), &path("s2"), &spec(CopyDepth::NodeOnly))
            .await
            .unwrap();
        store
            .copy(space, &path("d"), &path("e"), &spec(CopyDepth::Whole))
            .await
            .unwrap();
        let copied = store.resolve(space, &path("e/s")).await.unwrap();
        let dead = store.dead_props(NodeScope::Space(space)).await.unwrap();
        assert_eq!(dead.len(), 3);
        assert_eq!(dead[&one.id], want);
        assert_eq!(dead[&copied.id], want);
        assert!(!dead.contains_key(&other.id));
    }
}
