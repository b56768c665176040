//! The caller's deadline, carried through a call: the server scopes each incoming call with
//! the deadline its `grpc-timeout` header gives, and every peer call made while handling it
//! waits no longer than the smaller of its own timeout and what the caller has left.
use std::time::{Duration, Instant};

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Parses a `grpc-timeout` header value (`100m`, `2S`: at most 8 digits and a unit).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Runs `future` with `timeout` (from the caller's `grpc-timeout`) as its deadline.
pub async fn within<F: std::future::Future>(timeout: Option<Duration>, future: F) -> F::Output {
    match timeout.and_then(|t| Instant::now().checked_add(t)) {
        Some(deadline) => DEADLINE.scope(deadline, future).await,
        None => future.await,
    }
}

/// `timeout`, shortened to what the caller being served has left (never below 1 ms, so a
/// spent deadline fails fast instead of not at all).
pub fn bounded(timeout: Duration) -> Duration {
    match DEADLINE.try_with(|d| d.saturating_duration_since(Instant::now())) {
        Ok(left) => timeout.min(left).max(Duration::from_millis(1)),
        Err(_) => timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grpc_timeouts() {
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        for bad in ["", "m", "123456789m", "10x", "-1m", "1.5S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_peer_call_never_outlives_its_caller() {
        let own = Duration::from_millis(610);
        assert_eq!(bounded(own), own, "no caller deadline: the call's own");
        let inside = within(Some(Duration::from_millis(100)), async { bounded(own) }).await;
        assert!(inside <= Duration::from_millis(100) && inside > Duration::from_millis(50));
        let long = within(Some(Duration::from_secs(5)), async { bounded(own) }).await;
        assert_eq!(long, own);
    }
}
