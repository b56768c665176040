//! The last word on every error a server sends: a request the server could not even decode
//! (malformed protobuf, a string field that is not UTF-8, a broken frame) is the caller's
//! mistake, `INVALID_ARGUMENT`, not tonic's `INTERNAL`; and no `grpc-message` is longer than
//! `MAX_MESSAGE` bytes, so an echoed input can never swell a header past a proxy's limit
//! (Envoy answered 502 to a 100 KB one).
use std::pin::Pin;
use std::task::{Context, Poll};

use http::HeaderValue;

/// Longest `grpc-message` sent, in encoded bytes.
pub const MAX_MESSAGE: usize = 512;

/// tonic's messages for requests it could not decode.
const UNDECODABLE: &[&str] = &[
    "failed to decode Protobuf message",
    "Unexpected EOF decoding stream",
    "Missing request message",
    "protocol error",
];

#[derive(Clone, Default)]
pub struct SanitizeLayer;

impl<S> tower::Layer<S> for SanitizeLayer {
    type Service = Sanitized<S>;
    fn layer(&self, inner: S) -> Sanitized<S> {
        Sanitized { inner }
    }
}

#[derive(Clone)]
pub struct Sanitized<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Sanitized<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            // Errors come back trailers-only: status and message are response headers.
            sanitize(response.headers_mut());
            Ok(response)
        })
    }
}

/// Rewrites the status headers of an error response in place.
pub fn sanitize(headers: &mut http::HeaderMap) {
    let message = headers
        .get("grpc-message")
        .map(|v| String::from_utf8_lossy(&percent_decode(v.as_bytes())).into_owned());
    let Some(message) = message else { return };
    let internal = headers.get("grpc-status").is_some_and(|v| v == "13");
    if internal && UNDECODABLE.iter().any(|m| message.starts_with(m)) {
        headers.insert("grpc-status", HeaderValue::from_static("3"));
    }
    if headers["grpc-message"].len() > MAX_MESSAGE {
        let short: String = message.chars().take(MAX_MESSAGE / 4).collect();
        let encoded = percent_encode(&format!("{short}..."));
        if let Ok(value) = HeaderValue::from_str(&encoded) {
            headers.insert("grpc-message", value);
        }
    }
}

/// gRPC's percent-encoding of `grpc-message`: bytes outside printable ASCII, and '%'.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: &str, message: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-status", HeaderValue::from_str(code).unwrap());
        headers.insert(
            "grpc-message",
            HeaderValue::from_str(&percent_encode(message)).unwrap(),
        );
        headers
    }

    #[test]
    fn undecodable_requests_are_invalid_argument() {
        let mut headers = status(
            "13",
            "failed to decode Protobuf message: GetVodRequest.vod_id: invalid string value: data is not UTF-8 encoded",
        );
        sanitize(&mut headers);
        assert_eq!(headers["grpc-status"], "3");
        let mut ours = status("13", "internal error");
        sanitize(&mut ours);
        assert_eq!(ours["grpc-status"], "13", "a real internal error stays one");
    }

    #[test]
    fn long_messages_are_cut_at_a_character() {
        let mut headers = status("5", &format!("vod {} not found", "영".repeat(40_000)));
        sanitize(&mut headers);
        let value = headers["grpc-message"].as_bytes();
        assert!(value.len() <= MAX_MESSAGE * 3, "{}", value.len());
        let text = String::from_utf8(percent_decode(value)).expect("whole characters");
        assert!(text.starts_with("vod 영") && text.ends_with("..."));
        assert_eq!(headers["grpc-status"], "5");
    }
}
