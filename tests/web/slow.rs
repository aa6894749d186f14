//! Slow and silent clients (issue 15 item 4): the header, idle and connection-cap rules of
//! `src/router/server.rs`, seen from raw TCP connections. Every wait has a generous limit that
//! is the failure signal, never a timed assertion.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::TestServer;

/// Far longer than any configured timeout here: reaching it means the server never acted.
const GENEROUS: Duration = Duration::from_secs(30);

/// Wait until the server closes `stream` (end of stream or reset), reading whatever it sends.
async fn closed_by_server(stream: &mut tokio::net::tcp::OwnedReadHalf) -> bool {
    let mut buf = [0u8; 4096];
    let until_closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(GENEROUS, until_closed).await.is_ok()
}

/// One header byte every 100 ms, until the server hangs up.
fn trickle(mut w: tokio::net::tcp::OwnedWriteHalf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if w.write_all(b"GET /status.php HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .is_err()
        {
            return;
        }
        while w.write_all(b"a").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off_after_the_header_timeout() {
    let s = TestServer::start_with(|c| {
        c.limits.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let (mut r, w) = TcpStream::connect(s.addr).await.unwrap().into_split();
    let writer = trickle(w);
    assert!(
        closed_by_server(&mut r).await,
        "still open after {GENEROUS:?}"
    );
    writer.abort();
}

#[tokio::test]
async fn a_silent_or_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let s = TestServer::start_with(|c| c.limits.idle_timeout = Duration::from_secs(1)).await;
    let (mut silent, _w) = TcpStream::connect(s.addr).await.unwrap().into_split();
    assert!(
        closed_by_server(&mut silent).await,
        "a silent connection stays open"
    );
    // After a complete exchange the keep-alive connection idles, and is closed too.
    let mut used = TcpStream::connect(s.addr).await.unwrap();
    used.write_all(b"GET /status.php HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    used.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let (mut r, _w) = used.into_split();
    assert!(
        closed_by_server(&mut r).await,
        "an idle keep-alive stays open"
    );
}

#[tokio::test]
async fn beyond_the_connection_cap_a_client_waits_and_is_served_when_a_slot_frees() {
    let s = TestServer::start_with(|c| {
        c.limits.max_connections = 1;
        c.limits.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let (mut hog, _w) = TcpStream::connect(s.addr).await.unwrap().into_split();
    // The hog holds the only slot until the idle timeout closes it; the client waits meanwhile.
    let res = s
        .client()
        .get(s.url("/status.php"))
        .timeout(GENEROUS)
        .send()
        .await
        .expect("served once the silent connection was closed");
    assert_eq!(res.status(), 200);
    assert!(closed_by_server(&mut hog).await);
}

/// A client that stops reading a large answer (a slow-read attack) loses its connection after
/// `server.body_stall_timeout`: with a cap of one connection, the next client is served only
/// once that connection is gone.
#[tokio::test]
async fn a_client_that_stops_reading_its_answer_is_disconnected() {
    use base64::Engine;
    let s = TestServer::start_with(|c| {
        c.limits.max_connections = 1;
        c.limits.idle_timeout = Duration::from_secs(1);
        c.limits.body_stall_timeout = Duration::from_secs(1);
    })
    .await;
    let sid = s.admin_space().await;
    let path = format!("/remote.php/dav/spaces/{sid}/big.bin");
    let admin = crate::common::ADMIN_PASSWORD;
    {
        let uploader = reqwest::Client::new();
        let put = uploader
            .put(s.url(&path))
            .basic_auth("admin", Some(admin))
            .body(vec![7u8; 48 << 20])
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201);
    }
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("admin:{admin}"));
    let mut reader = TcpStream::connect(s.addr).await.unwrap();
    let get = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\r\n");
    reader.write_all(get.as_bytes()).await.unwrap();
    // The reader never reads; the next client waits for its slot.
    let res = s
        .client()
        .get(s.url("/status.php"))
        .timeout(GENEROUS)
        .send()
        .await
        .expect("served once the non-reading client was disconnected");
    assert_eq!(res.status(), 200);
    drop(reader);
}

/// The slow-client scenario of issue 15: 2,000 connections trickling their headers hold 2,000
/// connections, and a normal client still gets `status.php` at once (its limit is generous;
/// it fails only if the server stopped serving).
#[tokio::test]
async fn two_thousand_header_tricklers_do_not_stop_a_normal_client() {
    raise_open_file_limit(10_000);
    let s = TestServer::start().await;
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..2000 {
        let (r, w) = TcpStream::connect(s.addr).await.unwrap().into_split();
        writers.push(trickle(w));
        readers.push(r);
    }
    let res = s
        .client()
        .get(s.url("/status.php"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("status.php answered while 2,000 clients trickle");
    assert_eq!(res.status(), 200);
    let alive = writers.iter().filter(|w| !w.is_finished()).count();
    assert_eq!(alive, 2000, "the tricklers were all still connected");
    writers.iter().for_each(|w| w.abort());
}

/// Client and server sockets of the test share this process's descriptors.
fn raise_open_file_limit(want: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    if now.current.is_some_and(|c| c < want) {
        let current = now.maximum.map_or(Some(want), |m| Some(m.min(want)));
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current,
                maximum: now.maximum,
            },
        )
        .unwrap();
    }
}
