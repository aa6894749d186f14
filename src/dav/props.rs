//! Dead properties (PROPPATCH, RFC 4918 §4.3) and per-user favorites (`oc:favorite`) in the
//! metadata database. Both are keyed by node id, so MOVE keeps them and DELETE drops them.

use std::collections::{HashMap, HashSet};

use dav_server::fs::DavProp;
use sqlx::Row;

use crate::spaces::DbPool;

use super::headers::NS_OC;
use crate::spaces::{NodeId, StoreError, User};

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

/// Apply one PROPPATCH instruction for `user` on `node`.
pub async fn apply(
    db: &DbPool,
    user: &User,
    node: NodeId,
    set: bool,
    prop: &DavProp,
) -> Result<(), StoreError> {
    let ns = prop.namespace.as_deref().unwrap_or("");
    if ns == NS_OC && prop.name == "favorite" {
        let on = set && favorite_value(prop.xml.as_deref().unwrap_or_default());
        return set_favorite(db, user, node, on).await;
    }
    if set {
        let xml = String::from_utf8_lossy(prop.xml.as_deref().unwrap_or_default()).into_owned();
        sqlx::query(
            "INSERT INTO dav_props (node_id, namespace, name, xml) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (node_id, namespace, name) DO UPDATE SET xml = excluded.xml",
        )
        .bind(node.to_string())
        .bind(ns)
        .bind(&prop.name)
        .bind(strip_declaration(&xml))
        .execute(db)
        .await?;
    } else {
        sqlx::query("DELETE FROM dav_props WHERE node_id = $1 AND namespace = $2 AND name = $3")
            .bind(node.to_string())
            .bind(ns)
            .bind(&prop.name)
            .execute(db)
            .await?;
    }
    Ok(())
}

/// Whether the text content of an `<oc:favorite>` element means "on".
fn favorite_value(xml: &[u8]) -> bool {
    let s = String::from_utf8_lossy(xml);
    let text = s
        .rsplit_once("</")
        .map(|(head, _)| head)
        .and_then(|head| head.rsplit_once('>'))
        .map(|(_, t)| t.trim())
        .unwrap_or("");
    text == "1" || text.eq_ignore_ascii_case("true")
}

/// Drop a leading `<?xml …?>` declaration.
pub fn strip_declaration(xml: &str) -> &str {
    let t = xml.trim_start();
    match t.strip_prefix("<?xml").and_then(|r| r.split_once("?>")) {
        Some((_, rest)) => rest.trim_start(),
        None => t,
    }
}

async fn set_favorite(db: &DbPool, user: &User, node: NodeId, on: bool) -> Result<(), StoreError> {
    let sql = if on {
        "INSERT INTO dav_favorites (user_id, node_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM dav_favorites WHERE user_id = $1 AND node_id = $2"
    };
    sqlx::query(sql)
        .bind(user.id.to_string())
        .bind(node.to_string())
        .execute(db)
        .await?;
    Ok(())
}

/// Copy the dead properties of `from` to `to` (COPY carries them, RFC 4918 §9.8.2).
pub async fn copy(db: &DbPool, from: NodeId, to: NodeId) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO dav_props (node_id, namespace, name, xml) \
         SELECT $1, namespace, name, xml FROM dav_props WHERE node_id = $2",
    )
    .bind(to.to_string())
    .bind(from.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Copy the dead properties of a whole copied tree: each node below `from` gives its
/// properties to the node at the same relative path below `to`.
pub async fn copy_tree(db: &DbPool, from: NodeId, to: NodeId) -> Result<(), StoreError> {
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
    .execute(db)
    .await?;
    Ok(())
}

/// Which nodes of a listing a query covers: one node with its children, or a whole space.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// The node and (when `children`) its direct children.
    Node {
        /// The listed node.
        id: NodeId,
        /// Whether the children are listed too.
        children: bool,
    },
    /// Every node of a space (`Depth: infinity`).
    Space(uuid::Uuid),
}

impl Scope {
    fn filter(&self) -> (&'static str, String) {
        match self {
            Scope::Node { id, children: true } => {
                ("(n.id = $1 OR n.parent_id = $1)", id.to_string())
            }
            Scope::Node {
                id,
                children: false,
            } => ("n.id = $1", id.to_string()),
            Scope::Space(s) => ("n.space_id = $1", s.to_string()),
        }
    }
}

/// The dead properties of every node in `scope`, in one query.
pub async fn for_scope(
    db: &DbPool,
    scope: Scope,
) -> Result<HashMap<NodeId, Vec<DeadProp>>, StoreError> {
    let (cond, arg) = scope.filter();
    let rows = sqlx::query(&format!(
        "SELECT p.node_id, p.namespace, p.name, p.xml FROM dav_props p \
         JOIN nodes n ON n.id = p.node_id WHERE {cond} ORDER BY p.namespace, p.name"
    ))
    .bind(arg)
    .fetch_all(db)
    .await?;
    let mut out: HashMap<NodeId, Vec<DeadProp>> = HashMap::new();
    for r in rows {
        let id: String = r.try_get(0)?;
        let Ok(id) = uuid::Uuid::parse_str(&id) else {
            continue;
        };
        out.entry(NodeId(id)).or_default().push(DeadProp {
            namespace: r.try_get(1)?,
            name: r.try_get(2)?,
            xml: r.try_get(3)?,
        });
    }
    Ok(out)
}

/// The nodes in `scope` that `user` marked as favorite, in one query.
pub async fn favorites(
    db: &DbPool,
    user: &User,
    scope: Scope,
) -> Result<HashSet<NodeId>, StoreError> {
    let (cond, arg) = scope.filter();
    let ids: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT f.node_id FROM dav_favorites f JOIN nodes n ON n.id = f.node_id \
         WHERE f.user_id = $2 AND {cond}"
    ))
    .bind(arg)
    .bind(user.id.to_string())
    .fetch_all(db)
    .await?;
    Ok(ids
        .iter()
        .filter_map(|s| uuid::Uuid::parse_str(s).ok())
        .map(NodeId)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn favorite_values_and_declarations() {
        assert!(favorite_value(
            b"<oc:favorite xmlns:oc=\"x\">1</oc:favorite>"
        ));
        assert!(!favorite_value(
            b"<oc:favorite xmlns:oc=\"x\">0</oc:favorite>"
        ));
        assert!(!favorite_value(b"<oc:favorite xmlns:oc=\"x\"/>"));
        assert_eq!(strip_declaration("<?xml version=\"1.0\"?><a/>"), "<a/>");
        assert_eq!(strip_declaration("<a/>"), "<a/>");
    }
}
