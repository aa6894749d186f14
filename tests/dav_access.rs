//! Who may do what over WebDAV, discovery answers, and client quirks.

mod common;

use common::TestServer;
use common::dav::*;
use spacedav::spaces::Role;

async fn project_with(s: &TestServer, user: &str, role: Option<Role>) -> String {
    let space = s.project_space("Project", None).await;
    let u = s.add_user(user, "pw").await;
    if role.is_some() {
        s.state
            .store()
            .set_member(space.id.space, u.id, role)
            .await
            .unwrap();
    }
    s.space_url(&space.id)
}

fn as_user(s: &TestServer, user: &str, method: &str, url: &str) -> reqwest::RequestBuilder {
    s.client()
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
        .basic_auth(user, Some("pw"))
}

#[tokio::test]
async fn viewers_read_but_cannot_write() {
    let s = TestServer::start().await;
    let root = project_with(&s, "vera", Some(Role::Viewer)).await;
    assert_eq!(put(&s, &format!("{root}/f.txt"), b"x").await.status(), 201);
    let r = as_user(&s, "vera", "GET", &format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for (m, path) in [("PUT", "g.txt"), ("MKCOL", "d"), ("DELETE", "f.txt")] {
        let r = as_user(&s, "vera", m, &format!("{root}/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{m}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Sabre\\DAV\\Exception\\Forbidden")
        );
    }
    let r = as_user(&s, "vera", "PROPFIND", &format!("{root}/f.txt"))
        .header("Depth", "0")
        .body("<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:permissions/></d:prop></d:propfind>")
        .send()
        .await
        .unwrap();
    let xml = r.text().await.unwrap();
    assert_eq!(
        prop(&xml, "f.txt", "oc:permissions"),
        None,
        "no write letters: {xml}"
    );
    assert!(xml.contains("<oc:permissions/>"), "{xml}");
}

#[tokio::test]
async fn non_members_see_404_and_anonymous_401() {
    let s = TestServer::start().await;
    let root = project_with(&s, "nora", None).await;
    put(&s, &format!("{root}/f.txt"), b"x").await;
    for m in ["GET", "PROPFIND", "PUT"] {
        let r = as_user(&s, "nora", m, &format!("{root}/f.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{m}");
    }
    let r = s
        .client()
        .get(format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    common::assert_both_challenges(&r, "GET without credentials");
    let other = s.url("/remote.php/dav/files/admin/f.txt");
    let r = as_user(&s, "nora", "GET", &other).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn options_is_anonymous_and_advertises_dav_and_tus() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let r = s
        .client()
        .request(reqwest::Method::OPTIONS, format!("{root}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let h = r.headers();
    assert_eq!(h["dav"], "1, 2");
    assert_eq!(h["ms-author-via"], "DAV");
    assert_eq!(h["tus-resumable"], "1.0.0");
    assert!(h["allow"].to_str().unwrap().contains("PROPFIND"));
    let r = s
        .client()
        .request(reqwest::Method::OPTIONS, format!("{root}/"))
        .basic_auth("admin", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn head_on_a_folder_is_200_and_all_roots_list_the_same_space() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/dir")).await;
    let r = req(&s, "HEAD", &format!("{root}/dir"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("oc-fileid"));
    let short = root.replace("/remote.php/dav/spaces", "/dav/spaces");
    for url in [
        s.url("/remote.php/webdav/"),
        s.url("/webdav/"),
        s.url("/remote.php/dav/files/admin/"),
        s.url("/dav/files/ADMIN/"),
        format!("{short}/"),
    ] {
        let (st, xml) = propfind(&s, &url, "1", "<d:resourcetype/>").await;
        assert_eq!(st, 207, "{url}");
        let prefix = url.strip_prefix(&s.base).unwrap().to_string();
        assert!(
            responses(&xml).iter().all(|b| href(b).starts_with(&prefix)),
            "hrefs keep {prefix}: {xml}"
        );
        assert!(xml.contains(&format!("{prefix}dir/")), "{xml}");
    }
}

#[tokio::test]
async fn a_folder_rid_addresses_that_folder() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/in")).await;
    put(&s, &format!("{root}/in/x.txt"), b"x").await;
    let (_, xml) = propfind(&s, &format!("{root}/in"), "0", "<oc:fileid/>").await;
    let rid = prop(&xml, "/in/", "oc:fileid").unwrap().replace('!', "%21");
    let url = s.url(&format!("/remote.php/dav/spaces/{rid}/x.txt"));
    let got = req(&s, "GET", &url).send().await.unwrap();
    assert_eq!(got.text().await.unwrap(), "x");
}

#[tokio::test]
async fn cross_space_copy_is_502_and_same_space_other_root_works() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let project = project_with(&s, "pat", None).await;
    put(&s, &format!("{root}/c.txt"), b"x").await;
    let r = req(&s, "COPY", &format!("{root}/c.txt"))
        .header("Destination", format!("{project}/c.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let r = req(&s, "MOVE", &format!("{root}/c.txt"))
        .header("Destination", s.url("/remote.php/webdav/d.txt"))
        .header("X-OC-Mtime", "1600000000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["x-oc-mtime"], "accepted");
    let (_, xml) = propfind(&s, &format!("{root}/d.txt"), "0", "<d:getlastmodified/>").await;
    assert_eq!(
        prop(&xml, "d.txt", "d:getlastmodified"),
        Some("Sun, 13 Sep 2020 12:26:40 GMT")
    );
}

#[tokio::test]
async fn proppatch_tolerates_depth_and_form_content_type_and_stores_props() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/p.txt"), b"x").await;
    let body = "<?xml version=\"1.0\"?><d:propertyupdate xmlns:d=\"DAV:\" \
        xmlns:oc=\"http://owncloud.org/ns\" xmlns:x=\"urn:x\"><d:set><d:prop>\
        <oc:favorite>1</oc:favorite><x:color>blue &amp; green</x:color></d:prop></d:set>\
        </d:propertyupdate>";
    let r = req(&s, "PROPPATCH", &format!("{root}/p.txt"))
        .header("Depth", "1")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 207);
    let text = r.text().await.unwrap();
    assert!(!text.contains("403 Forbidden"), "{text}");
    let r = req(&s, "PROPFIND", &format!("{root}/p.txt"))
        .header("Depth", "0")
        .body("<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:favorite/><x:color xmlns:x=\"urn:x\"/></d:prop></d:propfind>")
        .send()
        .await
        .unwrap();
    let xml = r.text().await.unwrap();
    assert_eq!(prop(&xml, "p.txt", "oc:favorite"), Some("1"));
    assert!(xml.contains("blue &amp; green"), "{xml}");
    assert!(!xml.contains("404 Not Found"), "{xml}");
}
