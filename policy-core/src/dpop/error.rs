//! [`DpopError`]: why a DPoP proof is refused (RFC 9449 §4.3), one variant
//! per check, each with its stable code.

/// Why the `DPoP` proof of a request is refused (HTTP 401,
/// `WWW-Authenticate: DPoP error="invalid_dpop_proof"`): one variant per
/// check of RFC 9449 §4.3, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// A DPoP-bound token came without a `DPoP` header.
    #[error("the request has no DPoP proof")]
    MissingProof,
    /// More than one `DPoP` header.
    #[error("the request has more than one DPoP proof")]
    MultipleProofs,
    /// The proof is not one well-formed JWT (three base64url segments of
    /// JSON objects, claims of their registered types, within the size limit).
    #[error("the DPoP proof is not a well-formed JWT ({0})")]
    Malformed(&'static str),
    /// The header's `typ` is not `dpop+jwt`.
    #[error("the DPoP proof's typ is not dpop+jwt")]
    WrongType,
    /// The header's `alg` is not an allowed asymmetric algorithm.
    #[error("the DPoP proof's signing algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// The header's `jwk` is missing, private, weak (RSA under 2048 bits,
    /// ROCA), of an unsupported type or curve, or does not fit `alg`.
    #[error("the DPoP proof's key is missing or not acceptable")]
    InvalidKey,
    /// The signature does not verify under the header's `jwk`.
    #[error("the DPoP proof's signature is invalid")]
    InvalidSignature,
    /// A claim the proof must carry (`jti`, `htm`, `htu`, `iat`, `ath`) is absent.
    #[error("the DPoP proof has no `{0}` claim")]
    MissingClaim(&'static str),
    /// `htm` is not the request's method.
    #[error("the DPoP proof was made for another HTTP method")]
    MethodMismatch,
    /// `htu` is not this request's URI under a configured public URL.
    #[error("the DPoP proof was made for another URI")]
    UriMismatch,
    /// `iat` is older than the proof's lifetime.
    #[error("the DPoP proof is too old")]
    TooOld,
    /// `iat` is further ahead of the clock than allowed.
    #[error("the DPoP proof is issued in the future")]
    IssuedInFuture,
    /// `ath` is not the hash of the presented access token: the proof was
    /// made for another token.
    #[error("the DPoP proof was made for another access token")]
    TokenHashMismatch,
    /// The proof's key is not the key the token is bound to (`cnf.jkt`).
    #[error("the DPoP proof's key is not the key the token is bound to")]
    KeyMismatch,
    /// The proof's `jti` was seen before within its lifetime.
    #[error("the DPoP proof was already used")]
    Replayed,
}

impl DpopError {
    /// The stable machine-readable code of this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            DpopError::MissingProof => "dpop_proof_missing",
            DpopError::MultipleProofs => "dpop_multiple_proofs",
            DpopError::Malformed(_) => "dpop_proof_malformed",
            DpopError::WrongType => "dpop_wrong_type",
            DpopError::AlgorithmNotAllowed => "dpop_algorithm_not_allowed",
            DpopError::InvalidKey => "dpop_invalid_key",
            DpopError::InvalidSignature => "dpop_invalid_signature",
            DpopError::MissingClaim(_) => "dpop_missing_claim",
            DpopError::MethodMismatch => "dpop_htm_mismatch",
            DpopError::UriMismatch => "dpop_htu_mismatch",
            DpopError::TooOld => "dpop_proof_too_old",
            DpopError::IssuedInFuture => "dpop_proof_in_future",
            DpopError::TokenHashMismatch => "dpop_ath_mismatch",
            DpopError::KeyMismatch => "dpop_key_mismatch",
            DpopError::Replayed => "dpop_proof_replayed",
        }
    }
}
