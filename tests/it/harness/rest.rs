//! JSON over REST (through Envoy) for the tests.
use std::time::Duration;

use serde_json::Value;

use super::eventually;

/// How long eventual consistency may take in a test.
pub const WAIT: Duration = Duration::from_secs(20);

pub async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn get(url: String) -> (u16, Value) {
    call(reqwest::Method::GET, url, None).await
}

pub async fn post(url: String, body: Value) -> (u16, Value) {
    call(reqwest::Method::POST, url, Some(body)).await
}

pub async fn patch(url: String, body: Value) -> (u16, Value) {
    call(reqwest::Method::PATCH, url, Some(body)).await
}

/// Polls a GET until `ok` holds for its JSON body.
pub async fn get_until(url: String, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    eventually(what, WAIT, || {
        let url = url.clone();
        let ok = &ok;
        async move {
            let (status, body) = get(url).await;
            (status == 200 && ok(&body)).then_some(body)
        }
    })
    .await
}

pub async fn delete(url: String) -> (u16, Value) {
    call(reqwest::Method::DELETE, url, None).await
}
