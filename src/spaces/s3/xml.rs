//! The two S3 answers `rusty-s3` has no parser for: `ListMultipartUploads` and the etag of
//! an `UploadPartCopy`.

/// The text of the first element `name` of an XML answer.
pub(super) fn element(xml: &str, name: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => inside = e.name().as_ref() == name.as_bytes(),
            Ok(quick_xml::events::Event::Text(t)) if inside => {
                return t.unescape().ok().map(|s| s.into_owned());
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            Ok(_) => inside = false,
        }
    }
}

/// The (key, upload id) pairs of a `ListMultipartUploadsResult`.
pub(super) fn parse_uploads(xml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut key, mut id, mut field) = (String::new(), String::new(), None);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                field = match e.name().as_ref() {
                    b"Key" => Some(0),
                    b"UploadId" => Some(1),
                    _ => None,
                }
            }
            Ok(quick_xml::events::Event::Text(t)) => {
                let text = t.unescape().map(|s| s.into_owned()).unwrap_or_default();
                match field {
                    Some(0) => key = text,
                    Some(1) => id = text,
                    _ => {}
                }
            }
            Ok(quick_xml::events::Event::End(e)) => {
                field = None;
                if e.name().as_ref() == b"Upload" {
                    out.push((std::mem::take(&mut key), std::mem::take(&mut id)));
                }
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return out,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn multipart_upload_listing_is_read_as_key_and_upload_id_pairs() {
        let xml = "<?xml version=\"1.0\"?><ListMultipartUploadsResult><Bucket>b</Bucket>\
            <Upload><Key>k1</Key><UploadId>u1</UploadId><Initiated>x</Initiated></Upload>\
            <Upload><Key>k2</Key><UploadId>u&amp;2</UploadId></Upload></ListMultipartUploadsResult>";
        assert_eq!(
            super::parse_uploads(xml),
            vec![("k1".into(), "u1".into()), ("k2".into(), "u&2".into())]
        );
    }
}
