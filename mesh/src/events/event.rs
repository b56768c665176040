//! Domain events on the wire: a protobuf payload on subject `<app>.<context>.<EventName>`,
//! with identity and provenance in headers (the UUID doubles as `Nats-Msg-Id` for JetStream
//! dedup).
use std::collections::BTreeMap;

use bytes::Bytes;

pub const EVENT_TYPE: &str = "Mm-Event-Type";
pub const CORRELATION_ID: &str = "Mm-Correlation-Id";
pub const AGGREGATE_ID: &str = "Mm-Aggregate-Id";
pub const AGGREGATE_VERSION: &str = "Mm-Aggregate-Version";
pub const OCCURRED_AT: &str = "Mm-Occurred-At";
pub const TRACEPARENT: &str = "traceparent";
pub const MSG_ID: &str = "Nats-Msg-Id";
/// The event's own id when it differs from `Nats-Msg-Id` (a replayed dead letter).
pub const EVENT_ID: &str = "Mm-Event-Id";

/// An event about to be raised.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub subject: String,
    pub headers: BTreeMap<String, String>,
    pub payload: Vec<u8>,
}

impl Event {
    /// An event raised by `context` (`vod.payment`) about aggregate `aggregate_id`, correlated
    /// by `correlation_id` (the saga's key, e.g. the purchase id).
    pub fn new<M: prost::Message + prost::Name>(
        context: &str,
        message: &M,
        aggregate_id: &str,
        aggregate_version: i64,
        correlation_id: &str,
    ) -> Event {
        let id = uuid::Uuid::now_v7().to_string();
        let mut headers = BTreeMap::new();
        headers.insert(EVENT_TYPE.to_owned(), M::full_name());
        headers.insert(CORRELATION_ID.to_owned(), correlation_id.to_owned());
        headers.insert(AGGREGATE_ID.to_owned(), aggregate_id.to_owned());
        headers.insert(AGGREGATE_VERSION.to_owned(), aggregate_version.to_string());
        headers.insert(
            OCCURRED_AT.to_owned(),
            crate::observe::telemetry::now_rfc3339(),
        );
        if let Some(traceparent) = crate::observe::telemetry::current_traceparent() {
            headers.insert(TRACEPARENT.to_owned(), traceparent);
        }
        Event {
            subject: format!("{context}.{}", M::NAME),
            id,
            headers,
            payload: message.encode_to_vec(),
        }
    }

    pub(crate) fn headers_json(&self) -> String {
        serde_json::to_string(&self.headers).expect("string map serializes")
    }
}

/// An event as a consumer receives it.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub id: String,
    pub subject: String,
    pub headers: BTreeMap<String, String>,
    pub payload: Bytes,
}

impl Delivered {
    /// The event's name: the last token of its subject (`PaymentApproved`).
    pub fn name(&self) -> &str {
        self.subject.rsplit('.').next().unwrap_or_default()
    }

    /// The aggregate version the event brings its aggregate to (0 when not given).
    pub fn aggregate_version(&self) -> i64 {
        self.headers
            .get(AGGREGATE_VERSION)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Decodes the payload as `M`; a payload that does not decode is poison.
    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, crate::HandlerError> {
        M::decode(self.payload.clone())
            .map_err(|e| crate::HandlerError::Poison(format!("undecodable {}: {e}", self.subject)))
    }
}
