//! The algorithm preferences we offer. A probe makes one short connection, so the
//! default puts the cheap curve25519 exchange first and leaves out the post-quantum
//! hybrid; `--compat legacy` adds what old devices still need.

use std::borrow::Cow;
use std::sync::Arc;

use russh::keys::{Algorithm, EcdsaCurve, HashAlg};
use russh::{Preferred, cipher, client, kex, mac};

use super::banner::CLIENT_ID;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Compat {
    /// Modern algorithms only (what OpenSSH 8.8+ accepts by default).
    #[default]
    Modern,
    /// Also SHA-1 key exchange, ECDH over NIST curves, CBC ciphers, hmac-sha1, ssh-rsa.
    Legacy,
}

/// Extension markers, which must come last in the key exchange list.
const KEX_EXTENSIONS: &[kex::Name] = &[
    kex::EXTENSION_SUPPORT_AS_CLIENT,
    kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
];

const KEX_MODERN: &[kex::Name] = &[
    kex::CURVE25519,
    kex::CURVE25519_PRE_RFC_8731,
    kex::DH_GEX_SHA256,
    kex::DH_G16_SHA512,
    kex::DH_G18_SHA512,
    kex::DH_G14_SHA256,
];

const HOST_KEYS_MODERN: &[Algorithm] = &[
    Algorithm::Ed25519,
    Algorithm::Ecdsa {
        curve: EcdsaCurve::NistP256,
    },
    Algorithm::Ecdsa {
        curve: EcdsaCurve::NistP384,
    },
    Algorithm::Ecdsa {
        curve: EcdsaCurve::NistP521,
    },
    Algorithm::Rsa {
        hash: Some(HashAlg::Sha512),
    },
    Algorithm::Rsa {
        hash: Some(HashAlg::Sha256),
    },
];

const CIPHERS_MODERN: &[cipher::Name] = &[
    cipher::CHACHA20_POLY1305,
    cipher::AES_128_GCM,
    cipher::AES_256_GCM,
    cipher::AES_128_CTR,
    cipher::AES_192_CTR,
    cipher::AES_256_CTR,
];

const MACS_MODERN: &[mac::Name] = &[
    mac::HMAC_SHA256_ETM,
    mac::HMAC_SHA512_ETM,
    mac::HMAC_SHA256,
    mac::HMAC_SHA512,
];

/// What `--compat legacy` adds after the modern choices, so a modern server still gets them.
const KEX_LEGACY: &[kex::Name] = &[
    kex::ECDH_SHA2_NISTP256,
    kex::ECDH_SHA2_NISTP384,
    kex::ECDH_SHA2_NISTP521,
    kex::DH_G14_SHA1,
    kex::DH_GEX_SHA1,
    kex::DH_G1_SHA1,
];
const HOST_KEYS_LEGACY: &[Algorithm] = &[Algorithm::Rsa { hash: None }];
const CIPHERS_LEGACY: &[cipher::Name] = &[
    cipher::AES_128_CBC,
    cipher::AES_192_CBC,
    cipher::AES_256_CBC,
    cipher::TRIPLE_DES_CBC,
];
const MACS_LEGACY: &[mac::Name] = &[mac::HMAC_SHA1_ETM, mac::HMAC_SHA1];

fn list<T: Clone>(parts: &[&[T]]) -> Cow<'static, [T]> {
    Cow::Owned(parts.concat())
}

pub fn preferred(compat: Compat) -> Preferred {
    let (kex, key, cipher, mac): (&[kex::Name], &[Algorithm], &[cipher::Name], &[mac::Name]) =
        match compat {
            Compat::Modern => (&[], &[], &[], &[]),
            Compat::Legacy => (KEX_LEGACY, HOST_KEYS_LEGACY, CIPHERS_LEGACY, MACS_LEGACY),
        };
    Preferred {
        kex: list(&[KEX_MODERN, kex, KEX_EXTENSIONS]),
        key: list(&[HOST_KEYS_MODERN, key]),
        host_key_certificates: Cow::Borrowed(&[]),
        cipher: list(&[CIPHERS_MODERN, cipher]),
        mac: list(&[MACS_MODERN, mac]),
        compression: Cow::Borrowed(&[russh::compression::NONE]),
    }
}

/// `idle_limit` ends sessions a caller stopped waiting for (a stage timed out while
/// russh's background task still holds the connection).
pub fn client_config(preferred: Preferred, idle_limit: std::time::Duration) -> Arc<client::Config> {
    Arc::new(client::Config {
        client_id: russh::SshId::Standard(Cow::Borrowed(CLIENT_ID)),
        preferred,
        nodelay: true,
        inactivity_timeout: Some(idle_limit),
        // The probe's traffic is tiny; small windows keep per-session memory small.
        window_size: 256 * 1024,
        channel_buffer_size: 16,
        ..Default::default()
    })
}

/// Host key algorithms reordered so those known_hosts already holds come first, as
/// OpenSSH does; `None` when the default order already asks for one of them first.
pub fn with_known_first(base: &Preferred, known: &[Algorithm]) -> Option<Preferred> {
    let family = |a: &Algorithm| match a {
        Algorithm::Rsa { .. } => "rsa".to_string(),
        other => other.to_string(),
    };
    let is_known = |a: &Algorithm| known.iter().any(|k| family(k) == family(a));
    if known.is_empty() || base.key.first().is_some_and(is_known) {
        return None;
    }
    let mut keys: Vec<Algorithm> = base.key.iter().filter(|a| is_known(a)).cloned().collect();
    keys.extend(base.key.iter().filter(|a| !is_known(a)).cloned());
    Some(Preferred {
        key: Cow::Owned(keys),
        ..base.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_has_no_sha1_and_no_post_quantum() {
        let p = preferred(Compat::Modern);
        assert_eq!(p.kex[0], kex::CURVE25519);
        assert!(!p.kex.contains(&kex::MLKEM768X25519_SHA256));
        assert!(!p.kex.contains(&kex::DH_G1_SHA1));
        assert!(!p.key.contains(&Algorithm::Rsa { hash: None }));
        let legacy = preferred(Compat::Legacy);
        assert!(
            legacy.kex.contains(&kex::DH_G1_SHA1) && legacy.cipher.contains(&cipher::AES_128_CBC)
        );
    }

    #[test]
    fn known_rsa_keys_move_rsa_first() {
        let base = preferred(Compat::Modern);
        let reordered = with_known_first(&base, &[Algorithm::Rsa { hash: None }]).unwrap();
        assert!(matches!(reordered.key[0], Algorithm::Rsa { .. }));
        assert!(with_known_first(&base, &[Algorithm::Ed25519]).is_none());
    }
}
