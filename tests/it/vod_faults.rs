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
    let payment_port = free_port();
    let mut payment = sandbox
        .serve_with(payment_port, "vod.payment", &[], &[])
        .await;
    let peer = format!("vod.payment=http://127.0.0.1:{payment_port}");
    let shop = sandbox
        .serve_with(
            free_port(),
            "vod.catalog,vod.purchase,vod.mileage",
            &["--peer", &peer],
            &[],
        )
        .await;
    assert_eq!(buy(&shop, "1", "lee").await.unwrap().order_status, "PAID");

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

    // A purchase waiting on a hung payment holds the only slot.
    payment.proc.signal(libc::SIGSTOP);
    let shop_url = shop.grpc_url();
    let stuck = tokio::spawn(async move {
        let channel = tonic::transport::Channel::from_shared(shop_url)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client =
            mediamesh_proto::vod::v1::purchase_service_client::PurchaseServiceClient::new(channel);
        let request = mediamesh_proto::vod::v1::CreatePurchaseRequest {
            vod_id: "1".into(),
            ..Default::default()
        };
        client.create_purchase(request).await
    });
    // Probe with a call that needs no payment: NOT_FOUND while admitted, shed once the
    // slot is taken.
    let shed = eventually("a call shed", Duration::from_secs(4), || async {
        let mut client = shop.purchases().await;
        let started = std::time::Instant::now();
        let request = mediamesh_proto::vod::v1::GetPurchaseRequest {
            purchase_id: "nope".into(),
        };
        let status = client.get_purchase(request).await.err()?;
        (status.code() == tonic::Code::ResourceExhausted).then_some((status, started.elapsed()))
    })
    .await;
    assert!(
        shed.0.get_details_retry_info().is_some(),
        "RetryInfo missing: {:?}",
        shed.0
    );
    assert!(
        shed.1 < Duration::from_millis(200),
        "answered at once: {:?}",
        shed.1
    );
    shop.wait_serving().await; // health is never shed
    payment.proc.signal(libc::SIGCONT);
    stuck
        .await
        .unwrap()
        .expect("the held call completes once payment answers");
}
