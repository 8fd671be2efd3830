//! The JWS signature algorithms (RFC 7518 §3.1, RFC 8037) as a type of our
//! own, so that a major release of the JWT library underneath is not a
//! breaking change of this crate's API.

use std::fmt;
use std::str::FromStr;

/// A JWS signature algorithm, as named in a token header's `alg`.
///
/// [`Validator`](crate::Validator) accepts the asymmetric ones (RSA, RSA-PSS,
/// ECDSA, EdDSA); the HMAC algorithms exist so that configuring one is a clear
/// [`ConfigError`](crate::ConfigError) and a token using one a clear
/// [`TokenError::AlgorithmNotAllowed`](crate::TokenError::AlgorithmNotAllowed):
/// with keys from a published JWKS, the "secret" would be public. `none` is
/// not an algorithm here at all.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::Algorithm;
/// assert_eq!("ES256".parse::<Algorithm>(), Ok(Algorithm::ES256));
/// assert_eq!(Algorithm::PS384.as_str(), "PS384");
/// assert!("none".parse::<Algorithm>().is_err());
/// assert!("es256".parse::<Algorithm>().is_err()); // names are case-sensitive
/// ```
///
/// It serialises as its name, so it can sit in a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
#[allow(clippy::upper_case_acronyms)] // the names as RFC 7518 writes them
pub enum Algorithm {
    /// HMAC with SHA-256: never accepted with a JWKS.
    HS256,
    /// HMAC with SHA-384: never accepted with a JWKS.
    HS384,
    /// HMAC with SHA-512: never accepted with a JWKS.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// EdDSA (Ed25519).
    EdDSA,
}

impl Algorithm {
    /// Every algorithm, in the order of RFC 7518's table: the HMAC family
    /// first (the default allow-list is the rest).
    pub const ALL: [Algorithm; 12] = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    /// The name as written in a JWS header's `alg`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// Whether this is an HMAC algorithm: never usable with keys from a JWKS,
    /// since the "secret" would be public.
    pub const fn is_hmac(self) -> bool {
        matches!(self, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `alg` text is not one of [`Algorithm`]'s names (this includes `none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown JWS algorithm")]
pub struct UnknownAlgorithm;

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Parses an exact, case-sensitive JWS name (RFC 7515 §4.1.1).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.as_str() == name)
            .ok_or(UnknownAlgorithm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>(), Ok(alg));
            assert_eq!(alg.to_string(), alg.as_str());
        }
    }

    #[test]
    fn none_and_other_spellings_are_unknown() {
        for name in ["none", "None", "rs256", "RS256 ", "", "ES512", "HS256\0"] {
            assert_eq!(name.parse::<Algorithm>(), Err(UnknownAlgorithm), "{name:?}");
        }
    }

    #[test]
    fn serialises_as_its_name() {
        for alg in Algorithm::ALL {
            let json = serde_json::to_string(&alg).unwrap();
            assert_eq!(json, format!("\"{}\"", alg.as_str()));
            assert_eq!(serde_json::from_str::<Algorithm>(&json).unwrap(), alg);
        }
        assert!(serde_json::from_str::<Algorithm>("\"none\"").is_err());
    }

    #[test]
    fn only_the_hs_family_is_hmac() {
        let hmac: Vec<_> = Algorithm::ALL.into_iter().filter(|a| a.is_hmac()).collect();
        assert_eq!(hmac, [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]);
    }

    #[test]
    fn the_default_allow_list_is_every_asymmetric_algorithm() {
        let asymmetric: Vec<_> = Algorithm::ALL
            .into_iter()
            .filter(|a| !a.is_hmac())
            .collect();
        assert_eq!(crate::jwks::DEFAULT_ALGORITHMS, asymmetric.as_slice());
    }
}
