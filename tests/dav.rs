//! WebDAV on spaces, as a client sees it: etags, sizes, ids, PROPFIND rules, odd names.

mod common;

use common::TestServer;
use common::dav::*;

#[tokio::test]
async fn etag_of_root_and_every_ancestor_changes_after_a_deep_put() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    for dir in ["a", "a/b", "a/b/c"] {
        assert_eq!(mkcol(&s, &format!("{root}/{dir}")).await.status(), 201);
    }
    let before = propfind(&s, &format!("{root}/"), "infinity", "<d:getetag/>").await;
    assert_eq!(before.0, 400, "Depth: infinity is refused by default");
    let mut etags = Vec::new();
    for dir in ["", "a/", "a/b/", "a/b/c/"] {
        let (st, xml) = propfind(&s, &format!("{root}/{dir}"), "0", "<d:getetag/>").await;
        assert_eq!(st, 207);
        etags.push(
            between(&xml, "<d:getetag>", "</d:getetag>")
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(
        put(&s, &format!("{root}/a/b/c/f.txt"), b"deep")
            .await
            .status(),
        201
    );
    for (dir, old) in ["", "a/", "a/b/", "a/b/c/"].iter().zip(&etags) {
        let (_, xml) = propfind(&s, &format!("{root}/{dir}"), "0", "<d:getetag/>").await;
        let new = between(&xml, "<d:getetag>", "</d:getetag>").unwrap();
        assert!(new.starts_with('"') && new.ends_with('"'), "quoted: {new}");
        assert_ne!(new, old, "etag of /{dir} must change");
    }
}

#[tokio::test]
async fn folder_size_is_the_subtree_sum() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/d")).await;
    mkcol(&s, &format!("{root}/d/e")).await;
    put(&s, &format!("{root}/d/one.txt"), b"12345").await;
    put(&s, &format!("{root}/d/e/two.txt"), b"1234567").await;
    let (st, xml) = propfind(&s, &format!("{root}/"), "1", "<oc:size/>").await;
    assert_eq!(st, 207);
    assert_eq!(prop(&xml, "/d/", "oc:size"), Some("12"));
    let (_, xml) = propfind(&s, &format!("{root}/d/"), "1", "<oc:size/>").await;
    assert_eq!(prop(&xml, "/d/e/", "oc:size"), Some("7"));
    assert_eq!(prop(&xml, "/d/one.txt", "oc:size"), Some("5"));
}

#[tokio::test]
async fn move_keeps_the_file_id_and_copy_gets_a_new_one() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/m.txt"), b"x").await;
    let id = |xml: &str| prop(xml, "", "oc:fileid").map(str::to_string);
    let (_, xml) = propfind(&s, &format!("{root}/m.txt"), "0", "<oc:fileid/>").await;
    let original = id(&xml).unwrap();
    let r = req(&s, "MOVE", &format!("{root}/m.txt"))
        .header("Destination", format!("{root}/n.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, xml) = propfind(&s, &format!("{root}/n.txt"), "0", "<oc:fileid/>").await;
    assert_eq!(id(&xml).unwrap(), original);
    let r = req(&s, "COPY", &format!("{root}/n.txt"))
        .header("Destination", format!("{root}/o.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, xml) = propfind(&s, &format!("{root}/o.txt"), "0", "<oc:fileid/>").await;
    assert_ne!(id(&xml).unwrap(), original);
}

#[tokio::test]
async fn unknown_named_property_gets_a_404_propstat_unless_minimal() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/p.txt"), b"x").await;
    let (st, xml) = propfind(&s, &format!("{root}/p.txt"), "0", "<d:getetag/><oc:nope/>").await;
    assert_eq!(st, 207);
    let block = responses(&xml)[0];
    let missing = between(
        block,
        "<d:propstat><d:prop><oc:nope/></d:prop>",
        "</d:propstat>",
    )
    .expect("404 propstat with oc:nope");
    assert!(missing.contains("404 Not Found"), "{xml}");
    let r = req(&s, "PROPFIND", &format!("{root}/p.txt"))
        .header("Depth", "0")
        .header("Prefer", "return=minimal")
        .body("<d:propfind xmlns:d=\"DAV:\"><d:prop><d:getetag/><d:nope/></d:prop></d:propfind>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["preference-applied"], "return=minimal");
    let xml = r.text().await.unwrap();
    assert!(!xml.contains("404 Not Found"), "{xml}");
    assert!(xml.contains("<d:getetag>"), "{xml}");
}

#[tokio::test]
async fn depth_infinity_is_400_and_other_bad_depths_too() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    for depth in ["infinity", "2"] {
        let (st, xml) = propfind(&s, &format!("{root}/"), depth, "").await;
        assert_eq!(st, 400, "{depth}");
        assert!(xml.contains("Sabre\\DAV\\Exception\\BadRequest"), "{xml}");
    }
}

#[tokio::test]
async fn odd_names_round_trip_with_escaped_hrefs() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let names = [
        (
            "नेपाली.txt",
            "%E0%A4%A8%E0%A5%87%E0%A4%AA%E0%A4%BE%E0%A4%B2%E0%A5%80.txt",
        ),
        ("strängé file.txt", "str%C3%A4ng%C3%A9%20file.txt"),
        ("s,a,m,p,l,e.txt", "s,a,m,p,l,e.txt"),
        ("C++ file.cpp", "C++%20file.cpp"),
        ("?fi=le&%#2 . txt", "%3Ffi=le&%25%232%20.%20txt"),
    ];
    for (name, escaped) in names {
        let url = format!("{root}/{escaped}");
        let r = req(&s, "PUT", &url)
            .body(name.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{name}");
        let (st, xml) = propfind(&s, &url, "0", "<oc:name/>").await;
        assert_eq!(st, 207, "{name}");
        assert!(
            href(responses(&xml)[0]).ends_with(&format!("/{escaped}")),
            "{name}: {xml}"
        );
        let got = req(&s, "GET", &url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(got, name);
    }
    let (_, xml) = propfind(&s, &format!("{root}/"), "1", "<oc:name/>").await;
    for (_, escaped) in names {
        assert!(
            responses(&xml)
                .iter()
                .any(|b| href(b).ends_with(&format!("/{escaped}"))),
            "listing has {escaped}: {xml}"
        );
    }
}

#[tokio::test]
async fn depth_infinity_lists_the_subtree_when_enabled() {
    let s = TestServer::start_with(|c| c.propfind_depth_infinity = true).await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/x")).await;
    mkcol(&s, &format!("{root}/x/y")).await;
    put(&s, &format!("{root}/x/y/z.txt"), b"z").await;
    let (st, xml) = propfind(&s, &format!("{root}/"), "infinity", "<oc:size/>").await;
    assert_eq!(st, 207);
    let hrefs: Vec<&str> = responses(&xml).into_iter().map(href).collect();
    assert_eq!(hrefs.len(), 4, "{hrefs:?}");
    assert!(hrefs.iter().any(|h| h.ends_with("/x/y/z.txt")), "{hrefs:?}");
    assert_eq!(prop(&xml, "/x/", "oc:size"), Some("1"));
}

#[tokio::test]
async fn propname_and_allprop_list_live_and_dead_properties() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/n.txt"), b"abc").await;
    let r = req(&s, "PROPPATCH", &format!("{root}/n.txt"))
        .body("<d:propertyupdate xmlns:d=\"DAV:\"><d:set><d:prop><z:k xmlns:z=\"urn:z\">v</z:k></d:prop></d:set></d:propertyupdate>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 207);
    let r = req(&s, "PROPFIND", &format!("{root}/n.txt"))
        .header("Depth", "0")
        .body("<d:propfind xmlns:d=\"DAV:\"><d:propname/></d:propfind>")
        .send()
        .await
        .unwrap();
    let xml = r.text().await.unwrap();
    for name in [
        "<d:getetag/>",
        "<oc:fileid/>",
        "<oc:checksums/>",
        "<k xmlns=\"urn:z\"/>",
    ] {
        assert!(xml.contains(name), "propname lists {name}: {xml}");
    }
    let (_, xml) = propfind(&s, &format!("{root}/n.txt"), "0", "").await;
    assert_eq!(prop(&xml, "n.txt", "d:getcontentlength"), Some("3"));
    assert!(xml.contains(">v</"), "allprop has the dead property: {xml}");
    let sums = prop(&xml, "n.txt", "oc:checksums").unwrap();
    assert!(
        sums.contains("SHA1:a9993e364706816aba3e25717850c26c9cd0d89d"),
        "{sums}"
    );
    assert!(
        sums.contains("MD5:900150983cd24fb0d6963f7d28e17f72"),
        "{sums}"
    );
}

#[tokio::test]
async fn copying_a_folder_copies_the_tree_with_dead_properties() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/src")).await;
    mkcol(&s, &format!("{root}/src/sub")).await;
    put(&s, &format!("{root}/src/sub/f.txt"), b"four").await;
    let r = req(&s, "PROPPATCH", &format!("{root}/src/sub/f.txt"))
        .body("<d:propertyupdate xmlns:d=\"DAV:\"><d:set><d:prop><z:tag xmlns:z=\"urn:z\">red</z:tag></d:prop></d:set></d:propertyupdate>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 207);
    let copy = |dest: &str, overwrite: &str| {
        req(&s, "COPY", &format!("{root}/src"))
            .header("Destination", format!("{root}/{dest}"))
            .header("Overwrite", overwrite)
            .send()
    };
    assert_eq!(copy("dst", "T").await.unwrap().status(), 201);
    assert_eq!(copy("dst", "F").await.unwrap().status(), 412);
    assert_eq!(copy("dst", "T").await.unwrap().status(), 204);
    assert_eq!(copy("no/such", "T").await.unwrap().status(), 409);
    let (_, xml) = propfind(
        &s,
        &format!("{root}/dst/sub/f.txt"),
        "0",
        "<z:tag xmlns:z=\"urn:z\"/><oc:fileid/>",
    )
    .await;
    assert!(xml.contains(">red</"), "{xml}");
    let (_, orig) = propfind(&s, &format!("{root}/src/sub/f.txt"), "0", "<oc:fileid/>").await;
    assert_ne!(
        prop(&xml, "f.txt", "oc:fileid"),
        prop(&orig, "f.txt", "oc:fileid")
    );
    let (_, xml) = propfind(&s, &format!("{root}/"), "1", "<oc:size/>").await;
    assert_eq!(prop(&xml, "/dst/", "oc:size"), Some("4"));
    assert_eq!(prop(&xml, "/", "oc:size"), Some("8"));
}

#[tokio::test]
async fn copying_a_folder_with_x_oc_mtime_gives_the_copy_that_mtime_and_keeps_the_original() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/src")).await;
    put(&s, &format!("{root}/src/f.txt"), b"four").await;
    let r = req(&s, "COPY", &format!("{root}/src"))
        .header("Destination", format!("{root}/dst"))
        .header("X-OC-Mtime", "1500000000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["x-oc-mtime"], "accepted");
    let (_, xml) = propfind(&s, &format!("{root}/"), "1", "<d:getlastmodified/>").await;
    assert_eq!(
        prop(&xml, "/dst/", "d:getlastmodified"),
        Some("Fri, 14 Jul 2017 02:40:00 GMT")
    );
    assert_ne!(
        prop(&xml, "/src/", "d:getlastmodified"),
        Some("Fri, 14 Jul 2017 02:40:00 GMT")
    );
}

/// A listing larger than one page of rows (the stream reads children in pages of 512) still
/// lists every child exactly once, in name order.
#[tokio::test]
async fn depth_one_listing_spanning_several_pages_lists_every_child_once_in_order() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    assert_eq!(mkcol(&s, &format!("{root}/big")).await.status(), 201);
    let space = s.admin_space().await.space;
    let mut names: Vec<String> = (0..1100).map(|i| format!("n{i:04}")).collect();
    names.extend(["Z", "a b", "é"].map(String::from));
    for n in &names {
        let p = spacedav::spaces::SpacePath::parse(&format!("big/{n}")).unwrap();
        s.state.store().create_folder(space, &p).await.unwrap();
    }
    names.sort();
    let (st, xml) = propfind(&s, &format!("{root}/big/"), "1", "<d:resourcetype/>").await;
    assert_eq!(st, 207);
    assert!(xml.trim_end().ends_with("</d:multistatus>"));
    let hrefs: Vec<&str> = responses(&xml).iter().map(|b| href(b)).collect();
    assert_eq!(hrefs.len(), names.len() + 1);
    assert!(hrefs[0].ends_with("/big/"), "{}", hrefs[0]);
    let listed: Vec<String> = hrefs[1..]
        .iter()
        .map(|h| {
            let name = h.trim_end_matches('/').rsplit('/').next().unwrap();
            percent_encoding::percent_decode_str(name)
                .decode_utf8()
                .unwrap()
                .into_owned()
        })
        .collect();
    assert_eq!(listed, names);
}

/// A WebDAV root as `Destination` (issue 15 item 3): the root can be neither replaced nor
/// deleted, so COPY and MOVE onto it are 403 (412 with `Overwrite: F`, RFC 4918 §9.8.5,
/// since the root always exists); nothing changes and the connection gets an answer.
#[tokio::test]
async fn copy_or_move_onto_a_webdav_root_is_refused_and_changes_nothing() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/f.txt"), b"x").await;
    mkcol(&s, &format!("{root}/d")).await;
    let roots = [
        format!("{root}/"),
        root.clone(),
        s.url("/remote.php/webdav/"),
        s.url("/webdav"),
        s.url("/dav/files/admin/"),
        "/remote.php/dav/files/admin".to_string(),
    ];
    for method in ["COPY", "MOVE"] {
        for src in ["f.txt", "d"] {
            for dest in &roots {
                for (overwrite, want) in [(None, 403), (Some("F"), 412)] {
                    let mut r =
                        req(&s, method, &format!("{root}/{src}")).header("Destination", dest);
                    if let Some(o) = overwrite {
                        r = r.header("Overwrite", o);
                    }
                    let r = r.send().await.expect("an answer, not a dropped connection");
                    assert_eq!(r.status(), want, "{method} {src} -> {dest} {overwrite:?}");
                }
            }
        }
    }
    let (_, xml) = propfind(&s, &format!("{root}/"), "1", "<d:getetag/>").await;
    assert_eq!(responses(&xml).len(), 3, "root, f.txt and d only: {xml}");
    let g = req(&s, "GET", &format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(g.text().await.unwrap(), "x");
}

/// A `Destination` naming another host is not ours to write (RFC 4918 §9.8.5, §9.9.4: 502);
/// a path-only one is local, and so is one on the configured public URL.
#[tokio::test]
async fn a_destination_on_another_host_is_a_bad_gateway() {
    let s = TestServer::start_with(|c| {
        c.public_url = Some("https://files.example.org/".parse().unwrap())
    })
    .await;
    let sid = s.admin_space().await;
    let path = format!("/remote.php/dav/spaces/{sid}");
    let root = s.url(&path);
    put(&s, &format!("{root}/a.txt"), b"a").await;
    let port = s.addr.port();
    for method in ["COPY", "MOVE"] {
        for host in [
            "http://elsewhere.example".to_string(),
            format!("http://127.0.0.2:{port}"),
            format!("http://127.0.0.1:{}", port.wrapping_add(1)),
            "https://files.example.org:8443".to_string(),
        ] {
            let r = req(&s, method, &format!("{root}/a.txt"))
                .header("Destination", format!("{host}{path}/b.txt"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 502, "{method} to {host}");
        }
    }
    let (st, _) = propfind(&s, &format!("{root}/b.txt"), "0", "").await;
    assert_eq!(st, 404, "nothing was written");
    let local = [
        (format!("{path}/b.txt"), "b.txt"),
        (format!("{root}/c.txt"), "c.txt"),
        (format!("https://FILES.example.org{path}/d.txt"), "d.txt"),
    ];
    for (dest, name) in local {
        let r = req(&s, "COPY", &format!("{root}/a.txt"))
            .header("Destination", dest.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{dest}");
        let (st, _) = propfind(&s, &format!("{root}/{name}"), "0", "").await;
        assert_eq!(st, 207, "{name}");
    }
}
