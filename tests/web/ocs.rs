//! SPEC §6: status.php, capabilities (v1/v2 × JSON/XML), cloud/user.

use serde_json::Value;

use crate::common::{ADMIN_PASSWORD, TestServer};

async fn get(srv: &TestServer, path: &str) -> reqwest::Response {
    srv.client().get(srv.url(path)).send().await.unwrap()
}

async fn json(srv: &TestServer, path: &str) -> Value {
    let res = get(srv, path).await;
    assert_eq!(res.status(), 200, "{path}");
    assert_eq!(
        res.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    res.json().await.unwrap()
}

fn tus_extensions(srv: &TestServer) -> String {
    spacedav::tus::support(srv.state.config())
        .extensions
        .join(",")
}

fn assert_capabilities(c: &Value, srv: &TestServer) {
    let core = &c["core"];
    assert_eq!(core["pollinterval"], 60);
    assert_eq!(core["webdav-root"], "remote.php/webdav");
    let st = &core["status"];
    assert_eq!(st["installed"], true);
    assert_eq!(st["maintenance"], false);
    assert_eq!(st["needsDbUpgrade"], false);
    assert_eq!(st["version"], "10.11.0.0");
    assert_eq!(st["versionstring"], "10.11.0");
    assert_eq!(st["edition"], "Community");
    assert_eq!(st["productname"], "spacedav");
    assert_eq!(st["product"], "spacedav");
    assert_eq!(st["productversion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        c["checksums"]["supportedTypes"],
        serde_json::json!(["SHA1", "MD5", "ADLER32"])
    );
    // owncloudcmd 2.11 compares this case-sensitively with `SHA1` and otherwise uploads
    // without a transfer checksum (issue 15 item 11).
    assert_eq!(c["checksums"]["preferredUploadType"], "SHA1");
    let files = &c["files"];
    for key in ["privateLinks", "versioning", "undelete"] {
        assert!(files[key].is_boolean(), "files.{key}");
    }
    assert_eq!(files["privateLinks"], true);
    assert_eq!(files["blacklisted_files"], serde_json::json!([]));
    let tus = &files["tus_support"];
    assert_eq!(tus["version"], "1.0.0");
    assert_eq!(tus["resumable"], "1.0.0");
    assert_eq!(tus["extension"], tus_extensions(srv));
    assert_eq!(tus["max_chunk_size"], srv.state.config().max_chunk_size);
    assert_eq!(tus["http_method_override"], "");
    // No chunking element: pyocclient parses it as a number and fails on an empty one.
    assert!(c["dav"].get("chunking").is_none());
    let sharing = &c["files_sharing"];
    assert_eq!(sharing["api_enabled"], true);
    assert_eq!(sharing["public"]["enabled"], true);
    assert_eq!(sharing["public"]["password"]["enforced"], false);
    assert!(c["dav"]["trashbin"].is_string());
    assert_eq!(c["spaces"]["version"], "1.0.0");
    assert_eq!(c["spaces"]["enabled"], true);
    assert_eq!(c["spaces"]["projects"], true);
}

#[tokio::test]
async fn capabilities_v1_json_has_statuscode_100_and_every_spec_key() {
    let srv = TestServer::start().await;
    let res = get(&srv, "/ocs/v1.php/cloud/capabilities?format=json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["ocs-api-version"], "1");
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        v["ocs"]["meta"],
        serde_json::json!({"status": "ok", "statuscode": 100, "message": "OK"})
    );
    assert_capabilities(&v["ocs"]["data"]["capabilities"], &srv);
    let ver = &v["ocs"]["data"]["version"];
    assert_eq!(ver["major"], 10);
    assert_eq!(ver["string"], "10.11.0");
    assert_eq!(ver["productversion"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn capabilities_v2_json_has_statuscode_200_and_the_same_data() {
    let srv = TestServer::start().await;
    let v2 = json(&srv, "/ocs/v2.php/cloud/capabilities?format=json").await;
    let v1 = json(&srv, "/ocs/v1.php/cloud/capabilities?format=json").await;
    assert_eq!(
        v2["ocs"]["meta"],
        serde_json::json!({"status": "ok", "statuscode": 200, "message": "OK"})
    );
    assert_capabilities(&v2["ocs"]["data"]["capabilities"], &srv);
    assert_eq!(v2["ocs"]["data"], v1["ocs"]["data"]);
}

#[tokio::test]
async fn capabilities_follow_the_configured_chunk_size() {
    let srv = TestServer::start_with(|c| c.max_chunk_size = 12_345).await;
    let v = json(&srv, "/ocs/v1.php/cloud/capabilities?format=json").await;
    let tus = &v["ocs"]["data"]["capabilities"]["files"]["tus_support"];
    assert_eq!(tus["max_chunk_size"], 12_345);
}

#[tokio::test]
async fn capabilities_xml_is_one_line_with_element_lists_and_ocs_flags() {
    let srv = TestServer::start().await;
    for (path, code) in [
        ("/ocs/v1.php/cloud/capabilities", 100),
        ("/ocs/v2.php/cloud/capabilities?format=xml", 200),
    ] {
        let res = get(&srv, path).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/xml; charset=utf-8");
        let body = res.text().await.unwrap();
        let (decl, doc) = body.split_once('\n').expect("declaration line");
        assert_eq!(decl, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        assert!(!doc.contains('\n'), "one line: {doc}");
        assert!(doc.starts_with(&format!(
            "<ocs><meta><status>ok</status><statuscode>{code}</statuscode>\
             <message>OK</message></meta><data><capabilities><core>\
             <pollinterval>60</pollinterval><webdav-root>remote.php/webdav</webdav-root>\
             <status><installed>1</installed><maintenance>0</maintenance>\
             <needsDbUpgrade>0</needsDbUpgrade><version>10.11.0.0</version>"
        )));
        for part in [
            "<supportedTypes><element>SHA1</element><element>MD5</element>\
             <element>ADLER32</element></supportedTypes>",
            "<preferredUploadType>SHA1</preferredUploadType>",
            "<privateLinks>1</privateLinks>",
            &format!(
                "<tus_support><version>1.0.0</version><resumable>1.0.0</resumable>\
                 <extension>{}</extension><max_chunk_size>{}</max_chunk_size>\
                 <http_method_override></http_method_override></tus_support>",
                tus_extensions(&srv),
                srv.state.config().max_chunk_size
            ),
            "<spaces><version>1.0.0</version><enabled>true</enabled><projects>true</projects>",
            "<version><major>10</major><minor>11</minor><micro>0</micro>",
        ] {
            assert!(doc.contains(part), "missing {part} in {doc}");
        }
        assert!(doc.ends_with("</data></ocs>"));
        assert!(
            !doc.contains("blacklisted_files"),
            "empty lists render nothing"
        );
    }
}

#[tokio::test]
async fn status_php_is_exactly_the_indented_status_object() {
    let srv = TestServer::start().await;
    let want = format!(
        "{{\n    \"installed\": true,\n    \"maintenance\": false,\n    \
         \"needsDbUpgrade\": false,\n    \"version\": \"10.11.0.0\",\n    \
         \"versionstring\": \"10.11.0\",\n    \"edition\": \"Community\",\n    \
         \"productname\": \"spacedav\",\n    \"product\": \"spacedav\",\n    \
         \"productversion\": \"{}\"\n}}",
        env!("CARGO_PKG_VERSION")
    );
    for path in ["/status.php", "/status"] {
        let res = srv
            .client()
            .get(srv.url(path))
            .header("OC-Connection-Validator", "desktop")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.text().await.unwrap(), want, "{path}");
    }
}

#[tokio::test]
async fn cloud_user_answers_name_display_name_and_email() {
    let srv = TestServer::start().await;
    srv.add_user("alice", "alice-pw").await;
    let res = srv
        .client()
        .get(srv.url("/ocs/v1.php/cloud/user?format=json"))
        .basic_auth("alice", Some("alice-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["ocs"]["meta"]["statuscode"], 100);
    assert_eq!(v["ocs"]["data"]["id"], "alice");
    assert_eq!(v["ocs"]["data"]["display-name"], "alice");
    assert_eq!(v["ocs"]["data"]["email"], "alice@example.org");

    let res = srv
        .client()
        .get(srv.url("/ocs/v2.php/cloud/user"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(
        body.contains(
            "<statuscode>200</statuscode><message>OK</message></meta><data><id>admin</id>\
             <display-name>Administrator</display-name><email></email>"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn cloud_user_without_credentials_is_401_in_the_envelope() {
    let srv = TestServer::start().await;
    for v in ["v1", "v2"] {
        let res = get(&srv, &format!("/ocs/{v}.php/cloud/user?format=json")).await;
        assert_eq!(res.status(), 401);
        crate::common::assert_both_challenges(&res, v);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["ocs"]["meta"]["status"], "error");
        assert_eq!(body["ocs"]["meta"]["statuscode"], 997);
        assert!(body["ocs"].get("data").is_none());
    }
}

#[tokio::test]
async fn unknown_ocs_endpoint_is_998_with_200_on_v1_and_404_on_v2() {
    let srv = TestServer::start().await;
    let res = get(&srv, "/ocs/v1.php/apps/nothing?format=json").await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["ocs"]["meta"]["statuscode"], 998);
    let res = get(&srv, "/ocs/v2.php/apps/nothing?format=json").await;
    assert_eq!(res.status(), 404);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["ocs"]["meta"]["statuscode"], 998);
}

#[tokio::test]
async fn capabilities_tus_support_agrees_with_the_tus_headers_of_options() {
    let srv = TestServer::start().await;
    let v = json(&srv, "/ocs/v1.php/cloud/capabilities?format=json").await;
    let tus = &v["ocs"]["data"]["capabilities"]["files"]["tus_support"];
    let sid = srv.admin_space().await;
    let res = srv
        .client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/", srv.space_url(&sid)),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(h["tus-extension"].to_str().unwrap(), tus["extension"]);
    assert_eq!(h["tus-version"].to_str().unwrap(), tus["version"]);
    assert_eq!(h["tus-resumable"].to_str().unwrap(), tus["resumable"]);
    let extensions = tus["extension"].as_str().unwrap();
    assert!(extensions.split(',').any(|e| e == "creation-with-upload"));
}
