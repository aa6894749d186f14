//! WebDAV locks (RFC 4918 §6, §9.10) in the metadata database: `DbLocks` is dav-server's
//! `DavLockSystem` for one space. Locks name paths, expire by their timeout (an expired lock
//! is ignored by every query and purged on the next LOCK) and survive restarts.
//!
//! The conflict rules are those of dav-server's `MemLs`, which passes litmus: a lock on an
//! ancestor counts only when it is deep; an exclusive lock conflicts unless the request holds
//! it; shared locks conflict only with exclusive requests.

use http::HeaderMap;
use sqlx::Row;

use crate::spaces::{DbPool, DbRow};

use super::headers::{IF, LOCK_TOKEN};
use crate::spaces::{Mtime, SpacePath};
use crate::state::AppState;

/// One stored lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRow {
    /// `opaquelocktoken:<uuid>`.
    pub token: String,
    /// `/a/b` form of the locked path.
    pub path: String,
    /// The user who took it.
    pub principal: Option<String>,
    /// The content of the `<D:owner>` element the client sent, as XML.
    pub owner_xml: Option<String>,
    /// Requested timeout in seconds (`None` = infinite).
    pub timeout_s: Option<i64>,
    /// Expiry in unix ns (`None` = never).
    pub expires_at: Option<i64>,
    /// Shared (else exclusive).
    pub shared: bool,
    /// Depth infinity (else 0).
    pub deep: bool,
}

/// The `/a/b` key of a space path.
pub fn key(p: &SpacePath) -> String {
    p.to_string()
}

/// The keys of `p` and all its ancestors, root first.
fn ancestors_or_self(p: &SpacePath) -> Vec<String> {
    let mut out = vec![key(&SpacePath::root())];
    let mut cur = SpacePath::root();
    for c in p.components() {
        cur = cur.child(c).unwrap_or_else(|_| cur.clone());
        out.push(key(&cur));
    }
    out
}

pub(super) const LIVE: &str = "(expires_at IS NULL OR expires_at > $2)";
pub(super) const COLS: &str =
    "token, path, principal, owner_xml, timeout_s, expires_at, shared, deep";

pub(super) fn row(r: &DbRow) -> Result<LockRow, sqlx::Error> {
    Ok(LockRow {
        token: r.try_get(0)?,
        path: r.try_get(1)?,
        principal: r.try_get(2)?,
        owner_xml: r.try_get(3)?,
        timeout_s: r.try_get(4)?,
        expires_at: r.try_get(5)?,
        shared: r.try_get::<i64, _>(6)? != 0,
        deep: r.try_get::<i64, _>(7)? != 0,
    })
}

/// Live locks on `p` or its ancestors (all of them; callers apply the deep rule).
pub async fn on_path<'c>(
    db: impl sqlx::Executor<'c, Database = crate::spaces::Db>,
    space: uuid::Uuid,
    p: &SpacePath,
) -> Result<Vec<LockRow>, sqlx::Error> {
    let keys = ancestors_or_self(p);
    let list: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT {COLS} FROM dav_locks WHERE space_id = $1 AND {LIVE} AND path IN ({})",
        list.join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(space.to_string())
        .bind(Mtime::now().0);
    for k in &keys {
        q = q.bind(k);
    }
    q.fetch_all(db).await?.iter().map(row).collect()
}

/// Live locks on `p` or below it.
pub async fn below<'c>(
    db: impl sqlx::Executor<'c, Database = crate::spaces::Db>,
    space: uuid::Uuid,
    p: &SpacePath,
) -> Result<Vec<LockRow>, sqlx::Error> {
    let k = key(p);
    let prefix = if p.is_root() {
        k.clone()
    } else {
        format!("{k}/")
    };
    let sql = format!(
        "SELECT {COLS} FROM dav_locks WHERE space_id = $1 AND {LIVE} \
         AND (path = $3 OR substr(path, 1, $4) = $5)"
    );
    sqlx::query(&sql)
        .bind(space.to_string())
        .bind(Mtime::now().0)
        .bind(&k)
        .bind(prefix.chars().count() as i64)
        .bind(&prefix)
        .fetch_all(db)
        .await?
        .iter()
        .map(row)
        .collect()
}

/// Every live lock of a space (for `lockdiscovery` in a listing).
pub async fn of_space(db: &DbPool, space: uuid::Uuid) -> Result<Vec<LockRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM dav_locks WHERE space_id = $1 AND {LIVE}");
    sqlx::query(&sql)
        .bind(space.to_string())
        .bind(Mtime::now().0)
        .fetch_all(db)
        .await?
        .iter()
        .map(row)
        .collect()
}

/// The locks that apply to `p`: its own and the deep ones of its ancestors.
pub fn applying<'a>(locks: &'a [LockRow], p: &SpacePath) -> Vec<&'a LockRow> {
    let own = key(p);
    let anc = ancestors_or_self(p);
    locks
        .iter()
        .filter(|l| l.path == own || (l.deep && anc.contains(&l.path)))
        .collect()
}

fn holds(l: &LockRow, principal: Option<&str>, ignore_principal: bool, tokens: &[String]) -> bool {
    tokens.contains(&l.token) && (ignore_principal || principal == l.principal.as_deref())
}

/// The conflict rule along the path (MemLs `check_locks_to_path`).
pub fn conflict_to_path<'a>(
    locks: &'a [LockRow],
    p: &SpacePath,
    principal: Option<&str>,
    ignore_principal: bool,
    tokens: &[String],
    shared_ok: bool,
) -> Option<&'a LockRow> {
    let mut held = false;
    let mut first_shared = None;
    for l in applying(locks, p) {
        if holds(l, principal, ignore_principal, tokens) {
            held = true;
        } else if !l.shared {
            return Some(l);
        } else if !shared_ok {
            first_shared.get_or_insert(l);
        }
    }
    if held { None } else { first_shared }
}

/// The conflict rule below a path (MemLs `check_locks_from_node`).
pub(super) fn conflict_below<'a>(
    locks: &'a [LockRow],
    principal: Option<&str>,
    ignore_principal: bool,
    tokens: &[String],
    shared_ok: bool,
) -> Option<&'a LockRow> {
    locks
        .iter()
        .find(|l| (!l.shared || !shared_ok) && !holds(l, principal, ignore_principal, tokens))
}

/// The lock tokens a request submits: every `<…>` state token in `If`, and `Lock-Token`.
pub fn submitted_tokens(headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for v in headers.get_all(IF).iter().filter_map(|v| v.to_str().ok()) {
        let mut rest = v;
        while let Some(start) = rest.find('<') {
            let Some(len) = rest[start + 1..].find('>') else {
                break;
            };
            let tok = &rest[start + 1..start + 1 + len];
            if !tok.contains("://") && !tok.starts_with('/') {
                out.push(tok.to_string());
            }
            rest = &rest[start + 2 + len..];
        }
    }
    if let Some(v) = headers.get(LOCK_TOKEN).and_then(|v| v.to_str().ok()) {
        out.push(
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string(),
        );
    }
    out
}

/// Whether `path` in `space` is locked by a lock the request (by its `If`/`Lock-Token`
/// headers) does not hold. The tus layer asks this before creating an upload (SPEC §3: 423).
pub async fn is_locked_for(
    state: &AppState,
    space: uuid::Uuid,
    path: &SpacePath,
    headers: &HeaderMap,
) -> bool {
    let tokens = submitted_tokens(headers);
    match on_path(state.store().db(), space, path).await {
        Ok(locks) => conflict_to_path(&locks, path, None, true, &tokens, false).is_some(),
        Err(e) => {
            tracing::error!(error = %e, "lock lookup failed");
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(token: &str, path: &str, shared: bool, deep: bool) -> LockRow {
        LockRow {
            token: token.into(),
            path: path.into(),
            principal: Some("u".into()),
            owner_xml: None,
            timeout_s: None,
            expires_at: None,
            shared,
            deep,
        }
    }

    #[test]
    fn conflicts_follow_memls_rules() {
        let p = SpacePath::parse("a/b").unwrap();
        let t = |s: &str| vec![s.to_string()];
        type Case = (Vec<LockRow>, Vec<String>, bool, Option<&'static str>);
        let cases: Vec<Case> = vec![
            (vec![lock("x", "/a", false, false)], vec![], false, None),
            (vec![lock("x", "/a", false, true)], vec![], false, Some("x")),
            (vec![lock("x", "/a", false, true)], t("x"), false, None),
            (
                vec![lock("x", "/a/b", true, false)],
                vec![],
                false,
                Some("x"),
            ),
            (vec![lock("x", "/a/b", true, false)], vec![], true, None),
            (
                vec![lock("x", "/a/b", false, false)],
                vec![],
                true,
                Some("x"),
            ),
            (vec![lock("x", "/", false, true)], vec![], false, Some("x")),
        ];
        for (locks, tokens, shared_ok, want) in cases {
            let got = conflict_to_path(&locks, &p, Some("u"), false, &tokens, shared_ok);
            assert_eq!(got.map(|l| l.token.as_str()), want, "{locks:?} {tokens:?}");
        }
    }

    #[test]
    fn submitted_tokens_come_from_if_and_lock_token() {
        let mut h = HeaderMap::new();
        h.insert(
            IF,
            "</dav/a> (<opaquelocktoken:1> [\"etag\"]) (Not <urn:uuid:2>)"
                .parse()
                .unwrap(),
        );
        h.insert(LOCK_TOKEN, "opaquelocktoken:3".parse().unwrap());
        assert_eq!(
            submitted_tokens(&h),
            vec!["opaquelocktoken:1", "urn:uuid:2", "opaquelocktoken:3"]
        );
    }
}
