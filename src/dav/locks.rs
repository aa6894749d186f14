//! WebDAV locks (RFC 4918 §6, §9.10) in the metadata database: `DbLocks` is dav-server's
//! `DavLockSystem` for one space. Locks name paths, expire by their timeout (an expired lock
//! is ignored by every query and purged on the next LOCK) and survive restarts.
//!
//! The conflict rules are those of dav-server's `MemLs`, which passes litmus: a lock on an
//! ancestor counts only when it is deep; an exclusive lock conflicts unless the request holds
//! it; shared locks conflict only with exclusive requests.

use std::time::{Duration, SystemTime};

use dav_server::davpath::DavPath;
use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
use futures::FutureExt;
use http::HeaderMap;
use sqlx::{Row, SqlitePool};
use xmltree::Element;

use super::headers::{IF, LOCK_TOKEN};
use crate::spaces::{Mtime, SpacePath, Store};
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

const LIVE: &str = "(expires_at IS NULL OR expires_at > $2)";
const COLS: &str = "token, path, principal, owner_xml, timeout_s, expires_at, shared, deep";

fn row(r: &sqlx::sqlite::SqliteRow) -> Result<LockRow, sqlx::Error> {
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
pub async fn on_path(
    db: &SqlitePool,
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
async fn below(
    db: &SqlitePool,
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
pub async fn of_space(db: &SqlitePool, space: uuid::Uuid) -> Result<Vec<LockRow>, sqlx::Error> {
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
fn conflict_below<'a>(
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

/// The children of an `<owner>` element as self-contained XML: every element declares its
/// namespace as the default one, so no prefix of the client's document is needed.
pub fn owner_inner(owner: &Element) -> String {
    fn node(out: &mut String, n: &xmltree::XMLNode) {
        match n {
            xmltree::XMLNode::Element(e) => {
                out.push('<');
                out.push_str(&e.name);
                out.push_str(" xmlns=\"");
                out.push_str(&quick_xml::escape::escape(
                    e.namespace.as_deref().unwrap_or(""),
                ));
                out.push('"');
                for (k, v) in &e.attributes {
                    out.push_str(&format!(" {k}=\"{}\"", quick_xml::escape::escape(v)));
                }
                out.push('>');
                e.children.iter().for_each(|c| node(out, c));
                out.push_str("</");
                out.push_str(&e.name);
                out.push('>');
            }
            xmltree::XMLNode::Text(t) | xmltree::XMLNode::CData(t) => {
                out.push_str(&quick_xml::escape::escape(t))
            }
            _ => {}
        }
    }
    let mut out = String::new();
    owner.children.iter().for_each(|c| node(&mut out, c));
    out
}

/// dav-server's lock system for one request: the space and how its paths map to URLs.
#[derive(Clone, Debug)]
pub struct DbLocks {
    db: SqlitePool,
    space: uuid::Uuid,
    base: SpacePath,
    prefix: String,
}

impl DbLocks {
    /// Locks of `space`; dav-server paths are below `prefix`, which addresses `base`.
    pub fn new(store: &Store, space: uuid::Uuid, base: SpacePath, prefix: String) -> Self {
        DbLocks {
            db: store.db().clone(),
            space,
            base,
            prefix,
        }
    }

    fn space_path(&self, path: &DavPath) -> SpacePath {
        let rel = std::str::from_utf8(path.as_bytes())
            .ok()
            .and_then(|s| SpacePath::parse(s).ok())
            .unwrap_or_default();
        self.base.join(&rel)
    }

    fn dav_path(&self, key: &str) -> DavPath {
        let p = SpacePath::parse(key).unwrap_or_default();
        let rel: Vec<&String> = if p.starts_with(&self.base) {
            p.components()[self.base.components().len()..]
                .iter()
                .collect()
        } else {
            Vec::new()
        };
        let mut url = super::href::escape(&self.prefix);
        for c in &rel {
            url.push('/');
            url.push_str(&super::href::escape(c));
        }
        if rel.is_empty() {
            url.push('/');
        }
        let mut dp = DavPath::new(&url).unwrap_or_else(|_| DavPath::new("/").expect("root"));
        let _ = dp.set_prefix(&self.prefix);
        dp
    }

    fn to_lock(&self, r: &LockRow) -> DavLock {
        DavLock {
            token: r.token.clone(),
            path: Box::new(self.dav_path(&r.path)),
            principal: r.principal.clone(),
            owner: r
                .owner_xml
                .as_deref()
                .and_then(|x| {
                    let doc = format!("<D:owner xmlns:D=\"DAV:\">{x}</D:owner>");
                    Element::parse(doc.as_bytes()).ok()
                })
                .map(Box::new),
            timeout_at: r.expires_at.map(|ns| Mtime(ns).system_time()),
            timeout: r.timeout_s.map(|s| Duration::from_secs(s.max(0) as u64)),
            shared: r.shared,
            deep: r.deep,
        }
    }

    async fn lock_impl(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        owner: Option<&Element>,
        timeout: Option<Duration>,
        shared: bool,
        deep: bool,
    ) -> Result<Result<DavLock, DavLock>, sqlx::Error> {
        let p = self.space_path(path);
        let mut tx = self.db.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM dav_locks WHERE expires_at IS NOT NULL AND expires_at <= $1")
            .bind(Mtime::now().0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let along = on_path(&self.db, self.space, &p).await?;
        if let Some(c) = conflict_to_path(&along, &p, None, true, &[], shared) {
            return Ok(Err(self.to_lock(c)));
        }
        if deep {
            let under = below(&self.db, self.space, &p).await?;
            if let Some(c) = conflict_below(&under, None, true, &[], shared) {
                return Ok(Err(self.to_lock(c)));
            }
        }
        let owner_xml = owner.map(owner_inner);
        let r = LockRow {
            token: format!("opaquelocktoken:{}", uuid::Uuid::new_v4()),
            path: key(&p),
            principal: principal.map(str::to_string),
            owner_xml,
            timeout_s: timeout.map(|d| d.as_secs() as i64),
            expires_at: timeout.map(|d| (Mtime::from(SystemTime::now() + d)).0),
            shared,
            deep,
        };
        sqlx::query(
            "INSERT INTO dav_locks (token, space_id, path, principal, owner_xml, timeout_s, \
             expires_at, shared, deep) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        )
        .bind(&r.token)
        .bind(self.space.to_string())
        .bind(&r.path)
        .bind(&r.principal)
        .bind(&r.owner_xml)
        .bind(r.timeout_s)
        .bind(r.expires_at)
        .bind(r.shared as i64)
        .bind(r.deep as i64)
        .execute(&self.db)
        .await?;
        Ok(Ok(self.to_lock(&r)))
    }

    async fn find(&self, path: &DavPath, token: &str) -> Result<Option<LockRow>, sqlx::Error> {
        let p = self.space_path(path);
        Ok(on_path(&self.db, self.space, &p)
            .await?
            .into_iter()
            .find(|l| l.token == token))
    }
}

fn logged<T>(r: Result<T, sqlx::Error>, fallback: T) -> T {
    r.unwrap_or_else(|e| {
        tracing::error!(error = %e, "lock database failed");
        fallback
    })
}

impl DavLockSystem for DbLocks {
    fn lock(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        owner: Option<&Element>,
        timeout: Option<Duration>,
        shared: bool,
        deep: bool,
    ) -> LsFuture<'_, Result<DavLock, DavLock>> {
        let (path, principal, owner) =
            (path.clone(), principal.map(str::to_string), owner.cloned());
        async move {
            let r = self
                .lock_impl(
                    &path,
                    principal.as_deref(),
                    owner.as_ref(),
                    timeout,
                    shared,
                    deep,
                )
                .await;
            match r {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "lock database failed");
                    // Refuse the lock: report the request's own path as the conflict.
                    Err(DavLock {
                        token: String::new(),
                        path: Box::new(path.clone()),
                        principal: None,
                        owner: None,
                        timeout_at: None,
                        timeout: None,
                        shared: false,
                        deep: false,
                    })
                }
            }
        }
        .boxed()
    }

    fn unlock(&self, path: &DavPath, token: &str) -> LsFuture<'_, Result<(), ()>> {
        let (path, token) = (path.clone(), token.to_string());
        async move {
            let found = logged(self.find(&path, &token).await, None).ok_or(())?;
            let done = sqlx::query("DELETE FROM dav_locks WHERE token = $1")
                .bind(&found.token)
                .execute(&self.db)
                .await;
            if logged(done.map(|d| d.rows_affected()), 0) == 1 {
                Ok(())
            } else {
                Err(())
            }
        }
        .boxed()
    }

    fn refresh(
        &self,
        path: &DavPath,
        token: &str,
        timeout: Option<Duration>,
    ) -> LsFuture<'_, Result<DavLock, ()>> {
        let (path, token) = (path.clone(), token.to_string());
        async move {
            let mut found = logged(self.find(&path, &token).await, None).ok_or(())?;
            found.timeout_s = timeout.map(|d| d.as_secs() as i64);
            found.expires_at = timeout.map(|d| Mtime::from(SystemTime::now() + d).0);
            let done = sqlx::query(
                "UPDATE dav_locks SET timeout_s = $1, expires_at = $2 WHERE token = $3",
            )
            .bind(found.timeout_s)
            .bind(found.expires_at)
            .bind(&found.token)
            .execute(&self.db)
            .await;
            if let Err(e) = done {
                tracing::error!(error = %e, "lock database failed");
                return Err(());
            }
            Ok(self.to_lock(&found))
        }
        .boxed()
    }

    fn check(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        ignore_principal: bool,
        deep: bool,
        submitted_tokens: &[String],
    ) -> LsFuture<'_, Result<(), DavLock>> {
        let p = self.space_path(path);
        let principal = principal.map(str::to_string);
        let tokens = submitted_tokens.to_vec();
        async move {
            let along = logged(on_path(&self.db, self.space, &p).await, Vec::new());
            let pr = principal.as_deref();
            if let Some(c) = conflict_to_path(&along, &p, pr, ignore_principal, &tokens, false) {
                return Err(self.to_lock(c));
            }
            if deep {
                let under = logged(below(&self.db, self.space, &p).await, Vec::new());
                if let Some(c) = conflict_below(&under, pr, ignore_principal, &tokens, false) {
                    return Err(self.to_lock(c));
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn discover(&self, path: &DavPath) -> LsFuture<'_, Vec<DavLock>> {
        let p = self.space_path(path);
        async move {
            let along = logged(on_path(&self.db, self.space, &p).await, Vec::new());
            applying(&along, &p)
                .into_iter()
                .map(|l| self.to_lock(l))
                .collect()
        }
        .boxed()
    }

    fn delete(&self, path: &DavPath) -> LsFuture<'_, Result<(), ()>> {
        let p = self.space_path(path);
        async move {
            let k = key(&p);
            let prefix = if p.is_root() { k.clone() } else { format!("{k}/") };
            let done = sqlx::query(
                "DELETE FROM dav_locks WHERE space_id = $1 AND (path = $2 OR substr(path, 1, $3) = $4)",
            )
            .bind(self.space.to_string())
            .bind(&k)
            .bind(prefix.chars().count() as i64)
            .bind(&prefix)
            .execute(&self.db)
            .await;
            logged(done.map(|_| Ok(())), Err(()))
        }
        .boxed()
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
