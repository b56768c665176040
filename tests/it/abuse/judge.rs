//! What came back and what had to: the answers of one case judged against the rules of
//! issue 6, as readable lines.
use std::time::Duration;

use super::values;

/// What one request got back.
pub enum Outcome {
    Grpc(tonic::Code, String),
    Http(u16, String),
    Stalled(Duration),
    Failed(String),
}

impl Outcome {
    /// The status and the start of the message or body.
    pub fn short(&self, n: usize) -> String {
        match self {
            Outcome::Grpc(code, message) => format!("{code:?} {}", values::clip(message, n)),
            Outcome::Http(status, body) => format!("{status} {}", values::clip(body, n)),
            other => other.fault().unwrap_or_default(),
        }
    }

    /// For the counts of the summary.
    pub fn label(&self) -> String {
        match self {
            Outcome::Grpc(code, _) => format!("{code:?}"),
            Outcome::Http(status, _) => status.to_string(),
            Outcome::Stalled(_) => "no answer".into(),
            Outcome::Failed(_) => "transport error".into(),
        }
    }

    /// Why this answer is a fault of the mesh rather than a refusal of bad input.
    pub fn fault(&self) -> Option<String> {
        match self {
            Outcome::Grpc(code, message) if is_fault(*code, message) => {
                Some(format!("{code:?}: {}", values::clip(message, 160)))
            }
            Outcome::Http(status, body) if *status >= 500 => Some(format!("{status} {body}")),
            Outcome::Grpc(..) | Outcome::Http(..) => None,
            Outcome::Stalled(after) => Some(format!("no answer within {after:?}")),
            Outcome::Failed(error) => Some(format!("no HTTP answer: {}", values::clip(error, 200))),
        }
    }

    pub fn accepted(&self) -> bool {
        match self {
            Outcome::Grpc(code, _) => *code == tonic::Code::Ok,
            Outcome::Http(status, _) => *status < 400,
            _ => false,
        }
    }
}

/// A server fault rather than a refusal: INTERNAL, UNKNOWN, DATA_LOSS, or an answer the
/// client could not even read (tonic reports a broken HTTP/2 exchange, such as a header past
/// the client's limit, with some code and this message).
fn is_fault(code: tonic::Code, message: &str) -> bool {
    matches!(
        code,
        tonic::Code::Internal | tonic::Code::Unknown | tonic::Code::DataLoss
    ) || message.starts_with("h2 protocol error")
}

/// What a case must get back, beyond no fault (no 5xx, INTERNAL, UNKNOWN, DATA_LOSS, no
/// request left unanswered, no `grpc-message` longer than the mesh's cap). Each rule is one
/// that issue 6 states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Nothing more: a value a service may accept or refuse.
    NoFault,
    /// Refused: a 4xx, or any gRPC code but OK. Ids that break the one id rule, text past
    /// the bound of every text field, JSON a request cannot be, methods that do not exist.
    Refused(&'static str),
    /// Exactly 400 / INVALID_ARGUMENT: malformed protobuf or non-UTF-8 over gRPC, a non-UTF-8
    /// or NUL path id.
    InvalidArgument(&'static str),
    /// An unknown query parameter: a 400 that names it.
    UnknownParameter(&'static str),
    /// Copies of one create with one id, the odd ones with another request: OK for at most
    /// one of the two requests (a reused key is refused, never attributed).
    OneRequestWins,
}

/// What is wrong with the answers of one case, one line each, identical ones counted.
pub fn judge(expect: Expect, outcomes: &[Outcome]) -> Vec<String> {
    let mut wrong: Vec<String> = outcomes.iter().filter_map(Outcome::fault).collect();
    let cap = mediamesh_mesh::serving::sanitize::MAX_MESSAGE;
    for outcome in outcomes {
        if let Outcome::Grpc(code, message) = outcome
            && message.len() > cap
        {
            let n = message.len();
            wrong.push(format!(
                "{code:?} with a grpc-message of {n} bytes (cap {cap})"
            ));
        }
    }
    match expect {
        Expect::NoFault => {}
        Expect::Refused(rule) => {
            if let Some(o) = outcomes.iter().find(|o| o.accepted()) {
                wrong.push(format!("accepted ({}), but {rule}", o.short(80)));
            }
        }
        Expect::InvalidArgument(rule) => {
            let exact = |o: &Outcome| match o {
                Outcome::Grpc(code, _) => *code == tonic::Code::InvalidArgument,
                Outcome::Http(status, _) => *status == 400,
                _ => true, // a fault, already reported
            };
            if let Some(o) = outcomes.iter().find(|o| !exact(o)) {
                let got = o.short(80);
                wrong.push(format!("{got}, not INVALID_ARGUMENT / 400: {rule}"));
            }
        }
        Expect::UnknownParameter(name) => {
            let named = |o: &Outcome| matches!(o, Outcome::Http(400, body) if body.contains(name));
            if let Some(o) = outcomes.iter().find(|o| !named(o)) {
                let got = o.short(80);
                wrong.push(format!(
                    "{got}, not a 400 naming {name}: an unknown query parameter is refused"
                ));
            }
        }
        Expect::OneRequestWins => {
            let mut winners: Vec<usize> = outcomes
                .iter()
                .enumerate()
                .filter(|(_, o)| o.accepted())
                .map(|(i, _)| i % 2)
                .collect();
            winners.sort();
            winners.dedup();
            if winners.len() > 1 {
                wrong.push(
                    "OK for two different requests with one id: a reused key must be refused \
                     (ALREADY_EXISTS), never attributed"
                        .into(),
                );
            }
        }
    }
    counted(wrong)
}

/// Identical lines once, with how many times they occurred.
pub fn counted(lines: Vec<String>) -> Vec<String> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for line in lines {
        match seen.iter_mut().find(|(l, _)| *l == line) {
            Some((_, n)) => *n += 1,
            None => seen.push((line, 1)),
        }
    }
    seen.into_iter()
        .map(|(l, n)| if n == 1 { l } else { format!("{l} (x{n})") })
        .collect()
}

/// The answers of one case, for the answers file.
pub fn described(outcomes: &[Outcome]) -> String {
    counted(outcomes.iter().map(|o| o.short(120)).collect()).join(" / ")
}
