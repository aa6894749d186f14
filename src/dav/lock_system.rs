//! `DbLocks`: dav-server's `DavLockSystem` over the storage core's lock records, with the
//! rules of [`super::locks`], for one space per request. dav-server paths are below the
//! request's URL prefix; locks are stored by space path so every WebDAV root sees the same
//! locks.
//!
//! A failing lock database never reads as "no locks": the failure is recorded in the request's
//! context (as the file system records its own), dav-server is told the path is locked, and
//! the decorator answers with the failure's status, its cause logged once with the request id.

use std::time::Duration;

use dav_server::davpath::DavPath;
use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
use futures::FutureExt;
use xmltree::Element;

use super::request_ctx::ReqCtx;
use crate::spaces::{LockRecord, Mtime, SpacePath, Store, StoreError, StoreResult};
use crate::spaces::{applying, conflict_below, conflict_to_path};

/// The longest lock a client gets (dav-server's own cap for `Timeout: Infinite`). Every
/// timeout is capped here, whatever dav-server made of the header: it reads a missing
/// `Timeout`, a `Second-N` beyond `u32` and `Infinite` on a refresh as "no timeout", and locks
/// survive restarts, so an uncapped lock would hold a file forever.
pub const MAX_LOCK_TIMEOUT: Duration = Duration::from_secs(600);

/// `timeout` capped at [`MAX_LOCK_TIMEOUT`]; none at all is the maximum.
pub fn capped(timeout: Option<Duration>) -> Duration {
    timeout.map_or(MAX_LOCK_TIMEOUT, |t| t.min(MAX_LOCK_TIMEOUT))
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

/// dav-server's lock system for one request: the space, how its paths map to URLs, and the
/// request's context, where a failure is recorded.
#[derive(Clone)]
pub struct DbLocks {
    store: Store,
    space: uuid::Uuid,
    base: SpacePath,
    prefix: String,
    ctx: ReqCtx,
}

impl DbLocks {
    /// Locks of `space` for the request of `ctx`; dav-server paths are below `prefix`, which
    /// addresses `base`.
    pub fn new(store: &Store, ctx: &ReqCtx, prefix: String) -> Self {
        DbLocks {
            store: store.clone(),
            space: ctx.space,
            base: ctx.base.clone(),
            prefix,
            ctx: ctx.clone(),
        }
    }

    /// A failed lock database call: recorded for the decorator (which answers with its status
    /// and logs its cause once); dav-server is told that `path` itself is locked, so that
    /// nothing proceeds as if it were not.
    fn failed(&self, path: &DavPath, e: StoreError) -> DavLock {
        self.ctx.set_error(e.into());
        DavLock {
            token: String::new(),
            path: Box::new(path.clone()),
            principal: None,
            owner: None,
            timeout_at: None,
            timeout: None,
            shared: false,
            deep: false,
        }
    }

    /// A failed lock database call where dav-server takes no lock in answer.
    fn failed_plain(&self, e: StoreError) {
        self.ctx.set_error(e.into());
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

    fn to_lock(&self, r: &LockRecord) -> DavLock {
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
    ) -> StoreResult<Result<DavLock, DavLock>> {
        let p = self.space_path(path);
        let timeout = capped(timeout);
        let lock = LockRecord {
            token: format!("opaquelocktoken:{}", uuid::Uuid::new_v4()),
            path: LockRecord::key(&p),
            principal: principal.map(str::to_string),
            owner_xml: owner.map(owner_inner),
            timeout_s: Some(timeout.as_secs() as i64),
            expires_at: Some(Mtime::from(self.store.clock().now() + timeout).0),
            shared,
            deep,
        };
        // The store checks and inserts in one write transaction: two LOCKs cannot both win.
        let added = self.store.add_lock(self.space, lock, |along, below| {
            conflict_to_path(along, &p, None, true, &[], shared)
                .or_else(|| conflict_below(below, None, true, &[], shared))
                .cloned()
        });
        Ok(match added.await? {
            Ok(r) => Ok(self.to_lock(&r)),
            Err(c) => Err(self.to_lock(&c)),
        })
    }

    async fn find(&self, path: &DavPath, token: &str) -> StoreResult<Option<LockRecord>> {
        let p = self.space_path(path);
        Ok(self
            .store
            .locks_along(self.space, &p)
            .await?
            .into_iter()
            .find(|l| l.token == token))
    }
}

impl std::fmt::Debug for DbLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbLocks")
            .field("space", &self.space)
            .field("base", &self.base)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Lock discovery only decorates an answer (`lockdiscovery`, a LOCK's body): a failure there is
/// logged and shows no locks, while every check that decides a write records its failure.
fn logged<T>(r: StoreResult<T>, fallback: T) -> T {
    r.unwrap_or_else(|e| {
        tracing::error!(error = %e, "lock discovery failed");
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
            // Refuse the lock on a failure: the request's own path is the conflict.
            r.unwrap_or_else(|e| Err(self.failed(&path, e)))
        }
        .boxed()
    }

    fn unlock(&self, path: &DavPath, token: &str) -> LsFuture<'_, Result<(), ()>> {
        let (path, token) = (path.clone(), token.to_string());
        async move {
            let found = self.find(&path, &token).await;
            let found = found.map_err(|e| self.failed_plain(e))?.ok_or(())?;
            match self.store.remove_lock(&found.token).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(()),
                Err(e) => {
                    self.failed_plain(e);
                    Err(())
                }
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
            let found = self.find(&path, &token).await;
            let mut found = found.map_err(|e| self.failed_plain(e))?.ok_or(())?;
            let timeout = capped(timeout);
            found.timeout_s = Some(timeout.as_secs() as i64);
            found.expires_at = Some(Mtime::from(self.store.clock().now() + timeout).0);
            self.store
                .refresh_lock(&found)
                .await
                .map_err(|e| self.failed_plain(e))?;
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
        let path = path.clone();
        let principal = principal.map(str::to_string);
        let tokens = submitted_tokens.to_vec();
        async move {
            if self.ctx.put.commit_checks_only {
                return Ok(());
            }
            let along = self.store.locks_along(self.space, &p).await;
            let along = along.map_err(|e| self.failed(&path, e))?;
            let pr = principal.as_deref();
            if let Some(c) = conflict_to_path(&along, &p, pr, ignore_principal, &tokens, false) {
                return Err(self.to_lock(c));
            }
            if deep {
                let under = self.store.locks_below(self.space, &p).await;
                let under = under.map_err(|e| self.failed(&path, e))?;
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
            let along = logged(self.store.locks_along(self.space, &p).await, Vec::new());
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
            let done = self.store.remove_locks_below(self.space, &p).await;
            done.map(|_| ()).map_err(|e| self.failed_plain(e))
        }
        .boxed()
    }
}
