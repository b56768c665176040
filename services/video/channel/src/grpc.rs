//! gRPC inbound adapter of channel. Every field passes `mediamesh_mesh::input` first; the
//! domain decides, and this adapter persists and publishes what it returns.
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::video::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{self, Channel, Named};
use crate::error::Error;
use crate::store;

const CONTEXT: &str = "video.channel";

pub struct ChannelApi {
    store: Store,
}

impl ChannelApi {
    pub fn new(store: Store) -> ChannelApi {
        ChannelApi { store }
    }

    async fn create(&self, r: pb::CreateChannelRequest) -> Result<Channel, Error> {
        let id = input::optional_id("channel_id", &r.channel_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let name = input::text("channel_name", &r.channel_name, NAME_MAX)?;
        let client_id = input::id("client_id", &r.client_id)?;
        domain::computed("total_view", r.total_view, true)?;
        domain::computed("video_count", r.video_count, true)?;
        let (channel, created) = Channel::open(id, name, client_id)?;
        let mut tx = self.store.begin().await?;
        if !store::insert(&mut tx, &channel).await? {
            drop(tx);
            return replay(&self.store, &channel).await;
        }
        let event = pb::ChannelCreated {
            channel_id: created.channel_id.clone(),
            channel_name: created.channel_name.clone(),
            client_id: created.client_id.clone(),
        };
        tx.raise(event_of(&event, &created)).await?;
        tx.commit().await?;
        Ok(channel)
    }

    async fn update(&self, r: pb::UpdateChannelRequest) -> Result<Channel, Error> {
        let id = input::id("channel_id", &r.channel_id)?;
        let name = r
            .channel_name
            .map(|n| input::text("channel_name", &n, NAME_MAX))
            .transpose()?;
        domain::computed("total_view", r.total_view, false)?;
        domain::computed("video_count", r.video_count, false)?;
        let mut tx = self.store.begin().await?;
        let mut channel = store::lock(&mut tx, &id)
            .await?
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        let Some(name) = name else {
            // Nothing to change: the channel as it is, nothing raised.
            return Ok(channel);
        };
        let renamed = channel.rename(name)?;
        store::save(&mut tx, &channel, false).await?;
        let event = pb::ChannelRenamed {
            channel_id: renamed.channel_id.clone(),
            channel_name: renamed.channel_name.clone(),
            client_id: renamed.client_id.clone(),
        };
        tx.raise(event_of(&event, &renamed)).await?;
        tx.commit().await?;
        Ok(channel)
    }

    async fn delete(&self, r: pb::DeleteChannelRequest) -> Result<(), Error> {
        let id = input::id("channel_id", &r.channel_id)?;
        let mut tx = self.store.begin().await?;
        let mut channel = store::lock(&mut tx, &id)
            .await?
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        let deleted = channel.delete();
        store::save(&mut tx, &channel, true).await?;
        let event = pb::ChannelDeleted {
            channel_id: deleted.channel_id.clone(),
            client_id: deleted.client_id.clone(),
        };
        tx.raise(Event::new(CONTEXT, &event, &id, deleted.version, &id))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A creation under a taken id (AIP-155): the same request again is answered the channel as
/// it is now; another request under that id, or any under a deleted channel's, is refused.
async fn replay(store: &Store, asked: &Channel) -> Result<Channel, Error> {
    let id = asked.id().to_owned();
    match store::get(store, &id).await? {
        Some(existing) if existing.same_request(asked) => Ok(existing),
        _ => Err(Error::Exists(id)),
    }
}

fn event_of<M: prost::Message + prost::Name>(event: &M, named: &Named) -> Event {
    let id = &named.channel_id;
    Event::new(CONTEXT, event, id, named.version, id)
}

/// Counts past i32 are shown at the most the contract holds.
fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn to_pb(c: Channel) -> pb::Channel {
    pb::Channel {
        channel_id: c.id().to_owned(),
        channel_name: c.name().to_owned(),
        client_id: c.client_id().to_owned(),
        total_view: count(c.total_view()),
        video_count: count(c.video_count()),
    }
}

#[tonic::async_trait]
impl pb::channel_service_server::ChannelService for ChannelApi {
    async fn list_channels(
        &self,
        request: Request<pb::ListChannelsRequest>,
    ) -> Result<Response<pb::ListChannelsResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token)?;
        let client_id = input::optional_id("client_id", &r.client_id)?.unwrap_or_default();
        let mut channels = store::list(&self.store, page, &client_id)
            .await
            .map_err(Error::from)?;
        let next_page_token = page.finish(&mut channels);
        Ok(Response::new(pb::ListChannelsResponse {
            channels: channels.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_channel(
        &self,
        request: Request<pb::GetChannelRequest>,
    ) -> Result<Response<pb::Channel>, Status> {
        let id = input::id("channel_id", &request.into_inner().channel_id)?;
        let channel = store::get(&self.store, &id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound(id))?;
        Ok(Response::new(to_pb(channel)))
    }

    async fn create_channel(
        &self,
        request: Request<pb::CreateChannelRequest>,
    ) -> Result<Response<pb::Channel>, Status> {
        Ok(Response::new(to_pb(
            self.create(request.into_inner()).await?,
        )))
    }

    async fn update_channel(
        &self,
        request: Request<pb::UpdateChannelRequest>,
    ) -> Result<Response<pb::Channel>, Status> {
        Ok(Response::new(to_pb(
            self.update(request.into_inner()).await?,
        )))
    }

    async fn delete_channel(
        &self,
        request: Request<pb::DeleteChannelRequest>,
    ) -> Result<Response<pb::DeleteChannelResponse>, Status> {
        self.delete(request.into_inner()).await?;
        Ok(Response::new(pb::DeleteChannelResponse {}))
    }
}
