//! PostgreSQL under READ COMMITTED: check-then-insert races, each driven by concurrent
//! requests (or, for the tally, two transactions interleaved on the real server).
use futures::future::join_all;
use mediamesh_mesh::events::tally;
use mediamesh_mesh::storage::store::{Database, Store};
use mediamesh_proto::cinema::v1 as pb;
use tonic::Code;

use super::{create_movie, jetstream, payments, publish, reservations, reserve};
use crate::harness::postgres::Postgres;
use crate::harness::rest::WAIT;
use crate::harness::{Db, Sandbox, eventually};

/// The same reservation id created several times at once: one reservation, one seat; the
/// others are retries (AIP-155) answered that reservation as it is (perhaps still PENDING),
/// another request under the id is ALREADY_EXISTS, and every other seat is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_rsv_id_created_at_once_holds_one_seat_on_postgres() {
    let sandbox = Sandbox::postgres("cinema-dup-rsv");
    let mesh = sandbox.serve("cinema").await;
    let channel = mesh.channel().await;
    create_movie(&channel, "dup", 20).await;
    eventually("dup reservable", WAIT, || async {
        reserve(&channel, "dup").await.ok()
    })
    .await;
    for round in 0..5 {
        let attempt = |_| {
            let mut client = reservations(&channel);
            let request = pb::CreateReservationRequest {
                rsv_id: format!("dup-{round}"),
                movie_id: "dup".into(),
                customer_id: "kim".into(),
            };
            async move { client.create_reservation(request).await }
        };
        let results = join_all((0..4).map(attempt)).await;
        let answered: Vec<pb::Reservation> = results
            .into_iter()
            .map(|r| r.expect("a retry is answered").into_inner())
            .collect();
        let statuses: Vec<&str> = answered.iter().map(|r| r.status.as_str()).collect();
        assert!(
            statuses.contains(&"CONFIRMED"),
            "round {round}: {statuses:?}"
        );
        assert!(
            answered
                .iter()
                .all(|r| r.create_time == answered[0].create_time),
            "round {round}: one reservation: {answered:?}"
        );
        let other = pb::CreateReservationRequest {
            rsv_id: format!("dup-{round}"),
            movie_id: "dup".into(),
            customer_id: "lee".into(),
        };
        let refused = reservations(&channel).create_reservation(other).await;
        let refused = refused.unwrap_err();
        assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
        assert!(refused.message().starts_with("rsv_id: "), "{refused:?}");
    }
    // 20 seats: one for the first reservation, five for the duplicated ids, 14 left.
    let mut left = 0;
    for _ in 0..20 {
        match reserve(&channel, "dup").await {
            Ok(_) => left += 1,
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    assert_eq!(left, 14, "no seat held without a reservation");
}

/// Waits until `n` sessions of the test database wait for a lock.
async fn lock_waiters<P>(pool: &P, n: i64)
where
    for<'e> &'e P: mediamesh_mesh::sql::Executor<'e>,
{
    eventually(
        &format!("{n} sessions waiting for a lock"),
        WAIT,
        || async {
            let waiting: i64 = mediamesh_mesh::sql::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(pool)
            .await
            .ok()?;
            (waiting == n).then_some(())
        },
    )
    .await;
}

/// `Pay` in flight (its payment inserted, not yet committed) while the void of its failed
/// reservation (`ReservationFailed`) is applied: the payment still ends CANCELLED. The
/// interleaving is pinned by holding payment's outbox table, which `Pay` writes last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_payment_never_escapes_its_void_on_postgres() {
    use sqlx::Connection;
    let sandbox = Sandbox::postgres("cinema-void");
    let Db::Postgres(url) = &sandbox.db else {
        unreachable!("a PostgreSQL sandbox")
    };
    let mesh = sandbox.serve("cinema.payment").await;
    let channel = mesh.channel().await;
    let js = jetstream(&sandbox.nats).await;
    sqlx::any::install_default_drivers();
    let watch = sqlx::AnyPool::connect(url).await.unwrap();
    let mut holder = sqlx::AnyConnection::connect(url).await.unwrap();
    let mut hold = holder.begin().await.unwrap();
    sqlx::query("LOCK TABLE cinema_payment.mesh_outbox IN EXCLUSIVE MODE")
        .execute(&mut *hold)
        .await
        .unwrap();

    let pay = tokio::spawn({
        let mut client = payments(&channel);
        let request = pb::PayRequest {
            rsv_id: "late".into(),
            movie_id: "m".into(),
            customer_id: "kim".into(),
            amount: 10_000,
        };
        async move { client.pay(request).await }
    });
    lock_waiters(&watch, 1).await; // Pay: payment inserted, waiting to write its event
    let failed = pb::ReservationFailed {
        rsv_id: "late".into(),
        movie_id: "m".into(),
        customer_id: "kim".into(),
    };
    publish(&js, "reservation", "late-failed", 3, &failed).await;
    lock_waiters(&watch, 2).await; // the void: waiting for Pay's payment row
    hold.commit().await.unwrap();

    let paid = pay.await.unwrap().expect("Pay answers").into_inner();
    assert_eq!(paid.pay_status, "APPROVED", "Pay committed first");
    eventually("the approved payment cancelled", WAIT, || async {
        let request = pb::GetPaymentRequest {
            rsv_id: "late".into(),
        };
        let payment = payments(&channel).get_payment(request).await.ok()?;
        (payment.into_inner().pay_status == "CANCELLED").then_some(())
    })
    .await;
}

/// Two replicas apply a review's creation and deletion at the same time: the removal waits
/// for the addition and counts, so the tally never stays at +1; the other way round the
/// addition does not count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tally_is_never_left_at_plus_one_on_postgres() {
    let url = Postgres::shared().database();
    let store = Store::open(&Database::Postgres { url, pool_size: 8 }, "cinema.tally")
        .await
        .unwrap();
    mediamesh_mesh::events::migrate(&store, &[]).await.unwrap();
    // ReviewCreated first, ReviewDeleted while it is uncommitted.
    let mut created = store.begin().await.unwrap();
    assert!(tally::add(&mut created, "reviews", "r1").await.unwrap());
    let deleted = tokio::spawn({
        let store = store.clone();
        async move {
            let mut tx = store.begin().await?;
            let counted = tally::remove(&mut tx, "reviews", "r1").await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(counted)
        }
    });
    lock_waiters(store.writer(), 1).await; // the removal waits for the addition
    created.commit().await.unwrap();
    assert!(
        deleted.await.unwrap().unwrap(),
        "the removal undoes the addition"
    );

    // ReviewDeleted first (a tombstone), ReviewCreated while it is uncommitted.
    let mut deleted = store.begin().await.unwrap();
    assert!(!tally::remove(&mut deleted, "reviews", "r2").await.unwrap());
    let created = tokio::spawn({
        let store = store.clone();
        async move {
            let mut tx = store.begin().await?;
            let counted = tally::add(&mut tx, "reviews", "r2").await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(counted)
        }
    });
    lock_waiters(store.writer(), 1).await; // the addition waits for the tombstone
    deleted.commit().await.unwrap();
    assert!(
        !created.await.unwrap().unwrap(),
        "a review deleted before it arrived never counts"
    );
}
