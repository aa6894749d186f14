//! The status document (`/status.php`, and `core.status` of the capabilities) and the version
//! this server reports everywhere.

use super::value::{Value, map, s};

/// The legacy ownCloud 10 version clients gate features on (`>= 10`).
pub const LEGACY_VERSION: &str = "10.11.0.0";
/// The legacy version string.
pub const LEGACY_VERSION_STRING: &str = "10.11.0";
/// Edition reported everywhere.
pub const EDITION: &str = "Community";
/// Product name reported everywhere.
pub const PRODUCT: &str = "spacedav";
/// The real version of this server.
pub const PRODUCT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `status` object: `/status.php` and `capabilities.core.status`.
pub fn status() -> Value {
    map([
        ("installed", Value::Flag(true)),
        ("maintenance", Value::Flag(false)),
        ("needsDbUpgrade", Value::Flag(false)),
        ("version", s(LEGACY_VERSION)),
        ("versionstring", s(LEGACY_VERSION_STRING)),
        ("edition", s(EDITION)),
        ("productname", s(PRODUCT)),
        ("product", s(PRODUCT)),
        ("productversion", s(PRODUCT_VERSION)),
    ])
}
