//! PUT as ownCloud clients use it: checksums, mtimes, the OC headers, and that a failed or
//! cut-off upload never replaces the old content.

mod common;

use base64::Engine;
use common::dav::*;
use common::{ADMIN_PASSWORD, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn put_answers_oc_headers_and_honours_x_oc_mtime() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let r = req(&s, "PUT", &format!("{root}/m.txt"))
        .header("X-OC-Mtime", "1500000000")
        .header(
            "OC-Checksum",
            "SHA1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
        )
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let h = r.headers();
    assert_eq!(h["x-oc-mtime"], "accepted");
    assert_eq!(h["etag"], h["oc-etag"]);
    assert!(h["oc-fileid"].to_str().unwrap().contains('!'));
    assert_eq!(h["last-modified"], "Fri, 14 Jul 2017 02:40:00 GMT");
    let g = req(&s, "GET", &format!("{root}/m.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.headers()["oc-checksum"],
        "SHA1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
    );
    assert_eq!(g.headers()["etag"], h["etag"]);
    let again = req(&s, "PUT", &format!("{root}/m.txt"))
        .body("hello!")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 204);
    assert_eq!(
        again.headers()["oc-fileid"],
        h["oc-fileid"],
        "overwrite keeps the id"
    );
}

#[tokio::test]
async fn wrong_checksum_is_400_and_keeps_the_old_content() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/c.txt"), b"old").await;
    for (name, value) in [
        (
            "OC-Checksum",
            "SHA1:0000000000000000000000000000000000000000",
        ),
        ("Upload-Checksum", "md5 00000000000000000000000000000000"),
    ] {
        let r = req(&s, "PUT", &format!("{root}/c.txt"))
            .header(name, value)
            .body("new content")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{name}");
        assert!(r.text().await.unwrap().contains("checksum"), "{name}");
        let got = req(&s, "GET", &format!("{root}/c.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(got.text().await.unwrap(), "old", "{name}");
    }
    let r = req(&s, "PUT", &format!("{root}/fresh.txt"))
        .header(
            "OC-Checksum",
            "SHA1:0000000000000000000000000000000000000000",
        )
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let g = req(&s, "GET", &format!("{root}/fresh.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 404, "nothing stored");
}

#[tokio::test]
async fn a_put_cut_off_half_way_leaves_the_old_content() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/cut.txt"), b"old").await;
    let path = root.strip_prefix(&s.base).unwrap().to_string() + "/cut.txt";
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("admin:{ADMIN_PASSWORD}"));
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\n\
         Content-Length: 100000\r\n\r\n",
        s.addr
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&[b'x'; 50000]).await.unwrap();
    sock.flush().await.unwrap();
    // Half-close: the body ends early. Reading until the server closes orders the checks
    // below after the server has finished with the request.
    sock.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let _ = sock.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.starts_with("HTTP/1.1 2"), "{answer}");
    let got = req(&s, "GET", &format!("{root}/cut.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.text().await.unwrap(), "old");
    let (_, xml) = propfind(&s, &format!("{root}/cut.txt"), "0", "<oc:size/>").await;
    assert_eq!(prop(&xml, "cut.txt", "oc:size"), Some("3"));
}

/// A PUT whose body stalls is ended by the server after `server.body_stall_timeout` (issue 15
/// item 4), without replacing the old content; the client does nothing but wait.
#[tokio::test]
async fn a_stalled_put_is_ended_by_the_server_and_leaves_the_old_content() {
    let s =
        TestServer::start_with(|c| c.limits.body_stall_timeout = std::time::Duration::from_secs(1))
            .await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/stall.txt"), b"old").await;
    let path = root.strip_prefix(&s.base).unwrap().to_string() + "/stall.txt";
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("admin:{ADMIN_PASSWORD}"));
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\n\
         Content-Length: 100000\r\n\r\n",
        s.addr
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&[b'x'; 50000]).await.unwrap();
    // No more bytes, and no half-close: only the server can end this request.
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        sock.read_to_end(&mut answer),
    )
    .await;
    assert!(
        ended.is_ok(),
        "the stalled PUT was never ended by the server"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let got = req(&s, "GET", &format!("{root}/stall.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.text().await.unwrap(), "old");
}

#[tokio::test]
async fn content_range_put_is_501_and_missing_parent_409() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let r = req(&s, "PUT", &format!("{root}/r.txt"))
        .header("Content-Range", "bytes 0-2/3")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 501);
    let r = put(&s, &format!("{root}/no/such/dir.txt"), b"x").await;
    assert_eq!(r.status(), 409);
}

/// A PUT onto a folder is refused whatever its size: a small body is read before the commit
/// refuses it, a large one before it is read; either way the folder keeps its contents.
#[tokio::test]
async fn put_onto_a_folder_is_403_and_the_folder_stays() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    assert_eq!(mkcol(&s, &format!("{root}/d")).await.status(), 201);
    assert_eq!(
        put(&s, &format!("{root}/d/in.txt"), b"in").await.status(),
        201
    );
    for size in [3, 4 << 20] {
        let r = req(&s, "PUT", &format!("{root}/d"))
            .body(vec![b'x'; size])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "a PUT of {size} bytes onto a folder");
    }
    let (_, xml) = propfind(&s, &format!("{root}/d/"), "1", "<d:resourcetype/>").await;
    assert!(xml.contains("<d:collection/>"), "{xml}");
    let got = req(&s, "GET", &format!("{root}/d/in.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.text().await.unwrap(), "in");
}

#[tokio::test]
async fn put_over_quota_is_507() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    s.state
        .store()
        .set_quota(sid.space, Some(10))
        .await
        .unwrap();
    let root = s.space_url(&sid);
    assert_eq!(
        put(&s, &format!("{root}/a"), b"12345678").await.status(),
        201
    );
    assert_eq!(
        put(&s, &format!("{root}/b"), b"12345678").await.status(),
        507
    );
    let (_, xml) = propfind(&s, &format!("{root}/"), "0", "<d:quota-available-bytes/>").await;
    assert_eq!(prop(&xml, "/", "d:quota-available-bytes"), Some("2"));
}

#[tokio::test]
async fn get_serves_ranges_and_conditional_requests() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let url = format!("{root}/r.txt");
    put(&s, &url, b"hello world").await;
    let r = req(&s, "GET", &url)
        .header("Range", "bytes=2-4")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 2-4/11");
    assert_eq!(r.text().await.unwrap(), "llo");
    let r = req(&s, "GET", &url)
        .header("Range", "bytes=-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "rld");
    let r = req(&s, "GET", &url)
        .header("Range", "bytes=50-60")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    let etag = req(&s, "HEAD", &url).send().await.unwrap().headers()["etag"].clone();
    let r = req(&s, "GET", &url)
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = req(&s, "PUT", &url)
        .header("If-Match", "\"stale\"")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    let r = req(&s, "PUT", &url)
        .header("If-None-Match", "*")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    let body = req(&s, "GET", &url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "hello world");
}

/// One name rule for every way a name enters (issue 15 item 9): what tus refuses as a
/// `filename` (412) PUT, MKCOL, LOCK and a COPY/MOVE `Destination` refuse with 400, and
/// nothing is created.
#[tokio::test]
async fn names_tus_refuses_are_refused_by_every_webdav_method() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/ok.txt"), b"x").await;
    for bad in [
        "a%0Ab.txt",
        "a%0Db.txt",
        "a%0Cb.txt",
        "a%5Cb.txt",
        "..%5Cx",
        "%20%20",
    ] {
        let url = format!("{root}/{bad}");
        assert_eq!(put(&s, &url, b"y").await.status(), 400, "PUT {bad}");
        assert_eq!(mkcol(&s, &url).await.status(), 400, "MKCOL {bad}");
        let lock = req(&s, "LOCK", &url)
            .body(
                "<?xml version=\"1.0\"?><d:lockinfo xmlns:d=\"DAV:\"><d:lockscope><d:exclusive/>\
                 </d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(lock.status(), 400, "LOCK {bad}");
        for method in ["COPY", "MOVE"] {
            let r = req(&s, method, &format!("{root}/ok.txt"))
                .header("Destination", url.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{method} to {bad}");
        }
    }
    let (_, xml) = propfind(&s, &format!("{root}/"), "1", "<d:getetag/>").await;
    assert_eq!(responses(&xml).len(), 2, "the root and ok.txt only: {xml}");
}

/// Names are stored in Unicode NFC (issue 15 item 9): the NFD spelling a Mac sends names the
/// same file or folder, over WebDAV and tus alike, and listings show the NFC spelling.
#[tokio::test]
async fn nfc_and_nfd_spellings_of_a_name_are_one_file() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let (nfc, nfd) = ("caf%C3%A9.txt", "cafe%CC%81.txt");
    assert_eq!(
        put(&s, &format!("{root}/{nfc}"), b"one").await.status(),
        201
    );
    assert_eq!(
        put(&s, &format!("{root}/{nfd}"), b"two").await.status(),
        204
    );
    let g = req(&s, "GET", &format!("{root}/{nfc}"))
        .send()
        .await
        .unwrap();
    assert_eq!(g.text().await.unwrap(), "two");
    let (folder_nfd, folder_nfc) = ("U%CC%88bung", "%C3%9Cbung");
    assert_eq!(
        mkcol(&s, &format!("{root}/{folder_nfd}")).await.status(),
        201
    );
    assert_eq!(
        mkcol(&s, &format!("{root}/{folder_nfc}")).await.status(),
        405
    );
    let r = req(&s, "MOVE", &format!("{root}/{nfc}"))
        .header("Destination", format!("{root}/{folder_nfc}/{nfd}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let meta = [("filename", "Übung/cafe\u{301}.txt")];
    let tus = s
        .admin()
        .tus_upload(&format!("{root}/"), b"three".to_vec(), &meta)
        .await;
    assert_eq!(tus.status, 201);
    let (_, xml) = propfind(&s, &format!("{root}/{folder_nfd}/"), "1", "<d:getetag/>").await;
    let hrefs: Vec<_> = responses(&xml).into_iter().map(href).collect();
    assert_eq!(hrefs.len(), 2, "the folder and one file: {xml}");
    assert!(hrefs[0].ends_with(&format!("/{folder_nfc}/")), "{hrefs:?}");
    assert!(
        hrefs[1].ends_with(&format!("/{folder_nfc}/{nfc}")),
        "{hrefs:?}"
    );
    let g = req(&s, "GET", &format!("{root}/{folder_nfd}/{nfd}"))
        .send()
        .await
        .unwrap();
    assert_eq!(g.text().await.unwrap(), "three");
}

use common::log::captured_log;

#[tokio::test]
async fn a_failed_put_is_500_with_its_cause_logged_once_with_the_request_id() {
    use sqlx::Connection;
    let log = captured_log();
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    assert_eq!(put(&s, &format!("{root}/f.txt"), b"v1").await.status(), 201);
    // A real failure of the metadata database: an overwrite keeps the old content as a
    // version, and the versions table is gone.
    let mut db = sqlx::AnyConnection::connect(&s.state.config().metadata_url)
        .await
        .unwrap();
    sqlx::query("DROP TABLE versions")
        .execute(&mut db)
        .await
        .unwrap();
    let r = req(&s, "PUT", &format!("{root}/f.txt"))
        .header("X-Request-ID", "dav-put-db-1")
        .body("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("versions"),
        "no internals to the client: {body}"
    );
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("ERROR") && (l.contains("dav-put-db-1") || l.contains("versions")))
        .collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(errors[0].contains("dav-put-db-1"), "{}", errors[0]);
    assert!(errors[0].contains("versions"), "{}", errors[0]);
}

#[tokio::test]
async fn a_negative_x_oc_mtime_is_400_and_stores_nothing() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let r = req(&s, "PUT", &format!("{root}/neg.txt"))
        .header("X-OC-Mtime", "-10")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = req(&s, "HEAD", &format!("{root}/neg.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
