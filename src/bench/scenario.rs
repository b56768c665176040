//! The benchmark scenarios: what each drives, and which event measures its lag.
use std::time::{Duration, Instant};

use clap::ValueEnum;
use mediamesh_proto::iptv::v1 as iptv;
use mediamesh_proto::video::v1 as video;
use mediamesh_proto::{cinema, vod};
use prost::Message;
use tonic::transport::Channel;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Scenario {
    /// The VOD purchase saga: CreatePurchase (sync Pay) plus mileage by events.
    VodPurchase,
    /// Movie reservation: CreateReservation (seat held, sync Pay, confirmed) plus events.
    CinemaReservation,
    /// Video upload: CreateVideo into a live channel, with the totals following by events.
    VideoUpload,
    /// IPTV join order to completion: order, assign (the desk asks order on a miss), the
    /// installer accepts and completes (once the assignment event reached installation),
    /// the desk completes.
    IptvJoin,
}

/// The movie every bench reservation is for: big enough never to fill up.
const BENCH_MOVIE: &str = "bench";

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::VodPurchase => "vod-purchase",
            Scenario::CinemaReservation => "cinema-reservation",
            Scenario::VideoUpload => "video-upload",
            Scenario::IptvJoin => "iptv-join",
        }
    }

    /// The app the mesh under test runs.
    pub fn target(self) -> &'static str {
        match self {
            Scenario::VodPurchase => "vod",
            Scenario::CinemaReservation => "cinema",
            Scenario::VideoUpload => "video",
            Scenario::IptvJoin => "iptv",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Scenario::VodPurchase => "purchases",
            Scenario::CinemaReservation => "reservations",
            Scenario::VideoUpload => "uploads",
            Scenario::IptvJoin => "subscriptions",
        }
    }

    pub fn lag_label(self) -> &'static str {
        match self {
            Scenario::VodPurchase => "purchase->mileage",
            Scenario::CinemaReservation => "confirmed->event",
            Scenario::VideoUpload => "upload->event",
            Scenario::IptvJoin => "completed->event",
        }
    }

    /// The event whose arrival ends a call's lag.
    pub fn lag_subject(self) -> &'static str {
        match self {
            Scenario::VodPurchase => "vod.mileage.MileageCredited",
            Scenario::CinemaReservation => "cinema.reservation.ReservationConfirmed",
            Scenario::VideoUpload => "video.video.VideoUploaded",
            Scenario::IptvJoin => "iptv.assignment.SubscriptionCompleted",
        }
    }

    pub fn lag_id(self) -> fn(&[u8]) -> Option<String> {
        match self {
            Scenario::VodPurchase => |b| {
                vod::v1::MileageCredited::decode(b)
                    .ok()
                    .map(|e| e.purchase_id)
            },
            Scenario::CinemaReservation => |b| {
                cinema::v1::ReservationConfirmed::decode(b)
                    .ok()
                    .map(|e| e.rsv_id)
            },
            Scenario::VideoUpload => |b| video::VideoUploaded::decode(b).ok().map(|e| e.video_id),
            Scenario::IptvJoin => |b| {
                iptv::SubscriptionCompleted::decode(b)
                    .ok()
                    .map(|e| e.join_order_id)
            },
        }
    }

    /// Sets up what the scenario needs (the bench movie, seen by reservation).
    pub async fn prepare(self, channel: &Channel) -> anyhow::Result<()> {
        if let Scenario::VideoUpload = self {
            return prepare_video(self, channel).await;
        }
        if let Scenario::IptvJoin = self {
            return iptv_bench::prepare(channel).await;
        }
        let Scenario::CinemaReservation = self else {
            return Ok(());
        };
        let mut movies = cinema::v1::movie_service_client::MovieServiceClient::new(channel.clone());
        let movie = cinema::v1::CreateMovieRequest {
            movie_id: BENCH_MOVIE.into(),
            title: "Bench".into(),
            seats: Some(100_000),
            ..Default::default()
        };
        if let Err(status) = movies.create_movie(movie).await
            && status.code() != tonic::Code::AlreadyExists
        {
            return Err(status.into());
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.call(channel.clone(), 0, 0).await.is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the bench movie never became reservable"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// One call of the scenario; returns the id its lag event will carry.
    pub async fn call(
        self,
        channel: Channel,
        worker: usize,
        n: u64,
    ) -> Result<String, tonic::Status> {
        match self {
            Scenario::VodPurchase => {
                let mut client =
                    vod::v1::purchase_service_client::PurchaseServiceClient::new(channel);
                let request = vod::v1::CreatePurchaseRequest {
                    vod_id: "2".into(),
                    customer_id: format!("bench-{worker}-{}", n / 10),
                    ..Default::default()
                };
                Ok(client
                    .create_purchase(request)
                    .await?
                    .into_inner()
                    .purchase_id)
            }
            Scenario::CinemaReservation => {
                let mut client =
                    cinema::v1::reservation_service_client::ReservationServiceClient::new(channel);
                let request = cinema::v1::CreateReservationRequest {
                    movie_id: BENCH_MOVIE.into(),
                    customer_id: format!("bench-{worker}"),
                    ..Default::default()
                };
                Ok(client
                    .create_reservation(request)
                    .await?
                    .into_inner()
                    .rsv_id)
            }
            Scenario::VideoUpload => {
                let mut client = video::video_service_client::VideoServiceClient::new(channel);
                let request = video::CreateVideoRequest {
                    channel_id: BENCH_CHANNEL.into(),
                    title: format!("bench {worker} {n}"),
                    view_count: Some(1),
                    ..Default::default()
                };
                Ok(client.create_video(request).await?.into_inner().video_id)
            }
            Scenario::IptvJoin => iptv_bench::join(channel, worker).await,
        }
    }
}

/// The channel every bench upload goes into, and its client.
const BENCH_CHANNEL: &str = "bench";

/// Creates the bench client and channel (kept if there), then waits until video takes uploads.
async fn prepare_video(scenario: Scenario, channel: &Channel) -> anyhow::Result<()> {
    let exists = |r: Result<(), tonic::Status>| match r {
        Err(status) if status.code() != tonic::Code::AlreadyExists => Err(status),
        _ => Ok(()),
    };
    let mut clients = video::client_service_client::ClientServiceClient::new(channel.clone());
    let client = video::CreateClientRequest {
        client_id: BENCH_CHANNEL.into(),
        total_view: None,
    };
    exists(clients.create_client(client).await.map(drop))?;
    let mut channels = video::channel_service_client::ChannelServiceClient::new(channel.clone());
    let bench = video::CreateChannelRequest {
        channel_id: BENCH_CHANNEL.into(),
        channel_name: "Bench".into(),
        client_id: BENCH_CHANNEL.into(),
        ..Default::default()
    };
    exists(channels.create_channel(bench).await.map(drop))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while scenario.call(channel.clone(), 0, 0).await.is_err() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the bench channel never took uploads"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The iptv scenario's steps.
mod iptv_bench {
    use std::time::{Duration, Instant};

    use mediamesh_proto::iptv::v1 as iptv;
    use tonic::transport::Channel;

    /// The installer (and region) of every bench order.
    const BENCH: &str = "bench";

    pub async fn prepare(channel: &Channel) -> anyhow::Result<()> {
        let mut installers =
            iptv::installer_service_client::InstallerServiceClient::new(channel.clone());
        let installer = iptv::CreateInstallerRequest {
            installer_id: BENCH.into(),
            name: "Bench".into(),
            region: BENCH.into(),
        };
        installers.create_installer(installer).await?;
        Ok(())
    }

    /// One join order to completion; returns its id.
    pub async fn join(channel: Channel, worker: usize) -> Result<String, tonic::Status> {
        let mut orders =
            iptv::join_order_service_client::JoinOrderServiceClient::new(channel.clone());
        let mut desk =
            iptv::assignment_service_client::AssignmentServiceClient::new(channel.clone());
        let mut installer =
            iptv::installation_service_client::InstallationServiceClient::new(channel);
        let order = iptv::CreateJoinOrderRequest {
            customer_id: format!("bench-{worker}"),
            customer_name: "Bench".into(),
            address: "Bench street 1".into(),
            region: BENCH.into(),
            product: "INTERNET_TV".into(),
            ..Default::default()
        };
        let id = orders
            .create_join_order(order)
            .await?
            .into_inner()
            .join_order_id;
        let assign = iptv::UpdateAssignmentRequest {
            join_order_id: id.clone(),
            installer_id: BENCH.into(),
            status: String::new(),
        };
        desk.update_assignment(assign).await?;
        // The installation opens when the assignment event reaches it.
        let deadline = Instant::now() + Duration::from_secs(10);
        for step in ["accept", "complete"] {
            loop {
                let request = iptv::UpdateInstallationRequest {
                    join_order_id: id.clone(),
                    status: step.into(),
                };
                match installer.update_installation(request).await {
                    Ok(_) => break,
                    Err(status)
                        if status.code() == tonic::Code::NotFound && Instant::now() < deadline =>
                    {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err(status) => return Err(status),
                }
            }
        }
        let complete = iptv::UpdateAssignmentRequest {
            join_order_id: id.clone(),
            installer_id: String::new(),
            status: "complete".into(),
        };
        desk.update_assignment(complete).await?;
        Ok(id)
    }
}
