//! Replays every fuzz target's committed corpus (`fuzz/corpus/<target>/`) and
//! crash inputs (`fuzz/artifacts/<target>/`) through the very code the
//! targets run (`fuzz/harness.rs`, included below), so that CI, which does
//! not fuzz, still fails on any input that once crashed or broke an oracle.
//!
//! `cargo test --test it -- --ignored fuzz_corpus::generate_seed_corpus` rewrites
//! the hand-made seeds (real tokens of every model and algorithm, real JWKS
//! and discovery documents, known attack tokens); the fuzzer adds the rest.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::common::jws::{B64URL_ALPHABET as B64, b64url, b64url_decode, now};
use bearer_policy::testing::TestIssuer;
use serde_json::{Value, json};

#[allow(dead_code, clippy::all)]
#[path = "../../fuzz/harness.rs"]
mod harness;

/// Every fuzz target, by directory name.
const TARGETS: &[&str] = &[
    "bearer_header",
    "validate_token",
    "validate_signed",
    "jwks_document",
    "pem_keys",
    "discovery_document",
    "jwt_json",
    "dpop_proof",
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The corpus and artifact files of `target`, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs `run` on every input of `target`; fails listing every input that
/// panicked. Requires a non-empty corpus, so a lost corpus fails too.
fn replay(target: &str, run: impl Fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= 5,
        "the corpus of {target} has {} files; run the seed generator",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        if catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
            failures.push(file.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs of {target} failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn every_target_has_a_corpus_and_a_replay() {
    let listed: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for target in &listed {
        assert!(
            TARGETS.contains(&target.as_str()),
            "fuzz target {target} is not replayed"
        );
    }
    for target in TARGETS {
        assert!(
            listed.iter().any(|t| t == target),
            "{target} is not a target"
        );
        assert!(!inputs(target).is_empty(), "{target} has no corpus");
    }
}

#[test]
fn bearer_header_corpus_replays() {
    replay("bearer_header", harness::bearer_header);
}

#[test]
fn validate_token_corpus_replays_and_never_validates() {
    let target = harness::TokenTarget::new();
    replay("validate_token", |data| target.validate_token(data));
}

#[test]
fn validate_signed_corpus_replays() {
    let target = harness::TokenTarget::new();
    replay("validate_signed", |data| target.validate_signed(data));
}

#[test]
fn jwks_document_corpus_replays() {
    replay("jwks_document", harness::jwks_document);
}

#[test]
fn pem_keys_corpus_replays() {
    replay("pem_keys", harness::pem_keys);
}

#[test]
fn discovery_document_corpus_replays() {
    replay("discovery_document", harness::discovery_document);
}

#[test]
fn jwt_json_corpus_replays() {
    replay("jwt_json", harness::jwt_json);
}

#[test]
fn dpop_proof_corpus_replays() {
    replay("dpop_proof", harness::dpop_proof);
}

/// The seeds of `validate_signed` that must validate: the harness really
/// reaches the accepting path (else its oracle would check nothing).
#[test]
fn validate_signed_accepts_its_valid_seeds() {
    let target = harness::TokenTarget::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let validator = target
        .issuer()
        .validator_builder(harness::AUDIENCE)
        .build()
        .unwrap();
    let mut accepted = 0;
    for file in inputs("validate_signed") {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("valid_") {
            continue;
        }
        let data = std::fs::read(&file).unwrap();
        let at = data.iter().position(|&b| b == harness::SEPARATOR).unwrap();
        let issuer = target.issuer().issuer();
        let fill = |bytes: &[u8]| {
            let now = now();
            String::from_utf8(bytes.to_vec())
                .unwrap()
                .replace("$ISS", &issuer)
                .replace("$NOW", &now.to_string())
                .replace("$EXP", &(now + 3600).to_string())
        };
        let (header, payload) = (fill(&data[..at]), fill(&data[at + 1..]));
        let kid = serde_json::from_str::<Value>(&header).unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = target
            .issuer()
            .sign_raw(&kid, header.as_bytes(), payload.as_bytes());
        let outcome = runtime.block_on(validator.validate(&token));
        assert!(outcome.is_ok(), "{name}: {outcome:?}");
        accepted += 1;
    }
    assert!(accepted >= 10, "only {accepted} valid seeds");
}

// ===== seed generator =====

fn write(target: &str, name: &str, data: impl AsRef<[u8]>) {
    let dir = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), data).unwrap();
}

/// `header` and `payload` joined by the `validate_signed` separator.
fn signed_input(header: &str, payload: &str) -> Vec<u8> {
    let mut data = header.as_bytes().to_vec();
    data.push(harness::SEPARATOR);
    data.extend_from_slice(payload.as_bytes());
    data
}

/// Replaces the character at `index` of a base64url segment (from the end
/// when negative) with the next one of the alphabet: a non-canonical
/// encoding when it only changes unused trailing bits.
fn bump_last_char(segment: &str) -> String {
    let mut bytes = segment.as_bytes().to_vec();
    let last = bytes.last_mut().unwrap();
    let index = B64.iter().position(|c| c == last).unwrap();
    *last = B64[(index + 1) % 64];
    String::from_utf8(bytes).unwrap()
}

#[test]
#[ignore = "rewrites the seed corpus in fuzz/corpus; run by hand"]
fn generate_seed_corpus() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let issuer = TestIssuer::with_algorithms(harness::ALGORITHMS).await;
        let kids = issuer.kids();
        assert_eq!(kids.len(), harness::ALGORITHMS.len());
        let api = harness::AUDIENCE;

        // --- real tokens: every key, every model ---
        let mut tokens: Vec<(String, String)> = Vec::new();
        for kid in &kids {
            let models = [
                (
                    "global_api",
                    issuer
                        .token()
                        .kid(kid.clone())
                        .for_global_api(api)
                        .scopes(["api:read", "api:write"])
                        .sign(),
                ),
                (
                    "org_permission",
                    issuer
                        .token()
                        .kid(kid.clone())
                        .for_organization("acme")
                        .scopes(["invite:member"])
                        .sign(),
                ),
                (
                    "org_resource",
                    issuer
                        .token()
                        .kid(kid.clone())
                        .for_org_resource(api, "acme")
                        .scopes(["api:read"])
                        .sign(),
                ),
            ];
            for (model, token) in models {
                tokens.push((format!("valid_{kid}_{model}"), token));
            }
        }
        let es = "es256-1";
        let rs = "rs256-2";
        let payload = issuer.token().for_global_api(api).payload().to_string();
        let raw = |kid: &str, header: &str, payload: &str| {
            issuer.sign_raw(kid, header.as_bytes(), payload.as_bytes())
        };
        let unsigned = |header: &str, payload: &str| {
            format!("{}.{}.", b64url(header.as_bytes()), b64url(payload.as_bytes()))
        };
        let good = issuer.token().kid(es).for_global_api(api).sign();
        let segs: Vec<&str> = good.split('.').collect();
        let mut attacks: Vec<(&str, String)> = vec![
            ("alg_none", unsigned(r#"{"alg":"none"}"#, &payload)),
            ("alg_None", unsigned(r#"{"alg":"None","kid":"es256-1"}"#, &payload)),
            ("alg_NONE", unsigned(r#"{"alg":"NONE"}"#, &payload)),
            ("alg_nOnE_with_sig", format!("{}{}", unsigned(r#"{"alg":"nOnE"}"#, &payload), segs[2])),
            ("hs256_oct_key", issuer.token().kid("hs256-10").for_global_api(api).sign()),
            ("hs256_naming_rsa_kid", raw("hs256-10", r#"{"alg":"HS256","kid":"rs256-2"}"#, &payload)),
            ("hs384_naming_ec_kid", raw("hs256-10", r#"{"alg":"HS384","kid":"es256-1"}"#, &payload)),
            ("es256_naming_rsa_kid", raw(es, r#"{"alg":"ES256","kid":"rs256-2"}"#, &payload)),
            ("rs256_naming_ec_kid", raw(rs, r#"{"alg":"RS256","kid":"es256-1"}"#, &payload)),
            ("eddsa_naming_es384_kid", raw("eddsa-9", r#"{"alg":"EdDSA","kid":"es384-8"}"#, &payload)),
            ("unknown_kid", issuer.token().kid("attacker-kid").sign()),
            ("no_kid", issuer.token().no_kid().for_global_api(api).sign()),
            ("crit", issuer.token().header("crit", ["exp"]).sign()),
            ("crit_empty", issuer.token().header("crit", Vec::<String>::new()).sign()),
            ("jku", issuer.token().header("jku", "http://127.0.0.1:1/jwks").sign()),
            ("x5u", issuer.token().header("x5u", "http://127.0.0.1:1/cert").sign()),
            ("embedded_jwk", issuer.token().header("jwk", issuer.jwk(es).unwrap()).sign()),
            ("x5c", issuer.token().header("x5c", ["MIIB"]).sign()),
            ("dup_alg", raw(es, r#"{"alg":"ES256","kid":"es256-1","alg":"none"}"#, &payload)),
            ("dup_kid", raw(es, r#"{"alg":"ES256","kid":"es256-1","kid":"rs256-2"}"#, &payload)),
            ("dup_escaped_alg", raw(es, r#"{"alg":"ES256","\u0061lg":"ES256","kid":"es256-1"}"#, &payload)),
            ("dup_sub", raw(es, r#"{"alg":"ES256","kid":"es256-1"}"#, &payload.replacen('{', r#"{"sub":"admin","#, 1))),
            ("payload_array", raw(es, r#"{"alg":"ES256","kid":"es256-1"}"#, "[1,2,3]")),
            ("payload_string", raw(es, r#"{"alg":"ES256","kid":"es256-1"}"#, r#""claims""#)),
            ("payload_null", raw(es, r#"{"alg":"ES256","kid":"es256-1"}"#, "null")),
            ("payload_trailing", raw(es, r#"{"alg":"ES256","kid":"es256-1"}"#, &format!("{payload} {{}}"))),
            ("exp_string", issuer.token().claim("exp", "9999999999").sign()),
            ("exp_float", issuer.token().claim("exp", 9_999_999_999.5_f64).sign()),
            ("exp_huge", issuer.token().claim("exp", u64::MAX).sign()),
            ("exp_negative", issuer.token().claim("exp", -1).sign()),
            ("nbf_string", issuer.token().claim("nbf", "0").sign()),
            ("iat_huge", issuer.token().claim("iat", 1e300).sign()),
            ("aud_object", issuer.token().claim("aud", json!({"aud": api})).sign()),
            ("scope_number", issuer.token().claim("scope", 7).sign()),
            ("scope_long", issuer.token().scope("a ".repeat(2000)).sign()),
            ("org_lookalike", issuer.token().for_org_resource(api, "\u{0430}cme").sign()),
            ("padding_signature", format!("{good}==")),
            ("padding_header", format!("{}=.{}.{}", segs[0], segs[1], segs[2])),
            ("std_alphabet", good.replace('-', "+").replace('_', "/")),
            ("trailing_bits_signature", format!("{}.{}.{}", segs[0], segs[1], bump_last_char(segs[2]))),
            ("trailing_bits_payload", format!("{}.{}.{}", segs[0], bump_last_char(segs[1]), segs[2])),
            ("four_segments", format!("{good}.x")),
            ("two_segments", format!("{}.{}", segs[0], segs[1])),
            ("empty_signature", format!("{}.{}.", segs[0], segs[1])),
            ("header_not_json", format!("{}.{}.{}", b64url(b"alg"), segs[1], segs[2])),
            ("wrong_issuer", issuer.token().issuer("https://evil.example").sign()),
            ("expired", issuer.token().expires_at(1).sign()),
        ];
        attacks.sort();
        for (name, token) in &attacks {
            tokens.push(((*name).to_owned(), token.clone()));
        }
        for (name, token) in &tokens {
            write("validate_token", name, token);
        }
        for (name, token) in tokens.iter().step_by(4).take(12) {
            write("bearer_header", &format!("real_{name}"), format!("Bearer {token}"));
        }

        // --- header/payload pairs signed by the validate_signed harness ---
        let header = |alg: &str, kid: &str| format!(r#"{{"alg":"{alg}","kid":"{kid}","typ":"at+jwt"}}"#);
        let base = r#""iss":"$ISS","sub":"user-1","client_id":"app","iat":$NOW,"exp":$EXP"#;
        let global = format!(r#"{{{base},"aud":"{api}","scope":"api:read api:write"}}"#);
        let org = format!(r#"{{{base},"aud":"urn:logto:organization:acme","scope":"invite:member"}}"#);
        let org_resource = format!(r#"{{{base},"aud":["{api}"],"organization_id":"acme","scp":["api:read"]}}"#);
        for (alg, kid) in harness::ALGORITHMS.iter().zip(&kids) {
            let alg = serde_json::to_value(alg).unwrap();
            let alg = alg.as_str().unwrap();
            if alg == "HS256" {
                continue;
            }
            write("validate_signed", &format!("valid_{kid}_global_api"), signed_input(&header(alg, kid), &global));
            write("validate_signed", &format!("valid_{kid}_org_permission"), signed_input(&header(alg, kid), &org));
            write("validate_signed", &format!("valid_{kid}_org_resource"), signed_input(&header(alg, kid), &org_resource));
        }
        write("validate_signed", "valid_nbf_float_exp", signed_input(&header("ES256", es), r#"{"iss":"$ISS","exp":$EXP.75,"nbf":$NOW.5}"#));
        let es_header = header("ES256", es);
        let signed_attacks: &[(&str, String, String)] = &[
            ("alg_none", r#"{"alg":"none","kid":"es256-1"}"#.into(), global.clone()),
            ("alg_hs256_oct_kid", r#"{"alg":"HS256","kid":"hs256-10"}"#.into(), global.clone()),
            ("alg_rs256_oct_kid", r#"{"alg":"RS256","kid":"hs256-10"}"#.into(), global.clone()),
            ("kid_of_other_type", r#"{"alg":"ES256","kid":"rs256-2"}"#.into(), global.clone()),
            ("crit", r#"{"alg":"ES256","kid":"es256-1","crit":["exp"]}"#.into(), global.clone()),
            ("jku", r#"{"alg":"ES256","kid":"es256-1","jku":"http://127.0.0.1:1/jwks"}"#.into(), global.clone()),
            ("dup_alg", r#"{"alg":"ES256","kid":"es256-1","alg":"ES256"}"#.into(), global.clone()),
            ("dup_iss", es_header.clone(), r#"{"iss":"$ISS","iss":"$ISS","exp":$EXP}"#.into()),
            ("dup_exp_escaped", es_header.clone(), r#"{"iss":"$ISS","exp":$EXP,"\u0065xp":$EXP}"#.into()),
            ("exp_string", es_header.clone(), r#"{"iss":"$ISS","exp":"$EXP"}"#.into()),
            ("exp_huge", es_header.clone(), r#"{"iss":"$ISS","exp":1e300}"#.into()),
            ("exp_past", es_header.clone(), r#"{"iss":"$ISS","exp":$NOW}"#.into()),
            ("exp_negative", es_header.clone(), r#"{"iss":"$ISS","exp":-9007199254740993}"#.into()),
            ("exp_u64", es_header.clone(), r#"{"iss":"$ISS","exp":18446744073709551615}"#.into()),
            ("nbf_future", es_header.clone(), r#"{"iss":"$ISS","exp":$EXP,"nbf":$EXP}"#.into()),
            ("iat_string", es_header.clone(), r#"{"iss":"$ISS","exp":$EXP,"iat":"now"}"#.into()),
            ("aud_object", es_header.clone(), r#"{"iss":"$ISS","exp":$EXP,"aud":{"a":1}}"#.into()),
            ("aud_mixed_array", es_header.clone(), r#"{"iss":"$ISS","exp":$EXP,"aud":["a",1]}"#.into()),
            ("scope_number", es_header.clone(), r#"{"iss":"$ISS","exp":$EXP,"scope":5}"#.into()),
            ("scp_string", es_header.clone(), r#"{"iss":"$ISS","exp":$EXP,"scp":"a b"}"#.into()),
            ("org_number", es_header.clone(), r#"{"iss":"$ISS","exp":$EXP,"organization_id":7}"#.into()),
            ("iss_array", es_header.clone(), r#"{"iss":["$ISS"],"exp":$EXP}"#.into()),
            ("iss_other", es_header.clone(), r#"{"iss":"$ISS/","exp":$EXP}"#.into()),
            ("no_exp", es_header.clone(), r#"{"iss":"$ISS"}"#.into()),
            ("payload_array", es_header.clone(), "[1]".into()),
            ("payload_deep", es_header.clone(), format!(r#"{{"iss":"$ISS","exp":$EXP,"x":{}1{}}}"#, "[".repeat(200), "]".repeat(200))),
            ("no_separator", String::new(), global.clone()),
        ];
        for (name, header, payload) in signed_attacks {
            let data = if header.is_empty() { payload.as_bytes().to_vec() } else { signed_input(header, payload) };
            write("validate_signed", name, data);
        }

        // --- JSON of headers and payloads ---
        for (name, token) in tokens.iter().filter(|(n, _)| n.starts_with("valid_")).step_by(3) {
            let mut parts = token.split('.');
            let decode = b64url_decode;
            write("jwt_json", &format!("{name}_header"), decode(parts.next().unwrap()));
            write("jwt_json", &format!("{name}_payload"), decode(parts.next().unwrap()));
        }
        for (name, _, payload) in signed_attacks {
            write("jwt_json", &format!("payload_{name}"), payload);
        }
        for (name, json) in [
            ("header_crit", r#"{"alg":"RS256","crit":["b64"],"b64":false}"#),
            ("header_dup", r#"{"alg":"RS256","alg":"none"}"#),
            ("header_alg_number", r#"{"alg":256}"#),
            ("header_jwk", r#"{"alg":"RS256","jwk":{"kty":"oct","k":"AA"}}"#),
            ("payload_scp_mixed", r#"{"scp":["a",["b"]],"scope":"c  d"}"#),
            ("payload_escapes", r#"{"\u0069ss":"x","s\u0075b":"\ud83d\ude00"}"#),
            ("payload_bad_surrogate", r#"{"sub":"\ud800"}"#),
            ("payload_numbers", r#"{"exp":-0,"nbf":1.0e2,"iat":9007199254740993}"#),
        ] {
            write("jwt_json", name, json);
        }

        // --- JWKS documents ---
        let jwks = issuer.jwks_json();
        write("jwks_document", "testissuer_all_algorithms", jwks.to_string());
        for kid in &kids {
            let jwk = issuer.jwk(kid).unwrap();
            write("jwks_document", &format!("single_{kid}"), json!({"keys": [jwk]}).to_string());
        }
        let es_jwk = issuer.jwk(es).unwrap();
        let rs_jwk = issuer.jwk(rs).unwrap();
        let with = |mut jwk: Value, key: &str, value: Value| {
            jwk[key] = value;
            jwk
        };
        let docs: Vec<(&str, Value)> = vec![
            ("empty_keys", json!({"keys": []})),
            ("no_keys", json!({"other": []})),
            ("keys_not_array", json!({"keys": {}})),
            ("duplicate_kids", json!({"keys": [es_jwk.clone(), with(issuer.jwk("es384-8").unwrap(), "kid", json!(es))]})),
            ("unsupported_types", json!({"keys": [{"kty":"oct","k":"c2VjcmV0"}, {"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}, {"kty":"OKP","crv":"X25519","x":"AA"}, {"kty":"foo"}]})),
            ("encryption_key", json!({"keys": [with(es_jwk.clone(), "use", json!("enc"))]})),
            ("alg_mismatch", json!({"keys": [with(es_jwk.clone(), "alg", json!("RS256"))]})),
            ("alg_unknown", json!({"keys": [with(es_jwk.clone(), "alg", json!("XX999"))]})),
            ("ec_point_off_curve", json!({"keys": [with(es_jwk.clone(), "y", json!(b64url(&[1u8; 32])))]})),
            ("ec_short_coordinate", json!({"keys": [with(es_jwk.clone(), "x", json!("AAAA"))]})),
            ("rsa_small_modulus", json!({"keys": [with(rs_jwk.clone(), "n", json!(b64url(&[0xc5u8; 64])))]})),
            ("rsa_even_exponent", json!({"keys": [with(rs_jwk.clone(), "e", json!("AAE"))]})),
            ("rsa_padded_b64", json!({"keys": [with(rs_jwk.clone(), "e", json!("AQAB=="))]})),
            ("key_ops_and_x5c", json!({"keys": [with(with(rs_jwk.clone(), "key_ops", json!(["verify"])), "x5c", json!(["MIIB"]))]})),
            ("mixed_good_and_bad", json!({"keys": [7, null, "x", {"kty":"RSA"}, es_jwk.clone()]})),
            // Past the per-set cap of usable keys, and without kid.
            ("many_keys", json!({"keys": (0..300).map(|i| with(es_jwk.clone(), "kid", json!(format!("k{i}")))).chain((0..50).map(|_| with(es_jwk.clone(), "kid", Value::Null))).collect::<Vec<_>>()})),
            ("oversized_rsa_moduli", json!({"keys": [
                with(rs_jwk.clone(), "n", json!(b64url(&[0xffu8; 1025]))),
                with(rs_jwk.clone(), "n", json!(b64url(&[0xffu8; 2048]))),
                with(rs_jwk.clone(), "n", json!(b64url(&[0xc5u8; 128]))),
                with(rs_jwk.clone(), "e", json!(b64url(&[0xffu8; 8]))),
            ]})),
            ("private_and_ambiguous", json!({"keys": [with(es_jwk.clone(), "d", json!("AQAB")), es_jwk.clone(), with(issuer.jwk("es384-8").unwrap(), "kid", json!(es)), with(es_jwk.clone(), "key_ops", json!(["encrypt"]))]})),
        ];
        for (name, doc) in docs {
            write("jwks_document", name, doc.to_string());
        }
        write("jwks_document", "not_json", "<html>502 Bad Gateway</html>");
        write("jwks_document", "dup_keys_member", format!(r#"{{"keys":[],"keys":[{es_jwk}]}}"#));

        // --- PEM public keys (the committed seeds also hold keys of types we
        // refuse, made with `openssl genpkey`: X25519, secp256k1, RSA-1024) ---
        let pems: Vec<String> = kids.iter().filter_map(|kid| issuer.public_key_pem(kid)).collect();
        for (kid, pem) in kids.iter().zip(&pems) {
            write("pem_keys", &format!("single_{kid}"), pem.clone());
        }
        write("pem_keys", "bundle_all", pems.concat());
        write("pem_keys", "bad_base64", "-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n");
        write("pem_keys", "private_label", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");

        // --- discovery documents ---
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(issuer.discovery_url())
            .send()
            .await
            .unwrap();
        let served = response.text().await.unwrap();
        let real = served.replace(&issuer.issuer(), harness::DISCOVERY_ISSUER);
        write("discovery_document", "testissuer", &real);
        let disc = |issuer: &str, jwks: &str| format!(r#"{{"issuer":"{issuer}","jwks_uri":"{jwks}"}}"#);
        let ours = harness::DISCOVERY_ISSUER;
        for (name, doc) in [
            ("minimal", disc(ours, "https://issuer.example/oidc/jwks")),
            ("other_issuer", disc("https://evil.example/oidc", "https://evil.example/jwks")),
            ("issuer_trailing_slash", disc("https://issuer.example/oidc/", "https://issuer.example/oidc/jwks")),
            ("jwks_file_url", disc(ours, "file:///etc/passwd")),
            ("jwks_relative", disc(ours, "/oidc/jwks")),
            ("jwks_no_host", disc(ours, "http:///jwks")),
            ("jwks_http_loopback", disc(ours, "http://127.0.0.1:3001/oidc/jwks")),
            ("no_jwks_uri", format!(r#"{{"issuer":"{ours}"}}"#)),
            ("jwks_number", format!(r#"{{"issuer":"{ours}","jwks_uri":5}}"#)),
            ("dup_issuer", format!(r#"{{"issuer":"https://evil.example","issuer":"{ours}","jwks_uri":"https://issuer.example/oidc/jwks"}}"#)),
            ("array", "[]".to_owned()),
        ] {
            write("discovery_document", name, doc);
        }
    });
}
