//! Paged listing over a seeded store: the first page, a page from the middle (continued
//! after the middle row's key) and one customer's purchases, each timed on its own.
use std::time::{Duration, Instant};

use mediamesh_proto::vod::v1 as pb;
use pb::purchase_service_client::PurchaseServiceClient;
use tonic::transport::Channel;

use crate::bench::load::percentile;

/// Calls timed per listing.
const CALLS: usize = 200;

pub async fn report(channel: &Channel, seeded: i64) -> anyhow::Result<()> {
    // The token of the page after seeded row `middle` (hex of its sort key; the bench knows
    // the seeded rows, clients treat tokens as opaque).
    let middle = format!("seed-{}", seeded / 2);
    let key = format!("2026-01-01T00:00:00.000000Z\u{1f}{middle}");
    let deep: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    let listings = [
        ("first page (50)", String::new(), String::new()),
        ("middle page (50)", format!("k1{deep}"), String::new()),
        (
            "one customer",
            String::new(),
            format!("seed-{}", seeded / 20),
        ),
    ];
    for (label, page_token, customer_id) in listings {
        let mut client = PurchaseServiceClient::new(channel.clone());
        let mut times = Vec::with_capacity(CALLS);
        let mut rows = 0;
        for _ in 0..CALLS {
            let request = pb::ListPurchasesRequest {
                page_size: 50,
                page_token: page_token.clone(),
                customer_id: customer_id.clone(),
            };
            let started = Instant::now();
            rows = client
                .list_purchases(request)
                .await?
                .into_inner()
                .purchases
                .len();
            times.push(started.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "list {label:<17}p50 {:.2} ms, p99 {:.2} ms ({rows} rows)",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
    }
    Ok(())
}
