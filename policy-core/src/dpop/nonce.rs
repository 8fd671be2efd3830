//! Stateless DPoP server nonces (RFC 9449 §8–9): a nonce is the number of
//! its time window and an HMAC-SHA-256 of that number under a server
//! secret, so every replica holding the secret issues and accepts the same
//! nonces without sharing any state. A nonce is accepted in its own window
//! and the next one, so a client that just got one never sees it expire at
//! once.

use std::time::Duration;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Bytes of the HMAC kept in a nonce: 128 bits cannot be guessed.
const TAG_LEN: usize = 16;

/// Issues and checks nonces from one secret.
pub(crate) struct NonceIssuer {
    key: hmac::Key,
    /// The window's length in seconds (at least 1).
    window: i64,
}

impl NonceIssuer {
    /// The shortest secret accepted, in bytes.
    pub const MIN_SECRET_LEN: usize = 32;

    pub fn new(secret: &[u8], window: Duration) -> Self {
        NonceIssuer {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            window: i64::try_from(window.as_secs()).unwrap_or(i64::MAX).max(1),
        }
    }

    /// The nonce of the window `now` (Unix seconds) falls in.
    pub fn current(&self, now: i64) -> String {
        self.nonce_of(now.div_euclid(self.window))
    }

    fn nonce_of(&self, window: i64) -> String {
        let counter = window.to_be_bytes();
        let tag = hmac::sign(&self.key, &counter);
        let mut raw = [0u8; 8 + TAG_LEN];
        let (head, tail) = raw.split_at_mut(8);
        head.copy_from_slice(&counter);
        tail.copy_from_slice(tag.as_ref().get(..TAG_LEN).unwrap_or_default());
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Whether `nonce` was issued for the current window or the one before.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let mut raw = [0u8; 8 + TAG_LEN];
        if nonce.len() > 32 || URL_SAFE_NO_PAD.decode_slice(nonce, &mut raw) != Ok(raw.len()) {
            return false;
        }
        let (counter, tag) = raw.split_at(8);
        let Ok(counter) = <[u8; 8]>::try_from(counter) else {
            return false;
        };
        let window = i64::from_be_bytes(counter);
        let current = now.div_euclid(self.window);
        if window != current && window != current.saturating_sub(1) {
            return false;
        }
        let expected = hmac::sign(&self.key, &counter);
        let expected = expected.as_ref().get(..TAG_LEN).unwrap_or_default();
        verify_slices_are_equal(expected, tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_accepted_in_its_window_and_the_next_only() {
        let issuer = NonceIssuer::new(&[7; 32], Duration::from_secs(60));
        let nonce = issuer.current(6_000);
        assert!(issuer.accepts(&nonce, 6_000));
        assert!(issuer.accepts(&nonce, 6_059));
        assert!(issuer.accepts(&nonce, 6_119), "the next window");
        assert!(!issuer.accepts(&nonce, 6_120), "two windows later");
        assert!(
            !issuer.accepts(&nonce, 5_999),
            "a window before it was issued"
        );
    }

    #[test]
    fn replicas_with_one_secret_agree_and_another_secret_refuses() {
        let one = NonceIssuer::new(&[1; 32], Duration::from_secs(60));
        let replica = NonceIssuer::new(&[1; 32], Duration::from_secs(60));
        let other = NonceIssuer::new(&[2; 32], Duration::from_secs(60));
        let nonce = one.current(1_000);
        assert_eq!(nonce, replica.current(1_000));
        assert!(replica.accepts(&nonce, 1_000));
        assert!(!other.accepts(&nonce, 1_000));
    }

    #[test]
    fn forged_and_malformed_nonces_are_refused() {
        let issuer = NonceIssuer::new(&[3; 32], Duration::from_secs(60));
        let nonce = issuer.current(1_000);
        let mut forged = nonce.clone().into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        assert!(!issuer.accepts(std::str::from_utf8(&forged).unwrap(), 1_000));
        for bad in ["", "!!!", "AAAA", &"A".repeat(100)] {
            assert!(!issuer.accepts(bad, 1_000), "{bad}");
        }
    }
}
