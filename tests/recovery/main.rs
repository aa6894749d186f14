//! Nothing deleted is lost (issue 11), as a WebDAV client sees it: the trash bin of each
//! space, file versions, private links and resources by id, favorites and name search, and
//! the capabilities that announce them.

#[path = "../binary/mod.rs"]
mod binary;
#[path = "../common/mod.rs"]
mod common;

mod capabilities;
mod crash;
mod finding;
mod shared;
mod trash;
mod versions;

use common::TestServer;
use common::dav::*;
use spacedav::spaces::{Role, SpaceId};

/// Password of the users the tests add.
pub const PW: &str = "user-password-1";

/// A request as `user` (password [`PW`]).
pub fn as_user(s: &TestServer, user: &str, method: &str, url: &str) -> reqwest::RequestBuilder {
    s.client()
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
        .basic_auth(user, Some(PW))
}

/// A project space of admin's with `members` (name, role) added.
pub async fn project(s: &TestServer, members: &[(&str, Role)]) -> SpaceId {
    let store = s.state.store();
    let space = s.project_space("Team", None).await;
    for (name, role) in members {
        let u = match store.user_by_name(name).await {
            Ok(u) => u,
            Err(_) => s.add_user(name, PW).await,
        };
        store
            .set_member(space.id.space, u.id, Some(*role))
            .await
            .unwrap();
    }
    space.id
}

/// `{base}/remote.php/dav/spaces/trash-bin/{sid}`.
pub fn trash_url(s: &TestServer, sid: &SpaceId) -> String {
    format!("{}/remote.php/dav/spaces/trash-bin/{sid}", s.base)
}

/// The trash listing (Depth 1) as admin: (status, body).
pub async fn trash_list(s: &TestServer, sid: &SpaceId) -> (u16, String) {
    propfind(
        s,
        &format!("{}/", trash_url(s, sid)),
        "1",
        "<oc:trashbin-original-filename/><oc:trashbin-original-location/>\
         <oc:trashbin-delete-datetime/><oc:trashbin-delete-timestamp/><d:getcontentlength/>\
         <d:resourcetype/><oc:size/>",
    )
    .await
}

/// The item keys (href basenames) of a trash listing, without the bin itself.
pub fn item_keys(xml: &str) -> Vec<String> {
    responses(xml).iter().skip(1).map(|b| item_key(b)).collect()
}

/// The trash item key of the item whose original location is `location`, if it is there.
pub fn key_of(trash: &str, location: &str) -> Option<String> {
    responses(trash)
        .into_iter()
        .find(|b| between(b, "<oc:trashbin-original-location>", "<") == Some(location))
        .map(item_key)
}

/// The key (href basename) of one `response` of a trash listing.
fn item_key(response: &str) -> String {
    href(response)
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

/// The `oc:fileid` of the resource at `url`.
pub async fn file_id(s: &TestServer, url: &str) -> String {
    let (st, xml) = propfind(s, url, "0", "<oc:fileid/>").await;
    assert_eq!(st, 207, "{url}");
    between(&xml, "<oc:fileid>", "</oc:fileid>")
        .unwrap()
        .to_string()
}
