//! The JSON-RPC message of one MCP request, read once before rmcp sees it:
//! what it acts on (the tool, prompt or resource its method names), with
//! every ambiguity refused, so that this layer and rmcp cannot disagree
//! about which item is called.
//!
//! One pass over the bytes with serde_json (the parser rmcp uses, so the same
//! escapes, numbers and trailing-data rules), through visitors that refuse a
//! repeated key in any object at any depth: serde_json keeps the last of two
//! keys while a derived struct may keep the first, so `{"name":"list_items",
//! "name":"create_item"}` could be decided on one tool and run as the other.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use http::HeaderMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::declaration::McpKind;

/// The `params` key that names what a method acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKey {
    Name,
    Uri,
    TaskId,
}

/// The methods this layer decides: the kind of item each acts on, and the
/// key naming it (also what `Mcp-Name` repeats).
const DECIDED: &[(&str, McpKind, NameKey)] = &[
    ("tools/call", McpKind::Tool, NameKey::Name),
    ("prompts/get", McpKind::Prompt, NameKey::Name),
    ("resources/read", McpKind::Resource, NameKey::Uri),
    ("resources/subscribe", McpKind::Resource, NameKey::Uri),
    ("resources/unsubscribe", McpKind::Resource, NameKey::Uri),
    ("resources/directory/read", McpKind::Resource, NameKey::Uri),
];

/// `completion/complete` of a prompt's argument (`params.ref` of type
/// `ref/prompt`) is decided as `prompts/get` of that prompt: completions may
/// reveal what the prompt would. A `ref/resource` names a resource template,
/// which no policy protects.
const COMPLETE: &str = "completion/complete";
const PROMPT_REFERENCE: &str = "ref/prompt";

/// Methods whose `Mcp-Name` repeats a key without being decided here.
const NAMED: &[(&str, NameKey)] = &[
    ("tasks/get", NameKey::TaskId),
    ("tasks/update", NameKey::TaskId),
    ("tasks/cancel", NameKey::TaskId),
];

/// The 2026 transport revision's headers, which repeat the body's method and
/// name for intermediaries: they must agree with the body.
const MCP_METHOD: &str = "mcp-method";
const MCP_NAME: &str = "mcp-name";

/// Why an MCP message is refused before rmcp sees it: 413 when too large,
/// 400 otherwise. Each has a stable [`code`](MessageError::code); the body is
/// `{"error": "<message>", "code": "<code>"}` as for every refusal.
///
#[doc = include_str!("../docs/mcp_messages.md")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The body is larger than the configured limit (413).
    #[error("the message is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read to its end.
    #[error("the message could not be read")]
    Unreadable,
    /// The body is not one JSON value (or has data after it).
    #[error("the message is not JSON")]
    NotJson,
    /// A JSON-RPC batch: each element could call another tool.
    #[error("JSON-RPC batches are not accepted")]
    Batch,
    /// The body is JSON but not an object.
    #[error("the message is not a JSON-RPC object")]
    NotAnObject,
    /// An object names a key twice: parsers disagree on which one counts.
    #[error("the message repeats a key in an object")]
    DuplicateKey,
    /// The method differs from a decided one (`tools/call`, `prompts/get`,
    /// `resources/read`, ...) only in letter case.
    #[error("the method name is ambiguous")]
    AmbiguousMethod,
    /// A `tools/call` or `prompts/get` without a string `params.name`, a
    /// resource method without a string `params.uri`, or a method that is
    /// not a string.
    #[error("the call does not name its tool, prompt or resource")]
    MalformedCall,
    /// A resource URI that is not a protected one but could be read as one:
    /// it differs only in letter case, percent-encoding, a fragment or
    /// trailing slashes, or has a `.` or `..` path segment.
    #[error("the resource URI is ambiguous")]
    AmbiguousUri,
    /// An `Mcp-Method` or `Mcp-Name` header is repeated, unreadable, or
    /// disagrees with the body.
    #[error("the Mcp-Method or Mcp-Name header disagrees with the message")]
    HeaderMismatch,
}

impl MessageError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MessageError::TooLarge { .. } => "message_too_large",
            MessageError::Unreadable => "message_unreadable",
            MessageError::NotJson => "message_not_json",
            MessageError::Batch => "batch_not_accepted",
            MessageError::NotAnObject => "message_not_an_object",
            MessageError::DuplicateKey => "duplicate_key",
            MessageError::AmbiguousMethod => "ambiguous_method",
            MessageError::MalformedCall => "malformed_call",
            MessageError::AmbiguousUri => "ambiguous_resource_uri",
            MessageError::HeaderMismatch => "mcp_header_mismatch",
        }
    }

    /// 413 for [`TooLarge`](MessageError::TooLarge), 400 for the rest.
    pub fn status(&self) -> http::StatusCode {
        match self {
            MessageError::TooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }
}

/// What the message calls, as far as policies care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    /// A method acting on one item (a request or a notification alike):
    /// `tools/call` of a tool, `prompts/get` of a prompt, `resources/read`
    /// (or subscribe, unsubscribe, directory/read) of a resource URI.
    Item(McpKind, String),
    /// Any other message: initialize, lists, notifications, responses to the
    /// server's requests. Authentication alone decides it.
    Other,
}

/// Reads `body` as one JSON-RPC message and says what it calls, checking
/// the `Mcp-Method` and `Mcp-Name` headers against it.
pub(crate) fn read(body: &[u8], headers: &HeaderMap) -> Result<Call, MessageError> {
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    match first {
        Some(b'[') => return Err(MessageError::Batch),
        Some(b'{') => {}
        // Bounded like the rest: the body is within the limit.
        _ => {
            return Err(match serde_json::from_slice::<de::IgnoredAny>(body) {
                Ok(_) => MessageError::NotAnObject,
                Err(_) => MessageError::NotJson,
            });
        }
    }
    let mut parser = serde_json::Deserializer::from_slice(body);
    let envelope = parser
        .deserialize_map(EnvelopeVisitor)
        .map_err(|error| classify(&error))?;
    parser.end().map_err(|_| MessageError::NotJson)?;
    let call = envelope.call()?;
    check_headers(headers, &envelope)?;
    Ok(call)
}

/// A duplicate key is reported with this text, to tell it from bad JSON.
const DUPLICATE: &str = "duplicate key";

fn classify(error: &serde_json::Error) -> MessageError {
    if error.is_data() && error.to_string().starts_with(DUPLICATE) {
        MessageError::DuplicateKey
    } else {
        MessageError::NotJson
    }
}

/// The fields of the message this layer reads; the rest is only checked for
/// duplicate keys.
#[derive(Default)]
struct Envelope {
    method: Option<Text>,
    params: Params,
}

#[derive(Default)]
enum Params {
    #[default]
    Absent,
    /// An object: the keys that name an item, if it has them.
    Object(Names),
    /// An array or a scalar: no MCP method takes one.
    NotAnObject,
}

/// `params.name`, `params.uri`, `params.taskId`, and `params.ref` (with
/// its `type` and `name`) of a completion.
#[derive(Default)]
struct Names {
    name: Option<Text>,
    uri: Option<Text>,
    task_id: Option<Text>,
    r#type: Option<Text>,
    reference: Option<Box<Params>>,
}

/// A string value, or the fact that the value was of another JSON type.
enum Text {
    String(String),
    NotAString,
}

impl Envelope {
    fn method(&self) -> Result<Option<&str>, MessageError> {
        match &self.method {
            None => Ok(None),
            Some(Text::String(method)) => Ok(Some(method)),
            Some(Text::NotAString) => Err(MessageError::MalformedCall),
        }
    }

    fn param(&self, key: NameKey) -> Option<&Text> {
        let Params::Object(names) = &self.params else {
            return None;
        };
        match key {
            NameKey::Name => names.name.as_ref(),
            NameKey::Uri => names.uri.as_ref(),
            NameKey::TaskId => names.task_id.as_ref(),
        }
    }

    fn call(&self) -> Result<Call, MessageError> {
        let Some(method) = self.method()? else {
            // A response to the server's request (sampling, elicitation).
            return Ok(Call::Other);
        };
        if method == COMPLETE {
            return self.completion();
        }
        let Some(&(_, kind, key)) = DECIDED.iter().find(|(decided, ..)| *decided == method) else {
            // rmcp matches method names exactly; a case variant of one this
            // layer decides would be a guess about the client's intent.
            if DECIDED
                .iter()
                .map(|(decided, ..)| *decided)
                .chain([COMPLETE])
                .any(|decided| method.eq_ignore_ascii_case(decided))
            {
                return Err(MessageError::AmbiguousMethod);
            }
            return Ok(Call::Other);
        };
        match self.param(key) {
            Some(Text::String(name)) => Ok(Call::Item(kind, name.clone())),
            _ => Err(MessageError::MalformedCall),
        }
    }

    /// A completion of a prompt's argument, as `prompts/get` of the prompt.
    fn completion(&self) -> Result<Call, MessageError> {
        let Params::Object(names) = &self.params else {
            return Ok(Call::Other);
        };
        let Some(Params::Object(reference)) = names.reference.as_deref() else {
            return Ok(Call::Other);
        };
        match (&reference.r#type, &reference.name) {
            (Some(Text::String(kind)), Some(Text::String(name))) if kind == PROMPT_REFERENCE => {
                Ok(Call::Item(McpKind::Prompt, name.clone()))
            }
            (Some(Text::String(kind)), _) if kind == PROMPT_REFERENCE => {
                Err(MessageError::MalformedCall)
            }
            // rmcp reads the tag exactly: a variant is not a prompt to it.
            (Some(Text::String(kind)), _) if kind.eq_ignore_ascii_case(PROMPT_REFERENCE) => {
                Err(MessageError::MalformedCall)
            }
            _ => Ok(Call::Other),
        }
    }
}

/// The `params` key whose value `Mcp-Name` repeats for `method`, if any.
fn named_by(method: &str) -> Option<NameKey> {
    DECIDED
        .iter()
        .map(|&(decided, _, key)| (decided, key))
        .chain(NAMED.iter().copied())
        .find(|(named, _)| *named == method)
        .map(|(_, key)| key)
}

/// `Mcp-Method` and `Mcp-Name`, when sent, must each be one header equal to
/// the body's method and to what it names (compared after JSON decoding):
/// `params.name` of a tool call or a prompt, `params.uri` of a resource,
/// `params.taskId` of a task. A method naming nothing takes no `Mcp-Name`.
fn check_headers(headers: &HeaderMap, envelope: &Envelope) -> Result<(), MessageError> {
    if let Some(value) = single_header(headers, MCP_METHOD)?
        && envelope.method()? != Some(value)
    {
        return Err(MessageError::HeaderMismatch);
    }
    if let Some(value) = single_header(headers, MCP_NAME)? {
        let value = decode_header_value(value)?;
        let key = envelope.method()?.and_then(named_by);
        match key.and_then(|key| envelope.param(key)) {
            Some(Text::String(name)) if *name == *value => {}
            _ => return Err(MessageError::HeaderMismatch),
        }
    }
    Ok(())
}

/// A header value as the transport revision writes it: as is, or
/// `=?base64?<standard base64 of UTF-8>?=` when it cannot be a header as is.
fn decode_header_value(value: &str) -> Result<Cow<'_, str>, MessageError> {
    use base64::Engine as _;
    let Some(encoded) = value
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    else {
        return Ok(Cow::Borrowed(value));
    };
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Cow::Owned)
        .ok_or(MessageError::HeaderMismatch)
}

fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, MessageError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(MessageError::HeaderMismatch);
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| MessageError::HeaderMismatch)
}

/// A key, borrowed from the input when it holds no escape.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Remembers an object's keys, refusing one seen before.
#[derive(Default)]
struct Keys<'de>(HashSet<Cow<'de, str>>);

impl<'de> Keys<'de> {
    fn next<A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<Option<Cow<'de, str>>, A::Error> {
        let Some(Key(key)) = map.next_key::<Key<'de>>()? else {
            return Ok(None);
        };
        if !self.0.insert(key.clone()) {
            return Err(de::Error::custom(DUPLICATE));
        }
        Ok(Some(key))
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
        let mut keys = Keys::default();
        let mut envelope = Envelope::default();
        while let Some(key) = keys.next(&mut map)? {
            match key.as_ref() {
                "method" => envelope.method = Some(map.next_value_seed(TextSeed)?),
                "params" => envelope.params = map.next_value_seed(ParamsSeed)?,
                _ => map.next_value_seed(Unique)?,
            }
        }
        Ok(envelope)
    }
}

/// A string, or any other value checked for duplicates.
struct TextSeed;

impl<'de> DeserializeSeed<'de> for TextSeed {
    type Value = Text;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Text, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<Text, E> {
        Ok(Text::String(v.to_owned()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Text, E> {
        Ok(Text::NotAString)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Text, E> {
        Ok(Text::NotAString)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Text, E> {
        Ok(Text::NotAString)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Text, E> {
        Ok(Text::NotAString)
    }
    fn visit_unit<E>(self) -> Result<Text, E> {
        Ok(Text::NotAString)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
        UniqueVisitor.visit_seq(seq).map(|()| Text::NotAString)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
        UniqueVisitor.visit_map(map).map(|()| Text::NotAString)
    }
}

/// `params`: its `name` when it is an object.
struct ParamsSeed;

impl<'de> DeserializeSeed<'de> for ParamsSeed {
    type Value = Params;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Params, D::Error> {
        deserializer.deserialize_any(ParamsVisitor)
    }
}

struct ParamsVisitor;

impl<'de> Visitor<'de> for ParamsVisitor {
    type Value = Params;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
        let mut keys = Keys::default();
        let mut names = Names::default();
        while let Some(key) = keys.next(&mut map)? {
            let slot = match key.as_ref() {
                "name" => &mut names.name,
                "uri" => &mut names.uri,
                "taskId" => &mut names.task_id,
                "type" => &mut names.r#type,
                "ref" => {
                    names.reference = Some(Box::new(map.next_value_seed(ParamsSeed)?));
                    continue;
                }
                _ => {
                    map.next_value_seed(Unique)?;
                    continue;
                }
            };
            *slot = Some(map.next_value_seed(TextSeed)?);
        }
        Ok(Params::Object(names))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Params, A::Error> {
        UniqueVisitor.visit_seq(seq).map(|()| Params::NotAnObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<Params, E> {
        Ok(Params::NotAnObject)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Params, E> {
        Ok(Params::NotAnObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Params, E> {
        Ok(Params::NotAnObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Params, E> {
        Ok(Params::NotAnObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Params, E> {
        Ok(Params::NotAnObject)
    }
    fn visit_unit<E>(self) -> Result<Params, E> {
        // `"params": null`: as absent, which is how serde reads it into an `Option`.
        Ok(Params::Absent)
    }
}

/// Any JSON value, kept nowhere, with no key twice in any of its objects
/// (serde's `IgnoredAny` skips objects without looking at their keys).
struct Unique;

impl<'de> DeserializeSeed<'de> for Unique {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Unique)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Keys::default();
        while keys.next(&mut map)?.is_some() {
            map.next_value_seed(Unique)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(body: &str) -> Result<Call, MessageError> {
        read(body.as_bytes(), &HeaderMap::new())
    }

    #[test]
    fn a_tool_call_names_its_tool_after_json_decoding() {
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"create\u005fitem","arguments":{"name":"x"}}}"#;
        assert_eq!(
            call(body),
            Ok(Call::Item(McpKind::Tool, "create_item".into()))
        );
        let notification =
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"list_items"}}"#;
        assert_eq!(
            call(notification),
            Ok(Call::Item(McpKind::Tool, "list_items".into()))
        );
        assert_eq!(
            call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            Ok(Call::Other)
        );
        assert_eq!(
            call(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#),
            Ok(Call::Other)
        );
    }

    #[test]
    fn every_ambiguity_is_refused() {
        let cases = [
            (
                r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}}]"#,
                MessageError::Batch,
            ),
            (
                r#"{"method":"tools/call","params":{"name":"a","name":"b"}}"#,
                MessageError::DuplicateKey,
            ),
            (
                r#"{"method":"tools/call","params":{"name":"a","na\u006de":"b"}}"#,
                MessageError::DuplicateKey,
            ),
            (
                r#"{"method":"tools/list","method":"tools/call","params":{"name":"b"}}"#,
                MessageError::DuplicateKey,
            ),
            (
                r#"{"method":"tools/call","params":{"name":"a","arguments":{"x":1,"x":2}}}"#,
                MessageError::DuplicateKey,
            ),
            (
                r#"{"method":"Tools/Call","params":{"name":"a"}}"#,
                MessageError::AmbiguousMethod,
            ),
            (
                r#"{"method":"tools/call","params":{"name":7}}"#,
                MessageError::MalformedCall,
            ),
            (
                r#"{"method":"tools/call","params":["a"]}"#,
                MessageError::MalformedCall,
            ),
            (r#"{"method":"tools/call"}"#, MessageError::MalformedCall),
            (r#"{"method":["tools/call"]}"#, MessageError::MalformedCall),
            (
                r#"{"method":"tools/call","params":{"name":"a"}} {}"#,
                MessageError::NotJson,
            ),
            (
                r#"{"method":"tools/call","params":{"name":"a"}"#,
                MessageError::NotJson,
            ),
            ("name=list_items", MessageError::NotJson),
            ("", MessageError::NotJson),
            ("1", MessageError::NotAnObject),
            ("\"tools/call\"", MessageError::NotAnObject),
        ];
        for (body, expected) in cases {
            assert_eq!(call(body), Err(expected), "{body}");
        }
    }

    #[test]
    fn mcp_headers_must_agree_with_the_body() {
        let body =
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_items"}}"#;
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.append(*name, http::HeaderValue::from_static(value));
            }
            read(body, &headers)
        };
        assert!(with(&[("mcp-method", "tools/call"), ("mcp-name", "list_items")]).is_ok());
        // `list_items` in the encoded form.
        assert!(with(&[("mcp-name", "=?base64?bGlzdF9pdGVtcw==?=")]).is_ok());
        for bad in [
            &[("mcp-method", "tools/list")][..],
            &[("mcp-name", "create_item")],
            &[("mcp-name", "list_items"), ("mcp-name", "list_items")],
            &[("mcp-method", "Tools/Call")],
            &[("mcp-name", "=?base64?Y3JlYXRlX2l0ZW0=?=")],
            &[("mcp-name", "=?base64?not base64?=")],
        ] {
            assert_eq!(with(bad), Err(MessageError::HeaderMismatch), "{bad:?}");
        }
    }

    #[test]
    fn prompts_and_resources_are_named_like_tools() {
        let get = r#"{"jsonrpc":"2.0","id":1,"method":"prompts\u002fget","params":{"name":"item_summary"}}"#;
        assert_eq!(
            call(get),
            Ok(Call::Item(McpKind::Prompt, "item_summary".into()))
        );
        for method in [
            "resources/read",
            "resources/subscribe",
            "resources/unsubscribe",
            "resources/directory/read",
        ] {
            let body = format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{{"uri":"items://li\u0073t"}}}}"#
            );
            assert_eq!(
                call(&body),
                Ok(Call::Item(McpKind::Resource, "items://list".into())),
                "{method}"
            );
        }
        let cases = [
            (
                r#"{"method":"prompts/get","params":{"name":"a","name":"b"}}"#,
                MessageError::DuplicateKey,
            ),
            (
                r#"{"method":"resources/read","params":{"uri":"a://x","ur\u0069":"a://y"}}"#,
                MessageError::DuplicateKey,
            ),
            (
                r#"{"method":"Prompts/Get","params":{"name":"a"}}"#,
                MessageError::AmbiguousMethod,
            ),
            (
                r#"{"method":"RESOURCES/read","params":{"uri":"a://x"}}"#,
                MessageError::AmbiguousMethod,
            ),
            (
                r#"{"method":"resources/read","params":{"name":"a://x"}}"#,
                MessageError::MalformedCall,
            ),
            (
                r#"{"method":"resources/read","params":{"uri":["a://x"]}}"#,
                MessageError::MalformedCall,
            ),
            (
                r#"{"method":"prompts/get","params":{"uri":"a"}}"#,
                MessageError::MalformedCall,
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(call(body), Err(expected), "{body}");
        }
    }

    #[test]
    fn mcp_name_repeats_what_the_method_names() {
        let with = |body: &str, name: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert("mcp-name", http::HeaderValue::from_static(name));
            read(body.as_bytes(), &headers)
        };
        let read_list =
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"items://list"}}"#;
        assert!(with(read_list, "items://list").is_ok());
        let get =
            r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p","uri":"q"}}"#;
        assert!(with(get, "p").is_ok());
        let task = r#"{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"taskId":"t1"}}"#;
        assert!(with(task, "t1").is_ok());
        for (body, name) in [
            (read_list, "items://secret"),
            (get, "q"),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"items://secret","name":"items://list"}}"#,
                "items://list",
            ),
            (r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, "x"),
        ] {
            assert_eq!(
                with(body, name),
                Err(MessageError::HeaderMismatch),
                "{body}"
            );
        }
    }

    #[test]
    fn a_completion_of_a_prompt_argument_is_decided_as_the_prompt() {
        let complete = |reference: &str| {
            call(&format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{{"ref":{reference},"argument":{{"name":"a","value":""}}}}}}"#
            ))
        };
        assert_eq!(
            complete(r#"{"type":"ref/prompt","name":"suggest_name"}"#),
            Ok(Call::Item(McpKind::Prompt, "suggest_name".into()))
        );
        assert_eq!(
            complete(r#"{"name":"suggest_name","type":"ref\/prompt"}"#),
            Ok(Call::Item(McpKind::Prompt, "suggest_name".into()))
        );
        assert_eq!(
            complete(r#"{"type":"ref/resource","uri":"items://{id}"}"#),
            Ok(Call::Other)
        );
        for (reference, expected) in [
            (r#"{"type":"ref/prompt"}"#, MessageError::MalformedCall),
            (
                r#"{"type":"ref/prompt","name":1}"#,
                MessageError::MalformedCall,
            ),
            (
                r#"{"type":"Ref/Prompt","name":"a"}"#,
                MessageError::MalformedCall,
            ),
            (
                r#"{"type":"ref/prompt","name":"a","name":"b"}"#,
                MessageError::DuplicateKey,
            ),
            (
                r#"{"type":"ref/resource","type":"ref/prompt","name":"b"}"#,
                MessageError::DuplicateKey,
            ),
        ] {
            assert_eq!(complete(reference), Err(expected), "{reference}");
        }
        assert_eq!(
            call(r#"{"method":"Completion/Complete","params":{}}"#),
            Err(MessageError::AmbiguousMethod)
        );
    }

    /// Every variant once: the match fails to compile when one is added, so
    /// that it is added here, and so to the table test below.
    fn every_message_error() -> Vec<MessageError> {
        use MessageError::*;
        let all = vec![
            TooLarge { limit: 1 },
            Unreadable,
            NotJson,
            Batch,
            NotAnObject,
            DuplicateKey,
            AmbiguousMethod,
            MalformedCall,
            AmbiguousUri,
            HeaderMismatch,
        ];
        for error in &all {
            match error {
                TooLarge { .. }
                | Unreadable
                | NotJson
                | Batch
                | NotAnObject
                | DuplicateKey
                | AmbiguousMethod
                | MalformedCall
                | AmbiguousUri
                | HeaderMismatch => {}
            }
        }
        all
    }

    /// The table of refused messages on `MessageError` names every code
    /// with its status.
    #[test]
    fn every_message_code_is_in_the_table_with_its_status() {
        let table = include_str!("../docs/mcp_messages.md");
        let rows: Vec<&str> = table
            .lines()
            .skip_while(|line| !line.starts_with("| message | status | `code` |"))
            .take_while(|line| line.starts_with('|'))
            .collect();
        assert!(rows.len() > 5, "the table was not found: {rows:?}");
        for error in every_message_error() {
            let code = format!("`{}`", error.code());
            let row = rows
                .iter()
                .find(|row| row.contains(&code))
                .unwrap_or_else(|| {
                    panic!("{code} ({error:?}) is missing from docs/mcp_messages.md")
                });
            assert!(
                row.contains(&format!("| {} |", error.status().as_u16())),
                "{code}: docs/mcp_messages.md gives another status than {}: {row}",
                error.status()
            );
        }
    }
}
