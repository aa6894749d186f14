//! ownCloud Web 12.5.0's recovery features against spacedav, in headless Chromium (issue 11,
//! "Done when", second bullet): a user signed in through the built-in OpenID Connect provider
//! deletes a file and restores it from the trash page, overwrites a file with an upload and
//! restores its first version from the versions panel, finds files with the search box (one
//! with non-ASCII letters, searched in lower case), marks a favorite and finds it on the
//! favorites page. Between the steps the test reads the files over WebDAV.
//!
//! Same rules as [`crate::web_ui`]: screenshots per step (in `target/web-recovery-e2e/`), no
//! 5xx, no 4xx beyond [`crate::web_ui::EXPECTED_4XX`].

use serde_json::json;

use crate::dav::Dav;
use crate::support::{node_workdir, sha256};
use crate::web_ui::{
    BrowserTools, assert_no_failures, browser_tools, drive, print_wire, serve_web, shots_dir,
};

const USER: &str = "rita";
const PASSWORD: &str = "rita-password";

const TRASHED: &str = "deleted-by-mistake.txt";
const VERSIONED: &str = "minutes.txt";
const UMLAUTS: &str = "Äpfel-Übersicht.txt";

#[tokio::test]
#[ignore = "real client: needs ownCloud Web, playwright-core and chromium; .ci/run runs it with --include-ignored"]
async fn ownclouds_web_restores_from_trash_and_versions_searches_and_lists_favorites_on_spacedav() {
    let Some(BrowserTools {
        node,
        chromium,
        modules,
        tarball,
    }) = browser_tools()
    else {
        return;
    };
    let (_web, srv, proxy) = serve_web(&tarball).await;
    let rita = srv.add_user(USER, PASSWORD).await;
    let space = srv.state.store().space_id(rita.id.0);
    let root = srv.space_url(&space);
    let dav = Dav::new(USER, PASSWORD);

    let trashed = b"a file someone will want back\n".to_vec();
    let first = b"minutes, first draft\n".to_vec();
    let second = b"minutes, overwritten by an upload in Web\n".to_vec();
    dav.put(&format!("{root}/{TRASHED}"), trashed.clone()).await;
    dav.put(&format!("{root}/{VERSIONED}"), first.clone()).await;
    dav.put(&format!("{root}/{UMLAUTS}"), b"apples\n".to_vec())
        .await;
    dav.mkcol(&format!("{root}/Reports")).await;
    dav.put(
        &format!("{root}/Reports/quarterly-report.md"),
        b"q\n".to_vec(),
    )
    .await;

    let work = node_workdir(&modules, &["web/recovery.mjs"]);
    let upload = work.path().join(VERSIONED);
    std::fs::write(&upload, &second).expect("write upload");
    let opts = json!({
        "chromium": chromium, "base": proxy.base, "shots": shots_dir("web-recovery-e2e"),
        "user": {"name": USER, "password": PASSWORD}, "spaceId": space.to_string(),
        "trashed": TRASHED, "versioned": upload,
        "searches": [["quarterly", "quarterly-report.md"], ["äpfel", UMLAUTS]],
        "favorite": VERSIONED,
    });

    let client = srv.client();
    let mut checked = Vec::new();
    let report = drive(
        &node,
        work.path(),
        "recovery.mjs",
        &opts,
        async |name: &str| {
            match name {
                "deleted" => {
                    let gone = client
                        .get(format!("{root}/{TRASHED}"))
                        .basic_auth(USER, Some(PASSWORD))
                        .send()
                        .await
                        .expect("GET");
                    assert_eq!(gone.status(), 404, "{TRASHED} after Web's delete");
                }
                "restored" => assert_eq!(
                    sha256(&dav.get(&format!("{root}/{TRASHED}")).await),
                    sha256(&trashed),
                    "{TRASHED} after the restore from the trash page"
                ),
                "overwritten" => assert_eq!(
                    sha256(&dav.get(&format!("{root}/{VERSIONED}")).await),
                    sha256(&second),
                    "{VERSIONED} after Web's upload"
                ),
                _ => assert_eq!(
                    sha256(&dav.get(&format!("{root}/{VERSIONED}")).await),
                    sha256(&first),
                    "{VERSIONED} after restoring its first version"
                ),
            }
            checked.push(name.to_string());
        },
    )
    .await;
    assert_eq!(
        checked,
        ["deleted", "restored", "overwritten", "version-restored"]
    );

    let wire = proxy.exchanges();
    let listing = print_wire(&wire);

    // The search box listed the hits, the umlauts found in lower case.
    assert_eq!(
        report["found"]["quarterly"],
        json!(["quarterly-report.md"]),
        "{report:#}"
    );
    assert_eq!(report["found"]["äpfel"], json!([UMLAUTS]), "{report:#}");
    assert_eq!(report["favorites"], json!([VERSIONED]), "{report:#}");

    // Web restored through the trash bin and the version URLs, and searched with REPORT.
    let sent = |method: &str, status: u16, part: &str| {
        wire.iter()
            .any(|e| e.method == method && e.status == status && e.path.contains(part))
    };
    assert!(sent("MOVE", 201, "/trash-bin/"), "{listing}");
    assert!(sent("COPY", 204, "/v/"), "{listing}");
    assert!(sent("REPORT", 207, "/dav/spaces"), "{listing}");
    assert!(sent("PROPPATCH", 207, VERSIONED), "{listing}");
    assert_no_failures(&wire, &listing);

    // The favorite is the user's on the server too: the favorites REPORT lists it.
    let favorites = client
        .request(
            reqwest::Method::from_bytes(b"REPORT").expect("method"),
            srv.url(&format!("/remote.php/dav/files/{USER}")),
        )
        .basic_auth(USER, Some(PASSWORD))
        .body(
            "<?xml version=\"1.0\"?><oc:filter-files xmlns:d=\"DAV:\" \
             xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:name/></d:prop><oc:filter-rules>\
             <oc:favorite>1</oc:favorite></oc:filter-rules></oc:filter-files>",
        )
        .send()
        .await
        .expect("REPORT");
    assert_eq!(favorites.status(), 207);
    let xml = favorites.text().await.expect("REPORT body");
    assert!(
        xml.contains(&format!("<oc:name>{VERSIONED}</oc:name>")),
        "{xml}"
    );
}
