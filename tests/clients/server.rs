//! The one place these tests touch the shared `TestServer` helper (tests/common/), plus the
//! three WebDAV roots of SPEC §1 built from its base URL.

use crate::common::{ADMIN_PASSWORD, TestServer};
use crate::dav::Dav;

/// A WebDAV root of SPEC §1.
#[derive(Debug, Clone, Copy)]
pub enum Root {
    /// `/remote.php/dav/spaces/{sid}/`
    Spaces,
    /// `/remote.php/dav/files/{user}/`
    Files,
    /// `/remote.php/webdav/`
    Webdav,
}

/// A started spacedav (stops on drop) with its admin account and personal space.
pub struct Server {
    inner: TestServer,
    space_id: String,
}

impl Server {
    pub async fn start() -> Server {
        Self::start_with(|_| {}).await
    }

    /// Starts with a configuration tweak (e.g. CORS origins, a small tus chunk size).
    pub async fn start_with(f: impl FnOnce(&mut spacedav::config::Config)) -> Server {
        let inner = TestServer::start_with(f).await;
        let space_id = inner.admin_space().await.to_string();
        Server { inner, space_id }
    }

    /// `http://127.0.0.1:port`, no trailing slash.
    pub fn base(&self) -> String {
        self.inner.base.trim_end_matches('/').to_string()
    }

    pub fn user(&self) -> &str {
        "admin"
    }

    pub fn password(&self) -> &str {
        ADMIN_PASSWORD
    }

    /// The admin's personal space id (`{storage-id}${uuid}`).
    pub fn space_id(&self) -> &str {
        &self.space_id
    }

    /// Absolute URL (trailing `/`) of a WebDAV root on this server.
    pub fn root(&self, root: Root) -> String {
        self.root_at(&self.base(), root)
    }

    /// The same root reached through another base (a recording proxy).
    pub fn root_at(&self, base: &str, root: Root) -> String {
        let base = base.trim_end_matches('/');
        match root {
            Root::Spaces => format!("{base}/remote.php/dav/spaces/{}/", self.space_id()),
            Root::Files => format!("{base}/remote.php/dav/files/{}/", self.user()),
            Root::Webdav => format!("{base}/remote.php/webdav/"),
        }
    }

    /// Create a (non-admin) user.
    pub async fn add_user(&self, name: &str, password: &str) {
        self.inner.add_user(name, password).await;
    }

    /// A WebDAV reader as the admin, to check what the server stored.
    pub fn dav(&self) -> Dav {
        Dav::new(self.user(), self.password())
    }
}
