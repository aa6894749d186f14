//! What the OCS permission bits of a share or link allow over WebDAV, and how they relate to
//! space roles (the role a sharer holds bounds what they may share).

use http::Method;

use crate::spaces::Role;

pub use crate::spaces::share_bits::{ALL, CREATE, DELETE, READ, SHARE, UPDATE};

/// The bits a space role carries: managers may share, editors and viewers may not (as in
/// oCIS project spaces; a personal space's owner is its manager).
pub fn role_bits(role: Role) -> u32 {
    crate::spaces::share_bits::of_role(role)
}

/// The space role the WebDAV machinery runs a share's request with; [`Access::check`] narrows
/// it to the bits.
pub fn role_for(bits: u32) -> Role {
    if bits & (UPDATE | CREATE | DELETE) != 0 {
        Role::Editor
    } else {
        Role::Viewer
    }
}

/// The `oc:permissions` letters of an item received with `bits`, in reva's order
/// (`S` shared with me, `R` re-shareable, `D` delete, `NV` rename and move, `W` write a file,
/// `CK` create in a folder), granting no more than the bits do.
pub fn received_letters(bits: u32, folder: bool) -> String {
    let mut s = String::from("S");
    let has = |b: u32| bits & b == b;
    for (ok, l) in [
        (has(SHARE), "R"),
        (has(DELETE), "D"),
        (has(UPDATE | DELETE), "NV"),
        (!folder && has(UPDATE), "W"),
        (folder && has(CREATE), "CK"),
    ] {
        if ok {
            s.push_str(l);
        }
    }
    s
}

/// Access through a share or link: the OCS bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access(pub u32);

/// What a request may not do through a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Not allowed, and saying so reveals nothing (403).
    Forbidden,
    /// Not readable: answer as if nothing were there (404).
    Hidden,
}

impl Access {
    /// Whether the share allows nothing but creating (a file drop).
    pub fn create_only(self) -> bool {
        self.0 & READ == 0
    }

    /// Check a WebDAV method; `exists`: whether the addressed resource exists (for PUT).
    pub fn check(self, method: &Method, exists: bool) -> Result<(), Denied> {
        let need = match method.as_str() {
            "OPTIONS" => 0,
            "GET" | "HEAD" => {
                return if self.0 & READ != 0 {
                    Ok(())
                } else {
                    Err(Denied::Hidden)
                };
            }
            // A drop folder answers PROPFIND on its root only (the caller forces Depth 0).
            "PROPFIND" => 0,
            // Replacing a file (PUT, or a tus creation onto a taken name) changes it.
            "PUT" | "POST" if exists => UPDATE,
            "PUT" | "MKCOL" | "POST" => CREATE,
            "COPY" => CREATE | READ,
            "DELETE" => DELETE,
            "MOVE" => UPDATE | DELETE,
            _ => UPDATE,
        };
        if self.0 & need == need {
            Ok(())
        } else {
            Err(Denied::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewer_links_refuse_writes_and_drops_hide_content() {
        let view = Access(READ);
        assert!(view.check(&Method::GET, true).is_ok());
        for m in ["PUT", "MOVE", "DELETE", "MKCOL", "POST"] {
            let m = Method::from_bytes(m.as_bytes()).unwrap();
            assert_eq!(view.check(&m, false), Err(Denied::Forbidden), "{m}");
        }
        let drop = Access(CREATE);
        assert!(drop.create_only());
        assert_eq!(drop.check(&Method::GET, true), Err(Denied::Hidden));
        assert!(drop.check(&Method::PUT, false).is_ok());
        assert_eq!(drop.check(&Method::PUT, true), Err(Denied::Forbidden));
        let edit = Access(READ | UPDATE | CREATE | DELETE);
        assert!(
            edit.check(&Method::from_bytes(b"MOVE").unwrap(), true)
                .is_ok()
        );
        assert_eq!(role_for(READ), Role::Viewer);
        assert_eq!(received_letters(READ | UPDATE, false), "SW");
        assert_eq!(received_letters(READ | CREATE, true), "SCK");
        assert_eq!(received_letters(ALL, true), "SRDNVCK");
        assert_eq!(role_for(CREATE), Role::Editor);
    }
}
