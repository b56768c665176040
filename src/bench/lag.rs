//! Event lag: from a call's answer to the event it caused, seen on NATS.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;

/// Pairs each answered call with the event it caused (by id). The event can arrive before
/// the answer reaches the client (it races the answer); such a call counts as zero lag.
#[derive(Default)]
pub struct LagBook {
    answered: HashMap<String, Instant>,
    credited: HashMap<String, Instant>,
    pub lags: Vec<Duration>,
}

impl LagBook {
    pub fn answered(&mut self, id: String, at: Instant) {
        match self.credited.remove(&id) {
            Some(_) => self.lags.push(Duration::ZERO),
            None => {
                self.answered.insert(id, at);
            }
        }
    }

    fn credited(&mut self, id: String, at: Instant) {
        match self.answered.remove(&id) {
            Some(answered) => self.lags.push(at.saturating_duration_since(answered)),
            None => {
                self.credited.insert(id, at);
            }
        }
    }
}

/// Watches `subject`, pairing each event (by the id `id_of` reads from it) with its answer.
pub async fn watch(
    url: &str,
    subject: &'static str,
    id_of: fn(&[u8]) -> Option<String>,
    book: Arc<Mutex<LagBook>>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let client = async_nats::connect(url).await?;
    let mut events = client.subscribe(subject).await?;
    client.flush().await?;
    Ok(tokio::spawn(async move {
        while let Some(message) = events.next().await {
            if let Some(id) = id_of(&message.payload) {
                book.lock().expect("lock").credited(id, Instant::now());
            }
        }
    }))
}
