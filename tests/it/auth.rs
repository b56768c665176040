//! `up --auth`: the gateway (Envoy jwt_authn) and the mesh verify bearer tokens made by
//! `mediamesh token`, and the contexts' rules decide who may do what. Every mutating public
//! route of every app, over REST and over gRPC through the gateway port: no token 401 /
//! UNAUTHENTICATED, wrong owner or role 403 / PERMISSION_DENIED, the right caller succeeds.
use std::path::Path;
use std::process::Command;

use mediamesh_proto::{cinema::v1 as cinema, music::v1 as music, vod::v1 as vod};
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::{BIN, Mesh, Sandbox, TempDir, free_port};

/// `mediamesh token` against a data dir's key.
fn token(data_dir: &Path, sub: &str, roles: &[&str]) -> String {
    let mut command = Command::new(BIN);
    command
        .args(["token", "--sub", sub, "--data-dir"])
        .arg(data_dir);
    for role in roles {
        command.args(["--role", role]);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The callers of the tests, by name.
struct Tokens {
    alice: String,
    bob: String,
    admin: String,
    theater: String,
    /// Alice as an admin, signed by another key.
    forged: String,
}

impl Tokens {
    fn new(data_dir: &Path, other: &Path) -> Tokens {
        Tokens {
            alice: token(data_dir, "alice", &[]),
            bob: token(data_dir, "bob", &[]),
            admin: token(data_dir, "ops", &["admin"]),
            theater: token(data_dir, "cgv", &["theater"]),
            forged: token(other, "alice", &["admin"]),
        }
    }

    fn of(&self, who: Who) -> Option<&str> {
        match who {
            Who::Nobody => None,
            Who::Alice => Some(&self.alice),
            Who::Bob => Some(&self.bob),
            Who::Admin => Some(&self.admin),
            Who::Theater => Some(&self.theater),
            Who::Forged => Some(&self.forged),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Who {
    Nobody,
    Alice,
    Bob,
    Admin,
    Theater,
    Forged,
}
use Who::*;

async fn up_with_auth(sandbox: &Sandbox) -> Mesh {
    Mesh::up_flags(
        Some(&sandbox.nats.url),
        &sandbox.db,
        free_port(),
        free_port(),
        None,
        sandbox.logs.path(),
        &["--auth"],
    )
    .await
}

async fn rest(method: &str, url: String, body: Option<Value>, token: Option<&str>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A unary gRPC call on `port` by path, with the token as `authorization: Bearer`.
async fn grpc<Req, Resp>(
    port: u16,
    path: &'static str,
    message: Req,
    token: Option<&str>,
) -> Result<Resp, tonic::Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    let path = http::uri::PathAndQuery::from_static(path);
    client
        .unary(request, path, tonic_prost::ProstCodec::default())
        .await
        .map(|r| r.into_inner())
}

fn code<T>(result: &Result<T, tonic::Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// One REST case: method, path on the app's port, body, caller, expected HTTP status.
type RestCase = (&'static str, String, Option<Value>, Who, u16);
/// A REST case with a token of its own (installers are not among the shared callers).
type TokenCase = (&'static str, String, Option<Value>, Option<String>, u16);

async fn run_rest(app: &str, base: &str, tokens: &Tokens, cases: Vec<RestCase>) {
    for (method, path, body, who, expected) in cases {
        let (status, reply) = rest(method, format!("{base}{path}"), body, tokens.of(who)).await;
        assert_eq!(
            status, expected,
            "{app}: {method} {path} as {who:?}: {reply}"
        );
        if expected == 401 {
            assert!(reply["message"].is_string(), "a JSON local reply: {reply}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mutating_rest_route_needs_the_right_caller() {
    let sandbox = Sandbox::sqlite("auth-rest");
    let mesh = up_with_auth(&sandbox).await;
    let other = TempDir::new("auth-other-key");
    let Sandbox {
        db: crate::harness::Db::Sqlite(data),
        ..
    } = &sandbox
    else {
        unreachable!()
    };
    let tokens = Tokens::new(data, other.path());

    let purchase = |id: &str, customer: &str| {
        Some(json!({"purchaseId": id, "vodId": "1", "customerId": customer}))
    };
    let cancel = Some(json!({"orderStatus": "CANCELLED"}));
    run_rest(
        "vod",
        &mesh.rest(),
        &tokens,
        vec![
            (
                "POST",
                "/vodLists".into(),
                Some(json!({"vodName": "Auth", "price": 100})),
                Nobody,
                401,
            ),
            (
                "POST",
                "/vodLists".into(),
                Some(json!({"vodName": "Auth", "price": 100})),
                Forged,
                401,
            ),
            (
                "POST",
                "/vodLists".into(),
                Some(json!({"vodName": "Auth", "price": 100})),
                Alice,
                403,
            ),
            (
                "POST",
                "/vodLists".into(),
                Some(json!({"vodName": "Auth", "price": 100})),
                Admin,
                200,
            ),
            (
                "POST",
                "/vodPurchases".into(),
                purchase("p-r1", "alice"),
                Nobody,
                401,
            ),
            (
                "POST",
                "/vodPurchases".into(),
                purchase("p-r1", "bob"),
                Alice,
                403,
            ),
            (
                "POST",
                "/vodPurchases".into(),
                purchase("p-r1", "alice"),
                Alice,
                200,
            ),
            (
                "POST",
                "/vodPurchases".into(),
                purchase("p-r2", ""),
                Alice,
                200,
            ),
            ("GET", "/vodPurchases/p-r1".into(), None, Bob, 403),
            ("GET", "/payments/p-r1".into(), None, Bob, 403),
            ("GET", "/mileages/alice".into(), None, Bob, 403),
            (
                "PATCH",
                "/vodPurchases/p-r1".into(),
                cancel.clone(),
                Nobody,
                401,
            ),
            (
                "PATCH",
                "/vodPurchases/p-r1".into(),
                cancel.clone(),
                Bob,
                403,
            ),
            (
                "PATCH",
                "/vodPurchases/p-r1".into(),
                cancel.clone(),
                Alice,
                200,
            ),
            (
                "POST",
                "/vodPurchases/p-r2:cancel".into(),
                Some(json!({})),
                Nobody,
                401,
            ),
            (
                "POST",
                "/vodPurchases/p-r2:cancel".into(),
                Some(json!({})),
                Bob,
                403,
            ),
            (
                "POST",
                "/vodPurchases/p-r2:cancel".into(),
                Some(json!({})),
                Admin,
                200,
            ),
        ],
    )
    .await;
    // The purchase paid through the saga (purchase -> Pay under the mesh's own identity),
    // recorded for the token's subject even with no customer in the body.
    let (status, bought) = rest(
        "GET",
        format!("{}/vodPurchases/p-r2", mesh.rest()),
        None,
        Some(&tokens.alice),
    )
    .await;
    assert_eq!(
        (status, bought["customerId"].as_str()),
        (200, Some("alice")),
        "{bought}"
    );
    let (_, mine) = rest(
        "GET",
        format!("{}/vodPurchases", mesh.rest()),
        None,
        Some(&tokens.alice),
    )
    .await;
    let mine = mine["purchases"].as_array().unwrap();
    assert!(
        !mine.is_empty() && mine.iter().all(|p| p["customerId"] == "alice"),
        "{mine:?}"
    );

    let movie = |id: &str| Some(json!({"movieId": id, "title": "Auth", "seats": 10}));
    let reserve = |id: &str, customer: &str| {
        Some(json!({"rsvId": id, "movieId": "m-r1", "customerId": customer}))
    };
    let cancel = Some(json!({"status": "CANCELLED"}));
    let review = Some(json!({"reviewId": "v-r1", "movieId": "m-r1", "content": "good"}));
    run_rest(
        "cinema",
        &mesh.cinema(),
        &tokens,
        vec![
            ("POST", "/movies".into(), movie("m-r1"), Nobody, 401),
            ("POST", "/movies".into(), movie("m-r1"), Alice, 403),
            ("POST", "/movies".into(), movie("m-r1"), Theater, 200),
            ("POST", "/movies".into(), movie("m-r2"), Admin, 200),
            (
                "PATCH",
                "/movies/m-r1".into(),
                Some(json!({"title": "Auth 2"})),
                Nobody,
                401,
            ),
            (
                "PATCH",
                "/movies/m-r1".into(),
                Some(json!({"title": "Auth 2"})),
                Alice,
                403,
            ),
            (
                "PATCH",
                "/movies/m-r1".into(),
                Some(json!({"title": "Auth 2"})),
                Theater,
                200,
            ),
            ("DELETE", "/movies/m-r2".into(), None, Nobody, 401),
            ("DELETE", "/movies/m-r2".into(), None, Alice, 403),
            ("DELETE", "/movies/m-r2".into(), None, Theater, 200),
            (
                "POST",
                "/reservations".into(),
                reserve("r-r1", "alice"),
                Nobody,
                401,
            ),
            (
                "POST",
                "/reservations".into(),
                reserve("r-r1", "bob"),
                Alice,
                403,
            ),
            (
                "POST",
                "/reservations".into(),
                reserve("r-r1", "alice"),
                Alice,
                200,
            ),
            ("GET", "/reservations/r-r1".into(), None, Bob, 403),
            ("GET", "/payments/r-r1".into(), None, Bob, 403),
            ("GET", "/reservations?movieId=m-r1".into(), None, Alice, 403),
            (
                "GET",
                "/reservations?movieId=m-r1".into(),
                None,
                Theater,
                200,
            ),
            (
                "PATCH",
                "/reservations/r-r1".into(),
                cancel.clone(),
                Nobody,
                401,
            ),
            (
                "PATCH",
                "/reservations/r-r1".into(),
                cancel.clone(),
                Bob,
                403,
            ),
            (
                "PATCH",
                "/reservations/r-r1".into(),
                cancel.clone(),
                Alice,
                200,
            ),
            ("POST", "/reviews".into(), review.clone(), Nobody, 401),
            ("POST", "/reviews".into(), review.clone(), Alice, 200),
            ("DELETE", "/reviews/v-r1".into(), None, Nobody, 401),
            ("DELETE", "/reviews/v-r1".into(), None, Alice, 403),
            ("DELETE", "/reviews/v-r1".into(), None, Admin, 200),
        ],
    )
    .await;

    // Messages (made from reservation events): a customer sees only their own.
    let messages = |token: String| {
        let url = format!("{}/messages", mesh.cinema());
        async move {
            let (status, body) = rest("GET", url, None, Some(&token)).await;
            assert_eq!(status, 200, "{body}");
            body["messages"].as_array().cloned().unwrap_or_default()
        }
    };
    crate::harness::eventually("alice's messages", crate::harness::rest::WAIT, || {
        let alice = messages(tokens.alice.clone());
        async move { (!alice.await.is_empty()).then_some(()) }
    })
    .await;
    let theirs = messages(tokens.alice.clone()).await;
    assert!(
        theirs.iter().all(|m| m["customerId"] == "alice"),
        "{theirs:?}"
    );
    assert!(
        messages(tokens.bob.clone()).await.is_empty(),
        "bob sees none of alice's"
    );
    assert!(
        !messages(tokens.theater.clone()).await.is_empty(),
        "the theater sees them"
    );

    let content = |id: &str, creator: &str| {
        Some(json!({"contentId": id, "creatorName": creator, "title": "Auth", "type": "New Music"}))
    };
    run_rest(
        "music",
        &mesh.music(),
        &tokens,
        vec![
            (
                "POST",
                "/contents".into(),
                content("c-r1", "alice"),
                Nobody,
                401,
            ),
            (
                "POST",
                "/contents".into(),
                content("c-r1", "bob"),
                Alice,
                403,
            ),
            (
                "POST",
                "/contents".into(),
                content("c-r1", "alice"),
                Alice,
                200,
            ),
            ("DELETE", "/contents/c-r1".into(), None, Nobody, 401),
            ("DELETE", "/contents/c-r1".into(), None, Bob, 403),
            ("DELETE", "/contents/c-r1".into(), None, Alice, 200),
            ("GET", "/mypages?creatorName=bob".into(), None, Alice, 403),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mutating_grpc_route_needs_the_right_caller_and_the_mesh_port_checks_too() {
    let sandbox = Sandbox::sqlite("auth-grpc");
    let mesh = up_with_auth(&sandbox).await;
    let other = TempDir::new("auth-other-key-g");
    let Sandbox {
        db: crate::harness::Db::Sqlite(data),
        ..
    } = &sandbox
    else {
        unreachable!()
    };
    let t = Tokens::new(data, other.path());
    let (vod_port, cinema_port, music_port) = (
        mesh.rest_port.unwrap(),
        mesh.cinema_port.unwrap(),
        mesh.music_port.unwrap(),
    );

    const CREATE_VOD: &str = "/mediamesh.vod.v1.CatalogService/CreateVod";
    const CREATE_PURCHASE: &str = "/mediamesh.vod.v1.PurchaseService/CreatePurchase";
    const UPDATE_PURCHASE: &str = "/mediamesh.vod.v1.PurchaseService/UpdatePurchase";
    const CANCEL_PURCHASE: &str = "/mediamesh.vod.v1.PurchaseService/CancelPurchase";
    let new_vod = || vod::CreateVodRequest {
        vod_name: "Auth".into(),
        price: Some(100),
        ..Default::default()
    };
    let buy = |id: &str, customer: &str| vod::CreatePurchaseRequest {
        purchase_id: id.into(),
        vod_id: "1".into(),
        customer_id: customer.into(),
        ..Default::default()
    };
    let update = || vod::UpdatePurchaseRequest {
        purchase_id: "p-g1".into(),
        order_status: "CANCELLED".into(),
    };
    let cancel = || vod::CancelPurchaseRequest {
        purchase_id: "p-g1".into(),
    };
    let mut codes = Vec::new();
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Forged, Code::Unauthenticated),
        (Alice, Code::PermissionDenied),
        (Admin, Code::Ok),
    ] {
        let r = grpc::<_, vod::Vod>(vod_port, CREATE_VOD, new_vod(), t.of(who)).await;
        codes.push(("CreateVod", who, code(&r), expected));
    }
    for (customer, who, expected) in [
        ("alice", Nobody, Code::Unauthenticated),
        ("bob", Alice, Code::PermissionDenied),
        ("alice", Alice, Code::Ok),
    ] {
        let r =
            grpc::<_, vod::Purchase>(vod_port, CREATE_PURCHASE, buy("p-g1", customer), t.of(who))
                .await;
        if expected == Code::Ok {
            assert_eq!(
                r.as_ref().unwrap().order_status,
                "PAID",
                "the saga completes under auth"
            );
        }
        codes.push(("CreatePurchase", who, code(&r), expected));
    }
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Bob, Code::PermissionDenied),
        (Alice, Code::Ok),
    ] {
        let r = grpc::<_, vod::Purchase>(vod_port, UPDATE_PURCHASE, update(), t.of(who)).await;
        codes.push(("UpdatePurchase", who, code(&r), expected));
        let r = grpc::<_, vod::Purchase>(vod_port, CANCEL_PURCHASE, cancel(), t.of(who)).await;
        codes.push(("CancelPurchase", who, code(&r), expected));
    }

    const CREATE_MOVIE: &str = "/mediamesh.cinema.v1.MovieService/CreateMovie";
    const UPDATE_MOVIE: &str = "/mediamesh.cinema.v1.MovieService/UpdateMovie";
    const DELETE_MOVIE: &str = "/mediamesh.cinema.v1.MovieService/DeleteMovie";
    const CREATE_RSV: &str = "/mediamesh.cinema.v1.ReservationService/CreateReservation";
    const UPDATE_RSV: &str = "/mediamesh.cinema.v1.ReservationService/UpdateReservation";
    const CREATE_REVIEW: &str = "/mediamesh.cinema.v1.ReviewService/CreateReview";
    const DELETE_REVIEW: &str = "/mediamesh.cinema.v1.ReviewService/DeleteReview";
    let movie = |id: &str| cinema::CreateMovieRequest {
        movie_id: id.into(),
        title: "Auth".into(),
        seats: Some(10),
        ..Default::default()
    };
    for (id, who, expected) in [
        ("m-g1", Nobody, Code::Unauthenticated),
        ("m-g1", Alice, Code::PermissionDenied),
        ("m-g1", Theater, Code::Ok),
        ("m-g2", Admin, Code::Ok),
    ] {
        let r = grpc::<_, cinema::Movie>(cinema_port, CREATE_MOVIE, movie(id), t.of(who)).await;
        codes.push(("CreateMovie", who, code(&r), expected));
    }
    let retitle = || cinema::UpdateMovieRequest {
        movie_id: "m-g1".into(),
        title: Some("Auth 2".into()),
        ..Default::default()
    };
    let delete = || cinema::DeleteMovieRequest {
        movie_id: "m-g2".into(),
    };
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Alice, Code::PermissionDenied),
        (Theater, Code::Ok),
    ] {
        let r = grpc::<_, cinema::Movie>(cinema_port, UPDATE_MOVIE, retitle(), t.of(who)).await;
        codes.push(("UpdateMovie", who, code(&r), expected));
        let r =
            grpc::<_, cinema::DeleteMovieResponse>(cinema_port, DELETE_MOVIE, delete(), t.of(who))
                .await;
        codes.push(("DeleteMovie", who, code(&r), expected));
    }
    let reserve = |customer: &str| cinema::CreateReservationRequest {
        rsv_id: "r-g1".into(),
        movie_id: "m-g1".into(),
        customer_id: customer.into(),
    };
    for (customer, who, expected) in [
        ("alice", Nobody, Code::Unauthenticated),
        ("bob", Alice, Code::PermissionDenied),
        ("", Alice, Code::Ok),
    ] {
        let r =
            grpc::<_, cinema::Reservation>(cinema_port, CREATE_RSV, reserve(customer), t.of(who))
                .await;
        if expected == Code::Ok {
            assert_eq!(
                r.as_ref().unwrap().customer_id,
                "alice",
                "the token's subject"
            );
        }
        codes.push(("CreateReservation", who, code(&r), expected));
    }
    let cancel = || cinema::UpdateReservationRequest {
        rsv_id: "r-g1".into(),
        status: "CANCELLED".into(),
    };
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Bob, Code::PermissionDenied),
        (Alice, Code::Ok),
    ] {
        let r = grpc::<_, cinema::Reservation>(cinema_port, UPDATE_RSV, cancel(), t.of(who)).await;
        codes.push(("UpdateReservation", who, code(&r), expected));
    }
    let review = || cinema::CreateReviewRequest {
        review_id: "v-g1".into(),
        movie_id: "m-g1".into(),
        content: "good".into(),
    };
    for (who, expected) in [(Nobody, Code::Unauthenticated), (Alice, Code::Ok)] {
        let r = grpc::<_, cinema::Review>(cinema_port, CREATE_REVIEW, review(), t.of(who)).await;
        codes.push(("CreateReview", who, code(&r), expected));
    }
    let unreview = || cinema::DeleteReviewRequest {
        review_id: "v-g1".into(),
    };
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Alice, Code::PermissionDenied),
        (Admin, Code::Ok),
    ] {
        let r = grpc::<_, cinema::DeleteReviewResponse>(
            cinema_port,
            DELETE_REVIEW,
            unreview(),
            t.of(who),
        )
        .await;
        codes.push(("DeleteReview", who, code(&r), expected));
    }

    const CREATE_CONTENT: &str = "/mediamesh.music.v1.ContentService/CreateContent";
    const DELETE_CONTENT: &str = "/mediamesh.music.v1.ContentService/DeleteContent";
    let upload = |creator: &str| music::CreateContentRequest {
        content_id: "c-g1".into(),
        creator_name: creator.into(),
        title: "Auth".into(),
        r#type: "New Music".into(),
        ..Default::default()
    };
    for (creator, who, expected) in [
        ("alice", Nobody, Code::Unauthenticated),
        ("bob", Alice, Code::PermissionDenied),
        ("alice", Alice, Code::Ok),
    ] {
        let r =
            grpc::<_, music::Content>(music_port, CREATE_CONTENT, upload(creator), t.of(who)).await;
        codes.push(("CreateContent", who, code(&r), expected));
    }
    let remove = || music::DeleteContentRequest {
        content_id: "c-g1".into(),
    };
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Bob, Code::PermissionDenied),
        (Alice, Code::Ok),
    ] {
        let r = grpc::<_, music::Content>(music_port, DELETE_CONTENT, remove(), t.of(who)).await;
        codes.push(("DeleteContent", who, code(&r), expected));
    }

    // The mesh port, without the gateway: the same checks, and internal RPCs are the mesh's.
    let get = || vod::GetPurchaseRequest {
        purchase_id: "p-g1".into(),
    };
    const GET_PURCHASE: &str = "/mediamesh.vod.v1.PurchaseService/GetPurchase";
    let r = grpc::<_, vod::Purchase>(mesh.grpc_port, GET_PURCHASE, get(), None).await;
    codes.push((
        "mesh port GetPurchase",
        Nobody,
        code(&r),
        Code::Unauthenticated,
    ));
    let r = grpc::<_, vod::Purchase>(mesh.grpc_port, GET_PURCHASE, get(), t.of(Forged)).await;
    codes.push((
        "mesh port GetPurchase",
        Forged,
        code(&r),
        Code::Unauthenticated,
    ));
    let r = grpc::<_, vod::Purchase>(mesh.grpc_port, GET_PURCHASE, get(), t.of(Bob)).await;
    codes.push((
        "mesh port GetPurchase",
        Bob,
        code(&r),
        Code::PermissionDenied,
    ));
    let r = grpc::<_, vod::Purchase>(mesh.grpc_port, GET_PURCHASE, get(), t.of(Alice)).await;
    codes.push(("mesh port GetPurchase", Alice, code(&r), Code::Ok));
    let pay = vod::PayRequest {
        purchase_id: "p-free".into(),
        customer_id: "alice".into(),
        vod_id: "1".into(),
        amount: 0,
        free_vod: true,
    };
    let r = grpc::<_, vod::Payment>(
        mesh.grpc_port,
        "/mediamesh.vod.v1.PaymentService/Pay",
        pay,
        t.of(Admin),
    )
    .await;
    codes.push((
        "mesh port Pay (internal)",
        Admin,
        code(&r),
        Code::PermissionDenied,
    ));

    let wrong: Vec<_> = codes
        .iter()
        .filter(|(_, _, got, want)| got != want)
        .collect();
    assert!(wrong.is_empty(), "(rpc, caller, got, expected): {wrong:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_checks_tokens_with_its_jwks_and_calls_peers_as_the_mesh() {
    let sandbox = Sandbox::sqlite("auth-serve");
    let keys = TempDir::new("auth-serve-keys");
    let alice = token(keys.path(), "alice", &[]);
    let service = token(keys.path(), "mediamesh", &["mesh"]);
    let jwks = keys.path().join("auth/jwks.json").display().to_string();

    // Auth on without the mesh's own token: vod.purchase could not pay, so it does not start.
    let refused = Command::new(BIN)
        .args(["serve", "--target", "vod", "--nats-url", &sandbox.nats.url])
        .args(["--grpc-addr", &format!("127.0.0.1:{}", free_port())])
        .args(["--admin-addr", "off", "--data-dir"])
        .arg(keys.path().join("data"))
        .env("MEDIAMESH_AUTH_JWKS", &jwks)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("--auth-service-token"), "{stderr}");

    let env = [
        ("MEDIAMESH_AUTH_JWKS", jwks.as_str()),
        ("MEDIAMESH_AUTH_SERVICE_TOKEN", service.as_str()),
    ];
    let mesh = sandbox.serve_with(free_port(), "vod", &[], &env).await;
    const CREATE: &str = "/mediamesh.vod.v1.PurchaseService/CreatePurchase";
    let buy = || vod::CreatePurchaseRequest {
        vod_id: "1".into(),
        ..Default::default()
    };
    let anonymous = grpc::<_, vod::Purchase>(mesh.grpc_port, CREATE, buy(), None).await;
    assert_eq!(code(&anonymous), Code::Unauthenticated);
    let bought = grpc::<_, vod::Purchase>(mesh.grpc_port, CREATE, buy(), Some(&alice))
        .await
        .unwrap();
    assert_eq!(
        (bought.customer_id.as_str(), bought.order_status.as_str()),
        ("alice", "PAID")
    );
}

/// The data dir of an `up` on SQLite (where its key is).
fn data_dir(sandbox: &Sandbox) -> &Path {
    match &sandbox.db {
        crate::harness::Db::Sqlite(data) => data,
        crate::harness::Db::Postgres(_) => unreachable!("SQLite sandboxes only"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn video_and_iptv_rest_routes_need_the_right_caller() {
    let sandbox = Sandbox::sqlite("auth-rest-vi");
    let mesh = up_with_auth(&sandbox).await;
    let other = TempDir::new("auth-other-key-vi");
    let data = data_dir(&sandbox);
    let tokens = Tokens::new(data, other.path());

    let client = |id: &str| Some(json!({"clientId": id}));
    let channel =
        |client: &str| Some(json!({"channelId": "ch-r1", "channelName": "A", "clientId": client}));
    let video = |client: &str| {
        Some(json!({"videoId": "vd-r1", "clientId": client, "channelId": "ch-r1", "title": "t"}))
    };
    let comment = |client: &str| {
        Some(
            json!({"commentId": "cm-r1", "videoId": "vd-r1", "clientId": client, "contents": "hi"}),
        )
    };
    let refund = |client: &str| Some(json!({"refundRequestId": "rf-r1", "clientId": client}));
    let policy = Some(json!({"policyId": "pol-r1", "refundPolicy": "10"}));
    let repolicy = Some(json!({"refundPolicy": "20"}));
    run_rest(
        "video",
        &mesh.video(),
        &tokens,
        vec![
            (
                "POST",
                "/clientSystems".into(),
                client("alice"),
                Nobody,
                401,
            ),
            ("POST", "/clientSystems".into(), client("bob"), Alice, 403),
            ("POST", "/clientSystems".into(), client("alice"), Alice, 200),
            (
                "PATCH",
                "/clientSystems/alice".into(),
                Some(json!({})),
                Nobody,
                401,
            ),
            (
                "PATCH",
                "/clientSystems/alice".into(),
                Some(json!({})),
                Bob,
                403,
            ),
            (
                "PATCH",
                "/clientSystems/alice".into(),
                Some(json!({})),
                Alice,
                200,
            ),
            (
                "POST",
                "/channelSystems".into(),
                channel("alice"),
                Nobody,
                401,
            ),
            ("POST", "/channelSystems".into(), channel("bob"), Alice, 403),
            (
                "POST",
                "/channelSystems".into(),
                channel("alice"),
                Alice,
                200,
            ),
            (
                "PATCH",
                "/channelSystems/ch-r1".into(),
                Some(json!({"channelName": "B"})),
                Nobody,
                401,
            ),
            (
                "PATCH",
                "/channelSystems/ch-r1".into(),
                Some(json!({"channelName": "B"})),
                Bob,
                403,
            ),
            (
                "PATCH",
                "/channelSystems/ch-r1".into(),
                Some(json!({"channelName": "B"})),
                Alice,
                200,
            ),
            ("POST", "/videoServices".into(), video("alice"), Nobody, 401),
            ("POST", "/videoServices".into(), video("bob"), Alice, 403),
            ("POST", "/videoServices".into(), video("alice"), Alice, 200),
            (
                "POST",
                "/videoServices/vd-r1:view".into(),
                Some(json!({})),
                Nobody,
                401,
            ),
            (
                "POST",
                "/videoServices/vd-r1:view".into(),
                Some(json!({})),
                Bob,
                200,
            ),
            (
                "PATCH",
                "/videoServices/vd-r1".into(),
                Some(json!({"title": "t2"})),
                Nobody,
                401,
            ),
            (
                "PATCH",
                "/videoServices/vd-r1".into(),
                Some(json!({"title": "t2"})),
                Bob,
                403,
            ),
            (
                "PATCH",
                "/videoServices/vd-r1".into(),
                Some(json!({"title": "t2"})),
                Alice,
                200,
            ),
            (
                "POST",
                "/commentServices".into(),
                comment("bob"),
                Nobody,
                401,
            ),
            (
                "POST",
                "/commentServices".into(),
                comment("bob"),
                Alice,
                403,
            ),
            ("POST", "/commentServices".into(), comment("bob"), Bob, 200),
            (
                "PATCH",
                "/commentServices/cm-r1".into(),
                Some(json!({"contents": "x"})),
                Nobody,
                401,
            ),
            (
                "PATCH",
                "/commentServices/cm-r1".into(),
                Some(json!({"contents": "x"})),
                Alice,
                403,
            ),
            (
                "PATCH",
                "/commentServices/cm-r1".into(),
                Some(json!({"contents": "x"})),
                Bob,
                200,
            ),
            ("DELETE", "/commentServices/cm-r1".into(), None, Nobody, 401),
            ("DELETE", "/commentServices/cm-r1".into(), None, Alice, 403),
            ("DELETE", "/commentServices/cm-r1".into(), None, Bob, 200),
            (
                "POST",
                "/refundRequests".into(),
                refund("alice"),
                Nobody,
                401,
            ),
            ("POST", "/refundRequests".into(), refund("alice"), Bob, 403),
            (
                "POST",
                "/refundRequests".into(),
                refund("alice"),
                Alice,
                200,
            ),
            ("GET", "/refundRequests/rf-r1".into(), None, Bob, 403),
            // The screen shows the client's refunds; the account its totals.
            ("GET", "/channelViews?clientId=alice".into(), None, Bob, 403),
            ("GET", "/clientSystems/alice".into(), None, Bob, 403),
            ("GET", "/clientSystems/alice".into(), None, Alice, 200),
            (
                "GET",
                "/refundRequests?clientId=alice".into(),
                None,
                Bob,
                403,
            ),
            (
                "GET",
                "/notifications?clientId=alice".into(),
                None,
                Bob,
                403,
            ),
            ("GET", "/notifications".into(), None, Bob, 200),
            (
                "POST",
                "/policyManagements".into(),
                policy.clone(),
                Nobody,
                401,
            ),
            (
                "POST",
                "/policyManagements".into(),
                policy.clone(),
                Alice,
                403,
            ),
            (
                "POST",
                "/policyManagements".into(),
                policy.clone(),
                Admin,
                200,
            ),
            (
                "PATCH",
                "/policyManagements/pol-r1".into(),
                repolicy.clone(),
                Nobody,
                401,
            ),
            (
                "PATCH",
                "/policyManagements/pol-r1".into(),
                repolicy.clone(),
                Alice,
                403,
            ),
            (
                "PATCH",
                "/policyManagements/pol-r1".into(),
                repolicy.clone(),
                Admin,
                200,
            ),
            (
                "DELETE",
                "/policyManagements/pol-r1".into(),
                None,
                Nobody,
                401,
            ),
            (
                "DELETE",
                "/policyManagements/pol-r1".into(),
                None,
                Alice,
                403,
            ),
            (
                "DELETE",
                "/policyManagements/pol-r1".into(),
                None,
                Admin,
                200,
            ),
            ("DELETE", "/videoServices/vd-r1".into(), None, Nobody, 401),
            ("DELETE", "/videoServices/vd-r1".into(), None, Bob, 403),
            ("DELETE", "/videoServices/vd-r1".into(), None, Alice, 200),
            ("DELETE", "/channelSystems/ch-r1".into(), None, Nobody, 401),
            ("DELETE", "/channelSystems/ch-r1".into(), None, Bob, 403),
            ("DELETE", "/channelSystems/ch-r1".into(), None, Alice, 200),
            ("DELETE", "/clientSystems/alice".into(), None, Nobody, 401),
            ("DELETE", "/clientSystems/alice".into(), None, Bob, 403),
            ("DELETE", "/clientSystems/alice".into(), None, Alice, 200),
        ],
    )
    .await;

    let park = token(data, "park", &["installer"]);
    let choi = token(data, "choi", &["installer"]);
    let iptv = mesh.iptv();
    let as_ = |t: &str| Some(t.to_owned());
    let installer = |id: &str| Some(json!({"installerId": id, "name": "Park", "region": "Seoul"}));
    let order = |id: &str, customer: &str| {
        Some(
            json!({"joinOrderId": id, "customerId": customer, "customerName": "A",
                    "address": "x", "region": "Seoul", "product": "INTERNET"}),
        )
    };
    // (method, path, body, token, expected): installers are not among the shared callers.
    let cases: Vec<TokenCase> = vec![
        ("POST", "/installers".into(), installer("park"), None, 401),
        (
            "POST",
            "/installers".into(),
            installer("park"),
            as_(&tokens.alice),
            403,
        ),
        (
            "POST",
            "/installers".into(),
            installer("choi"),
            as_(&park),
            403,
        ),
        (
            "POST",
            "/installers".into(),
            installer("park"),
            as_(&park),
            200,
        ),
        (
            "POST",
            "/installers".into(),
            installer("choi"),
            as_(&choi),
            200,
        ),
        (
            "POST",
            "/joinOrders".into(),
            order("jo-r1", "alice"),
            None,
            401,
        ),
        (
            "POST",
            "/joinOrders".into(),
            order("jo-r1", "bob"),
            as_(&tokens.alice),
            403,
        ),
        (
            "POST",
            "/joinOrders".into(),
            order("jo-r1", "alice"),
            as_(&tokens.alice),
            200,
        ),
        (
            "POST",
            "/joinOrders".into(),
            order("jo-r2", ""),
            as_(&tokens.alice),
            200,
        ),
        (
            "GET",
            "/joinOrders/jo-r1".into(),
            None,
            as_(&tokens.bob),
            403,
        ),
        (
            "GET",
            "/orderStatuses/jo-r1".into(),
            None,
            as_(&tokens.bob),
            403,
        ),
        (
            "PATCH",
            "/joinOrders/jo-r2".into(),
            Some(json!({"status": "cancel"})),
            None,
            401,
        ),
        (
            "PATCH",
            "/joinOrders/jo-r2".into(),
            Some(json!({"status": "cancel"})),
            as_(&tokens.bob),
            403,
        ),
        (
            "PATCH",
            "/joinOrders/jo-r2".into(),
            Some(json!({"status": "cancel"})),
            as_(&tokens.alice),
            200,
        ),
        (
            "PATCH",
            "/assignments/jo-r1".into(),
            Some(json!({"installerId": "park"})),
            None,
            401,
        ),
        (
            "PATCH",
            "/assignments/jo-r1".into(),
            Some(json!({"installerId": "park"})),
            as_(&park),
            403,
        ),
        (
            "PATCH",
            "/assignments/jo-r1".into(),
            Some(json!({"installerId": "park"})),
            as_(&tokens.admin),
            200,
        ),
    ];
    for (method, path, body, token, expected) in cases {
        let (status, reply) = rest(method, format!("{iptv}{path}"), body, token.as_deref()).await;
        assert_eq!(status, expected, "iptv: {method} {path}: {reply}");
    }
    // The installation follows the assignment by event; then only its installer moves it.
    crate::harness::eventually("park's installation", crate::harness::rest::WAIT, || {
        let url = format!("{iptv}/installations/jo-r1");
        let park = park.clone();
        async move { (rest("GET", url, None, Some(&park)).await.0 == 200).then_some(()) }
    })
    .await;
    let accept = || Some(json!({"status": "accept"}));
    for (token, expected) in [
        (None, 401),
        (as_(&tokens.alice), 403),
        (as_(&choi), 403),
        (as_(&park), 200),
    ] {
        let (status, reply) = rest(
            "PATCH",
            format!("{iptv}/installations/jo-r1"),
            accept(),
            token.as_deref(),
        )
        .await;
        assert_eq!(status, expected, "iptv: accept as {token:?}: {reply}");
    }
    let (status, _) = rest(
        "GET",
        format!("{iptv}/installations/jo-r1"),
        None,
        Some(&tokens.alice),
    )
    .await;
    assert_eq!(status, 200, "the customer reads their installation");
    let (status, _) = rest(
        "GET",
        format!("{iptv}/installations"),
        None,
        Some(&tokens.alice),
    )
    .await;
    assert_eq!(status, 403, "customers list no installations");
}

#[tokio::test(flavor = "multi_thread")]
async fn video_and_iptv_grpc_routes_need_the_right_caller() {
    use mediamesh_proto::{iptv::v1 as iptv, video::v1 as video};
    let sandbox = Sandbox::sqlite("auth-grpc-vi");
    let mesh = up_with_auth(&sandbox).await;
    let other = TempDir::new("auth-other-key-gvi");
    let data = data_dir(&sandbox);
    let t = Tokens::new(data, other.path());
    let park = token(data, "park", &["installer"]);
    let (v, i) = (mesh.video_port.unwrap(), mesh.iptv_port.unwrap());
    let mut codes = Vec::new();
    let deny = [
        (Nobody, Code::Unauthenticated),
        (Forged, Code::Unauthenticated),
        (Bob, Code::PermissionDenied),
    ];

    let cl = |id: &str| video::CreateClientRequest {
        client_id: id.into(),
        ..Default::default()
    };
    for (who, expected) in deny {
        let r = grpc::<_, video::Client>(
            v,
            "/mediamesh.video.v1.ClientService/CreateClient",
            cl("alice"),
            t.of(who),
        )
        .await;
        codes.push(("CreateClient", who, code(&r), expected));
    }
    let r = grpc::<_, video::Client>(
        v,
        "/mediamesh.video.v1.ClientService/CreateClient",
        cl(""),
        t.of(Alice),
    )
    .await;
    assert_eq!(
        r.as_ref().map(|c| c.client_id.as_str()).ok(),
        Some("alice"),
        "{r:?}"
    );
    let ch = |client: &str| video::CreateChannelRequest {
        channel_id: "ch-g1".into(),
        channel_name: "A".into(),
        client_id: client.into(),
        ..Default::default()
    };
    for (who, expected) in deny.into_iter().chain([(Alice, Code::Ok)]) {
        let r = grpc::<_, video::Channel>(
            v,
            "/mediamesh.video.v1.ChannelService/CreateChannel",
            ch("alice"),
            t.of(who),
        )
        .await;
        codes.push(("CreateChannel", who, code(&r), expected));
    }
    let vd = |client: &str| video::CreateVideoRequest {
        video_id: "vd-g1".into(),
        client_id: client.into(),
        channel_id: "ch-g1".into(),
        title: "t".into(),
        ..Default::default()
    };
    for (who, expected) in deny.into_iter().chain([(Alice, Code::Ok)]) {
        let r = grpc::<_, video::Video>(
            v,
            "/mediamesh.video.v1.VideoService/CreateVideo",
            vd("alice"),
            t.of(who),
        )
        .await;
        codes.push(("CreateVideo", who, code(&r), expected));
    }
    let cm = |client: &str| video::CreateCommentRequest {
        comment_id: "cm-g1".into(),
        video_id: "vd-g1".into(),
        client_id: client.into(),
        contents: "hi".into(),
    };
    for (who, expected) in deny.into_iter().chain([(Alice, Code::Ok)]) {
        let r = grpc::<_, video::Comment>(
            v,
            "/mediamesh.video.v1.CommentService/CreateComment",
            cm("alice"),
            t.of(who),
        )
        .await;
        codes.push(("CreateComment", who, code(&r), expected));
    }
    let rf = |client: &str| video::CreateRefundRequestRequest {
        refund_request_id: "rf-g1".into(),
        client_id: client.into(),
    };
    for (who, expected) in deny.into_iter().chain([(Alice, Code::Ok)]) {
        let r = grpc::<_, video::RefundRequest>(
            v,
            "/mediamesh.video.v1.ClientService/CreateRefundRequest",
            rf("alice"),
            t.of(who),
        )
        .await;
        codes.push(("CreateRefundRequest", who, code(&r), expected));
    }
    for (who, expected) in deny.into_iter().chain([(Alice, Code::Ok)]) {
        let rename = video::UpdateChannelRequest {
            channel_id: "ch-g1".into(),
            channel_name: Some("B".into()),
            ..Default::default()
        };
        let r = grpc::<_, video::Channel>(
            v,
            "/mediamesh.video.v1.ChannelService/UpdateChannel",
            rename,
            t.of(who),
        )
        .await;
        codes.push(("UpdateChannel", who, code(&r), expected));
        let retitle = video::UpdateVideoRequest {
            video_id: "vd-g1".into(),
            title: Some("t2".into()),
            ..Default::default()
        };
        let r = grpc::<_, video::Video>(
            v,
            "/mediamesh.video.v1.VideoService/UpdateVideo",
            retitle,
            t.of(who),
        )
        .await;
        codes.push(("UpdateVideo", who, code(&r), expected));
        let edit = video::UpdateCommentRequest {
            comment_id: "cm-g1".into(),
            contents: "x".into(),
        };
        let r = grpc::<_, video::Comment>(
            v,
            "/mediamesh.video.v1.CommentService/UpdateComment",
            edit,
            t.of(who),
        )
        .await;
        codes.push(("UpdateComment", who, code(&r), expected));
        let update = video::UpdateClientRequest {
            client_id: "alice".into(),
            ..Default::default()
        };
        let r = grpc::<_, video::Client>(
            v,
            "/mediamesh.video.v1.ClientService/UpdateClient",
            update,
            t.of(who),
        )
        .await;
        codes.push(("UpdateClient", who, code(&r), expected));
    }
    for (who, expected) in [(Nobody, Code::Unauthenticated), (Bob, Code::Ok)] {
        let view = video::ViewVideoRequest {
            video_id: "vd-g1".into(),
        };
        let r = grpc::<_, video::Video>(
            v,
            "/mediamesh.video.v1.VideoService/ViewVideo",
            view,
            t.of(who),
        )
        .await;
        codes.push(("ViewVideo", who, code(&r), expected));
    }
    let pol = || video::CreatePolicyRequest {
        policy_id: "pol-g1".into(),
        refund_policy: 10,
        ..Default::default()
    };
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Alice, Code::PermissionDenied),
        (Admin, Code::Ok),
    ] {
        let r = grpc::<_, video::Policy>(
            v,
            "/mediamesh.video.v1.PolicyService/CreatePolicy",
            pol(),
            t.of(who),
        )
        .await;
        codes.push(("CreatePolicy", who, code(&r), expected));
        let up = video::UpdatePolicyRequest {
            policy_id: "pol-g1".into(),
            refund_policy: Some(20),
            ..Default::default()
        };
        let r = grpc::<_, video::Policy>(
            v,
            "/mediamesh.video.v1.PolicyService/UpdatePolicy",
            up,
            t.of(who),
        )
        .await;
        codes.push(("UpdatePolicy", who, code(&r), expected));
    }
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Alice, Code::PermissionDenied),
        (Admin, Code::Ok),
    ] {
        let del = video::DeletePolicyRequest {
            policy_id: "pol-g1".into(),
        };
        let r = grpc::<_, video::DeletePolicyResponse>(
            v,
            "/mediamesh.video.v1.PolicyService/DeletePolicy",
            del,
            t.of(who),
        )
        .await;
        codes.push(("DeletePolicy", who, code(&r), expected));
    }
    for (who, expected) in deny.into_iter().chain([(Alice, Code::Ok)]) {
        let del = video::DeleteCommentRequest {
            comment_id: "cm-g1".into(),
        };
        let r = grpc::<_, video::DeleteCommentResponse>(
            v,
            "/mediamesh.video.v1.CommentService/DeleteComment",
            del,
            t.of(who),
        )
        .await;
        codes.push(("DeleteComment", who, code(&r), expected));
        let del = video::DeleteVideoRequest {
            video_id: "vd-g1".into(),
        };
        let r = grpc::<_, video::DeleteVideoResponse>(
            v,
            "/mediamesh.video.v1.VideoService/DeleteVideo",
            del,
            t.of(who),
        )
        .await;
        codes.push(("DeleteVideo", who, code(&r), expected));
        let del = video::DeleteChannelRequest {
            channel_id: "ch-g1".into(),
        };
        let r = grpc::<_, video::DeleteChannelResponse>(
            v,
            "/mediamesh.video.v1.ChannelService/DeleteChannel",
            del,
            t.of(who),
        )
        .await;
        codes.push(("DeleteChannel", who, code(&r), expected));
        let del = video::DeleteClientRequest {
            client_id: "alice".into(),
        };
        let r = grpc::<_, video::DeleteClientResponse>(
            v,
            "/mediamesh.video.v1.ClientService/DeleteClient",
            del,
            t.of(who),
        )
        .await;
        codes.push(("DeleteClient", who, code(&r), expected));
    }

    let inst = |id: &str| iptv::CreateInstallerRequest {
        installer_id: id.into(),
        name: "Park".into(),
        region: "Seoul".into(),
    };
    for (token, expected) in [
        (None, Code::Unauthenticated),
        (t.of(Alice), Code::PermissionDenied),
        (Some(park.as_str()), Code::Ok),
    ] {
        let r = grpc::<_, iptv::Installer>(
            i,
            "/mediamesh.iptv.v1.InstallerService/CreateInstaller",
            inst("park"),
            token,
        )
        .await;
        codes.push(("CreateInstaller", Nobody, code(&r), expected));
    }
    let jo = |customer: &str| iptv::CreateJoinOrderRequest {
        join_order_id: "jo-g1".into(),
        customer_id: customer.into(),
        customer_name: "A".into(),
        address: "x".into(),
        region: "Seoul".into(),
        product: "INTERNET".into(),
    };
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Bob, Code::PermissionDenied),
    ] {
        let r = grpc::<_, iptv::JoinOrder>(
            i,
            "/mediamesh.iptv.v1.JoinOrderService/CreateJoinOrder",
            jo("alice"),
            t.of(who),
        )
        .await;
        codes.push(("CreateJoinOrder", who, code(&r), expected));
    }
    let r = grpc::<_, iptv::JoinOrder>(
        i,
        "/mediamesh.iptv.v1.JoinOrderService/CreateJoinOrder",
        jo(""),
        t.of(Alice),
    )
    .await;
    assert_eq!(
        r.as_ref().map(|o| o.customer_id.as_str()).ok(),
        Some("alice"),
        "{r:?}"
    );
    let assign = || iptv::UpdateAssignmentRequest {
        join_order_id: "jo-g1".into(),
        installer_id: "park".into(),
        ..Default::default()
    };
    for (token, expected) in [
        (None, Code::Unauthenticated),
        (Some(park.as_str()), Code::PermissionDenied),
        (t.of(Admin), Code::Ok),
    ] {
        let r = grpc::<_, iptv::Assignment>(
            i,
            "/mediamesh.iptv.v1.AssignmentService/UpdateAssignment",
            assign(),
            token,
        )
        .await;
        codes.push(("UpdateAssignment", Nobody, code(&r), expected));
    }
    let get = || iptv::GetInstallationRequest {
        join_order_id: "jo-g1".into(),
    };
    crate::harness::eventually("the installation", crate::harness::rest::WAIT, || {
        let park = park.clone();
        async move {
            let r = grpc::<_, iptv::Installation>(
                i,
                "/mediamesh.iptv.v1.InstallationService/GetInstallation",
                get(),
                Some(&park),
            )
            .await;
            r.is_ok().then_some(())
        }
    })
    .await;
    let accept = || iptv::UpdateInstallationRequest {
        join_order_id: "jo-g1".into(),
        status: "accept".into(),
    };
    for (token, expected) in [
        (None, Code::Unauthenticated),
        (t.of(Alice), Code::PermissionDenied),
        (Some(park.as_str()), Code::Ok),
    ] {
        let r = grpc::<_, iptv::Installation>(
            i,
            "/mediamesh.iptv.v1.InstallationService/UpdateInstallation",
            accept(),
            token,
        )
        .await;
        codes.push(("UpdateInstallation", Nobody, code(&r), expected));
    }
    let mut second = jo("");
    second.join_order_id = "jo-g2".into();
    let r = grpc::<_, iptv::JoinOrder>(
        i,
        "/mediamesh.iptv.v1.JoinOrderService/CreateJoinOrder",
        second,
        t.of(Alice),
    )
    .await;
    assert!(r.is_ok(), "{r:?}");
    let cancel = || iptv::UpdateJoinOrderRequest {
        join_order_id: "jo-g2".into(),
        status: "cancel".into(),
    };
    for (who, expected) in [
        (Nobody, Code::Unauthenticated),
        (Bob, Code::PermissionDenied),
        (Alice, Code::Ok),
    ] {
        let r = grpc::<_, iptv::JoinOrder>(
            i,
            "/mediamesh.iptv.v1.JoinOrderService/UpdateJoinOrder",
            cancel(),
            t.of(who),
        )
        .await;
        codes.push(("UpdateJoinOrder", who, code(&r), expected));
    }

    let wrong: Vec<_> = codes
        .iter()
        .filter(|(_, _, got, want)| got != want)
        .collect();
    assert!(wrong.is_empty(), "(rpc, caller, got, expected): {wrong:#?}");
}
