//! Authentication: who is asking. Passwords (argon2), Basic and Bearer credentials, and the
//! transfer tokens of `/data/{token}`.

pub mod password;

pub use password::{hash_password, verify_password};
