//! End-to-end validation of access tokens minted by a `TestIssuer`: the three
//! permission models, the registered-claim checks, header attacks (`alg: none`,
//! algorithm confusion, `crit`, `jku`/`x5u`/`jwk`), strictly typed claims,
//! every supported algorithm, `AuthInfo`, `authenticate` and `ready`.

use std::time::Duration;

use crate::common::http::{INVALID_TOKEN, is_token68};
use crate::common::jws::{b64url, b64url_decode, decode_json, hmac_token, now, segments};
use crate::common::{API, Challenge, start_issuer};

use bearer_policy::{
    Algorithm, AuthInfo, ConfigError, Denied, Error, Model, Policy, RequestError, TokenError,
    Validator,
};
use policy_core::testing::TestIssuer;
use serde_json::{Value, json};

/// A valid payload for this issuer, as JSON.
fn valid_payload(issuer: &TestIssuer) -> Value {
    issuer
        .token()
        .for_global_api(API)
        .scopes(["read"])
        .payload()
}

/// An HS256 token signed with `secret` as the HMAC key.
fn hs256_token(header: &Value, payload: &Value, secret: &[u8]) -> String {
    hmac_token(256, header, payload, secret)
}

async fn setup() -> (TestIssuer, Validator) {
    // ES256: fast key generation; RSA-specific tests use `rsa_setup`.
    let issuer = start_issuer().await;
    let validator = issuer.validator(API);
    (issuer, validator)
}

async fn rsa_setup() -> (TestIssuer, Validator) {
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    (issuer, validator)
}

async fn rejected(validator: &Validator, token: &str) -> Error {
    match validator.validate(token).await {
        Ok(auth) => panic!("token was accepted: {auth:?}"),
        Err(e) => e,
    }
}

async fn assert_token_error(validator: &Validator, token: &str, expected: TokenError) {
    let error = rejected(validator, token).await;
    assert_eq!(error, Error::InvalidToken(expected), "{token}");
    assert_eq!(error.status().as_u16(), 401);
}

// ===== table-driven cases =====

/// A token and how its validation must end.
struct TokenCase {
    name: &'static str,
    token: String,
    /// `Err((reason, code))`: a 401 `invalid_token` with this reason and code.
    expected: Result<(), (TokenError, &'static str)>,
}

fn accepted(name: &'static str, token: String) -> TokenCase {
    TokenCase {
        name,
        token,
        expected: Ok(()),
    }
}

fn refused(name: &'static str, token: String, reason: TokenError, code: &'static str) -> TokenCase {
    TokenCase {
        name,
        token,
        expected: Err((reason, code)),
    }
}

async fn check_token_cases(validator: &Validator, cases: Vec<TokenCase>) {
    for TokenCase {
        name,
        token,
        expected,
    } in cases
    {
        match (validator.validate(&token).await, expected) {
            (Ok(_), Ok(())) => {}
            (Err(error), Err((reason, code))) => {
                assert_eq!(error, Error::InvalidToken(reason), "{name}: {token}");
                assert_eq!(error.status().as_u16(), 401, "{name}");
                assert_eq!(error.code(), code, "{name}");
                Challenge::StartsWith(INVALID_TOKEN)
                    .check(name, error.www_authenticate(None).as_deref());
            }
            (outcome, expected) => panic!("{name}: {outcome:?}, expected {expected:?}"),
        }
    }
}

// ===== the three permission models =====

#[tokio::test]
async fn valid_global_api_token_validates_and_passes_its_policy() {
    let (issuer, validator) = rsa_setup().await;
    let token = issuer
        .token()
        .for_global_api(API)
        .scopes(["read:products", "write:products"])
        .sign();
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(auth.issuer(), issuer.issuer());
    assert_eq!(auth.sub(), Some("user-1"));
    assert_eq!(auth.client_id(), Some("test-client"));
    assert_eq!(auth.audience(), [API]);
    assert_eq!(auth.scopes(), ["read:products", "write:products"]);
    assert_eq!(auth.organization_id(), None);
    assert_eq!(auth.key_id(), Some(issuer.current_kid().as_str()));
    let policy = Policy::new(Model::GlobalApi).scopes(["read:products"]);
    assert_eq!(policy.decide(&auth, None), Ok(()));
    let both = Policy::new(Model::GlobalApi).scopes(["read:products", "write:products"]);
    assert_eq!(both.decide(&auth, None), Ok(()));
}

#[tokio::test]
async fn valid_org_permission_token_validates_and_passes_its_policy() {
    let (issuer, validator) = setup().await;
    let token = issuer
        .token()
        .for_organization("acme")
        .scopes(["invite:member"])
        .sign();
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(auth.audience(), ["urn:logto:organization:acme"]);
    let policy = Policy::new(Model::OrgPermission).scopes(["invite:member"]);
    assert_eq!(policy.decide(&auth, Some("acme")), Ok(()));
}

#[tokio::test]
async fn valid_org_resource_token_validates_and_passes_its_policy() {
    let (issuer, validator) = setup().await;
    let token = issuer
        .token()
        .for_org_resource(API, "acme")
        .scopes(["read:reports"])
        .sign();
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(auth.organization_id(), Some("acme"));
    let policy = Policy::new(Model::OrgResource).scopes(["read:reports"]);
    assert_eq!(policy.decide(&auth, Some("acme")), Ok(()));
}

// ===== registered claims =====

#[tokio::test]
async fn registered_claims_are_checked_with_the_default_leeway_of_60_seconds() {
    let (issuer, validator) = setup().await;
    let token = || issuer.token().for_global_api(API);
    let mut cases = vec![
        refused(
            "expired two minutes ago",
            token().expires_at(now() - 120).sign(),
            TokenError::Expired,
            "token_expired",
        ),
        accepted(
            "expired ten seconds ago: within the leeway",
            token().expires_at(now() - 10).sign(),
        ),
        refused(
            "no exp",
            token().remove_claim("exp").sign(),
            TokenError::MissingClaim("exp"),
            "missing_claim",
        ),
        refused(
            "no iss",
            token().remove_claim("iss").sign(),
            TokenError::MissingClaim("iss"),
            "missing_claim",
        ),
    ];
    for (name, iss) in [
        ("another issuer", "https://evil.example.com/oidc".to_owned()),
        (
            "the issuer with a trailing slash",
            format!("{}/", issuer.issuer()),
        ),
        ("the issuer in upper case", issuer.issuer().to_uppercase()),
    ] {
        cases.push(refused(
            name,
            token().issuer(iss).sign(),
            TokenError::WrongIssuer,
            "wrong_issuer",
        ));
    }
    check_token_cases(&validator, cases).await;
}

#[tokio::test]
async fn custom_leeway_bounds_how_late_exp_and_how_early_nbf_may_be() {
    let issuer = start_issuer().await;
    let validator = issuer
        .validator_builder(API)
        .leeway(Duration::from_secs(5))
        .build()
        .unwrap();
    let token = || issuer.token().for_global_api(API);
    check_token_cases(
        &validator,
        vec![
            refused(
                "expired 30 s ago, beyond the 5 s leeway",
                token().expires_at(now() - 30).sign(),
                TokenError::Expired,
                "token_expired",
            ),
            refused(
                "valid in two minutes, beyond the leeway",
                token().not_before(now() + 120).sign(),
                TokenError::NotYetValid,
                "token_not_yet_valid",
            ),
            accepted(
                "valid in two seconds, within the leeway",
                token().not_before(now() + 2).sign(),
            ),
        ],
    )
    .await;
}

// ===== policy denials =====

#[tokio::test]
async fn policy_check_denies_with_403_and_the_reason() {
    let (issuer, validator) = setup().await;
    let global_read = Policy::new(Model::GlobalApi).scopes(["read"]);
    // (case, token, policy, organization of the request, denial, exact challenge)
    let cases = [
        (
            "global token for another audience",
            issuer
                .token()
                .for_global_api("https://other.example.com")
                .scopes(["read"])
                .sign(),
            global_read.clone(),
            None,
            Denied::WrongAudience,
            None,
        ),
        (
            "organization resource token for another audience",
            issuer
                .token()
                .for_org_resource("https://other.example.com", "acme")
                .sign(),
            Policy::new(Model::OrgResource),
            Some("acme"),
            Denied::WrongAudience,
            None,
        ),
        (
            "missing scopes are listed",
            issuer.token().for_global_api(API).scopes(["read"]).sign(),
            Policy::new(Model::GlobalApi).scopes(["read", "write", "admin"]),
            None,
            Denied::MissingScopes {
                missing: vec!["write".into(), "admin".into()],
            },
            Some("Bearer error=\"insufficient_scope\", scope=\"write admin\""),
        ),
        (
            "organization token for another organization",
            issuer
                .token()
                .for_organization("acme")
                .scopes(["invite:member"])
                .sign(),
            Policy::new(Model::OrgPermission).scopes(["invite:member"]),
            Some("globex"),
            Denied::OrganizationMismatch,
            None,
        ),
        (
            "organization resource token for another organization",
            issuer
                .token()
                .for_org_resource(API, "acme")
                .scopes(["read"])
                .sign(),
            Policy::new(Model::OrgResource).scopes(["read"]),
            Some("globex"),
            Denied::OrganizationMismatch,
            None,
        ),
        (
            "organization token on a global endpoint",
            issuer
                .token()
                .for_org_resource(API, "acme")
                .scopes(["read"])
                .sign(),
            global_read.clone(),
            None,
            Denied::OrganizationTokenNotAllowed,
            None,
        ),
    ];
    for (name, token, policy, organization, denied, challenge) in cases {
        let auth = validator.validate(&token).await.unwrap();
        assert_eq!(
            policy.decide(&auth, organization),
            Err(denied.clone()),
            "{name}"
        );
        let error = Error::from(denied);
        assert_eq!(error.status().as_u16(), 403, "{name}");
        match challenge {
            Some(exactly) => Challenge::Exactly(exactly.to_owned()),
            None => Challenge::StartsWith("Bearer error=\"insufficient_scope\""),
        }
        .check(name, error.www_authenticate(None).as_deref());
    }
}

// ===== signatures =====

#[tokio::test]
async fn tampered_payload_is_rejected_with_invalid_signature() {
    let (issuer, validator) = setup().await;
    let token = issuer.token().for_global_api(API).scopes(["read"]).sign();
    validator.validate(&token).await.unwrap();
    let (header, payload, signature) = segments(&token);
    let mut claims = decode_json(payload);
    claims["scope"] = json!("read admin");
    claims["sub"] = json!("admin");
    let forged = format!(
        "{header}.{}.{signature}",
        b64url(claims.to_string().as_bytes())
    );
    assert_token_error(&validator, &forged, TokenError::InvalidSignature).await;
}

#[tokio::test]
async fn tampered_signature_is_rejected_with_invalid_signature() {
    let (issuer, validator) = rsa_setup().await;
    let token = issuer.token().for_global_api(API).sign();
    let (header, payload, signature) = segments(&token);
    for index in [0, 100, 255] {
        let mut bytes = b64url_decode(signature);
        bytes[index] ^= 0x01;
        let forged = format!("{header}.{payload}.{}", b64url(&bytes));
        assert_token_error(&validator, &forged, TokenError::InvalidSignature).await;
    }
    // A truncated signature and an empty one.
    let bytes = b64url_decode(signature);
    let forged = format!("{header}.{payload}.{}", b64url(&bytes[..128]));
    assert_token_error(&validator, &forged, TokenError::InvalidSignature).await;
    let forged = format!("{header}.{payload}.");
    assert_token_error(&validator, &forged, TokenError::InvalidSignature).await;
}

#[tokio::test]
async fn token_with_leading_or_trailing_tampering_is_rejected_with_400_or_401() {
    let (issuer, validator) = setup().await;
    let token = issuer.token().for_global_api(API).sign();
    validator.validate(&token).await.unwrap();
    let variants = [
        format!("x{token}"),
        format!("A{token}"),
        format!(".{token}"),
        format!("{token}."),
        format!("{token}A"),
        format!("{token}AAAA"),
        format!("{token}.{}", segments(&token).2),
        format!("{token} "),
        format!(" {token}"),
        token[1..].to_owned(),
        token[..token.len() - 1].to_owned(),
        token[..token.len() - 4].to_owned(),
    ];
    for forged in variants {
        let error = rejected(&validator, &forged).await;
        // A space is no token68: `validate` refuses it as `authenticate` would.
        if is_token68(&forged) {
            assert!(
                matches!(error, Error::InvalidToken(_)),
                "{forged}: {error:?}"
            );
            assert_eq!(error.status().as_u16(), 401, "{forged}");
        } else {
            assert_eq!(
                error,
                Error::InvalidRequest(RequestError::InvalidTokenCharacters),
                "{forged}"
            );
        }
    }
}

// ===== header attacks =====

#[tokio::test]
async fn alg_none_in_any_capitalisation_is_rejected_with_algorithm_not_allowed() {
    let (issuer, validator) = setup().await;
    // Warm the cache so that the refusal is not about keys.
    validator.validate(&issuer.token().sign()).await.unwrap();
    let payload = b64url(valid_payload(&issuer).to_string().as_bytes());
    for alg in ["none", "None", "NONE", "nOnE", "nONE"] {
        for header in [
            json!({"alg": alg, "typ": "at+jwt"}),
            json!({"alg": alg, "typ": "at+jwt", "kid": issuer.current_kid()}),
        ] {
            let forged = format!("{}.{payload}.", b64url(header.to_string().as_bytes()));
            assert_token_error(&validator, &forged, TokenError::AlgorithmNotAllowed).await;
        }
    }
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_der_is_refused() {
    let (issuer, validator) = rsa_setup().await;
    let kid = issuer.current_kid();
    validator.validate(&issuer.token().sign()).await.unwrap();
    let der = issuer.public_key_der(&kid).unwrap();
    let payload = valid_payload(&issuer);
    for header in [
        json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}),
        json!({"alg": "HS256", "typ": "JWT"}),
    ] {
        let forged = hs256_token(&header, &payload, &der);
        assert_token_error(&validator, &forged, TokenError::AlgorithmNotAllowed).await;
    }
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_pem_is_refused() {
    let (issuer, validator) = rsa_setup().await;
    let kid = issuer.current_kid();
    let pem = issuer.public_key_pem(&kid).unwrap();
    let payload = valid_payload(&issuer);
    for secret in [pem.as_bytes(), pem.trim_end().as_bytes()] {
        for header in [
            json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}),
            json!({"alg": "HS256"}),
        ] {
            let forged = hs256_token(&header, &payload, secret);
            assert_token_error(&validator, &forged, TokenError::AlgorithmNotAllowed).await;
        }
    }
}

#[tokio::test]
async fn es256_header_naming_an_rsa_kid_is_rejected_with_algorithm_mismatch() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::RS256, Algorithm::ES256]).await;
    let validator = issuer.validator(API);
    let kids = issuer.kids();
    let (rsa_kid, ec_kid) = (&kids[0], &kids[1]);
    assert_eq!(issuer.algorithm_of(rsa_kid), Some(Algorithm::RS256));
    let payload = valid_payload(&issuer).to_string();
    // A genuine ES256 signature, but the header names the RSA key.
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": rsa_kid}).to_string();
    let forged = issuer.sign_raw(ec_kid, header.as_bytes(), payload.as_bytes());
    assert_token_error(&validator, &forged, TokenError::AlgorithmMismatch).await;
    // And the other way round: RS256 header naming the EC key, signed with the RSA key.
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": ec_kid}).to_string();
    let forged = issuer.sign_raw(rsa_kid, header.as_bytes(), payload.as_bytes());
    assert_token_error(&validator, &forged, TokenError::AlgorithmMismatch).await;
    // The RSA JWK declares RS256, so PS256 is refused for it as well.
    let header = json!({"alg": "PS256", "typ": "at+jwt", "kid": rsa_kid}).to_string();
    let forged = issuer.sign_raw(rsa_kid, header.as_bytes(), payload.as_bytes());
    assert_token_error(&validator, &forged, TokenError::AlgorithmMismatch).await;
    // Sanity: the right header validates.
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": ec_kid}).to_string();
    validator
        .validate(&issuer.sign_raw(ec_kid, header.as_bytes(), payload.as_bytes()))
        .await
        .unwrap();
}

#[tokio::test]
async fn crit_header_is_rejected_with_critical_header() {
    let (issuer, validator) = setup().await;
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("exp")] {
        let token = issuer
            .token()
            .for_global_api(API)
            .header("crit", crit.clone())
            .sign();
        assert_token_error(&validator, &token, TokenError::CriticalHeader).await;
    }
}

#[tokio::test]
async fn jku_x5u_and_jwk_headers_pointing_to_another_issuer_are_ignored() {
    let (issuer, validator) = setup().await;
    let attacker = start_issuer().await;
    // A kid the real issuer does not have, and the kid both issuers use ("es256-1").
    let attacker_kid = attacker.rotate();
    assert!(!issuer.kids().contains(&attacker_kid));
    validator.validate(&issuer.token().sign()).await.unwrap();
    let before = attacker.jwks_requests();
    assert_eq!(before, 0);

    let attacker_jwk = attacker.jwk(&attacker_kid).unwrap();
    let cases: Vec<(&str, Value)> = vec![
        ("jku", json!(attacker.jwks_uri())),
        ("x5u", json!(attacker.jwks_uri())),
        ("jwk", attacker_jwk.clone()),
    ];
    for (name, value) in cases {
        let token = attacker
            .token()
            .issuer(issuer.issuer())
            .for_global_api(API)
            .scopes(["admin"])
            .header(name, value.clone())
            .sign();
        let error = rejected(&validator, &token).await;
        assert_eq!(error, Error::InvalidToken(TokenError::UnknownKey), "{name}");
        assert_eq!(error.status().as_u16(), 401);
    }
    assert_eq!(
        attacker.jwks_requests(),
        0,
        "the validator must never fetch keys named by the token"
    );
}

#[tokio::test]
async fn attacker_key_under_a_known_kid_is_rejected_with_invalid_signature() {
    let (issuer, validator) = setup().await;
    let attacker = start_issuer().await;
    // Both issuers name their first key "es256-1".
    let kid = issuer.current_kid();
    assert_eq!(attacker.current_kid(), kid);
    let token = attacker
        .token()
        .issuer(issuer.issuer())
        .for_global_api(API)
        .header("jku", attacker.jwks_uri())
        .header("jwk", attacker.jwk(&kid).unwrap())
        .sign();
    assert_token_error(&validator, &token, TokenError::InvalidSignature).await;
    assert_eq!(attacker.jwks_requests(), 0);
}

// ===== strictly typed claims =====

#[tokio::test]
async fn claims_of_the_wrong_type_are_rejected_with_invalid_claim() {
    let (issuer, validator) = setup().await;
    let cases = vec![
        refused(
            "exp as a string",
            issuer
                .token()
                .for_global_api(API)
                .claim("exp", (now() + 3600).to_string())
                .sign(),
            TokenError::InvalidClaim("exp"),
            "invalid_claim",
        ),
        refused(
            "aud as an object",
            issuer.token().claim("aud", json!({"aud": API})).sign(),
            TokenError::InvalidClaim("aud"),
            "invalid_claim",
        ),
        refused(
            "scope as a number",
            issuer.token().for_global_api(API).claim("scope", 5).sign(),
            TokenError::InvalidClaim("scope"),
            "invalid_claim",
        ),
    ];
    check_token_cases(&validator, cases).await;
}

#[tokio::test]
async fn scopes_are_read_from_scp_arrays() {
    let (issuer, validator) = setup().await;
    let token = issuer
        .token()
        .for_global_api(API)
        .claim("scp", ["read", "write"])
        .sign();
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(auth.scopes(), ["read", "write"]);
    assert!(auth.has_scope("write"));
    assert_eq!(
        Policy::new(Model::GlobalApi)
            .scopes(["read", "write"])
            .decide(&auth, None),
        Ok(())
    );
    // Merged with `scope`, without duplicates.
    let token = issuer
        .token()
        .for_global_api(API)
        .scope("read admin")
        .claim("scp", ["write", "read"])
        .sign();
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(auth.scopes(), ["read", "admin", "write"]);
}

// ===== algorithms =====

#[tokio::test]
async fn every_supported_algorithm_validates() {
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let issuer = TestIssuer::with_algorithms(&[alg]).await;
        let validator = issuer.validator(API);
        let token = issuer.token().for_global_api(API).scopes(["read"]).sign();
        let (header, _, _) = segments(&token);
        assert_eq!(
            decode_json(header)["alg"],
            json!(serde_json::to_value(alg).unwrap()),
            "{alg:?}"
        );
        let auth = validator
            .validate(&token)
            .await
            .unwrap_or_else(|e| panic!("{alg:?}: {e:?}"));
        assert_eq!(
            Policy::new(Model::GlobalApi)
                .scopes(["read"])
                .decide(&auth, None),
            Ok(()),
            "{alg:?}"
        );
        // Tampering is caught for every algorithm.
        let (h, p, s) = segments(&token);
        let mut sig = b64url_decode(s);
        sig[0] ^= 0x80;
        let forged = format!("{h}.{p}.{}", b64url(&sig));
        assert_token_error(&validator, &forged, TokenError::InvalidSignature).await;
    }
}

#[tokio::test]
async fn algorithm_outside_the_allow_list_is_rejected() {
    let issuer = start_issuer().await;
    let validator = issuer
        .validator_builder(API)
        .algorithms([Algorithm::RS256])
        .build()
        .unwrap();
    let token = issuer.token().for_global_api(API).sign();
    assert_token_error(&validator, &token, TokenError::AlgorithmNotAllowed).await;
}

// ===== AuthInfo =====

#[tokio::test]
async fn auth_info_serialises_to_exactly_the_documented_fields() {
    let (issuer, validator) = setup().await;
    let token = issuer
        .token()
        .for_org_resource(API, "acme")
        .scopes(["read", "write"])
        .subject("alice")
        .client_id("app-1")
        .claim("email", "alice@example.com")
        .sign();
    let auth = validator.validate(&token).await.unwrap();
    let value = serde_json::to_value(&auth).unwrap();
    assert_eq!(
        value,
        json!({
            "sub": "alice",
            "clientId": "app-1",
            "organizationId": "acme",
            "scopes": ["read", "write"],
            "audience": [API],
        })
    );
    // Absent optional claims serialise as null, the keys stay.
    let token = issuer
        .token()
        .for_global_api(API)
        .remove_claim("sub")
        .remove_claim("client_id")
        .sign();
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(
        serde_json::to_value(&auth).unwrap(),
        json!({"sub": null, "clientId": null, "organizationId": null, "scopes": [], "audience": [API]})
    );
}

#[tokio::test]
async fn auth_info_claims_deserialise_into_a_custom_type() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Extra {
        sub: String,
        tenant_plan: String,
        roles: Vec<String>,
        limits: Limits,
    }
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Limits {
        rpm: u32,
    }
    let (issuer, validator) = setup().await;
    let token = issuer
        .token()
        .for_global_api(API)
        .subject("bob")
        .claim("tenant_plan", "pro")
        .claim("roles", ["admin", "billing"])
        .claim("limits", json!({"rpm": 600}))
        .sign();
    let auth: AuthInfo = validator.validate(&token).await.unwrap();
    let extra: Extra = auth.claims().unwrap();
    assert_eq!(
        extra,
        Extra {
            sub: "bob".into(),
            tenant_plan: "pro".into(),
            roles: vec!["admin".into(), "billing".into()],
            limits: Limits { rpm: 600 },
        }
    );
    assert_eq!(auth.claim("tenant_plan"), Some(json!("pro")));
    assert_eq!(auth.claim("absent"), None);
    // A type that does not fit is an error, not a panic.
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Wrong {
        tenant_plan: u64,
    }
    assert!(auth.claims::<Wrong>().is_err());
}

// ===== authenticate =====

#[tokio::test]
async fn authenticate_reads_exactly_one_bearer_header() {
    let (issuer, validator) = setup().await;
    let token = issuer.token().for_global_api(API).sign();
    let bearer = format!("Bearer {token}");
    let expired = format!(
        "Bearer {}",
        issuer
            .token()
            .for_global_api(API)
            .expires_at(now() - 3600)
            .sign()
    );
    /// The error, its status and its challenge.
    type Refusal = (Error, u16, Challenge);
    // (case, the Authorization headers, the subject or the refusal)
    let cases: Vec<(&str, Vec<String>, Result<&str, Refusal>)> = vec![
        ("Bearer", vec![bearer.clone()], Ok("user-1")),
        (
            "lower case and spaces",
            vec![format!("bearer   {token}")],
            Ok("user-1"),
        ),
        ("upper case", vec![format!("BEARER {token}")], Ok("user-1")),
        (
            "no header",
            vec![],
            Err((
                Error::MissingAuthorization,
                401,
                Challenge::Exactly("Bearer".into()),
            )),
        ),
        (
            "Basic scheme",
            vec!["Basic x".into()],
            Err((Error::UnsupportedScheme, 401, Challenge::Any)),
        ),
        (
            "two headers",
            vec![bearer.clone(), bearer.clone()],
            Err((
                Error::InvalidRequest(RequestError::MultipleAuthorizationHeaders),
                400,
                Challenge::StartsWith("Bearer error=\"invalid_request\""),
            )),
        ),
        (
            "an expired token",
            vec![expired],
            Err((
                Error::InvalidToken(TokenError::Expired),
                401,
                Challenge::StartsWith(INVALID_TOKEN),
            )),
        ),
    ];
    for (name, headers, expected) in cases {
        let outcome = validator
            .authenticate(headers.iter().map(String::as_bytes))
            .await;
        match (outcome, expected) {
            (Ok(auth), Ok(sub)) => assert_eq!(auth.sub(), Some(sub), "{name}"),
            (Err(error), Err((expected, status, challenge))) => {
                assert_eq!(error, expected, "{name}");
                assert_eq!(error.status().as_u16(), status, "{name}");
                challenge.check(name, error.www_authenticate(None).as_deref());
            }
            (outcome, expected) => panic!("{name}: {outcome:?}, expected {expected:?}"),
        }
    }
}

// ===== ready and discovery =====

#[tokio::test]
async fn ready_succeeds_while_the_issuer_is_up() {
    let (issuer, validator) = setup().await;
    validator.ready().await.unwrap();
    assert_eq!(issuer.discovery_requests(), 1);
    assert_eq!(issuer.jwks_requests(), 1);
    // Keys are loaded: a token validates without another fetch.
    validator.validate(&issuer.token().sign()).await.unwrap();
    validator.ready().await.unwrap();
    assert_eq!(issuer.jwks_requests(), 1);
}

#[tokio::test]
async fn ready_fails_while_the_issuer_is_stopped() {
    let (issuer, validator) = setup().await;
    issuer.stop().await;
    let error = validator.ready().await.unwrap_err();
    assert!(matches!(error, ConfigError::Fetch { .. }), "{error:?}");
}

#[tokio::test]
async fn discovery_naming_another_issuer_fails_ready_and_validate_with_503() {
    let (issuer, validator) = setup().await;
    issuer.set_discovery_issuer(Some("https://impostor.example.com/oidc".into()));
    let error = validator.ready().await.unwrap_err();
    assert_eq!(
        error,
        ConfigError::IssuerMismatch {
            expected: issuer.issuer(),
            found: "https://impostor.example.com/oidc".into()
        }
    );
    let error = rejected(&validator, &issuer.token().for_global_api(API).sign()).await;
    assert!(matches!(error, Error::KeysUnavailable { .. }), "{error:?}");
    assert_eq!(error.status().as_u16(), 503);
    assert!(error.retry_after().is_some());
    assert_eq!(error.www_authenticate(None), None);
    // A validator that goes straight to `validate` fails the same way.
    let fresh = issuer.validator(API);
    let error = rejected(&fresh, &issuer.token().for_global_api(API).sign()).await;
    assert!(matches!(error, Error::KeysUnavailable { .. }), "{error:?}");
    assert_eq!(error.status().as_u16(), 503);
    // No JWKS was fetched from a mismatching discovery document.
    assert_eq!(issuer.jwks_requests(), 0);
}
