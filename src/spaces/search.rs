//! Finding nodes across the spaces a user may read (issue 11): a name search folding case
//! beyond ASCII (Unicode lowercase, so `äpf` finds `Äpfel.txt`) and the user's favorites, each
//! with the path of every hit. Nodes in the trash are never found: a hit's chain of parents
//! must end at its space root.

use std::collections::HashMap;

use super::Store;
use super::db::{DbConn, NODE_COLS, node_by_id, node_from_row};
use super::error::{StoreError, StoreResult};
use super::ids::{NodeId, UserId};
use super::model::Node;
use super::path::SpacePath;

/// A node found by a search, with its path from its space root.
#[derive(Debug, Clone)]
pub struct Found {
    /// The node.
    pub node: Node,
    /// Its path from its space root.
    pub path: SpacePath,
}

/// The result of [`Store::search_names`].
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// Up to `limit` hits, ordered by name.
    pub hits: Vec<Found>,
    /// How many live nodes matched in all.
    pub total: usize,
}

/// Paths of folders, computed once per folder for all the hits below it.
#[derive(Default)]
struct Paths(HashMap<NodeId, Option<SpacePath>>);

impl Paths {
    /// The path of folder `id`; `None` when it lies in the trash.
    async fn folder(&mut self, conn: &mut DbConn, id: NodeId) -> StoreResult<Option<SpacePath>> {
        // Walk up until a folder whose path is known (or a root), then fill in downwards.
        let mut chain = Vec::new();
        let mut cur = id;
        let base = loop {
            if let Some(p) = self.0.get(&cur) {
                break p.clone();
            }
            let node = node_by_id(conn, cur).await?;
            match node.parent {
                Some(parent) => {
                    chain.push((cur, node.name));
                    cur = parent;
                }
                None => {
                    let root = (node.id.0 == node.space).then(SpacePath::root);
                    self.0.insert(cur, root.clone());
                    break root;
                }
            }
        };
        let mut path = base;
        for (id, name) in chain.into_iter().rev() {
            path = match path {
                Some(p) => Some(p.child(&name)?),
                None => None,
            };
            self.0.insert(id, path.clone());
        }
        Ok(path)
    }

    /// The path of a node, `None` when it lies in the trash (or is a space root).
    async fn of(&mut self, conn: &mut DbConn, node: &Node) -> StoreResult<Option<SpacePath>> {
        let Some(parent) = node.parent else {
            return Ok(None);
        };
        Ok(match self.folder(conn, parent).await? {
            Some(p) => Some(p.child(&node.name)?),
            None => None,
        })
    }
}

/// The case folding of names and search terms: Unicode lowercase (`Äpfel` and `äpf` match).
fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// A LIKE pattern matching every name whose [`fold`] contains the folded `term`, and possibly
/// more: the database folds ASCII only (SQLite's LIKE) or by its locale (PostgreSQL's
/// `lower()`), so the hits are checked again with [`fold`].
///
/// ASCII characters stand for themselves, with the wildcards escaped, except `i` and `k`,
/// which a non-ASCII name character also folds to (U+0130 `İ` to `i` + U+0307, U+212A KELVIN
/// SIGN to `k`). Other characters become `_` (one character, which may be written in any
/// case), and U+0307 becomes `%`, as it may come from the same name character as the `i`
/// before it.
fn like_pattern(term: &str) -> String {
    let mut p = String::from("%");
    for c in fold(term).chars() {
        match c {
            '%' | '_' | '\\' => {
                p.push('\\');
                p.push(c);
            }
            'i' | 'k' => p.push('_'),
            '\u{307}' => p.push('%'),
            c if c.is_ascii() => p.push(c),
            _ => p.push('_'),
        }
    }
    p.push('%');
    p
}

/// The ids of the enabled spaces the user bound to `param` has a role in, directly or through
/// a group: what a search or the favorites cover (as the store's role lookup grants access).
fn readable_spaces(param: &str) -> String {
    format!(
        "SELECT m.space_id FROM members m JOIN spaces s ON s.id = m.space_id \
         WHERE m.user_id = {param} AND s.disabled_at IS NULL \
         UNION SELECT g.space_id FROM group_grants g \
         JOIN group_members gm ON gm.group_id = g.group_id JOIN spaces s ON s.id = g.space_id \
         WHERE gm.user_id = {param} AND s.disabled_at IS NULL"
    )
}

impl Store {
    /// Nodes whose name contains `term` (case-insensitive) in the spaces `user` may read
    /// (enabled, a role directly or through a group), outside the trash; up to `limit` of them
    /// ordered by name, and how many matched.
    pub async fn search_names(
        &self,
        user: UserId,
        term: &str,
        limit: usize,
    ) -> StoreResult<SearchResult> {
        let mut conn = self.db.acquire().await?;
        // SQLite's LIKE folds ASCII by itself (its lower() folds nothing more and costs a call
        // per row); PostgreSQL's LIKE folds nothing.
        let sqlite = conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME;
        let name = if sqlite { "name" } else { "lower(name)" };
        let rows = sqlx::query(&format!(
            "SELECT {NODE_COLS} FROM nodes WHERE parent_id IS NOT NULL \
             AND {name} LIKE $1 ESCAPE '\\' \
             AND space_id IN ({}) ORDER BY name, id",
            readable_spaces("$2")
        ))
        .bind(like_pattern(term))
        .bind(user.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let mut paths = Paths::default();
        let mut result = SearchResult {
            hits: Vec::new(),
            total: 0,
        };
        let folded = fold(term);
        for row in &rows {
            let node = node_from_row(row)?;
            if !fold(&node.name).contains(&folded) {
                continue;
            }
            let Some(path) = paths.of(&mut conn, &node).await? else {
                continue;
            };
            result.total += 1;
            if result.hits.len() < limit {
                result.hits.push(Found { node, path });
            }
        }
        Ok(result)
    }

    /// The favorites of `user` that are outside the trash in spaces the user may read.
    pub async fn favorite_nodes(&self, user: UserId) -> StoreResult<Vec<Found>> {
        let mut conn = self.db.acquire().await?;
        let cols = NODE_COLS
            .split(", ")
            .map(|c| format!("n.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {cols} FROM dav_favorites f JOIN nodes n ON n.id = f.node_id \
             WHERE f.user_id = $1 \
             AND n.space_id IN ({}) ORDER BY n.name",
            readable_spaces("$1")
        ))
        .bind(user.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let mut paths = Paths::default();
        let mut found = Vec::new();
        for row in &rows {
            let node = node_from_row(row)?;
            match paths.of(&mut conn, &node).await {
                Ok(Some(path)) => found.push(Found { node, path }),
                Ok(None) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::{fold, like_pattern};

    #[test]
    fn like_patterns_escape_wildcards_and_fold_case() {
        assert_eq!(like_pattern("RePort"), "%report%");
        assert_eq!(like_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
        assert_eq!(like_pattern("ÄPF"), "%_pf%");
        assert_eq!(like_pattern("Kiste"), "%__ste%");
        assert_eq!(like_pattern("İ"), "%_%%");
    }

    /// The pattern's premise: `i` and `k` are the only ASCII characters a non-ASCII character
    /// folds to, and U+0130 the only character folding to more than one.
    #[test]
    fn only_i_and_k_come_from_folding_non_ascii_characters() {
        let (mut to_ascii, mut longer) = (Vec::new(), Vec::new());
        for c in (0x80..=0x10ffff).filter_map(char::from_u32) {
            let f = fold(&c.to_string());
            if f.chars().any(|x| x.is_ascii()) {
                to_ascii.push(c);
            }
            if f.chars().count() != 1 {
                longer.push(c);
            }
        }
        assert_eq!(to_ascii, ['\u{130}', '\u{212a}']);
        assert_eq!(longer, ['\u{130}']);
    }
}
