//! Password hashing with argon2id (PHC strings); verification is constant-time inside argon2.
//!
//! New hashes use 7 MiB of argon2 memory and 5 passes instead of the crate's default 19 MiB
//! and 2: the OWASP Password Storage Cheat Sheet lists m=19456/t=2 and m=7168/t=5 (both p=1)
//! among configurations of equal strength, and the time is about the same (memory × passes).
//! The memory is what the server holds while a password is checked (every uncached Basic
//! login, each link password, the admin's creation at first start), beside everything else it
//! does: at 19 MiB one check was more than a third of the resident memory the server is
//! meant to stay within (issue 13). Verification uses the parameters stored in the hash, so
//! hashes written before keep working (and cost their own memory until they are re-set).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// argon2 memory of a new hash, KiB (see the module doc).
const M_COST_KIB: u32 = 7 * 1024;
/// argon2 passes of a new hash.
const T_COST: u32 = 5;

/// The hasher for new passwords: argon2id with [`M_COST_KIB`] and [`T_COST`], one lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, 1, None)
        .expect("argon2 parameters within the algorithm's bounds");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a password into a PHC string for the users table.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with valid parameters cannot fail")
        .to_string()
}

/// Whether `password` matches the stored PHC string (a malformed hash never matches). The
/// hash's own algorithm and parameters apply.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash_password("s3cret");
        assert!(verify_password(&h, "s3cret"));
        assert!(!verify_password(&h, "s3creT"));
        assert!(!verify_password("not a phc string", "s3cret"));
    }

    #[test]
    fn new_hashes_are_argon2id_with_7_mib_and_5_passes() {
        let h = hash_password("s3cret");
        assert!(h.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{h}");
    }

    #[test]
    fn hashes_with_the_former_default_parameters_still_verify() {
        // The crate's default (m=19456, t=2), which every hash before this change used.
        let salt = SaltString::generate(&mut OsRng);
        let old = Argon2::default()
            .hash_password(b"s3cret", &salt)
            .unwrap()
            .to_string();
        assert!(old.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{old}");
        assert!(verify_password(&old, "s3cret"));
        assert!(!verify_password(&old, "other"));
    }
}
