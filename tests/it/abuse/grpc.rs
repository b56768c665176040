//! gRPC cases: for every RPC (public and internal) on the mesh gRPC port, its base request
//! with one field made bad at a time, malformed protobuf, unknown fields, duplicate and
//! concurrent creates of one id; and methods that do not exist. Sent as raw bytes, so what
//! prost would refuse to encode (a non-UTF-8 string) still reaches the server.
use futures::StreamExt;
use futures::future::join_all;
use prost::Message;
use prost::bytes::{Buf, BufMut};
use prost_reflect::{Kind, Value};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

use super::base::Base;
use super::contracts::Rpc;
use super::judge::{Expect, Outcome};
use super::values;
use super::{CONCURRENCY, DEADLINE, MAX_CASES_PER_RPC};

/// One case: its bodies are sent at once (one, or a group of duplicate creates).
pub struct Case<'a> {
    pub rpc: &'a Rpc,
    /// The gRPC path called: the RPC's, or a method that does not exist.
    pub path: String,
    pub kind: String,
    pub bodies: Vec<Vec<u8>>,
    /// The string field set to one of `values::strings()`, and which value.
    pub string: Option<(String, &'static str)>,
    pub expect: Expect,
}

/// Copies of one create that race each other.
const DUPLICATES: usize = 20;

/// A field number no request message has.
const UNKNOWN_FIELD: u32 = 4242;

/// The cases of every RPC of `app`, and how many were left out by the per-RPC cap.
pub fn cases<'a>(rpcs: &'a [Rpc], app: &str, base: &Base) -> (Vec<Case<'a>>, usize) {
    let (mut all, mut capped) = (Vec::new(), 0);
    for rpc in rpcs.iter().filter(|r| r.app == app) {
        let mut cases = of(rpc, base);
        capped += cases.len().saturating_sub(MAX_CASES_PER_RPC);
        cases.truncate(MAX_CASES_PER_RPC);
        all.extend(cases);
    }
    (all, capped)
}

/// Marks every method name sent that the mesh does not serve (none may become a label).
pub const NO_SUCH_METHOD: &str = "AbuseNoSuchMethod";

/// Methods that do not exist, on each service of `app` and on a service that does not:
/// UNIMPLEMENTED, and counted under one label.
pub fn unknown_methods<'a>(rpcs: &'a [Rpc], app: &str) -> Vec<Case<'a>> {
    let mut services: Vec<(&Rpc, String)> = Vec::new();
    for rpc in rpcs.iter().filter(|r| r.app == app) {
        let service = rpc.path.rsplit_once('/').unwrap().0.to_owned();
        if !services.iter().any(|(_, s)| *s == service) {
            services.push((rpc, service));
        }
    }
    let first = services[0].0;
    services.push((
        first,
        format!("/mediamesh.{app}.v1.{NO_SUCH_METHOD}Service"),
    ));
    let mut cases = Vec::new();
    for (rpc, service) in services {
        for n in 0..5 {
            cases.push(Case {
                rpc,
                path: format!("{service}/{NO_SUCH_METHOD}{n}"),
                kind: "a method that does not exist".into(),
                bodies: vec![Vec::new()],
                string: None,
                expect: Expect::Refused("only the contracts' methods are served"),
            });
        }
    }
    cases
}

fn of<'a>(rpc: &'a Rpc, base: &Base) -> Vec<Case<'a>> {
    let mut cases = Vec::new();
    let undecodable = Expect::InvalidArgument(values::UNDECODABLE);
    let mut case = |kind: String, body: Vec<u8>, string: Option<(String, &'static str)>| {
        let expect = match &string {
            Some((field, value)) => values::expect(field, value),
            None if kind.contains("garbage")
                || kind.contains("wrong wire type")
                || kind.contains("non-UTF-8") =>
            {
                undecodable
            }
            None => Expect::NoFault,
        };
        cases.push(Case {
            rpc,
            path: rpc.path.clone(),
            kind,
            bodies: vec![body],
            string,
            expect,
        })
    };
    case(
        "valid base request".into(),
        base.message(rpc).encode_to_vec(),
        None,
    );
    assert!(
        rpc.input.get_field(UNKNOWN_FIELD).is_none(),
        "{} has field {UNKNOWN_FIELD}",
        rpc.path
    );
    for field in rpc.input.fields() {
        let name = field.name();
        match field.kind() {
            Kind::String => {
                for (kind, value) in values::strings() {
                    let mut message = base.message(rpc);
                    message.set_field(&field, Base::string(&field, value));
                    let tag = Some((name.to_owned(), kind));
                    case(format!("{name}={kind}"), message.encode_to_vec(), tag);
                }
                let mut message = base.message(rpc);
                message.clear_field(&field);
                let mut body = message.encode_to_vec();
                length_delimited(&mut body, field.number(), values::NON_UTF8);
                case(format!("{name}=non-UTF-8 bytes"), body, None);
                // A string field sent as a varint: the wrong wire type.
                let mut body = base.message(rpc).encode_to_vec();
                key(&mut body, field.number(), 0);
                varint(&mut body, 5);
                case(format!("{name}=varint (wrong wire type)"), body, None);
            }
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                for (kind, value) in values::ints() {
                    let mut message = base.message(rpc);
                    message.set_field(&field, Value::I32(value));
                    case(format!("{name}={kind}"), message.encode_to_vec(), None);
                }
                let mut body = base.message(rpc).encode_to_vec();
                length_delimited(&mut body, field.number(), b"abc");
                case(format!("{name}=bytes (wrong wire type)"), body, None);
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                for (kind, value) in [("-1", -1), ("i64::MIN", i64::MIN), ("i64::MAX", i64::MAX)] {
                    let mut message = base.message(rpc);
                    message.set_field(&field, Value::I64(value));
                    case(format!("{name}={kind}"), message.encode_to_vec(), None);
                }
            }
            _ => {}
        }
    }
    if let Some(field) = rpc
        .input
        .fields()
        .find(|f| matches!(f.kind(), Kind::String))
    {
        let mut message = base.message(rpc);
        let huge = "a".repeat(values::OVER_MESSAGE_LIMIT);
        message.set_field(&field, Base::string(&field, huge));
        let kind = format!("{}={}", field.name(), values::OVER_MESSAGE_KIND);
        let tag = Some((field.name().to_owned(), values::OVER_MESSAGE_KIND));
        case(kind, message.encode_to_vec(), tag);
    }
    let mut body = base.message(rpc).encode_to_vec();
    key(&mut body, UNKNOWN_FIELD, 0);
    varint(&mut body, 7);
    case(
        format!("unknown field #{UNKNOWN_FIELD} (varint)"),
        body,
        None,
    );
    let mut body = base.message(rpc).encode_to_vec();
    length_delimited(&mut body, UNKNOWN_FIELD + 1, &[b'x'; 1000]);
    case(
        format!("unknown field #{} (bytes)", UNKNOWN_FIELD + 1),
        body,
        None,
    );
    case("garbage: 32 x 0xFF".into(), vec![0xff; 32], None);
    case(
        "garbage: truncated length".into(),
        vec![0x0a, 0x64, b'a'],
        None,
    );
    case("garbage: field number 0".into(), vec![0x00, 0x01], None);
    case("garbage: 64 pseudo-random bytes".into(), noise(64), None);
    if let Some(id) = rpc.created_id() {
        let message = base.message(rpc);
        let body = message.encode_to_vec();
        cases.push(Case {
            rpc,
            path: rpc.path.clone(),
            kind: format!(
                "{DUPLICATES} concurrent creates of one {} (same request)",
                id.name()
            ),
            bodies: vec![body; DUPLICATES],
            string: None,
            expect: Expect::NoFault,
        });
        // Same id, half of them with another request: a reused key must not be attributed.
        let other = rpc
            .input
            .fields()
            .find(|f| f.number() != 1 && matches!(f.kind(), Kind::String) && message.has_field(f));
        if let Some(other) = other {
            let message = base.message(rpc);
            let bodies = (0..DUPLICATES)
                .map(|i| {
                    let mut message = message.clone();
                    if i % 2 == 1 {
                        message.set_field(&other, Base::string(&other, "other".into()));
                    }
                    message.encode_to_vec()
                })
                .collect();
            cases.push(Case {
                rpc,
                path: rpc.path.clone(),
                kind: format!(
                    "{DUPLICATES} concurrent creates of one {} (half with another {})",
                    id.name(),
                    other.name()
                ),
                bodies,
                string: None,
                expect: Expect::OneRequestWins,
            });
        }
    }
    cases
}

/// Sends every case to the mesh gRPC port, `CONCURRENCY` cases at a time.
pub async fn run<'a>(channel: Channel, cases: &'a [Case<'a>]) -> Vec<(&'a Case<'a>, Vec<Outcome>)> {
    futures::stream::iter(cases)
        .map(|case| {
            let channel = channel.clone();
            async move {
                let calls = case
                    .bodies
                    .iter()
                    .map(|body| call(channel.clone(), &case.path, body.clone()));
                (case, join_all(calls).await)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

pub async fn call(channel: Channel, path: &str, body: Vec<u8>) -> Outcome {
    let mut grpc = tonic::client::Grpc::new(channel);
    let path = path.parse().expect("a gRPC path");
    let answer = async {
        grpc.ready()
            .await
            .map_err(|e| tonic::Status::unavailable(format!("channel not ready: {e}")))?;
        grpc.unary(tonic::Request::new(body), path, Raw).await
    };
    match tokio::time::timeout(DEADLINE, answer).await {
        Err(_) => Outcome::Stalled(DEADLINE),
        Ok(Ok(_)) => Outcome::Grpc(tonic::Code::Ok, String::new()),
        Ok(Err(status)) => Outcome::Grpc(status.code(), status.message().to_owned()),
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, number: u32, wire_type: u8) {
    varint(out, (u64::from(number) << 3) | u64::from(wire_type));
}

fn length_delimited(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    key(out, number, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Fixed noise (a linear congruential generator), so a failing case can be replayed.
fn noise(n: usize) -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as u8
        })
        .collect()
}

/// A gRPC codec of raw message bytes: what goes on the wire is exactly what the case built.
#[derive(Clone, Copy)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}
