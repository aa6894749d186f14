//! The recovery workloads of issue 11, spacedav only (no peer has an oCIS trash bin or name
//! search): deleting a folder of `listing_files` files into the trash and restoring it, and a
//! name search over ten copies of that folder (100,000 files in the full run). The folders
//! are copies of the PROPFIND listing folder, made by server-side COPY during setup.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use http::{Method, StatusCode};
use url::Url;

use crate::client;
use crate::dav::DavTarget;
use crate::workloads::{Metric, time_ms};

/// The folder deleted and restored (a copy of the listing folder).
const TRASH_DIR: &str = "bench-trash/";
/// The folder searched: `SEARCH_COPIES` copies of the listing folder.
const SEARCH_DIR: &str = "bench-search/";
const SEARCH_COPIES: u64 = 10;
/// A name in every copy (`populate` names files `f00000.bin`…), so a search finds
/// `SEARCH_COPIES` of them.
const SEARCH_TERM: &str = "f00042";

async fn send_ok(
    d: &DavTarget,
    method: &str,
    url: &Url,
    headers: &[(&str, String)],
    body: Option<String>,
    ok: &[StatusCode],
) -> Result<(http::HeaderMap, String)> {
    let mut conn = d.ep.conn();
    let mut req = conn.request(Method::from_bytes(method.as_bytes())?, url);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = req.body(match body {
        Some(b) => client::full(b),
        None => client::empty(),
    })?;
    let resp = conn.send(req).await?;
    let (_, headers, body) = client::expect(resp, method, ok).await?;
    Ok((headers, client::text(body).await?))
}

/// Untimed: the folders the recovery workloads use, copied from the listing folder.
pub async fn setup(d: &DavTarget, listing: &Url) -> Result<()> {
    let copy = |to: Url| async move {
        let dest = [("Destination", to.to_string())];
        send_ok(d, "COPY", listing, &dest, None, &[StatusCode::CREATED]).await
    };
    copy(d.base.join(TRASH_DIR)?).await?;
    let search = d.base.join(SEARCH_DIR)?;
    send_ok(d, "MKCOL", &search, &[], None, &[StatusCode::CREATED]).await?;
    for i in 0..SEARCH_COPIES {
        copy(search.join(&format!("c{i}/"))?).await?;
    }
    Ok(())
}

/// The trash bin URL of the space `d.base` is the root of.
fn trash_bin(d: &DavTarget) -> Result<Url> {
    let bin = d
        .base
        .as_str()
        .replace("/dav/spaces/", "/dav/spaces/trash-bin/");
    Ok(Url::parse(&bin)?)
}

/// DELETE of the folder (into the trash), then MOVE of it back from the trash.
pub async fn trash(d: &DavTarget) -> Result<Vec<Metric>> {
    let dir = d.base.join(TRASH_DIR)?;
    let start = Instant::now();
    send_ok(d, "DELETE", &dir, &[], None, &[StatusCode::NO_CONTENT]).await?;
    let deleted = start.elapsed();

    let bin = trash_bin(d)?;
    let (_, listing) = send_ok(
        d,
        "PROPFIND",
        &bin,
        &[("Depth", "1".into())],
        Some(
            "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
             xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:trashbin-original-location/>\
             </d:prop></d:propfind>"
                .into(),
        ),
        &[StatusCode::MULTI_STATUS],
    )
    .await?;
    let name = TRASH_DIR.trim_end_matches('/');
    let key = listing
        .split("<d:response>")
        .find(|b| b.contains(&format!("location>{name}<")))
        .and_then(|b| b.split("<d:href>").nth(1)?.split("</d:href>").next())
        .and_then(|h| h.trim_end_matches('/').rsplit('/').next())
        .context("the deleted folder is not in the trash")?
        .to_string();

    let item = bin.join(&key)?;
    let start = Instant::now();
    let dest = [("Destination", dir.to_string())];
    send_ok(d, "MOVE", &item, &dest, None, &[StatusCode::CREATED]).await?;
    let restored = start.elapsed();
    Ok(vec![
        time_ms("delete ms", deleted),
        time_ms("restore ms", restored),
    ])
}

/// One `REPORT oc:search-files` over every file of the space.
pub async fn search(d: &DavTarget, listing_files: u64) -> Result<Vec<Metric>> {
    let url = d.base.join("/remote.php/dav/spaces/")?;
    let body = format!(
        "<?xml version=\"1.0\"?><oc:search-files xmlns:d=\"DAV:\" \
         xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:fileid/><d:getcontentlength/>\
         <d:getetag/></d:prop><oc:search><oc:pattern>{SEARCH_TERM}</oc:pattern>\
         <oc:limit>200</oc:limit></oc:search></oc:search-files>"
    );
    let start = Instant::now();
    let (headers, text) = send_ok(
        d,
        "REPORT",
        &url,
        &[],
        Some(body),
        &[StatusCode::MULTI_STATUS],
    )
    .await?;
    let took = start.elapsed();
    // The listing folder itself holds one more match when it is there.
    let hits = text.matches("<d:response>").count() as u64;
    if listing_files > 42 && hits < SEARCH_COPIES {
        bail!("search found {hits} files, expected at least {SEARCH_COPIES}");
    }
    client::header(&headers, "content-range")?;
    Ok(vec![time_ms("search ms", took)])
}
