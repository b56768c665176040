//! Durability: kill -9 of the whole mesh (its nats-server dies with it) during purchase load,
//! then a restart on the same data. No acknowledged purchase is lost, and for every customer
//! mileage equals 1000 per paid purchase: nothing lost, nothing applied twice.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediamesh_proto::vod::v1 as pb;

use crate::harness::{
    Db, Mesh, TempDir, eventually, free_port, mileage_balances, mileage_of, purchases_of,
};

const CUSTOMERS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_purchases_loses_nothing() {
    let logs = TempDir::new("crash");
    let db = Db::Sqlite(logs.path().join("data"));
    let (grpc, rest, nats) = (free_port(), free_port(), free_port());
    let mut mesh = Mesh::up_with(None, &db, grpc, rest, Some(nats), logs.path()).await;

    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let channel = mesh.channel().await;
    let mut load = Vec::new();
    for worker in 0..16 {
        let (channel, acknowledged) = (channel.clone(), acknowledged.clone());
        load.push(tokio::spawn(async move {
            let mut client = pb::purchase_service_client::PurchaseServiceClient::new(channel);
            loop {
                let request = pb::CreatePurchaseRequest {
                    vod_id: "1".into(),
                    customer_id: format!("c{}", worker % CUSTOMERS),
                    ..Default::default()
                };
                match client.create_purchase(request).await {
                    Ok(r) => acknowledged
                        .lock()
                        .unwrap()
                        .push(r.into_inner().purchase_id),
                    Err(_) => return, // the mesh is gone
                }
            }
        }));
    }
    eventually("load under way", Duration::from_secs(30), || async {
        (acknowledged.lock().unwrap().len() >= 300).then_some(())
    })
    .await;
    mesh.proc.kill9();
    // Its children (nats-server, Envoy) die with it: their ports free up.
    eventually("children gone", Duration::from_secs(10), || async {
        let free = |port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
        (free(nats) && free(rest)).then_some(())
    })
    .await;
    for task in load {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    drop(mesh);

    let mesh = Mesh::up_with(None, &db, grpc, rest, Some(nats), logs.path()).await;
    let mut client = mesh.purchases().await;
    for id in &acknowledged {
        let request = pb::GetPurchaseRequest {
            purchase_id: id.clone(),
        };
        let purchase = client
            .get_purchase(request)
            .await
            .expect("acknowledged purchase kept")
            .into_inner();
        assert_eq!(purchase.order_status, "PAID", "{id}");
    }
    for c in 0..CUSTOMERS {
        let customer = format!("c{c}");
        // Purchases cut off mid-way are settled by recovery; then mileage balances.
        eventually(
            &format!("{customer} balanced"),
            Duration::from_secs(60),
            || {
                let (mesh, customer) = (&mesh, customer.clone());
                async move {
                    let purchases = purchases_of(mesh, &customer).await;
                    let settled = purchases.iter().all(|p| p.order_status != "PENDING");
                    (settled
                        && mileage_balances(&purchases, mileage_of(mesh, &customer).await.as_ref()))
                    .then_some(())
                }
            },
        )
        .await;
    }
}
