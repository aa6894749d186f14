//! WebDAV lock rules (RFC 4918 §6, §9.10) over the lock records the storage core keeps
//! ([`LockRecord`]; [`super::lock_system::DbLocks`] is dav-server's `DavLockSystem` on them):
//! which stored locks apply to a path, which conflict with a request, and which tokens a
//! request submits. Locks name paths, expire by their timeout and survive restarts.
//!
//! The conflict rules are those of dav-server's `MemLs`, which passes litmus: a lock on an
//! ancestor counts only when it is deep; an exclusive lock conflicts unless the request holds
//! it; shared locks conflict only with exclusive requests.

use http::HeaderMap;

use super::headers::{IF, LOCK_TOKEN};
use super::if_header::{self, Condition};
use crate::spaces::{LockRecord, SpacePath};
use crate::state::AppState;

/// The locks that apply to `p`: its own and the deep ones of its ancestors.
pub fn applying<'a>(locks: &'a [LockRecord], p: &SpacePath) -> Vec<&'a LockRecord> {
    let own = LockRecord::key(p);
    let anc = LockRecord::keys_along(p);
    locks
        .iter()
        .filter(|l| l.path == own || (l.deep && anc.contains(&l.path)))
        .collect()
}

fn holds(
    l: &LockRecord,
    principal: Option<&str>,
    ignore_principal: bool,
    tokens: &[String],
) -> bool {
    tokens.contains(&l.token) && (ignore_principal || principal == l.principal.as_deref())
}

/// The conflict rule along the path (MemLs `check_locks_to_path`).
pub fn conflict_to_path<'a>(
    locks: &'a [LockRecord],
    p: &SpacePath,
    principal: Option<&str>,
    ignore_principal: bool,
    tokens: &[String],
    shared_ok: bool,
) -> Option<&'a LockRecord> {
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
    locks: &'a [LockRecord],
    principal: Option<&str>,
    ignore_principal: bool,
    tokens: &[String],
    shared_ok: bool,
) -> Option<&'a LockRecord> {
    locks
        .iter()
        .find(|l| (!l.shared || !shared_ok) && !holds(l, principal, ignore_principal, tokens))
}

/// The lock tokens a request submits: every state token in `If` (none when it is malformed,
/// which the dispatcher answers with 400), and `Lock-Token`.
pub fn submitted_tokens(headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for v in headers.get_all(IF).iter().filter_map(|v| v.to_str().ok()) {
        for tagged in if_header::parse(v).unwrap_or_default() {
            for cond in tagged.lists.into_iter().flatten() {
                if let Condition::Token { token, .. } = cond {
                    out.push(token);
                }
            }
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

/// Whether the request's `If` headers follow RFC 4918 §10.4 (absent is fine).
pub fn check_if(headers: &HeaderMap) -> Result<(), if_header::BadIf> {
    for v in headers.get_all(IF) {
        let v = v.to_str().map_err(|_| if_header::BadIf("not ASCII"))?;
        if_header::parse(v)?;
    }
    Ok(())
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
    match state.store().locks_along(space, path).await {
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

    fn lock(token: &str, path: &str, shared: bool, deep: bool) -> LockRecord {
        LockRecord {
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
        type Case = (Vec<LockRecord>, Vec<String>, bool, Option<&'static str>);
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
