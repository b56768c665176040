//! Scale-out on PostgreSQL: two `serve` processes run every vod, video, cinema and iptv
//! context against one
//! database and one broker, so each consuming context has two replicas sharing its durable
//! consumer. Load goes to both; afterwards every total is exact (each event applied once,
//! whichever replica took it), both replicas read the same, and both did consume.
//! (`vod_scale` proves the idea for mileage alone on SQLite; this is every context, on
//! the database Kubernetes replicas share.)
use std::time::Duration;

use futures::future::join_all;
use mediamesh_proto::cinema::v1 as cinema;
use mediamesh_proto::iptv::v1 as iptv;
use mediamesh_proto::video::v1 as video;
use tonic::transport::Channel;

use crate::harness::{Mesh, Sandbox, buy, eventually, mileage_balances, mileage_of, purchases_of};

const TARGET: &str = "vod,video,cinema,iptv";
const CUSTOMERS: usize = 6;
const PURCHASES: usize = 12;
const CHANNELS: usize = 4;
const VIDEOS: usize = 40;
const SEATS: usize = 10;
const RESERVATIONS: usize = 16;
const REVIEWS: usize = 20;
const ORDERS: usize = 8;

/// `consumer`'s applied events on `mesh` (summed over its other labels), from `/metrics`.
async fn applied(mesh: &Mesh, consumer: &str) -> u64 {
    let url = format!("http://127.0.0.1:{}/metrics", mesh.admin_port);
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    let label = format!("consumer=\"{consumer}\"");
    text.lines()
        .filter(|l| l.starts_with("mediamesh_events_applied_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Several customers buy at once, each alternating between the replicas; then every
/// customer's mileage is the sum of its paid purchases' credits, on both.
async fn vod_load(replicas: [&Mesh; 2]) {
    let customers: Vec<String> = (0..CUSTOMERS).map(|i| format!("rep-{i}")).collect();
    join_all(
        customers
            .iter()
            .enumerate()
            .map(|(i, customer)| async move {
                for j in 0..PURCHASES {
                    let purchase = buy(replicas[(i + j) % 2], "2", customer)
                        .await
                        .expect("purchase");
                    assert_eq!(purchase.order_status, "PAID");
                }
            }),
    )
    .await;
    for customer in &customers {
        let purchases = purchases_of(replicas[0], customer).await;
        assert_eq!(purchases.len(), PURCHASES);
        let m = eventually(
            &format!("{customer}'s mileage balanced"),
            Duration::from_secs(60),
            || async {
                mileage_of(replicas[1], customer)
                    .await
                    .filter(|m| mileage_balances(&purchases, Some(m)))
            },
        )
        .await;
        let spent = purchases.iter().filter(|p| p.free_vod).count() as i32;
        assert_eq!(
            m.free_vod_credits + spent,
            2,
            "{PURCHASES} paid purchases earn two free VODs: {m:?}"
        );
        assert_eq!(mileage_of(replicas[0], customer).await, Some(m));
    }
}

/// One client, four channels; forty videos uploaded through both replicas at once, every
/// fifth deleted: each channel's views and count, the client's total and its channel view
/// are the sums of the live videos, on both replicas.
async fn video_load(replicas: [&Mesh; 2]) {
    let (a, b) = (replicas[0].channel().await, replicas[1].channel().await);
    let sides = [a, b];
    video::client_service_client::ClientServiceClient::new(sides[0].clone())
        .create_client(video::CreateClientRequest {
            client_id: "rep".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    for c in 0..CHANNELS {
        video::channel_service_client::ChannelServiceClient::new(sides[c % 2].clone())
            .create_channel(video::CreateChannelRequest {
                channel_id: format!("rep-ch{c}"),
                channel_name: format!("channel {c}"),
                client_id: "rep".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let uploads = (0..VIDEOS).map(|n| {
        let side = sides[n % 2].clone();
        async move {
            let upload = video::CreateVideoRequest {
                video_id: format!("rep-v{n}"),
                client_id: "rep".into(),
                channel_id: format!("rep-ch{}", n % CHANNELS),
                title: format!("video {n}"),
                view_count: Some(n as i32 + 1),
            };
            video::video_service_client::VideoServiceClient::new(side)
                .create_video(upload)
                .await
                .unwrap_or_else(|e| panic!("upload {n}: {e:?}"));
        }
    });
    join_all(uploads).await;
    let deleted = |n: usize| n.is_multiple_of(5);
    let deletions = (0..VIDEOS).filter(|n| deleted(*n)).map(|n| {
        let side = sides[(n + 1) % 2].clone();
        async move {
            video::video_service_client::VideoServiceClient::new(side)
                .delete_video(video::DeleteVideoRequest {
                    video_id: format!("rep-v{n}"),
                })
                .await
                .unwrap_or_else(|e| panic!("delete {n}: {e:?}"));
        }
    });
    join_all(deletions).await;

    let live: Vec<usize> = (0..VIDEOS).filter(|n| !deleted(*n)).collect();
    let total: i64 = live.iter().map(|n| *n as i64 + 1).sum();
    let live_count = live.len();
    for side in &sides {
        for c in 0..CHANNELS {
            let views: i64 = live
                .iter()
                .filter(|n| *n % CHANNELS == c)
                .map(|n| *n as i64 + 1)
                .sum();
            let count = live.iter().filter(|n| *n % CHANNELS == c).count() as i32;
            let request = video::GetChannelRequest {
                channel_id: format!("rep-ch{c}"),
            };
            eventually(
                &format!("channel {c}: {views} views in {count} videos"),
                Duration::from_secs(60),
                || {
                    let (side, request) = (side.clone(), request.clone());
                    async move {
                        let channel =
                            video::channel_service_client::ChannelServiceClient::new(side)
                                .get_channel(request)
                                .await
                                .ok()?
                                .into_inner();
                        (channel.total_view as i64 == views && channel.video_count == count)
                            .then_some(())
                    }
                },
            )
            .await;
        }
        eventually(
            &format!("client total {total} and its screen"),
            Duration::from_secs(60),
            || {
                let side = side.clone();
                async move {
                    let client =
                        video::client_service_client::ClientServiceClient::new(side.clone())
                            .get_client(video::GetClientRequest {
                                client_id: "rep".into(),
                            })
                            .await
                            .ok()?
                            .into_inner();
                    let screen =
                        video::channel_view_service_client::ChannelViewServiceClient::new(side)
                            .get_channel_view(video::GetChannelViewRequest {
                                client_id: "rep".into(),
                                ..Default::default()
                            })
                            .await
                            .ok()?
                            .into_inner();
                    (client.total_view as i64 == total
                        && screen.total_view == total
                        && screen.videos.len() == live_count)
                        .then_some(())
                }
            },
        )
        .await;
    }
}

/// A movie of ten seats: sixteen reservations at once through both replicas confirm exactly
/// ten; twenty reviews, five deleted: the movie's review count and its viewpage read fifteen
/// and ten confirmed, on both replicas.
async fn cinema_load(replicas: [&Mesh; 2]) {
    let sides = [replicas[0].channel().await, replicas[1].channel().await];
    let movies =
        |side: &Channel| cinema::movie_service_client::MovieServiceClient::new(side.clone());
    let reserve = |n: usize| {
        let side = sides[n % 2].clone();
        async move {
            cinema::reservation_service_client::ReservationServiceClient::new(side)
                .create_reservation(cinema::CreateReservationRequest {
                    rsv_id: format!("rep-r{n}"),
                    movie_id: "rep-m".into(),
                    customer_id: format!("rep-c{n}"),
                })
                .await
                .map(|r| r.into_inner())
        }
    };
    movies(&sides[0])
        .create_movie(cinema::CreateMovieRequest {
            movie_id: "rep-m".into(),
            title: "Replicated".into(),
            desc: "two of everything".into(),
            seats: Some(SEATS as i32),
        })
        .await
        .unwrap();
    // The reservation context learns of the movie by event: the first one waits for it.
    eventually("the movie reservable", Duration::from_secs(30), || async {
        reserve(0).await.ok().filter(|r| r.status == "CONFIRMED")
    })
    .await;
    let outcomes = join_all((1..RESERVATIONS).map(reserve)).await;
    let confirmed = 1 + outcomes
        .iter()
        .filter(|r| matches!(r, Ok(r) if r.status == "CONFIRMED"))
        .count();
    assert_eq!(
        confirmed, SEATS,
        "no overbooking across replicas: {outcomes:?}"
    );

    let reviews = (0..REVIEWS).map(|n| {
        let side = sides[n % 2].clone();
        async move {
            cinema::review_service_client::ReviewServiceClient::new(side)
                .create_review(cinema::CreateReviewRequest {
                    review_id: format!("rep-rv{n}"),
                    movie_id: "rep-m".into(),
                    content: format!("review {n}"),
                })
                .await
                .unwrap_or_else(|e| panic!("review {n}: {e:?}"));
        }
    });
    join_all(reviews).await;
    let deletions = (0..REVIEWS).filter(|n| n.is_multiple_of(4)).map(|n| {
        let side = sides[(n + 1) % 2].clone();
        async move {
            cinema::review_service_client::ReviewServiceClient::new(side)
                .delete_review(cinema::DeleteReviewRequest {
                    review_id: format!("rep-rv{n}"),
                })
                .await
                .unwrap_or_else(|e| panic!("delete review {n}: {e:?}"));
        }
    });
    join_all(deletions).await;
    let kept = (0..REVIEWS).filter(|n| !n.is_multiple_of(4)).count() as i32;
    for side in &sides {
        eventually(
            &format!("{kept} reviews counted and {SEATS} confirmed on the viewpage"),
            Duration::from_secs(60),
            || async {
                let movie = movies(side)
                    .get_movie(cinema::GetMovieRequest {
                        movie_id: "rep-m".into(),
                    })
                    .await
                    .ok()?
                    .into_inner();
                let pages =
                    cinema::viewpage_service_client::ViewpageServiceClient::new(side.clone())
                        .list_viewpages(cinema::ListViewpagesRequest {
                            page_size: 1000,
                            page_token: String::new(),
                        })
                        .await
                        .ok()?
                        .into_inner();
                let page = pages
                    .viewpages
                    .into_iter()
                    .find(|p| p.movie_id == "rep-m")?;
                let on_page = page
                    .reservations
                    .iter()
                    .filter(|r| r.status == "CONFIRMED")
                    .count();
                (movie.review_cnt == kept && page.review_cnt == kept && on_page == SEATS)
                    .then_some(())
            },
        )
        .await;
    }
}

/// Eight join orders through both replicas: every fourth cancelled, the others assigned,
/// accepted and completed by the installer, each step on the replica other than the last.
/// The order status view reads INSTALLED or CANCELLED for each on both replicas, every step
/// shown once.
async fn iptv_load(replicas: [&Mesh; 2]) {
    let sides = [replicas[0].channel().await, replicas[1].channel().await];
    let desk = |n: usize| {
        iptv::assignment_service_client::AssignmentServiceClient::new(sides[n % 2].clone())
    };
    let orders = |n: usize| {
        iptv::join_order_service_client::JoinOrderServiceClient::new(sides[n % 2].clone())
    };
    let installations = |n: usize| {
        iptv::installation_service_client::InstallationServiceClient::new(sides[n % 2].clone())
    };
    iptv::installer_service_client::InstallerServiceClient::new(sides[0].clone())
        .create_installer(iptv::CreateInstallerRequest {
            installer_id: "rep-i".into(),
            name: "installer".into(),
            region: "seoul".into(),
        })
        .await
        .unwrap();
    let cancelled = |n: usize| n.is_multiple_of(4);
    let flows = (0..ORDERS).map(|n| async move {
        let id = format!("rep-o{n}");
        orders(n)
            .create_join_order(iptv::CreateJoinOrderRequest {
                join_order_id: id.clone(),
                customer_id: "rep-cust".into(),
                customer_name: "customer".into(),
                address: format!("street {n}"),
                region: "seoul".into(),
                product: "INTERNET_TV".into(),
            })
            .await
            .unwrap_or_else(|e| panic!("join {n}: {e:?}"));
        eventually(
            &format!("the desk sees {id}"),
            Duration::from_secs(30),
            || async {
                let a = desk(n + 1)
                    .get_assignment(iptv::GetAssignmentRequest {
                        join_order_id: id.clone(),
                    })
                    .await
                    .ok()?
                    .into_inner();
                (a.status == "WAITING").then_some(())
            },
        )
        .await;
        if cancelled(n) {
            orders(n + 1)
                .update_join_order(iptv::UpdateJoinOrderRequest {
                    join_order_id: id.clone(),
                    status: "cancel".into(),
                })
                .await
                .unwrap_or_else(|e| panic!("cancel {n}: {e:?}"));
            return;
        }
        desk(n)
            .update_assignment(iptv::UpdateAssignmentRequest {
                join_order_id: id.clone(),
                installer_id: "rep-i".into(),
                status: String::new(),
            })
            .await
            .unwrap_or_else(|e| panic!("assign {n}: {e:?}"));
        eventually(
            &format!("the installer sees {id}"),
            Duration::from_secs(30),
            || async {
                installations(n + 1)
                    .get_installation(iptv::GetInstallationRequest {
                        join_order_id: id.clone(),
                    })
                    .await
                    .ok()
            },
        )
        .await;
        for (i, step) in ["accept", "complete"].into_iter().enumerate() {
            installations(n + i)
                .update_installation(iptv::UpdateInstallationRequest {
                    join_order_id: id.clone(),
                    status: step.into(),
                })
                .await
                .unwrap_or_else(|e| panic!("{step} {n}: {e:?}"));
        }
    });
    join_all(flows).await;
    for (s, side) in sides.iter().enumerate() {
        eventually(
            &format!("every order's status settled on replica {s}"),
            Duration::from_secs(60),
            || async {
                let statuses =
                    iptv::order_status_service_client::OrderStatusServiceClient::new(side.clone())
                        .list_order_statuses(iptv::ListOrderStatusesRequest {
                            page_size: 100,
                            page_token: String::new(),
                            customer_id: "rep-cust".into(),
                        })
                        .await
                        .ok()?
                        .into_inner()
                        .order_statuses;
                let settled = (0..ORDERS).all(|n| {
                    let want = if cancelled(n) {
                        "CANCELLED"
                    } else {
                        "INSTALLED"
                    };
                    statuses.iter().any(|o| {
                        let mut steps: Vec<&str> =
                            o.steps.iter().map(|s| s.step.as_str()).collect();
                        let shown = steps.len();
                        steps.sort();
                        steps.dedup();
                        o.join_order_id == format!("rep-o{n}")
                            && o.status == want
                            && steps.len() == shown
                    })
                });
                (settled && statuses.len() == ORDERS).then_some(())
            },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_of_every_context_on_postgres_apply_each_event_once() {
    let sandbox = Sandbox::postgres("replicas-pg");
    let first = sandbox.serve(TARGET).await;
    let second = sandbox.serve(TARGET).await;
    let replicas = [&first, &second];
    tokio::join!(
        vod_load(replicas),
        video_load(replicas),
        cinema_load(replicas),
        iptv_load(replicas)
    );

    // Both replicas of each consuming context took a share of the events.
    for consumer in [
        "vod_mileage",
        "video_channel",
        "video_client",
        "video_channelview",
        "cinema_movie",
        "cinema_viewpage",
        "iptv_orderstatus",
    ] {
        let shares = [
            applied(&first, consumer).await,
            applied(&second, consumer).await,
        ];
        eprintln!("{consumer}: applied {shares:?} by the two replicas");
        assert!(
            shares.iter().all(|n| *n > 0),
            "{consumer}: both replicas consume: {shares:?}"
        );
    }
}
