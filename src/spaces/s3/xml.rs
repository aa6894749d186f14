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

/// An open multipart upload.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct OpenUpload {
    pub key: String,
    pub id: String,
    /// When it was started, if the store said so readably.
    pub initiated: Option<std::time::SystemTime>,
}

/// The open uploads of a `ListMultipartUploadsResult`.
pub(super) fn parse_uploads(xml: &str) -> Vec<OpenUpload> {
    let mut out = Vec::new();
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut key, mut id, mut at, mut field) = (String::new(), String::new(), None, None);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                field = match e.name().as_ref() {
                    b"Key" => Some(0),
                    b"UploadId" => Some(1),
                    b"Initiated" => Some(2),
                    _ => None,
                }
            }
            Ok(quick_xml::events::Event::Text(t)) => {
                let text = t.unescape().map(|s| s.into_owned()).unwrap_or_default();
                match field {
                    Some(0) => key = text,
                    Some(1) => id = text,
                    Some(2) => {
                        at = text
                            .parse::<jiff::Timestamp>()
                            .ok()
                            .map(std::time::SystemTime::from)
                    }
                    _ => {}
                }
            }
            Ok(quick_xml::events::Event::End(e)) => {
                field = None;
                if e.name().as_ref() == b"Upload" {
                    out.push(OpenUpload {
                        key: std::mem::take(&mut key),
                        id: std::mem::take(&mut id),
                        initiated: at.take(),
                    });
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
    fn multipart_upload_listing_is_read_as_key_upload_id_and_start() {
        let xml = "<?xml version=\"1.0\"?><ListMultipartUploadsResult><Bucket>b</Bucket>\
            <Upload><Key>k1</Key><UploadId>u1</UploadId>\
            <Initiated>2026-12-01T16:00:00.000Z</Initiated></Upload>\
            <Upload><Key>k2</Key><UploadId>u&amp;2</UploadId></Upload></ListMultipartUploadsResult>";
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_140_800);
        assert_eq!(
            super::parse_uploads(xml),
            vec![
                super::OpenUpload {
                    key: "k1".into(),
                    id: "u1".into(),
                    initiated: Some(at)
                },
                super::OpenUpload {
                    key: "k2".into(),
                    id: "u&2".into(),
                    initiated: None
                },
            ]
        );
    }
}
