//! The roles for sharing one file or folder, with oCIS's unified role ids and conditions
//! (`services/graph/pkg/unifiedrole`): Viewer (files and folders), Uploader ("Can upload",
//! oCIS's EditorLite, folders), Editor (folders) and File editor (files). Each is a set of
//! OCS bits (`crate::sharing::access`), which is what WebDAV enforces; the Graph actions a
//! permission reports are derived from the same bits, so Web's buttons match the server.
//!
//! Links have no roles in Graph: their types (view, upload, edit, createOnly) map to bits here
//! too ([`link_bits`]).
//!
//! oCIS's EditorLite also carries `path/update` and may replace existing files; here the
//! uploader holds read + create only (ownCloud's "upload" permission): it lists, downloads and
//! adds, and can neither overwrite, move nor delete.

use serde_json::{Value, json};

use super::GraphError;

use crate::sharing::access::{CREATE, DELETE, READ, SHARE, UPDATE};

/// The condition of a role for folders.
pub const FOLDER: &str = "exists @Resource.Folder";
/// The condition of a role for files.
pub const FILE: &str = "exists @Resource.File";

/// A role for sharing an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemRole {
    /// View and download.
    Viewer,
    /// View, download and upload (no overwrite, move or delete).
    Uploader,
    /// Everything but sharing, on a folder.
    Editor,
    /// View, download and edit, on a file.
    FileEditor,
}

/// The link types Web offers, with their OCS bits (for a folder; a file drops create/delete).
pub const LINK_TYPES: [(&str, u32); 4] = [
    ("view", READ),
    ("upload", READ | CREATE),
    ("edit", READ | UPDATE | CREATE | DELETE),
    ("createOnly", CREATE),
];

pub fn link_bits(kind: &str, folder: bool) -> Result<u32, GraphError> {
    let bits = LINK_TYPES
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, b)| *b)
        .ok_or_else(|| GraphError::InvalidRequest(format!("unknown link type {kind}")))?;
    if folder {
        Ok(bits)
    } else if bits & READ == 0 || bits == READ | CREATE {
        Err(GraphError::InvalidRequest(format!(
            "a file cannot have a {kind} link"
        )))
    } else {
        Ok(bits & (READ | UPDATE))
    }
}

pub fn link_type(bits: u32) -> &'static str {
    let b = bits & !SHARE;
    LINK_TYPES
        .iter()
        .find(|(_, lb)| *lb == b)
        .map(|(k, _)| *k)
        .unwrap_or(if b & UPDATE != 0 { "edit" } else { "view" })
}

/// Every item role, weakest first.
pub const ALL_ITEM_ROLES: [ItemRole; 4] = [
    ItemRole::Viewer,
    ItemRole::Uploader,
    ItemRole::FileEditor,
    ItemRole::Editor,
];

impl ItemRole {
    /// oCIS's unified role id.
    pub fn id(self) -> &'static str {
        match self {
            ItemRole::Viewer => "b1e2218d-eef8-4d4c-b82d-0f1a1b48f3b5",
            ItemRole::Uploader => "1c996275-f1c9-4e71-abdf-a42f6495e960",
            ItemRole::Editor => "fb6c3e19-e378-47e5-b277-9732f9de6e21",
            ItemRole::FileEditor => "2d00ce52-1fc2-4dbc-8b95-a73b73395f5a",
        }
    }

    /// The role with this id.
    pub fn by_id(id: &str) -> Option<ItemRole> {
        ALL_ITEM_ROLES.into_iter().find(|r| r.id() == id)
    }

    /// The OCS bits the role grants.
    pub fn bits(self) -> u32 {
        match self {
            ItemRole::Viewer => READ,
            ItemRole::Uploader => READ | CREATE,
            ItemRole::Editor => READ | UPDATE | CREATE | DELETE,
            ItemRole::FileEditor => READ | UPDATE,
        }
    }

    /// Whether the role applies to a folder (`true`) or a file (`false`).
    pub fn applies_to(self, folder: bool) -> bool {
        match self {
            ItemRole::Viewer => true,
            ItemRole::Uploader | ItemRole::Editor => folder,
            ItemRole::FileEditor => !folder,
        }
    }

    /// The role whose bits are exactly `bits` (the share bit aside) on such an item.
    pub fn of_bits(bits: u32, folder: bool) -> Option<ItemRole> {
        ALL_ITEM_ROLES
            .into_iter()
            .find(|r| r.applies_to(folder) && r.bits() == bits & !SHARE)
    }

    /// The unified role definition.
    pub fn definition(self) -> Value {
        let (name, description) = match self {
            ItemRole::Viewer => ("Can view", "View and download."),
            ItemRole::Uploader => ("Can upload", "View, download and upload."),
            ItemRole::Editor => ("Can edit", "View, download, upload, edit, add and delete."),
            ItemRole::FileEditor => ("Can edit", "View, download and edit."),
        };
        let conditions: &[&str] = match self {
            ItemRole::Viewer => &[FILE, FOLDER],
            ItemRole::Uploader | ItemRole::Editor => &[FOLDER],
            ItemRole::FileEditor => &[FILE],
        };
        let weight = ALL_ITEM_ROLES.iter().position(|r| *r == self).unwrap_or(0) + 1;
        json!({
            "id": self.id(),
            "displayName": name,
            "description": description,
            "@libre.graph.weight": weight,
            "rolePermissions": conditions.iter().map(|c| json!({
                "allowedResourceActions": actions(self.bits()),
                "condition": c,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The Graph actions OCS bits allow.
pub fn actions(bits: u32) -> Vec<&'static str> {
    let mut a = Vec::new();
    if bits & READ != 0 {
        a.extend([
            "libre.graph/driveItem/basic/read",
            "libre.graph/driveItem/path/read",
            "libre.graph/driveItem/quota/read",
            "libre.graph/driveItem/content/read",
            "libre.graph/driveItem/children/read",
        ]);
    }
    if bits & CREATE != 0 {
        a.push("libre.graph/driveItem/children/create");
    }
    if bits & (CREATE | UPDATE) != 0 {
        a.push("libre.graph/driveItem/upload/create");
    }
    if bits & UPDATE != 0 && bits & DELETE != 0 {
        a.push("libre.graph/driveItem/path/update");
    }
    if bits & DELETE != 0 {
        a.push("libre.graph/driveItem/standard/delete");
    }
    if bits & SHARE != 0 {
        a.push("libre.graph/driveItem/permissions/create");
    }
    a
}

/// The roles a sharer holding `mine` may hand out on such an item, weakest first.
pub fn grantable(mine: u32, folder: bool) -> Vec<Value> {
    if mine & SHARE == 0 {
        return Vec::new();
    }
    ALL_ITEM_ROLES
        .into_iter()
        .filter(|r| r.applies_to(folder) && r.bits() & !mine == 0)
        .map(ItemRole::definition)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uploader_adds_but_neither_deletes_nor_moves() {
        let a = actions(ItemRole::Uploader.bits());
        assert!(a.contains(&"libre.graph/driveItem/upload/create"));
        assert!(a.contains(&"libre.graph/driveItem/children/read"));
        assert!(!a.contains(&"libre.graph/driveItem/standard/delete"));
        assert!(!a.contains(&"libre.graph/driveItem/path/update"));
        assert!(!ItemRole::Uploader.applies_to(false));
        for r in ALL_ITEM_ROLES {
            assert_eq!(ItemRole::by_id(r.id()), Some(r));
            for folder in [true, false] {
                if r.applies_to(folder) {
                    assert_eq!(ItemRole::of_bits(r.bits() | SHARE, folder), Some(r));
                }
            }
        }
        assert_eq!(
            grantable(READ | UPDATE | CREATE | DELETE, true),
            Vec::<Value>::new()
        );
        assert_eq!(grantable(READ | SHARE, true).len(), 1);
    }
}
