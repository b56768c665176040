//! Driving load: concurrent workers for a while, their latencies, and percentiles.
use std::time::{Duration, Instant};

/// One load phase's outcome.
pub struct Phase {
    pub ok: u64,
    pub errors: u64,
    /// The errors by gRPC code (shed load is RESOURCE_EXHAUSTED, a missed deadline
    /// DEADLINE_EXCEEDED...), so a figure says what failed.
    pub codes: std::collections::BTreeMap<String, u64>,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl Phase {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `call` from `concurrency` workers for `duration`.
pub async fn drive<F, Fut>(concurrency: usize, duration: Duration, call: F) -> Phase
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), tonic::Status>> + Send,
{
    let start = Instant::now();
    let end = start + duration;
    let workers = (0..concurrency).map(|worker| {
        let call = call.clone();
        tokio::spawn(async move {
            let (mut ok, mut errors, mut latencies, mut n) = (0u64, 0u64, Vec::new(), 0u64);
            let mut codes = std::collections::BTreeMap::<String, u64>::new();
            while Instant::now() < end {
                let t = Instant::now();
                match call(worker, n).await {
                    Ok(()) => {
                        ok += 1;
                        latencies.push(t.elapsed());
                    }
                    Err(status) => {
                        errors += 1;
                        *codes.entry(format!("{:?}", status.code())).or_default() += 1;
                    }
                }
                n += 1;
            }
            (ok, errors, latencies, codes)
        })
    });
    let mut phase = Phase {
        ok: 0,
        errors: 0,
        codes: Default::default(),
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for result in futures::future::join_all(workers).await {
        let (ok, errors, latencies, codes) = result.expect("worker");
        phase.ok += ok;
        phase.errors += errors;
        for (code, n) in codes {
            *phase.codes.entry(code).or_default() += n;
        }
        phase.latencies.extend(latencies);
    }
    phase.elapsed = start.elapsed();
    phase
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
