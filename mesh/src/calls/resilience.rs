//! Resilient sync calls to a peer context: per-call timeout (sent as `grpc-timeout` too),
//! retries only for idempotent calls, a circuit breaker and a concurrency limit. When the
//! breaker is open or the limit is reached the caller answers at once with `UNAVAILABLE` and
//! `RetryInfo` ("pay later"), never a hang.
//!
//! Retries sit above the generated client (the closure rebuilds the request from the prost
//! message), because tower's `Retry` cannot clone a tonic request body.
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};

use crate::error::unavailable;

/// How calls to one peer behave.
#[derive(Debug, Clone)]
pub struct CallPolicy {
    /// Per-attempt deadline (the seeds' Hystrix value: 610 ms).
    pub timeout: Duration,
    /// Extra attempts for idempotent calls after a transport failure.
    pub retries: u32,
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long the breaker stays open before one probe call is let through.
    pub open_for: Duration,
    /// Calls in flight at once; more are refused at once.
    pub max_in_flight: usize,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            timeout: Duration::from_millis(610),
            retries: 1,
            failure_threshold: 5,
            open_for: Duration::from_secs(2),
            max_in_flight: 256,
        }
    }
}

/// Whether a call may be sent again after a transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The request only reads, or carries an idempotency key: retried once after a
    /// transport failure, within the same deadline.
    Safe,
    /// Sent at most once.
    Never,
}

/// A peer call that did not answer yes: the peer refused (its own error, e.g. NOT_FOUND),
/// or could not be reached (breaker open, overloaded, down, timed out: `UNAVAILABLE` with
/// `RetryInfo`). Opaque to application code, a `Status` at the gRPC edge.
#[derive(Debug, Clone)]
pub struct CallError(Status);

impl CallError {
    /// The peer could not be reached, or is overloaded: ask again later.
    pub fn is_unavailable(&self) -> bool {
        self.0.code() == Code::Unavailable
    }

    /// The peer answered that what was asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        self.0.code() == Code::NotFound
    }

    pub fn message(&self) -> &str {
        self.0.message()
    }

    /// This failure told in other words: the same code and details (the RetryInfo of an
    /// unreachable peer), `message` instead of the peer's.
    pub fn retold(&self, message: String) -> Status {
        use tonic_types::StatusExt;
        Status::with_error_details(self.0.code(), message, self.0.get_error_details())
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.0.code(), self.0.message())
    }
}

impl std::error::Error for CallError {}

impl From<CallError> for Status {
    fn from(error: CallError) -> Status {
        error.0
    }
}

/// A peer context reached over gRPC (in-process mode too: contexts always talk over gRPC).
#[derive(Clone)]
pub struct Peer {
    name: Arc<str>,
    channel: Channel,
    policy: CallPolicy,
    breaker: Arc<Breaker>,
    in_flight: Arc<Semaphore>,
    /// `authorization` sent on every call: the mesh's own identity when auth is on.
    authorization: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
}

impl Peer {
    /// A lazily connected peer at `url` (e.g. `http://127.0.0.1:50051`).
    pub fn connect(name: &str, url: &str, policy: CallPolicy) -> anyhow::Result<Peer> {
        let channel = Endpoint::from_shared(url.to_owned())?
            .connect_timeout(policy.timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5))
            .connect_lazy();
        Ok(Peer {
            name: name.into(),
            channel,
            breaker: Arc::new(Breaker::new(policy.failure_threshold, policy.open_for).named(name)),
            in_flight: Arc::new(Semaphore::new(policy.max_in_flight)),
            policy,
            authorization: None,
        })
    }

    /// Sends `token` as `authorization: Bearer` on every call (the mesh's service identity:
    /// sweeps and event handlers call peers with no caller to speak for).
    pub fn with_bearer(mut self, token: &str) -> anyhow::Result<Peer> {
        let mut value: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
        value.set_sensitive(true);
        self.authorization = Some(value);
        Ok(self)
    }

    /// Its breaker's state, `closed`, `open` or `half-open` (`Breaker::state_name`).
    /// The longest a call to this peer can take: every attempt to its deadline, and the
    /// pauses between them.
    pub fn longest_call(&self) -> Duration {
        let attempts = 1 + self.policy.retries;
        self.policy.timeout * attempts + Duration::from_millis(25) * self.policy.retries
    }

    pub fn breaker_state(&self) -> &'static str {
        self.breaker.state_name()
    }

    /// A peer on a channel made elsewhere (in-memory peers in component tests).
    pub fn from_channel(name: &str, channel: Channel, policy: CallPolicy) -> Peer {
        Peer {
            name: name.into(),
            channel,
            breaker: Arc::new(Breaker::new(policy.failure_threshold, policy.open_for).named(name)),
            in_flight: Arc::new(Semaphore::new(policy.max_in_flight)),
            policy,
            authorization: None,
        }
    }

    /// Fails fast, before the caller does any work, while the breaker is open.
    pub fn check(&self) -> Result<(), CallError> {
        self.breaker.check().map_err(|retry_after| {
            CallError(unavailable(
                format!(
                    "{} is unavailable (circuit open); try again later",
                    self.name
                ),
                retry_after,
            ))
        })
    }

    /// Wraps a message in a request that carries the deadline and the current trace context.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(crate::calls::deadline::bounded(self.policy.timeout));
        crate::observe::telemetry::inject_traceparent(request.metadata_mut());
        if let Some(authorization) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", authorization.clone());
        }
        request
    }

    /// Calls the peer. `call` builds and sends the request from a channel; it runs again on
    /// retry, so it must rebuild the request from a cloned message.
    pub async fn call<T, F, Fut>(&self, retry: Retry, call: F) -> Result<T, CallError>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        let result = self.attempt(retry == Retry::Safe, call).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(status) => code_label(status.code()),
        };
        let peer = self.name.to_string();
        metrics::counter!(crate::observe::metrics::PEER_CALLS, "peer" => peer.clone(), "outcome" => outcome)
            .increment(1);
        let open = if self.breaker.is_open() { 1.0 } else { 0.0 };
        metrics::gauge!(crate::observe::metrics::BREAKER_OPEN, "peer" => peer).set(open);
        result.map_err(CallError)
    }

    async fn attempt<T, F, Fut>(&self, idempotent: bool, call: F) -> Result<T, Status>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        let probe = match self.breaker.admit() {
            Ok(probe) => probe,
            Err(retry_after) => {
                return Err(unavailable(
                    format!(
                        "{} is unavailable (circuit open); try again later",
                        self.name
                    ),
                    retry_after,
                ));
            }
        };
        // If this call holds the half-open probe and is dropped before its outcome is
        // recorded (the caller's deadline, a reset stream), the probe slot must come back,
        // or the breaker would refuse every call for ever.
        let mut probe = ProbeGuard {
            breaker: &self.breaker,
            armed: probe,
        };
        let Ok(_permit) = self.in_flight.try_acquire() else {
            return Err(unavailable(
                format!("{} is overloaded; try again later", self.name),
                self.policy.open_for,
            ));
        };
        let attempts = if idempotent {
            1 + self.policy.retries
        } else {
            1
        };
        let mut last = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            let timeout = crate::calls::deadline::bounded(self.policy.timeout);
            // The caller's own deadline, not the peer, limits this attempt: running out of it
            // says nothing about the peer's health, so it never counts toward the breaker
            // (else any client with a short deadline could open the breaker for everyone).
            let cut_short = timeout < self.policy.timeout;
            if cut_short && timeout <= MIN_ATTEMPT {
                return Err(caller_out_of_time(&self.name));
            }
            let outcome = tokio::time::timeout(timeout, call(self.channel.clone())).await;
            let timed_out = match &outcome {
                Err(_) => true,
                Ok(Err(status)) => {
                    matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled)
                }
                Ok(Ok(_)) => false,
            };
            if cut_short && timed_out {
                return Err(caller_out_of_time(&self.name));
            }
            let status = match outcome {
                Ok(Ok(response)) => {
                    self.breaker.record(true);
                    probe.armed = false;
                    return Ok(response.into_inner());
                }
                Ok(Err(status)) if !is_failure(&status) => {
                    // The peer answered: it is healthy, the answer is the caller's to handle.
                    self.breaker.record(true);
                    probe.armed = false;
                    return Err(status);
                }
                Ok(Err(status)) => status,
                Err(_) => Status::deadline_exceeded(format!(
                    "{} did not answer within {} ms",
                    self.name,
                    self.policy.timeout.as_millis()
                )),
            };
            self.breaker.record(false);
            probe.armed = false;
            tracing::warn!(peer = %self.name, code = ?status.code(), attempt, "peer call failed");
            let retryable = status.code() == Code::Unavailable;
            last = Some(status);
            if !retryable {
                break;
            }
            match self.breaker.admit() {
                Ok(is_probe) => probe.armed = is_probe,
                Err(_) => break,
            }
        }
        let status = last.expect("at least one attempt");
        Err(unavailable(
            format!(
                "{} is unavailable ({}); try again later",
                self.name,
                status.message()
            ),
            self.policy.open_for,
        ))
    }
}

/// Below this, an attempt cut short by the caller's deadline is not even sent.
const MIN_ATTEMPT: Duration = Duration::from_millis(5);

fn caller_out_of_time(peer: &str) -> Status {
    Status::deadline_exceeded(format!(
        "the caller's deadline ran out before {peer} answered"
    ))
}

fn code_label(code: Code) -> &'static str {
    match code {
        Code::Unavailable => "unavailable",
        Code::InvalidArgument => "invalid_argument",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::FailedPrecondition => "failed_precondition",
        _ => "other_error",
    }
}

/// Failures that say the peer is unwell (and count toward opening the breaker). tonic
/// reports its own expiry of `grpc-timeout` as `CANCELLED`.
fn is_failure(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::Unknown
            | Code::Internal
    )
}

/// Gives the half-open probe slot back unless the probe's outcome was recorded.
struct ProbeGuard<'a> {
    breaker: &'a Breaker,
    armed: bool,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.breaker.release_probe();
        }
    }
}

/// A count-based circuit breaker: closed -> open after N consecutive failures -> half-open
/// (one probe) after a cool-down -> closed on success, open again on failure.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    state: Mutex<State>,
    /// The peer it guards, when its state is exported (`mediamesh_peer_breaker_state`).
    peer: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

impl Breaker {
    pub fn new(threshold: u32, open_for: Duration) -> Breaker {
        Breaker {
            threshold,
            open_for,
            state: Mutex::new(State::Closed { failures: 0 }),
            peer: None,
        }
    }

    /// Exports its state as a gauge labelled `peer`, closed (0) from the start, so a scrape
    /// shows every peer before its first call.
    pub fn named(mut self, peer: &str) -> Breaker {
        self.peer = Some(peer.to_owned());
        self.export(&State::Closed { failures: 0 });
        self
    }

    /// Sets the state gauge: 0 closed, 1 half-open, 2 open.
    fn export(&self, state: &State) {
        if let Some(peer) = &self.peer {
            let value = match state {
                State::Closed { .. } => 0.0,
                State::HalfOpen { .. } => 1.0,
                State::Open { .. } => 2.0,
            };
            metrics::gauge!(crate::observe::metrics::BREAKER_STATE, "peer" => peer.clone())
                .set(value);
        }
    }

    /// Lets a call through (true when it is the half-open probe), or says how long until the
    /// breaker will try again.
    pub fn admit(&self) -> Result<bool, Duration> {
        let mut state = self.state.lock().expect("breaker lock");
        match *state {
            State::Closed { .. } => Ok(false),
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    Err(until - now)
                } else {
                    *state = State::HalfOpen { probing: true };
                    self.export(&state);
                    Ok(true)
                }
            }
            State::HalfOpen { probing: true } => Err(self.open_for),
            State::HalfOpen { probing: false } => {
                *state = State::HalfOpen { probing: true };
                Ok(true)
            }
        }
    }

    /// Like `admit`, without taking the half-open probe slot.
    pub fn check(&self) -> Result<(), Duration> {
        match *self.state.lock().expect("breaker lock") {
            State::Open { until } if Instant::now() < until => Err(until - Instant::now()),
            State::HalfOpen { probing: true } => Err(self.open_for),
            _ => Ok(()),
        }
    }

    /// A probe that never ran gives its slot back.
    fn release_probe(&self) {
        let mut state = self.state.lock().expect("breaker lock");
        if let State::HalfOpen { probing: true } = *state {
            *state = State::HalfOpen { probing: false };
        }
    }

    pub fn record(&self, success: bool) {
        let mut state = self.state.lock().expect("breaker lock");
        *state = match (*state, success) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            (State::Open { until }, false) => State::Open { until },
            (_, false) => {
                tracing::warn!(
                    open_for_ms = self.open_for.as_millis() as u64,
                    "circuit opened"
                );
                State::Open {
                    until: Instant::now() + self.open_for,
                }
            }
        };
        self.export(&state);
    }

    pub fn is_open(&self) -> bool {
        matches!(
            *self.state.lock().expect("breaker lock"),
            State::Open { .. }
        )
    }

    /// `closed`, `open` or `half-open` (an open breaker past its cool-down lets the next
    /// call through as a probe, so it reads half-open): what the admin console shows.
    pub fn state_name(&self) -> &'static str {
        match *self.state.lock().expect("breaker lock") {
            State::Closed { .. } => "closed",
            State::Open { until } if Instant::now() < until => "open",
            State::Open { .. } | State::HalfOpen { .. } => "half-open",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_probes_after_cool_down() {
        let breaker = Breaker::new(2, Duration::from_millis(20));
        breaker.record(false);
        assert!(breaker.admit().is_ok(), "one failure keeps it closed");
        breaker.record(false);
        assert!(breaker.admit().is_err(), "threshold reached: open");
        std::thread::sleep(Duration::from_millis(25));
        assert!(breaker.admit().is_ok(), "cool-down over: one probe");
        assert!(breaker.admit().is_err(), "only one probe at a time");
        breaker.record(true);
        assert!(breaker.admit().is_ok(), "probe succeeded: closed");
    }

    #[test]
    fn a_probe_dropped_before_its_outcome_gives_the_slot_back() {
        let breaker = Breaker::new(1, Duration::from_millis(10));
        breaker.record(false);
        std::thread::sleep(Duration::from_millis(15));
        let probe = breaker.admit().unwrap();
        assert!(probe, "the first call after the cool-down is the probe");
        drop(ProbeGuard {
            breaker: &breaker,
            armed: probe,
        });
        assert_eq!(breaker.admit(), Ok(true), "the next call may probe");
    }

    #[tokio::test]
    async fn a_peer_call_dropped_mid_probe_does_not_wedge_the_breaker() {
        // A peer that never answers: nothing listens on this reserved address's port 9.
        let policy = CallPolicy {
            failure_threshold: 1,
            open_for: Duration::from_millis(10),
            ..CallPolicy::default()
        };
        let peer = Peer::connect("test.peer", "http://127.0.0.1:9", policy).unwrap();
        peer.breaker.record(false);
        tokio::time::sleep(Duration::from_millis(15)).await;
        // The probe call is abandoned by its caller before it finishes.
        let call = peer.call(Retry::Never, |_channel| {
            std::future::pending::<Result<Response<()>, Status>>()
        });
        assert!(
            tokio::time::timeout(Duration::from_millis(20), call)
                .await
                .is_err()
        );
        assert_eq!(peer.breaker.admit(), Ok(true), "probe slot released");
    }

    #[tokio::test]
    async fn a_callers_short_deadline_never_opens_the_breaker() {
        let policy = CallPolicy {
            failure_threshold: 1,
            ..CallPolicy::default()
        };
        let peer = Peer::connect("test.peer", "http://127.0.0.1:9", policy).unwrap();
        for _ in 0..5 {
            let call = peer.call(Retry::Safe, |_channel| {
                std::future::pending::<Result<Response<()>, Status>>()
            });
            let short = crate::calls::deadline::within(Some(Duration::from_millis(30)), call);
            let status: Status = short.await.unwrap_err().into();
            assert_eq!(status.code(), Code::DeadlineExceeded);
        }
        assert!(
            peer.check().is_ok(),
            "the peer was never given its own timeout"
        );
    }

    #[test]
    fn failed_probe_reopens() {
        let breaker = Breaker::new(1, Duration::from_millis(10));
        breaker.record(false);
        std::thread::sleep(Duration::from_millis(15));
        assert!(breaker.admit().is_ok());
        breaker.record(false);
        assert!(breaker.is_open());
    }
}
