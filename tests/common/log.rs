//! What a test binary logs, for the tests that check a cause is logged once with its request id.

use std::sync::{Arc, Mutex, OnceLock};

/// Everything this test binary logs, captured by a process-wide subscriber (tests run in
/// parallel; each finds its own lines by request id).
pub fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Capture(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
        buf
    })
    .clone()
}

/// The request `request_id` failed, and its cause (naming `what`) was logged exactly once, at
/// error, with the request id.
pub fn assert_failure_logged_once(log: &Mutex<Vec<u8>>, request_id: &str, what: &str) {
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(request_id) && l.contains("ERROR"))
        .collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(errors[0].contains(what), "{}", errors[0]);
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
