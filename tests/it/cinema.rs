//! Movie reservation (seed 002) over REST through Envoy, on SQLite and PostgreSQL: movies,
//! reservations with synchronous payment, the cancel saga, messages, review counts moved
//! exactly once, the viewpage built from events and rebuilt by replay; the overbooking race.
//! The seed flow runs as named scenarios, each reported on its own.
use std::process::Command;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use mediamesh_proto::cinema::v1 as pb;
use serde_json::{Value, json};

use crate::harness::rest::{WAIT, delete, get, get_until, patch, post};
use crate::harness::{BIN, Mesh, Sandbox, eventually};

async fn reserve(c: &str, movie: &str, customer: &str) -> (u16, Value) {
    post(
        format!("{c}/reservations"),
        json!({"movieId": movie, "customerId": customer}),
    )
    .await
}

/// The movie, once its review count reads `count`.
async fn review_cnt(c: &str, movie: &str, count: i64) -> Value {
    get_until(
        format!("{c}/movies/{movie}"),
        &format!("reviewCnt {count}"),
        |m| m["reviewCnt"] == count,
    )
    .await
}

/// The seed's flow as named scenarios on one mesh per backend: each scenario uses movies of
/// its own, they run side by side, and a failing one is reported by name without stopping
/// or hiding the others (one mesh per backend keeps the suite as fast as the single flow).
async fn seed_flow(sandbox: Sandbox) {
    let mesh = sandbox.up().await;
    let c = mesh.cinema();
    let scenarios: [(&str, BoxFuture<'static, ()>); 4] = [
        (
            "theaters_register_change_and_delete_movies",
            movies(c.clone()).boxed(),
        ),
        (
            "a_reservation_is_paid_notified_and_cancelled",
            reservations(c.clone()).boxed(),
        ),
        (
            "reviews_move_the_count_once_each",
            reviews(c.clone()).boxed(),
        ),
        (
            "bad_requests_are_4xx_naming_the_field",
            rejects(c.clone()).boxed(),
        ),
    ];
    let running: Vec<_> = scenarios
        .into_iter()
        .map(|(name, scenario)| (name, tokio::spawn(scenario)))
        .collect();
    let mut failed = Vec::new();
    for (name, run) in running {
        match run.await {
            Ok(()) => eprintln!("scenario {name}: ok"),
            Err(error) => {
                let why = error
                    .try_into_panic()
                    .ok()
                    .and_then(|p| {
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    })
                    .unwrap_or_else(|| "cancelled".into());
                failed.push(format!("{name}: {why}"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "failed scenarios:\n{}",
        failed.join("\n")
    );
}

/// The viewpage's page of `movie`, once `ok` holds for it.
async fn viewpage_until(c: &str, movie: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let view = get_until(format!("{c}/viewpages"), what, |v| {
        v["viewpages"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["movieId"] == movie))
            .is_some_and(&ok)
    })
    .await;
    let pages = view["viewpages"].as_array().unwrap();
    pages
        .iter()
        .find(|p| p["movieId"] == movie)
        .unwrap()
        .clone()
}

/// 1. Theaters register, change and remove movies; the seed registers by description; a
///    deleted movie leaves the viewpage.
async fn movies(c: String) {
    let (status, any) = post(format!("{c}/movies"), json!({"desc": "영화들"})).await;
    assert_eq!((status, any["seats"].as_i64()), (200, Some(100)), "{any}");
    let any_id = any["movieId"].as_str().unwrap().to_owned();
    let (status, movie) = post(
        format!("{c}/movies"),
        json!({"movieId": "mv1", "title": "Parasite", "seats": 2}),
    )
    .await;
    assert_eq!(status, 200, "{movie}");
    let (status, changed) = patch(format!("{c}/movies/mv1"), json!({"desc": "Bong Joon-ho"})).await;
    assert_eq!(
        (status, changed["desc"].as_str(), changed["seats"].as_i64()),
        (200, Some("Bong Joon-ho"), Some(2))
    );
    viewpage_until(
        &c,
        &any_id,
        "the movie by description on the viewpage",
        |_| true,
    )
    .await;
    let (status, _) = delete(format!("{c}/movies/{any_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(get(format!("{c}/movies/{any_id}")).await.0, 404);
    get_until(format!("{c}/viewpages"), "the deleted movie gone", |v| {
        v["viewpages"].as_array().is_some_and(|p| {
            p.iter().any(|p| p["movieId"] == "mv1" && p["seats"] == 2)
                && !p.iter().any(|p| p["movieId"] == any_id.as_str())
        })
    })
    .await;
}

/// 2-6. Reserve (the seat ledger learns the movie by event; payment is synchronous) until
///    full, a message per confirmation, cancel (payment cancelled, reservation closed, seat
///    freed, message sent), and the viewpage shows each reservation's state.
async fn reservations(c: String) {
    let (status, movie) = post(
        format!("{c}/movies"),
        json!({"movieId": "m1", "title": "Parasite", "seats": 2}),
    )
    .await;
    assert_eq!(status, 200, "{movie}");
    let first = eventually("m1 reservable", WAIT, || {
        let c = c.clone();
        async move {
            let (status, r) = reserve(&c, "m1", "kim").await;
            (status == 200).then_some(r)
        }
    })
    .await;
    assert_eq!(first["status"], "CONFIRMED", "{first}");
    let rsv = first["rsvId"].as_str().unwrap().to_owned();
    let (status, payment) = get(format!("{c}/payments/{rsv}")).await;
    assert_eq!(
        (status, payment["payStatus"].as_str()),
        (200, Some("APPROVED"))
    );
    let (status, second) = reserve(&c, "m1", "lee").await;
    assert_eq!(
        (status, second["status"].as_str()),
        (200, Some("CONFIRMED")),
        "{second}"
    );
    // Full: a 4xx, never a 5xx.
    let (status, full) = reserve(&c, "m1", "park").await;
    assert_eq!(status, 400, "{full}");

    // A message per confirmed reservation, naming it.
    get_until(
        format!("{c}/messages?rsvId={rsv}"),
        "confirmation message",
        |m| {
            m["messages"]
                .as_array()
                .is_some_and(|m| m.len() == 1 && m[0]["kind"] == "CONFIRMED")
        },
    )
    .await;

    let (status, cancelling) = patch(
        format!("{c}/reservations/{rsv}"),
        json!({"status": "cancel"}),
    )
    .await;
    assert_eq!(
        (status, cancelling["status"].as_str()),
        (200, Some("CANCELLING")),
        "{cancelling}"
    );
    get_until(
        format!("{c}/reservations/{rsv}"),
        "reservation closed",
        |r| r["status"] == "CANCELLED",
    )
    .await;
    let (_, payment) = get(format!("{c}/payments/{rsv}")).await;
    assert_eq!(payment["payStatus"], "CANCELLED");
    get_until(format!("{c}/messages?rsvId={rsv}"), "cancel message", |m| {
        m["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["kind"] == "CANCELLED"))
    })
    .await;
    let (status, again) = patch(
        format!("{c}/reservations/{rsv}"),
        json!({"status": "cancel"}),
    )
    .await;
    assert_eq!((status, again["status"].as_str()), (200, Some("CANCELLED")));
    let (status, third) = reserve(&c, "m1", "park").await;
    assert_eq!(
        (status, third["status"].as_str()),
        (200, Some("CONFIRMED")),
        "the freed seat: {third}"
    );

    let m1 = viewpage_until(&c, "m1", "viewpage reservations settled", |m| {
        m["reservations"].as_array().is_some_and(|r| {
            r.len() == 3 && r.iter().filter(|r| r["status"] == "CANCELLED").count() == 1
        })
    })
    .await;
    let confirmed = m1["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "CONFIRMED")
        .count();
    assert_eq!(confirmed, 2, "{m1}");
}

/// 7. Reviews move reviewCnt up and down, once per review (the seed: 3, then 2), in the
///    movie and on the viewpage.
async fn reviews(c: String) {
    let (status, movie) = post(
        format!("{c}/movies"),
        json!({"movieId": "m2", "title": "Okja"}),
    )
    .await;
    assert_eq!(status, 200, "{movie}");
    for id in ["rv1", "rv2", "rv3"] {
        let (status, review) = post(
            format!("{c}/reviews"),
            json!({"reviewId": id, "movieId": "m2", "content": "good"}),
        )
        .await;
        assert_eq!(status, 200, "{review}");
    }
    review_cnt(&c, "m2", 3).await;
    let (status, _) = delete(format!("{c}/reviews/rv3")).await;
    assert_eq!(status, 200);
    review_cnt(&c, "m2", 2).await;
    viewpage_until(&c, "m2", "viewpage review count", |m| m["reviewCnt"] == 2).await;
}

/// Rejects: unknown ids 404, invalid fields 400 naming the field.
async fn rejects(c: String) {
    let (status, movie) = post(
        format!("{c}/movies"),
        json!({"movieId": "m3", "title": "Mother", "seats": 1}),
    )
    .await;
    assert_eq!(status, 200, "{movie}");
    let rsv = eventually("m3 reservable", WAIT, || {
        let c = c.clone();
        async move {
            let (status, r) = reserve(&c, "m3", "kim").await;
            (status == 200).then(|| r["rsvId"].as_str().unwrap().to_owned())
        }
    })
    .await;
    for (status, body, field) in [
        (
            post(format!("{c}/reservations"), json!({"customerId": "kim"})).await,
            "movie_id",
        ),
        (
            post(format!("{c}/movies"), json!({"title": "x", "seats": 0})).await,
            "seats",
        ),
        (
            post(format!("{c}/reviews"), json!({"movieId": "m3"})).await,
            "content",
        ),
        (
            patch(
                format!("{c}/reservations/{rsv}"),
                json!({"status": "bogus"}),
            )
            .await,
            "status",
        ),
    ]
    .map(|((s, b), f)| (s, b, f))
    {
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body["details"][0]["fieldViolations"][0]["field"], field,
            "{body}"
        );
    }
    for url in [
        format!("{c}/movies/nope"),
        format!("{c}/reservations/nope"),
        format!("{c}/payments/nope"),
    ] {
        assert_eq!(get(url).await.0, 404);
    }
    assert_eq!(reserve(&c, "nope", "kim").await.0, 404);
    assert_eq!(delete(format!("{c}/reviews/nope")).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cinema_seed_flow_on_sqlite() {
    seed_flow(Sandbox::sqlite("cinema-sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cinema_seed_flow_on_postgres() {
    seed_flow(Sandbox::postgres("cinema-pg")).await;
}

/// Never more confirmed reservations than seats, with many concurrent requests; the rest
/// are told "full" (FAILED_PRECONDITION), never an internal error.
async fn overbooking(sandbox: Sandbox) {
    let mesh = sandbox.serve("cinema").await;
    let channel = mesh.channel().await;
    let mut movies = pb::movie_service_client::MovieServiceClient::new(channel.clone());
    let movie = pb::CreateMovieRequest {
        movie_id: "tiny".into(),
        title: "Tiny".into(),
        seats: Some(5),
        ..Default::default()
    };
    movies.create_movie(movie).await.unwrap();
    let reservations = pb::reservation_service_client::ReservationServiceClient::new(channel);
    let attempt = |n: usize| {
        let mut client = reservations.clone();
        async move {
            let request = pb::CreateReservationRequest {
                movie_id: "tiny".into(),
                customer_id: format!("c{n}"),
                ..Default::default()
            };
            client.create_reservation(request).await
        }
    };
    eventually("tiny reservable", WAIT, || async { attempt(0).await.ok() }).await;
    let results = join_all((1..60).map(attempt)).await;
    let confirmed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        confirmed, 4,
        "one seat went to the first reservation, four remained"
    );
    for result in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(result.code(), tonic::Code::FailedPrecondition, "{result:?}");
    }
    let list = reservations
        .clone()
        .list_reservations(pb::ListReservationsRequest {
            movie_id: "tiny".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list.reservations
            .iter()
            .filter(|r| r.status == "CONFIRMED")
            .count(),
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overbooking_race_on_sqlite() {
    overbooking(Sandbox::sqlite("overbook-sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overbooking_race_on_postgres() {
    overbooking(Sandbox::postgres("overbook-pg")).await;
}

/// Review counts move once per review id even when events are duplicated (a second copy
/// with another event id) or reordered (the delete before the create), in the movie and in
/// the viewpage alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_counts_survive_duplicates_and_reordering() {
    let sandbox = Sandbox::sqlite("reviews");
    let mesh = sandbox.up().await;
    let c = mesh.cinema();
    for (id, title) in [("m2", "Okja"), ("m3", "Mother")] {
        post(
            format!("{c}/movies"),
            json!({"movieId": id, "title": title}),
        )
        .await;
    }
    let js = async_nats::jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap());
    let publish = |subject: &'static str, msg_id: &'static str, payload: Vec<u8>| {
        let js = js.clone();
        async move {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", msg_id);
            js.publish_with_headers(subject, headers, payload.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    };
    let created = |id: &str| {
        prost::Message::encode_to_vec(&pb::ReviewCreated {
            review_id: id.into(),
            movie_id: "m2".into(),
        })
    };
    let deleted = |id: &str| {
        prost::Message::encode_to_vec(&pb::ReviewDeleted {
            review_id: id.into(),
            movie_id: "m2".into(),
        })
    };
    publish("cinema.review.ReviewCreated", "a-1", created("a")).await;
    publish("cinema.review.ReviewCreated", "a-2", created("a")).await; // duplicate, new event id
    publish("cinema.review.ReviewDeleted", "b-2", deleted("b")).await; // delete first...
    publish("cinema.review.ReviewCreated", "b-1", created("b")).await; // ...then its create
    publish("cinema.review.ReviewCreated", "c-1", created("c")).await;
    publish("cinema.review.ReviewDeleted", "c-2", deleted("c")).await;
    publish("cinema.review.ReviewDeleted", "c-3", deleted("c")).await; // duplicate delete
    publish("cinema.review.ReviewCreated", "d-1", created("d")).await;
    // A later review on another movie marks the end: consumers apply a stream in order, so
    // once it shows, every event above has been applied.
    let (status, _) = post(
        format!("{c}/reviews"),
        json!({"movieId": "m3", "content": "end"}),
    )
    .await;
    assert_eq!(status, 200);
    review_cnt(&c, "m3", 1).await;
    get_until(format!("{c}/viewpages"), "viewpage saw the marker", |v| {
        v["viewpages"].as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["movieId"] == "m3" && p["reviewCnt"] == 1)
        })
    })
    .await;
    // a and d count; b was deleted before it arrived; c came and went.
    let (_, movie) = get(format!("{c}/movies/m2")).await;
    assert_eq!(movie["reviewCnt"], 2, "{movie}");
    let (_, view) = get(format!("{c}/viewpages")).await;
    let m2 = view["viewpages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["movieId"] == "m2")
        .cloned();
    assert_eq!(m2.map(|p| p["reviewCnt"].clone()), Some(json!(2)), "{view}");
}

async fn view(mesh: &Mesh) -> Vec<pb::Viewpage> {
    let mut client = pb::viewpage_service_client::ViewpageServiceClient::new(mesh.channel().await);
    let request = pb::ListViewpagesRequest {
        page_size: 100,
        ..Default::default()
    };
    client
        .list_viewpages(request)
        .await
        .unwrap()
        .into_inner()
        .viewpages
}

/// `mediamesh views rebuild` empties the viewpage and replays the stream: the rebuilt view
/// equals the live one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewpage_rebuilds_by_replay_to_the_same_view() {
    let sandbox = Sandbox::sqlite("rebuild");
    let mut mesh = sandbox.serve("cinema").await;
    let channel = mesh.channel().await;
    let mut movies = pb::movie_service_client::MovieServiceClient::new(channel.clone());
    let mut reservations =
        pb::reservation_service_client::ReservationServiceClient::new(channel.clone());
    let mut reviews = pb::review_service_client::ReviewServiceClient::new(channel.clone());
    for (id, seats) in [("r1", 3), ("r2", 1)] {
        let movie = pb::CreateMovieRequest {
            movie_id: id.into(),
            title: id.into(),
            seats: Some(seats),
            ..Default::default()
        };
        movies.create_movie(movie).await.unwrap();
    }
    let reserve = pb::CreateReservationRequest {
        movie_id: "r1".into(),
        ..Default::default()
    };
    eventually("r1 reservable", WAIT, || {
        let (mut reservations, reserve) = (reservations.clone(), reserve.clone());
        async move { reservations.create_reservation(reserve).await.ok() }
    })
    .await;
    let second = reservations
        .create_reservation(reserve.clone())
        .await
        .unwrap()
        .into_inner();
    let cancel = pb::UpdateReservationRequest {
        rsv_id: second.rsv_id.clone(),
        status: "cancel".into(),
    };
    reservations.update_reservation(cancel).await.unwrap();
    for id in ["v1", "v2"] {
        let review = pb::CreateReviewRequest {
            review_id: id.into(),
            movie_id: "r1".into(),
            content: "fine".into(),
        };
        reviews.create_review(review).await.unwrap();
    }
    reviews
        .delete_review(pb::DeleteReviewRequest {
            review_id: "v1".into(),
        })
        .await
        .unwrap();

    let live = eventually("live view settled", WAIT, || async {
        let pages = view(&mesh).await;
        let r1 = pages.iter().find(|p| p.movie_id == "r1")?;
        let settled = r1.review_cnt == 1
            && r1.reservations.iter().any(|r| r.status == "CANCELLED")
            && pages.len() == 2;
        settled.then_some(pages)
    })
    .await;

    assert!(mesh.proc.terminate(Duration::from_secs(30)).success());
    let data = sandbox.logs.path().join("data");
    let out = Command::new(BIN)
        .args([
            "views",
            "rebuild",
            "--target",
            "cinema.viewpage",
            "--nats-url",
            &sandbox.nats.url,
        ])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let applied: u64 = printed
        .split("from ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {printed:?}"));
    assert!(applied >= 8, "replayed every event of the view: {printed}");

    let mesh = sandbox.serve("cinema").await;
    assert_eq!(
        view(&mesh).await,
        live,
        "the rebuilt view equals the live one"
    );
}
