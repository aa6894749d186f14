//! Private links, resources by id, favorites and name search.

use spacedav::spaces::Role;

use crate::common::TestServer;
use crate::common::dav::*;
use crate::*;

const FAV: &str = "<?xml version=\"1.0\"?><oc:filter-files xmlns:d=\"DAV:\" \
    xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:fileid/><oc:favorite/><d:getetag/></d:prop>\
    <oc:filter-rules><oc:favorite>1</oc:favorite></oc:filter-rules></oc:filter-files>";

/// The PROPPATCH body that marks a resource a favorite, as ownCloud Web sends it.
const MARK_FAVORITE: &str = "<?xml version=\"1.0\"?><d:propertyupdate xmlns:d=\"DAV:\" \
    xmlns:oc=\"http://owncloud.org/ns\"><d:set><d:prop><oc:favorite>1</oc:favorite>\
    </d:prop></d:set></d:propertyupdate>";

fn search(pattern: &str, limit: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><oc:search-files xmlns:d=\"DAV:\" \
         xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:fileid/><oc:name/><d:getcontentlength/>\
         </d:prop><oc:search><oc:pattern>{pattern}</oc:pattern><oc:limit>{limit}</oc:limit>\
         </oc:search></oc:search-files>"
    )
}

#[tokio::test]
async fn meta_answers_the_path_for_user_of_a_file_id_and_nothing_for_others() {
    let s = TestServer::start().await;
    s.add_user("stranger", PW).await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/a b")).await;
    put(&s, &format!("{root}/a b/x.txt"), b"x").await;
    let id = file_id(&s, &format!("{root}/a b/x.txt")).await;
    let url = s.url(&format!("/remote.php/dav/meta/{id}"));
    let (st, xml) = propfind(&s, &url, "0", "<oc:meta-path-for-user/><oc:fileid/>").await;
    assert_eq!(st, 207, "{xml}");
    assert_eq!(prop(&xml, "/", "oc:meta-path-for-user"), Some("/a b/x.txt"));
    assert_eq!(prop(&xml, "/", "oc:fileid"), Some(id.as_str()));
    let other = as_user(&s, "stranger", "PROPFIND", &url)
        .header("Depth", "0")
        .send();
    assert_eq!(other.await.unwrap().status(), 404);
    let (st, _) = propfind(&s, &s.url("/dav/meta/not-an-id"), "0", "").await;
    assert_eq!(st, 404);
    req(&s, "DELETE", &format!("{root}/a b"))
        .send()
        .await
        .unwrap();
    let (st, _) = propfind(&s, &url, "0", "<oc:meta-path-for-user/>").await;
    assert_eq!(st, 404, "a node in the trash has no path");
}

#[tokio::test]
async fn a_private_link_redirects_to_the_webdav_url_of_its_file() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/d")).await;
    put(&s, &format!("{root}/d/f.txt"), b"x").await;
    let (_, xml) = propfind(&s, &format!("{root}/d/f.txt"), "0", "<oc:privatelink/>").await;
    let link = between(&xml, "<oc:privatelink>", "<").unwrap().to_string();
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirect
        .get(&link)
        .basic_auth("admin", Some(common::ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let sid = s.admin_space().await;
    assert_eq!(to, s.url(&format!("/dav/spaces/{sid}/d/f.txt")));
    let got = req(&s, "GET", &to).send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"x");
    let anon = no_redirect.get(&link).send().await.unwrap();
    assert_eq!(anon.status(), 401);
}

#[tokio::test]
async fn the_favorites_report_lists_the_users_favorites_across_spaces() {
    let s = TestServer::start().await;
    let sid = project(&s, &[]).await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/mine.txt"), b"x").await;
    put(&s, &format!("{root}/plain.txt"), b"x").await;
    put(&s, &format!("{}/team.txt", s.space_url(&sid)), b"x").await;
    put(&s, &format!("{root}/gone.txt"), b"x").await;
    for url in [
        format!("{root}/mine.txt"),
        format!("{}/team.txt", s.space_url(&sid)),
        format!("{root}/gone.txt"),
    ] {
        let r = req(&s, "PROPPATCH", &url)
            .body(MARK_FAVORITE)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 207);
    }
    req(&s, "DELETE", &format!("{root}/gone.txt"))
        .send()
        .await
        .unwrap();
    let res = req(&s, "REPORT", &s.url("/remote.php/dav/files/admin/"))
        .body(FAV)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 207);
    let xml = res.text().await.unwrap();
    let hrefs: Vec<&str> = responses(&xml).iter().map(|b| href(b)).collect();
    assert_eq!(hrefs.len(), 2, "{xml}");
    assert!(
        hrefs.contains(&"/remote.php/dav/files/admin/mine.txt"),
        "{hrefs:?}"
    );
    assert!(
        hrefs
            .iter()
            .any(|h| h.ends_with("/team.txt") && h.contains("/remote.php/dav/spaces/"))
    );
    assert!(
        responses(&xml)
            .iter()
            .all(|b| b.contains("<oc:favorite>1</oc:favorite>"))
    );
    let bad = req(&s, "REPORT", &s.url("/dav/spaces/"))
        .body("<x/>")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn name_search_finds_substrings_in_readable_spaces_only() {
    let s = TestServer::start().await;
    let team = project(&s, &[("vera", Role::Viewer)]).await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/Annual REPORT.txt"), b"1").await;
    put(&s, &format!("{}/report-team.md", s.space_url(&team)), b"22").await;
    put(&s, &format!("{root}/unrelated.txt"), b"x").await;
    put(&s, &format!("{root}/old report.txt"), b"x").await;
    req(&s, "DELETE", &format!("{root}/old report.txt"))
        .send()
        .await
        .unwrap();

    let res = req(&s, "REPORT", &s.url("/dav/spaces/"))
        .body(search("name:\"*rePort*\"", "200"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 207);
    assert_eq!(res.headers()["content-range"], "rows 0-1/2");
    let xml = res.text().await.unwrap();
    let names: Vec<&str> = responses(&xml)
        .iter()
        .map(|b| between(b, "<oc:name>", "<").unwrap())
        .collect();
    assert_eq!(names, ["Annual REPORT.txt", "report-team.md"], "{xml}");
    assert!(
        responses(&xml)
            .iter()
            .all(|b| href(b).starts_with("/dav/spaces/"))
    );

    // vera reads only the team space.
    let theirs = as_user(&s, "vera", "REPORT", &s.url("/remote.php/dav/spaces/"))
        .body(search("report", "8"))
        .send()
        .await
        .unwrap();
    let xml = theirs.text().await.unwrap();
    assert_eq!(responses(&xml).len(), 1, "{xml}");
    assert!(xml.contains("report-team.md"));

    let limited = req(&s, "REPORT", &s.url("/dav/spaces/"))
        .body(search("report", "1"))
        .send();
    let xml = limited.await.unwrap().text().await.unwrap();
    assert_eq!(responses(&xml).len(), 1);
    for limit in ["-1", "0", "1000000000000", "lots"] {
        let r = req(&s, "REPORT", &s.url("/dav/spaces/"))
            .body(search("report", limit))
            .send();
        assert_eq!(r.await.unwrap().status(), 400, "oc:limit {limit}");
    }
}

/// The names a search for `term` finds, as admin.
async fn found(s: &TestServer, term: &str) -> Vec<String> {
    let res = req(s, "REPORT", &s.url("/dav/spaces/"))
        .body(search(&format!("name:\"*{term}*\""), "200"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 207, "{term}");
    let xml = res.text().await.unwrap();
    responses(&xml)
        .iter()
        .map(|b| between(b, "<oc:name>", "<").unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn name_search_folds_case_beyond_ascii() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    for name in ["Äpfel.txt", "ÖL-Preise.md", "Straße.txt", "İstanbul.jpg"] {
        put(&s, &format!("{root}/{name}"), b"x").await;
    }
    put(&s, &format!("{root}/apfel.txt"), b"x").await;

    assert_eq!(found(&s, "äpf").await, ["Äpfel.txt"]);
    assert_eq!(found(&s, "ÄPFEL").await, ["Äpfel.txt"]);
    assert_eq!(found(&s, "öl-p").await, ["ÖL-Preise.md"]);
    assert_eq!(found(&s, "STRASSE").await, Vec::<String>::new());
    assert_eq!(found(&s, "straße").await, ["Straße.txt"]);
    assert_eq!(found(&s, "apf").await, ["apfel.txt"]);
    // U+0130 folds to an ASCII i and a combining dot.
    assert_eq!(found(&s, "i\u{307}stan").await, ["İstanbul.jpg"]);
}

#[tokio::test]
async fn with_web_served_a_private_link_is_webs_own_route() {
    let assets = tempfile::tempdir().unwrap();
    let page = "<html><head><title>Web</title></head><body>web app</body></html>";
    std::fs::write(assets.path().join("index.html"), page).unwrap();
    let path = assets.path().to_path_buf();
    let s = TestServer::start_with(move |c| c.web_assets_path = Some(path)).await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/f.txt"), b"x").await;
    let id = file_id(&s, &format!("{root}/f.txt")).await;
    let res = s
        .client()
        .get(s.url(&format!("/f/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "no sign-in needed: Web signs the user in"
    );
    assert!(res.text().await.unwrap().contains("web app"));
}

#[tokio::test]
async fn search_and_favorites_cover_spaces_granted_through_a_group_and_skip_disabled_ones() {
    let s = TestServer::start().await;
    let gus = s.add_user("gus", PW).await;
    let store = s.state.store();
    let crew = store.create_group("crew", "Crew").await.unwrap();
    store.set_group_member(crew.id, gus.id, true).await.unwrap();
    let by_group = s.project_space("By group", None).await.id;
    store
        .set_group_grant(by_group.space, crew.id, Some(Role::Editor))
        .await
        .unwrap();
    let disabled = project(&s, &[("gus", Role::Viewer)]).await;
    put(
        &s,
        &format!("{}/plan-group.txt", s.space_url(&by_group)),
        b"g",
    )
    .await;
    put(
        &s,
        &format!("{}/plan-disabled.txt", s.space_url(&disabled)),
        b"d",
    )
    .await;
    let fav = as_user(
        &s,
        "gus",
        "PROPPATCH",
        &format!("{}/plan-group.txt", s.space_url(&by_group)),
    )
    .body(MARK_FAVORITE)
    .send()
    .await
    .unwrap();
    assert_eq!(fav.status(), 207);
    store
        .set_space_disabled(disabled.space, true)
        .await
        .unwrap();

    let res = as_user(&s, "gus", "REPORT", &s.url("/dav/spaces/"))
        .body(search("plan", "30"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 207);
    let xml = res.text().await.unwrap();
    let names: Vec<&str> = responses(&xml)
        .iter()
        .map(|b| between(b, "<oc:name>", "<").unwrap())
        .collect();
    assert_eq!(names, ["plan-group.txt"], "{xml}");
    let res = as_user(&s, "gus", "REPORT", &s.url("/dav/files/gus/"))
        .body(FAV)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 207);
    let xml = res.text().await.unwrap();
    assert_eq!(responses(&xml).len(), 1, "{xml}");
    assert!(
        href(responses(&xml)[0]).ends_with("/plan-group.txt"),
        "{xml}"
    );
}
