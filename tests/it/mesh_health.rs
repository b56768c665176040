//! Health tells the truth per context: a context whose consumer cannot run is NOT_SERVING
//! once that lasts past the grace an election needs (the others stay SERVING), until it runs
//! again; and a durable consumer left by an older
//! version with other subjects is brought to this version's subjects.
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{Mesh, Sandbox, buy, eventually, mileage_of};

const MILEAGE: &str = "mediamesh.vod.v1.MileageService";
const PURCHASE: &str = "mediamesh.vod.v1.PurchaseService";

async fn status(mesh: &Mesh, service: &str) -> i32 {
    let request = HealthCheckRequest {
        service: service.into(),
    };
    HealthClient::new(mesh.channel().await)
        .check(request)
        .await
        .map(|r| r.into_inner().status)
        .unwrap_or(-1)
}

async fn stream(nats: &str) -> (jetstream::Context, stream::Stream) {
    let js = jetstream::new(async_nats::connect(nats).await.unwrap());
    let stream = js
        .get_or_create_stream(stream::Config {
            name: "MEDIAMESH_VOD".into(),
            subjects: vec!["vod.>".into()],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .unwrap();
    (js, stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_whose_consumer_cannot_run_is_not_serving_until_it_heals() {
    let sandbox = Sandbox::sqlite("consumer-down");
    let mesh = sandbox.serve("vod").await;
    let (_js, stream) = stream(&sandbox.nats.url).await;

    // Someone replaces mileage's durable with a push consumer of the same name: the pull
    // consumer cannot be created while it exists.
    stream.delete_consumer("vod_mileage").await.unwrap();
    stream
        .create_consumer(consumer::push::Config {
            durable_name: Some("vod_mileage".into()),
            deliver_subject: "elsewhere".into(),
            filter_subject: "vod.nothing".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Within the grace (a broker election restarts every consumer at once) it keeps serving.
    let down = std::time::Instant::now();
    eventually("mileage NOT_SERVING", Duration::from_secs(40), || async {
        (status(&mesh, MILEAGE).await == 2).then_some(())
    })
    .await;
    assert!(
        down.elapsed() >= Duration::from_secs(15),
        "NOT_SERVING after {:?}, inside the grace",
        down.elapsed()
    );
    assert_eq!(
        status(&mesh, PURCHASE).await,
        1,
        "other contexts keep serving"
    );
    assert_eq!(
        status(&mesh, "").await,
        2,
        "the server as a whole is not ready"
    );
    buy(&mesh, "1", "patient").await.unwrap();

    stream.delete_consumer("vod_mileage").await.unwrap();
    eventually("mileage SERVING again", Duration::from_secs(20), || async {
        (status(&mesh, MILEAGE).await == 1 && status(&mesh, "").await == 1).then_some(())
    })
    .await;
    eventually(
        "the purchase made meanwhile credited",
        Duration::from_secs(20),
        || async {
            mileage_of(&mesh, "patient")
                .await
                .filter(|m| m.points == 1000)
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_from_an_older_version_gets_this_versions_subjects() {
    let sandbox = Sandbox::sqlite("subjects");
    let (_js, stream) = stream(&sandbox.nats.url).await;
    stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some("vod_mileage".into()),
            filter_subjects: vec!["vod.payment.SomethingRetired".into()],
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .unwrap();

    let mesh = sandbox.serve("vod").await;
    buy(&mesh, "1", "upgraded").await.unwrap();
    eventually(
        "credited through the updated durable",
        Duration::from_secs(20),
        || async {
            mileage_of(&mesh, "upgraded")
                .await
                .filter(|m| m.points == 1000)
        },
    )
    .await;
}
