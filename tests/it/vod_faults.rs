//! Request/response with circuit breaker and fallback: purchase and payment in separate
//! processes; payment hung (SIGSTOP) or down makes purchase answer UNAVAILABLE with
//! RetryInfo within about a second, fail fast while the breaker is open, and heal after.
use std::time::Duration;

use mediamesh_proto::vod::v1 as pb;

use crate::harness::{Mesh, Sandbox, buy, eventually, fails_then_fast, free_port, purchases_of};

async fn heals(shop: &Mesh, what: &str) {
    eventually(what, Duration::from_secs(15), || async {
        buy(shop, "1", "lee")
            .await
            .ok()
            .filter(|p| p.order_status == "PAID")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_hung_or_down_trips_the_breaker_and_heals() {
    let sandbox = Sandbox::sqlite("faults");
    let (mut payment, shop) = sandbox.vod_payment_apart().await;
    let payment_port = payment.grpc_port;

    // Hung: the call times out at 610 ms, then the breaker answers at once.
    payment.proc.signal(libc::SIGSTOP);
    let slowest = fails_then_fast(|| buy(&shop, "1", "lee")).await;
    assert!(
        slowest >= Duration::from_millis(500),
        "the first failures waited for the timeout: {slowest:?}"
    );
    let recorded = purchases_of(&shop, "lee").await;
    assert!(
        recorded.iter().any(|p| p.order_status == "FAILED"),
        "timed-out purchases are FAILED"
    );
    assert_eq!(
        recorded.iter().filter(|p| p.order_status == "PAID").count(),
        1
    );

    // Continued: the breaker lets a probe through after its cool-down and closes.
    payment.proc.signal(libc::SIGCONT);
    heals(&shop, "purchases heal after SIGCONT").await;

    // Down: connection refused fails fast as well, and heals when payment is back.
    payment.proc.kill9();
    fails_then_fast(|| buy(&shop, "1", "lee")).await;
    let payment = sandbox
        .serve_with(payment_port, "vod.payment", &[], &[])
        .await;
    heals(&shop, "purchases heal after restart").await;

    // No unpaid purchase was approved: every PAID purchase has an APPROVED payment, and a
    // payment that went through for a failed purchase is cancelled by the saga.
    let payments = pb::payment_service_client::PaymentServiceClient::new(payment.channel().await);
    for p in purchases_of(&shop, "lee").await {
        let request = pb::GetPaymentRequest {
            purchase_id: p.purchase_id.clone(),
        };
        let want = if p.order_status == "PAID" {
            "APPROVED"
        } else {
            "CANCELLED"
        };
        let id = p.purchase_id.clone();
        eventually(
            &format!("payment of {id} {want}"),
            Duration::from_secs(20),
            || {
                let (mut payments, request) = (payments.clone(), request.clone());
                async move {
                    let payment = payments.get_payment(request).await.ok()?.into_inner();
                    (payment.pay_status == want).then_some(())
                }
            },
        )
        .await;
    }
}

/// Overload: past `--max-in-flight` calls a server answers RESOURCE_EXHAUSTED with
/// RetryInfo at once instead of queueing; health stays answerable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overloaded_server_sheds_load_with_retry_info() {
    use tonic_types::StatusExt;
    let sandbox = Sandbox::sqlite("shed");
    let payment_port = free_port();
    let payment = sandbox
        .serve_with(payment_port, "vod.payment", &[], &[])
        .await;
    let peer = format!("vod.payment=http://127.0.0.1:{payment_port}");
    let args = [
        "--peer",
        &peer,
        "--max-in-flight",
        "1",
        "--call-timeout-ms",
        "5000",
    ];
    let shop = sandbox
        .serve_with(
            free_port(),
            "vod.catalog,vod.purchase,vod.mileage",
            &args,
            &[],
        )
        .await;
    assert_eq!(buy(&shop, "1", "lee").await.unwrap().order_status, "PAID");

    // Payment hung: one purchase holds the only slot waiting for it; the others, sent at
    // the same time, are refused at once.
    payment.proc.signal(libc::SIGSTOP);
    let calls = (0..5).map(|n| {
        let shop = &shop;
        async move {
            let started = std::time::Instant::now();
            let result = buy(shop, "1", &format!("c{n}")).await;
            (result, started.elapsed())
        }
    });
    let outcomes = futures::future::join_all(calls).await;
    let shed: Vec<_> = outcomes
        .iter()
        .filter_map(|(r, took)| {
            r.as_ref()
                .err()
                .filter(|s| s.code() == tonic::Code::ResourceExhausted)
                .map(|s| (s, *took))
        })
        .collect();
    assert!(
        shed.len() >= 3,
        "most of 5 concurrent calls are shed: {outcomes:?}"
    );
    for (status, took) in shed {
        assert!(
            status.get_details_retry_info().is_some(),
            "RetryInfo missing: {status:?}"
        );
        assert!(
            took < Duration::from_millis(1000),
            "answered at once: {took:?}"
        );
    }
    payment.proc.signal(libc::SIGCONT);
    shop.wait_serving().await; // health is never shed
}
