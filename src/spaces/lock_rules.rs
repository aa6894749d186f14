//! The WebDAV lock rules (RFC 4918 §6, §9.10) over stored [`LockRecord`]s: which locks apply
//! to a path, which conflict with a request, and who holds one. They live in the storage core
//! so that every write path (WebDAV, tus, the commit of an upload) applies the same rules,
//! inside its own transaction where it writes.
//!
//! The conflict rules are those of dav-server's `MemLs`, which passes litmus: a lock on an
//! ancestor counts only when it is deep; an exclusive lock conflicts unless the request holds
//! it; shared locks conflict only with exclusive requests.

use super::path::SpacePath;

/// One stored lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRecord {
    /// The lock token (`opaquelocktoken:<uuid>`), unique across spaces.
    pub token: String,
    /// Path key of the locked path ([`LockRecord::key`]).
    pub path: String,
    /// The user who took it.
    pub principal: Option<String>,
    /// What the client said about the owner, as self-contained XML.
    pub owner_xml: Option<String>,
    /// Requested timeout in seconds (`None` = infinite).
    pub timeout_s: Option<i64>,
    /// Expiry in unix ns (`None` = never).
    pub expires_at: Option<i64>,
    /// Shared (else exclusive).
    pub shared: bool,
    /// Covers the whole subtree (else the path only).
    pub deep: bool,
}

impl LockRecord {
    /// The path key of a space path: its `/a/b` form (`/` for the root).
    pub fn key(p: &SpacePath) -> String {
        p.to_string()
    }

    /// The keys of `p` and all its ancestors, root first.
    pub fn keys_along(p: &SpacePath) -> Vec<String> {
        let mut out = vec![Self::key(&SpacePath::root())];
        let mut cur = SpacePath::root();
        for c in p.components() {
            cur = cur.child(c).unwrap_or_else(|_| cur.clone());
            out.push(Self::key(&cur));
        }
        out
    }
}

/// Who asks to write, as far as locks are concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockHolder {
    /// The lock tokens the request submits (`If`, `Lock-Token`).
    pub tokens: Vec<String>,
    /// A user whose own locks count as held without their tokens: the creator of an upload
    /// whose completing `PATCH` goes to `/data/{token}`, where no client sends `If` again.
    pub owner: Option<String>,
}

impl LockHolder {
    /// A request that holds the locks whose tokens it submits.
    pub fn with_tokens(tokens: Vec<String>) -> Self {
        LockHolder {
            tokens,
            owner: None,
        }
    }

    fn holds(&self, l: &LockRecord) -> bool {
        self.tokens.contains(&l.token)
            || (self.owner.is_some() && self.owner.as_deref() == l.principal.as_deref())
    }
}

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

/// The MemLs rule along a path with `held` saying which locks the request holds.
fn first_conflict<'a>(
    locks: &'a [LockRecord],
    p: &SpacePath,
    held_by: impl Fn(&LockRecord) -> bool,
    shared_ok: bool,
) -> Option<&'a LockRecord> {
    let mut held = false;
    let mut first_shared = None;
    for l in applying(locks, p) {
        if held_by(l) {
            held = true;
        } else if !l.shared {
            return Some(l);
        } else if !shared_ok {
            first_shared.get_or_insert(l);
        }
    }
    if held { None } else { first_shared }
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
    first_conflict(
        locks,
        p,
        |l| holds(l, principal, ignore_principal, tokens),
        shared_ok,
    )
}

/// The conflict rule below a path (MemLs `check_locks_from_node`).
pub fn conflict_below<'a>(
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

/// The lock among `locks` (those along `p`) that keeps `holder` from writing `p`, if any.
pub fn write_conflict<'a>(
    locks: &'a [LockRecord],
    p: &SpacePath,
    holder: &LockHolder,
) -> Option<&'a LockRecord> {
    first_conflict(locks, p, |l| holder.holds(l), false)
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
    fn a_writer_holds_the_locks_it_names_and_those_of_its_owner() {
        let p = SpacePath::parse("a/b").unwrap();
        let locks = vec![lock("x", "/a", false, true)];
        let cases = [
            (LockHolder::default(), Some("x")),
            (LockHolder::with_tokens(vec!["x".into()]), None),
            (LockHolder::with_tokens(vec!["y".into()]), Some("x")),
            (
                LockHolder {
                    tokens: vec![],
                    owner: Some("u".into()),
                },
                None,
            ),
            (
                LockHolder {
                    tokens: vec![],
                    owner: Some("v".into()),
                },
                Some("x"),
            ),
        ];
        for (holder, want) in cases {
            let got = write_conflict(&locks, &p, &holder);
            assert_eq!(got.map(|l| l.token.as_str()), want, "{holder:?}");
        }
    }
}
