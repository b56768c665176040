//! REST cases through Envoy: for every public RPC's `google.api.http` route, bad path
//! variables, JSON bodies with wrong types, huge strings and control characters, unknown JSON
//! fields and query parameters, bodies that are not JSON, and concurrent creates of one id.
use futures::StreamExt;
use futures::future::join_all;
use prost_reflect::Kind;
use serde_json::{Value as Json, json};

use super::base::Base;
use super::contracts::{Http, Rpc};
use super::judge::{Expect, Outcome};
use super::values::{self, encode};
use super::{CONCURRENCY, DEADLINE, MAX_CASES_PER_RPC};

pub struct Case<'a> {
    pub rpc: &'a Rpc,
    pub kind: String,
    /// Path and query, percent-encoded as sent.
    pub path: String,
    pub body: Option<Vec<u8>>,
    /// Copies sent at once (duplicate creates).
    pub copies: usize,
    pub expect: Expect,
}

impl Case<'_> {
    pub fn route(&self) -> String {
        self.rpc.http.as_ref().expect("a routed RPC").route()
    }
}

const DUPLICATES: usize = 20;

/// A query parameter no request message has.
const UNKNOWN_PARAMETER: &str = "zzBogus";

/// The cases of every route of `app`, and how many were left out by the per-RPC cap.
pub fn cases<'a>(rpcs: &'a [Rpc], app: &str, base: &Base) -> (Vec<Case<'a>>, usize) {
    let (mut all, mut capped) = (Vec::new(), 0);
    for rpc in rpcs.iter().filter(|r| r.app == app) {
        let Some(http) = &rpc.http else { continue };
        let mut cases = of(rpc, http, base);
        capped += cases.len().saturating_sub(MAX_CASES_PER_RPC);
        cases.truncate(MAX_CASES_PER_RPC);
        all.extend(cases);
    }
    (all, capped)
}

fn of<'a>(rpc: &'a Rpc, http: &Http, base: &Base) -> Vec<Case<'a>> {
    let variables = http.variables();
    let valid_path = || {
        http.path(|v| {
            let field = rpc
                .input
                .get_field_by_name(v)
                .expect("a path variable is a field");
            match base.value(rpc, &field) {
                Some(prost_reflect::Value::String(s)) => encode(&s),
                _ => "1".into(),
            }
        })
    };
    let valid_body = || {
        http.body.then(|| {
            Json::Object(base.json(rpc, &variables))
                .to_string()
                .into_bytes()
        })
    };
    let fields: Vec<_> = rpc
        .input
        .fields()
        .filter(|f| !variables.iter().any(|v| v == f.name()))
        .collect();
    // A read's base query: the references it filters by (a list of comments needs its
    // video), but `except` (the field a case varies), then `extra`.
    let query = |except: &str, extra: Option<String>| {
        let mut query: Vec<String> = fields
            .iter()
            .filter(|f| !http.body && f.name() != except && f.name().ends_with("_id"))
            .filter_map(|f| match base.value(rpc, f) {
                Some(prost_reflect::Value::String(s)) => {
                    Some(format!("{}={}", f.json_name(), encode(&s)))
                }
                _ => None,
            })
            .collect();
        query.extend(extra);
        if query.is_empty() {
            valid_path()
        } else {
            format!("{}?{}", valid_path(), query.join("&"))
        }
    };
    let mut cases = Vec::new();
    let mut case = |kind: String, path: String, body: Option<Vec<u8>>, expect: Expect| {
        cases.push(Case {
            rpc,
            kind,
            path,
            body,
            copies: 1,
            expect,
        })
    };
    let refused = Expect::Refused(values::NOT_A_REQUEST);
    case(
        "valid base request".into(),
        query("", None),
        valid_body(),
        Expect::NoFault,
    );

    for variable in &variables {
        for (kind, segment) in values::segments() {
            let path = http.path(|v| {
                if v == variable {
                    segment.clone()
                } else {
                    encode(&base.fresh())
                }
            });
            let expect = if !variable.ends_with("_id") {
                Expect::NoFault
            } else if matches!(kind, "%FF%FE" | "%00" | "a%00b") {
                Expect::InvalidArgument(values::PATH_ID)
            } else {
                // Every segment here breaks the id rule (or is not a segment at all).
                Expect::Refused(values::ID_RULE)
            };
            case(
                format!("path {{{variable}}}={kind}"),
                path,
                valid_body(),
                expect,
            );
        }
    }

    if http.body {
        for field in &fields {
            let bad: Vec<(String, Json, Expect)> = match field.kind() {
                Kind::String => {
                    // A repeated field's values go in as its only element.
                    let one = |v: Json| if field.is_list() { json!([v]) } else { v };
                    let mut bad: Vec<(String, Json, Expect)> = values::strings()
                        .into_iter()
                        .map(|(k, v)| {
                            let expect = values::expect(field.name(), k);
                            (k.to_owned(), one(Json::from(v)), expect)
                        })
                        .collect();
                    for wrong in [json!(123), json!(true), json!({}), json!([])] {
                        if field.is_list() && wrong == json!([]) {
                            continue;
                        }
                        bad.push((format!("{wrong} (wrong type)"), one(wrong), refused));
                    }
                    // JSON null is the field's default, as if absent.
                    bad.push(("null".into(), json!(null), Expect::NoFault));
                    bad
                }
                Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                    let mut bad: Vec<(String, Json, Expect)> = values::ints()
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), Json::from(v), Expect::NoFault))
                        .collect();
                    for wrong in [
                        json!(2_147_483_648_i64),
                        json!(1e20),
                        json!(1.5),
                        json!("abc"),
                        json!(""),
                        json!({}),
                        json!(true),
                    ] {
                        bad.push((format!("{wrong} (wrong type or range)"), wrong, refused));
                    }
                    bad
                }
                // proto3 JSON carries 64-bit integers as strings (numbers accepted too).
                Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                    let mut bad: Vec<(String, Json, Expect)> = [
                        ("-1", json!("-1")),
                        ("i64::MIN", json!(i64::MIN.to_string())),
                        ("i64::MAX", json!(i64::MAX.to_string())),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v, Expect::NoFault))
                    .collect();
                    for wrong in [
                        json!("9223372036854775808"),
                        json!(1e20),
                        json!(1.5),
                        json!("abc"),
                        json!({}),
                        json!(true),
                    ] {
                        bad.push((format!("{wrong} (wrong type or range)"), wrong, refused));
                    }
                    bad
                }
                _ => Vec::new(),
            };
            for (kind, value, expect) in bad {
                let mut body = base.json(rpc, &variables);
                body.insert(field.json_name().to_owned(), value);
                let body = Json::Object(body).to_string().into_bytes();
                case(
                    format!("body.{}={kind}", field.json_name()),
                    valid_path(),
                    Some(body),
                    expect,
                );
            }
            if matches!(field.kind(), Kind::String) && !field.is_list() {
                // JSON cannot carry non-UTF-8: craft the bytes.
                let mut body = base.json(rpc, &variables);
                body.insert(field.json_name().to_owned(), Json::from("@@"));
                let text = Json::Object(body).to_string().into_bytes();
                let at = text.windows(4).position(|w| w == b"\"@@\"").unwrap() + 1;
                let body = [&text[..at], values::NON_UTF8, &text[at + 2..]].concat();
                case(
                    format!("body.{}=non-UTF-8 bytes", field.json_name()),
                    valid_path(),
                    Some(body),
                    refused,
                );
            }
        }
        if let Some(field) = fields
            .iter()
            .find(|f| matches!(f.kind(), Kind::String) && !f.is_list())
        {
            let mut body = base.json(rpc, &variables);
            let huge = "a".repeat(values::OVER_MESSAGE_LIMIT);
            body.insert(field.json_name().to_owned(), Json::from(huge));
            case(
                format!("body.{}={}", field.json_name(), values::OVER_MESSAGE_KIND),
                valid_path(),
                Some(Json::Object(body).to_string().into_bytes()),
                Expect::Refused(values::BOUND),
            );
        }
        let mut unknown = base.json(rpc, &variables);
        unknown.insert("zzUnknownField".into(), json!(1));
        case(
            "body with an unknown field".into(),
            valid_path(),
            Some(Json::Object(unknown).to_string().into_bytes()),
            Expect::NoFault,
        );
        for (kind, body, expect) in [
            ("body []", "[]".to_owned(), refused),
            ("body \"x\"", "\"x\"".to_owned(), refused),
            ("body 1", "1".to_owned(), refused),
            ("body malformed JSON", "{\"a\":".to_owned(), refused),
            ("body null", "null".to_owned(), Expect::NoFault),
            ("body empty", String::new(), Expect::NoFault),
            (
                "body {} after 1.1 MB of whitespace",
                format!("{}{{}}", " ".repeat(1_100_000)),
                Expect::NoFault,
            ),
        ] {
            case(kind.into(), valid_path(), Some(body.into_bytes()), expect);
        }
        case(
            "unknown query parameter".into(),
            format!("{}?{UNKNOWN_PARAMETER}=1", valid_path()),
            valid_body(),
            Expect::UnknownParameter(UNKNOWN_PARAMETER),
        );
    } else {
        for field in &fields {
            let name = field.json_name();
            let bad: Vec<(&str, String, Expect)> = match field.kind() {
                Kind::String => values::query_strings()
                    .into_iter()
                    .map(|(k, v)| {
                        let expect = if field.name().ends_with("_id") {
                            Expect::Refused(values::ID_RULE)
                        } else if k == "100 KB" {
                            Expect::Refused(values::BOUND)
                        } else if k == "%FF%FE" {
                            refused
                        } else {
                            Expect::NoFault
                        };
                        (k, v, expect)
                    })
                    .collect(),
                Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => values::query_ints()
                    .into_iter()
                    .map(|(k, v)| {
                        let parses = matches!(k, "-1" | "empty");
                        let expect = if parses { Expect::NoFault } else { refused };
                        (k, v.to_owned(), expect)
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for (kind, value, expect) in bad {
                let path = query(field.name(), Some(format!("{name}={value}")));
                case(format!("query {name}={kind}"), path, None, expect);
            }
        }
        case(
            "unknown query parameter".into(),
            query("", Some(format!("{UNKNOWN_PARAMETER}=1"))),
            None,
            Expect::UnknownParameter(UNKNOWN_PARAMETER),
        );
        if let Some(first) = fields.first() {
            let name = first.json_name();
            case(
                format!("query {name} repeated"),
                query(first.name(), Some(format!("{name}=1&{name}=2"))),
                None,
                Expect::NoFault,
            );
        }
    }

    if let Some(id) = rpc.created_id()
        && http.body
        && !variables.iter().any(|v| v == id.name())
    {
        cases.push(Case {
            rpc,
            kind: format!("{DUPLICATES} concurrent creates of one {}", id.json_name()),
            path: valid_path(),
            body: valid_body(),
            copies: DUPLICATES,
            expect: Expect::NoFault,
        });
    }
    cases
}

/// Sends every case to `gateway` (the app's REST port), `CONCURRENCY` cases at a time.
pub async fn run<'a>(gateway: &str, cases: &'a [Case<'a>]) -> Vec<(&'a Case<'a>, Vec<Outcome>)> {
    let client = reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .unwrap();
    futures::stream::iter(cases)
        .map(|case| {
            let client = client.clone();
            async move {
                let calls = (0..case.copies).map(|_| send(&client, gateway, case));
                (case, join_all(calls).await)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

/// Longest URL the HTTP client builds (the `http` crate's limit); longer ones go raw.
const CLIENT_URL_MAX: usize = 65_000;

async fn send(client: &reqwest::Client, gateway: &str, case: &Case<'_>) -> Outcome {
    let http = case.rpc.http.as_ref().expect("a routed RPC");
    if case.path.len() > CLIENT_URL_MAX {
        return raw(gateway, &http.verb, case).await;
    }
    let mut request = client.request(http.verb.clone(), format!("{gateway}{}", case.path));
    if let Some(body) = &case.body {
        request = request
            .header("content-type", "application/json")
            .body(body.clone());
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            Outcome::Http(status, values::clip(&text, 160))
        }
        Err(e) if e.is_timeout() => Outcome::Stalled(DEADLINE),
        Err(e) => Outcome::Failed(format!("{e:?}")),
    }
}

/// One HTTP/1.1 request written by hand, for what the client refuses to build; the answer's
/// status line and the start of its body. Read while writing: a server may answer (431) and
/// close before the request is all sent, and the reset that follows would drop an answer left
/// unread.
async fn raw(gateway: &str, verb: &reqwest::Method, case: &Case<'_>) -> Outcome {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = gateway.trim_start_matches("http://");
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(authority).await?;
        let (mut reader, mut writer) = stream.into_split();
        let body = case.body.clone().unwrap_or_default();
        let head = format!(
            "{verb} {} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n",
            case.path,
            body.len()
        );
        // Borrowed, not moved: dropping the write half would half-close the connection,
        // and Envoy drops a request whose client closed.
        let write = async {
            writer.write_all(head.as_bytes()).await?;
            writer.write_all(&body).await
        };
        let read = async move {
            let mut answer = Vec::new();
            let mut chunk = [0u8; 16 * 1024];
            // Until EOF, a reset, or enough to report.
            while answer.len() < 64 * 1024 {
                match reader.read(&mut chunk).await {
                    Ok(0) => break,
                    Ok(n) => answer.extend_from_slice(&chunk[..n]),
                    Err(e) if answer.is_empty() => return Err(e),
                    Err(_) => break,
                }
            }
            Ok(answer)
        };
        let (_, answer) = tokio::join!(write, read);
        answer
    };
    match tokio::time::timeout(DEADLINE, exchange).await {
        Err(_) => Outcome::Stalled(DEADLINE),
        Ok(Err(e)) => Outcome::Failed(format!("raw HTTP/1.1: {e}")),
        Ok(Ok(answer)) => {
            let text = String::from_utf8_lossy(&answer);
            let status = text
                .strip_prefix("HTTP/1.1 ")
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse().ok());
            let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
            match status {
                Some(status) => Outcome::Http(status, values::clip(body, 160)),
                None => Outcome::Failed(format!(
                    "raw HTTP/1.1: no status line in {:?}",
                    values::clip(&text, 160)
                )),
            }
        }
    }
}
