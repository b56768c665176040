//! gRPC inbound adapter of channel. Every field passes `mediamesh_mesh::input` first; the
//! domain decides, and this adapter persists and publishes what it returns.
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Peer, Raise, Store};
use mediamesh_proto::video::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{self, Channel};
use crate::error::Error;
use crate::{store, write};

pub struct ChannelApi {
    store: Store,
    /// Asked about a client the replica has not heard of.
    client: Peer,
}

impl ChannelApi {
    pub fn new(store: Store, client: Peer) -> ChannelApi {
        ChannelApi { store, client }
    }

    /// With auth on: the channel's client, or a trusted caller (its client never changes).
    async fn check_owner(&self, caller: Option<&auth::Caller>, id: &str) -> Result<(), Status> {
        let Some(caller) = caller else {
            return Ok(());
        };
        let id = input::id("channel_id", id)?;
        let channel = store::get(&self.store, &id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        Ok(access::may_change(caller, channel.client_id())?)
    }

    async fn create(&self, r: pb::CreateChannelRequest) -> Result<Channel, Error> {
        let id = input::optional_id("channel_id", &r.channel_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let name = input::text("channel_name", &r.channel_name, NAME_MAX)?;
        let client_id = input::id("client_id", &r.client_id)?;
        domain::computed("total_view", r.total_view, true)?;
        domain::computed("video_count", r.video_count, true)?;
        write::open(
            &self.store,
            &self.client,
            Channel::open(id, name, client_id)?,
        )
        .await
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
        tx.raise(write::event_of(&event, &renamed)).await?;
        tx.commit().await?;
        Ok(channel)
    }

    async fn delete(&self, r: pb::DeleteChannelRequest) -> Result<(), Error> {
        let id = input::id("channel_id", &r.channel_id)?;
        let mut tx = self.store.begin().await?;
        let mut channel = store::lock(&mut tx, &id)
            .await?
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        write::delete_locked(&mut tx, &mut channel).await?;
        tx.commit().await?;
        Ok(())
    }
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
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let client_id = input::optional_id("client_id", &r.client_id)?.unwrap_or_default();
        let rows = store::list(&self.store, &page, &client_id)
            .await
            .map_err(Error::from)?;
        let (channels, next_page_token) = page.split(rows);
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
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.client_id = access::opener(caller, &r.client_id)?;
        }
        Ok(Response::new(to_pb(self.create(r).await?)))
    }

    async fn update_channel(
        &self,
        request: Request<pb::UpdateChannelRequest>,
    ) -> Result<Response<pb::Channel>, Status> {
        self.check_owner(auth::caller(&request), &request.get_ref().channel_id)
            .await?;
        Ok(Response::new(to_pb(
            self.update(request.into_inner()).await?,
        )))
    }

    async fn delete_channel(
        &self,
        request: Request<pb::DeleteChannelRequest>,
    ) -> Result<Response<pb::DeleteChannelResponse>, Status> {
        self.check_owner(auth::caller(&request), &request.get_ref().channel_id)
            .await?;
        self.delete(request.into_inner()).await?;
        Ok(Response::new(pb::DeleteChannelResponse {}))
    }
}
