//! The gateway (Envoy, `mediamesh up`) as public surface: each app's REST port passes only that
//! app's public RPCs, over REST and gRPC alike. Internal RPCs (`Pay`, `ApproveCopyright`,
//! `WithdrawInstallation`), other apps' services, reflection and health live on the mesh gRPC port only.

use mediamesh_proto::{cinema, iptv, music, video, vod};
use prost::bytes::{Buf, BufMut};
use serde_json::json;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

use crate::harness::rest::{get, post};
use crate::harness::{Db, Sandbox};

async fn channel(url: String) -> Channel {
    Channel::from_shared(url).unwrap().connect().await.unwrap()
}

/// A gRPC codec of raw message bytes, to call any path (reflection) without its stubs.
#[derive(Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// Asks server reflection for the service list (`list_services`, field 7) on `url`.
async fn list_services(url: String) -> Result<String, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel(url).await);
    grpc.ready().await.unwrap();
    // The version the mesh serves (tonic-reflection's v1alpha).
    let path = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
    let request = tonic::Request::new(futures::stream::iter([vec![0x3a, 0x00]]));
    let mut answers = grpc
        .streaming(request, path.parse().unwrap(), Raw)
        .await?
        .into_inner();
    let first = answers.message().await?.unwrap_or_default();
    Ok(String::from_utf8_lossy(&first).into_owned())
}

fn pay_request(id: &str) -> vod::v1::PayRequest {
    vod::v1::PayRequest {
        purchase_id: id.into(),
        customer_id: "gw-kim".into(),
        vod_id: "1".into(),
        amount: 1000,
        free_vod: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn internal_rpcs_have_no_rest_route_and_store_nothing() {
    let sandbox = Sandbox::sqlite("gw-rest-internal");
    let mesh = sandbox.up().await;
    let (v, c, m, i) = (mesh.rest(), mesh.cinema(), mesh.music(), mesh.iptv());

    // Each was answered 200 and stored: a free VOD, negative credits, squatted ids.
    let attempts = [
        (
            format!("{v}/payments"),
            json!({"purchaseId": "gw-p", "customerId": "gw-kim", "vodId": "1", "amount": 1}),
        ),
        (
            format!("{v}/payments"),
            json!({"purchaseId": "gw-f", "customerId": "gw-kim", "freeVod": true}),
        ),
        (
            format!("{c}/payments"),
            json!({"rsvId": "gw-r", "movieId": "1", "customerId": "gw-kim", "amount": 1}),
        ),
        (
            format!("{m}/copyrights"),
            json!({"contentId": "gw-c", "creatorName": "x", "title": "t", "type": "New Music"}),
        ),
        // The gRPC path as a JSON POST is not a way around it.
        (
            format!("{v}/mediamesh.vod.v1.PaymentService/Pay"),
            json!({"purchaseId": "gw-g", "customerId": "gw-kim", "vodId": "1", "amount": 1}),
        ),
        (
            format!("{i}/installations/gw-o:withdraw"),
            json!({"customerId": "gw-kim"}),
        ),
        (
            format!("{i}/mediamesh.iptv.v1.InstallationService/WithdrawInstallation"),
            json!({"joinOrderId": "gw-o", "customerId": "gw-kim"}),
        ),
    ];
    for (url, body) in attempts {
        let (status, answer) = post(url.clone(), body).await;
        assert_eq!(status, 404, "POST {url}: {answer}");
    }

    for id in ["gw-p", "gw-f", "gw-g"] {
        let (status, payment) = get(format!("{v}/payments/{id}")).await;
        assert_eq!(status, 404, "vod payment {id} stored: {payment}");
    }
    // A withdrawal asked ahead of the order would leave a WITHDRAWN installation.
    let (status, installation) = get(format!("{i}/installations/gw-o")).await;
    assert_eq!(status, 404, "installation stored: {installation}");
    let (status, payment) = get(format!("{c}/payments/gw-r")).await;
    assert_eq!(status, 404, "cinema payment stored: {payment}");
    let (status, copyrights) = get(format!("{m}/copyrights?pageSize=100")).await;
    assert_eq!(status, 200, "{copyrights}");
    assert!(
        !copyrights.to_string().contains("gw-c"),
        "copyright stored: {copyrights}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_port_passes_grpc_only_for_its_apps_public_rpcs() {
    let sandbox = Sandbox::sqlite("gw-grpc");
    let mesh = sandbox.up().await;
    let vod_port = channel(mesh.rest()).await;
    let mut payments = vod::v1::payment_service_client::PaymentServiceClient::new(vod_port.clone());

    // Internal: refused through the vod port, served on the mesh port.
    let refused = payments.pay(pay_request("gw-grpc-1")).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unimplemented, "{refused:?}");
    let mut mesh_payments =
        vod::v1::payment_service_client::PaymentServiceClient::new(mesh.channel().await);
    let paid = mesh_payments.pay(pay_request("gw-grpc-2")).await.unwrap();
    assert_eq!(paid.into_inner().pay_status, "APPROVED");
    // The refused one was never made; the public read passes through the vod port.
    let get = |id: &str| vod::v1::GetPaymentRequest {
        purchase_id: id.into(),
    };
    let missing = payments.get_payment(get("gw-grpc-1")).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound, "{missing:?}");
    let made = payments.get_payment(get("gw-grpc-2")).await.unwrap();
    assert_eq!(made.into_inner().pay_status, "APPROVED");

    // Another app's service: refused through the vod port, served through its own.
    let list = || cinema::v1::ListMoviesRequest {
        page_size: 1,
        page_token: String::new(),
    };
    let mut movies_via_vod =
        cinema::v1::movie_service_client::MovieServiceClient::new(vod_port.clone());
    let refused = movies_via_vod.list_movies(list()).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unimplemented, "{refused:?}");
    let mut movies =
        cinema::v1::movie_service_client::MovieServiceClient::new(channel(mesh.cinema()).await);
    movies.list_movies(list()).await.unwrap();

    // Internal in another app, through its own port: refused too.
    let mut copyrights = music::v1::copyright_service_client::CopyrightServiceClient::new(
        channel(mesh.music()).await,
    );
    let refused = copyrights
        .approve_copyright(music::v1::ApproveCopyrightRequest {
            content_id: "gw-c".into(),
            creator_name: "x".into(),
            title: "t".into(),
            r#type: "New Music".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unimplemented, "{refused:?}");
    let mut installations = iptv::v1::installation_service_client::InstallationServiceClient::new(
        channel(mesh.iptv()).await,
    );
    let refused = installations
        .withdraw_installation(iptv::v1::WithdrawInstallationRequest {
            join_order_id: "gw-o".into(),
            customer_id: "gw-kim".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unimplemented, "{refused:?}");

    // The video port serves video's services and nobody else's.
    let mut videos =
        video::v1::video_service_client::VideoServiceClient::new(channel(mesh.video()).await);
    videos
        .list_videos(video::v1::ListVideosRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut videos_via_iptv =
        video::v1::video_service_client::VideoServiceClient::new(channel(mesh.iptv()).await);
    let refused = videos_via_iptv
        .list_videos(video::v1::ListVideosRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unimplemented, "{refused:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reflection_and_health_are_not_served_on_gateway_ports() {
    let sandbox = Sandbox::sqlite("gw-reflection");
    let mesh = sandbox.up().await;

    let services = list_services(mesh.grpc_url()).await.unwrap();
    assert!(
        services.contains("mediamesh.vod.v1.PaymentService"),
        "{services}"
    );
    for port in [
        mesh.rest(),
        mesh.cinema(),
        mesh.music(),
        mesh.video(),
        mesh.iptv(),
    ] {
        let refused = list_services(port.clone()).await.unwrap_err();
        assert_eq!(
            refused.code(),
            tonic::Code::Unimplemented,
            "{port}: {refused:?}"
        );
        let mut health =
            tonic_health::pb::health_client::HealthClient::new(channel(port.clone()).await);
        let refused = health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            tonic::Code::Unimplemented,
            "{port}: {refused:?}"
        );
        // Over REST as well: a gRPC path is not a REST route.
        let (status, body) = post(format!("{port}/grpc.health.v1.Health/Check"), json!({})).await;
        assert_eq!(status, 404, "{port}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_query_parameter_is_a_400_naming_it() {
    let sandbox = Sandbox::sqlite("gw-query");
    let mesh = sandbox.up().await;
    let v = mesh.rest();

    let (status, body) = get(format!("{v}/vodLists?pageSzie=1")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("pageSzie"), "{body}");
    let (status, body) = get(format!("{}/movies?pageSize=1&sort=title", mesh.cinema())).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("sort"), "{body}");

    // Known parameters (JSON names) still bind.
    let (status, page) = get(format!("{v}/vodLists?pageSize=1")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["vods"].as_array().map(Vec::len), Some(1), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_ports_bind_loopback_by_default() {
    let sandbox = Sandbox::sqlite("gw-bind");
    let mesh = sandbox.up().await;
    let Db::Sqlite(data) = &sandbox.db else {
        unreachable!("a SQLite sandbox")
    };
    let yaml = std::fs::read_to_string(data.join("envoy/envoy.yaml")).unwrap();
    let listeners: Vec<&str> = yaml
        .lines()
        .filter(|l| l.contains("socket_address") && l.contains("port_value"))
        .collect();
    for port in [mesh.rest_port, mesh.cinema_port, mesh.music_port] {
        let port = format!("port_value: {} ", port.unwrap());
        let line = listeners
            .iter()
            .find(|l| l.contains(&port))
            .unwrap_or_else(|| panic!("no listener on {port} in {yaml}"));
        assert!(line.contains("address: \"127.0.0.1\""), "{line}");
    }
    assert!(!yaml.contains("0.0.0.0"), "{yaml}");
}

/// 100 contents of the widest valid row, every character 4 bytes of UTF-8: about 1.06 MB of
/// protobuf, over Envoy's default 1 MiB transcoder buffer (the list answered 500 for everyone).
#[tokio::test(flavor = "multi_thread")]
async fn the_largest_valid_page_fits_the_gateway() {
    use mediamesh_mesh::input::{ID_MAX, NAME_MAX, TEXT_MAX};
    let sandbox = Sandbox::sqlite("gw-page");
    let mesh = sandbox.up().await;
    let m = mesh.music();
    let wide = |n: usize| "😀".repeat(n);
    for i in 0..100 {
        let id = format!("{i:03}{}", "x".repeat(ID_MAX - 3));
        let content = json!({
            "contentId": id,
            "creatorName": wide(NAME_MAX),
            "title": wide(NAME_MAX),
            "type": wide(NAME_MAX),
            "description": wide(TEXT_MAX),
        });
        let (status, answer) = post(format!("{m}/contents"), content).await;
        assert_eq!(status, 200, "content {i}: {answer}");
    }
    let (status, page) = get(format!("{m}/contents?pageSize=100")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["contents"].as_array().map(Vec::len), Some(100));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_past_4_mib_is_a_413_even_when_padded_with_unknown_fields() {
    let sandbox = Sandbox::sqlite("gw-big-body");
    let mesh = sandbox.up().await;
    let i = mesh.iptv();
    // The transcoder drops unknown fields, so only the whole body's bound can refuse this.
    let pad = "x".repeat(4 * 1024 * 1024 + 1);
    let installer = |id: &str| json!({"installerId": id, "name": "Kim", "region": "seoul"});
    let mut padded = installer("gw-big");
    padded["pad"] = json!(pad);
    let (status, body) = post(format!("{i}/installers"), padded).await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = post(format!("{i}/installers"), installer("gw-small")).await;
    assert_eq!(status, 200, "{body}");
    let (status, installers) = get(format!("{i}/installers?pageSize=100")).await;
    assert_eq!(status, 200, "{installers}");
    let listed = installers.to_string();
    assert!(
        listed.contains("gw-small") && !listed.contains("gw-big"),
        "{listed}"
    );
}

/// The gateway resends only a call that surely never ran. A purchase whose payment peer
/// answers UNIMPLEMENTED (here: a peer address that serves no PaymentService) was recorded
/// before the peer answered, and its status passes the peer's code on: a retry on
/// UNIMPLEMENTED made four purchases of one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_ran_is_never_sent_again() {
    use std::process::Command;
    use std::time::Duration;

    use crate::harness::{BIN, Proc, eventually, free_port, wait_for_port};
    let sandbox = Sandbox::sqlite("gateway-once");
    let (grpc, rest) = (free_port(), free_port());
    let Db::Sqlite(dir) = &sandbox.db else {
        unreachable!()
    };
    let mut command = Command::new(BIN);
    command
        .args(["up", "--target", "vod.catalog,vod.purchase,vod.mileage"])
        .args(["--nats-url", &sandbox.nats.url])
        .args(["--peer", &format!("vod.payment=http://127.0.0.1:{grpc}")])
        .args(["--grpc-addr", &format!("127.0.0.1:{grpc}")])
        .args(["--admin-addr", "off"])
        .args(["--rest-ports", &format!("vod={rest}")])
        .arg("--data-dir")
        .arg(dir);
    let log = sandbox.logs.path().join("up-once.log");
    let _up = Proc::spawn("mediamesh up (vod without payment)", &mut command, &log);
    wait_for_port(rest, Duration::from_secs(60));
    let url = format!("http://127.0.0.1:{rest}");
    eventually("vod serving", Duration::from_secs(60), || {
        let url = format!("{url}/vodLists");
        async move { (get(url).await.0 == 200).then_some(()) }
    })
    .await;

    let (status, body) = post(
        format!("{url}/vodPurchases"),
        json!({"vodId": "2", "vodName": "ToBusan", "customerId": "once"}),
    )
    .await;
    assert_eq!(status, 501, "the peer's UNIMPLEMENTED, passed on: {body}");
    let (status, body) = get(format!("{url}/vodPurchases?customerId=once")).await;
    assert_eq!(status, 200, "{body}");
    let purchases = body["purchases"].as_array().unwrap();
    assert_eq!(purchases.len(), 1, "one request, one purchase: {body}");
    assert_eq!(purchases[0]["orderStatus"], "FAILED", "{body}");
}
