//! The Graph `driveItem` fields of a node (id, name, size, eTag, parent reference, file or
//! folder), shared by the items a user shared (`sharedByMe`) and the share jail's `remoteItem`.

use serde_json::{Value, json};

use super::{GraphError, rfc3339};
use crate::spaces::{Node, ResourceId};
use crate::state::AppState;

fn rid(state: &AppState, node: &Node) -> String {
    ResourceId {
        space: state.store().space_id(node.space),
        node: node.id,
    }
    .to_string()
}

/// The drive item fields of a node.
pub(super) async fn item(state: &AppState, node: &Node) -> Result<Value, GraphError> {
    let store = state.store();
    let space = store.space(node.space).await?;
    let mut v = json!({
        "id": rid(state, node),
        "name": node.name,
        "size": node.size,
        "eTag": node.quoted_etag(),
        "lastModifiedDateTime": rfc3339(node.mtime),
        "parentReference": {
            "driveId": store.space_id(node.space).to_string(),
            "driveType": space.kind.as_str(),
        },
    });
    if let Some(parent) = node.parent {
        let p = store.node(parent).await?;
        v["parentReference"]["id"] = json!(rid(state, &p));
        let path = store.path_of(&p).await?.to_string();
        v["parentReference"]["path"] = json!(if path == "/" { ".".to_string() } else { path });
    }
    if node.is_folder() {
        v["folder"] = json!({});
    } else {
        v["file"] = json!({"mimeType": node.content_type.clone()
            .unwrap_or_else(|| "application/octet-stream".into())});
    }
    Ok(v)
}
