//! gRPC inbound adapter of video. Every field passes `mediamesh_mesh::input` first; the
//! domain decides (write.rs persists and publishes what it returns).
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Peer, Store};
use mediamesh_proto::video::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{Video, Views};
use crate::error::Error;
use crate::store;
use crate::write::{self, Edit, Upload};

pub struct VideoApi {
    store: Store,
    channel: Peer,
}

fn views(count: i32) -> Result<Views, Error> {
    Ok(Views::new(i64::from(count))?)
}

impl VideoApi {
    pub fn new(store: Store, channel: Peer) -> VideoApi {
        VideoApi { store, channel }
    }

    /// With auth on: the video's client, or a trusted caller.
    async fn check_owner(&self, caller: Option<&auth::Caller>, id: &str) -> Result<(), Status> {
        let Some(caller) = caller else {
            return Ok(());
        };
        let id = input::id("video_id", id)?;
        let video = store::get(&self.store, &id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound(id))?;
        Ok(access::may_change(caller, video.client_id())?)
    }

    async fn upload(&self, r: pb::CreateVideoRequest) -> Result<Video, Error> {
        let new = Upload {
            video_id: input::optional_id("video_id", &r.video_id)?
                .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            client_id: input::optional_id("client_id", &r.client_id)?.unwrap_or_default(),
            channel_id: input::id("channel_id", &r.channel_id)?,
            title: input::text("title", &r.title, NAME_MAX)?,
            views: views(r.view_count.unwrap_or(0))?,
        };
        write::upload(&self.store, &self.channel, new).await
    }

    async fn edit(&self, r: pb::UpdateVideoRequest) -> Result<Video, Error> {
        let edit = Edit {
            video_id: input::id("video_id", &r.video_id)?,
            title: r
                .title
                .map(|t| input::text("title", &t, NAME_MAX))
                .transpose()?,
            channel_id: r
                .channel_id
                .map(|c| input::id("channel_id", &c))
                .transpose()?,
            views: r.view_count.map(views).transpose()?,
        };
        write::edit(&self.store, &self.channel, edit).await
    }
}

fn to_pb(v: Video) -> pb::Video {
    pb::Video {
        video_id: v.id().to_owned(),
        client_id: v.client_id().to_owned(),
        channel_id: v.channel_id().to_owned(),
        title: v.title().to_owned(),
        // Views are kept within i32 (Views), so this always holds.
        view_count: i32::try_from(v.views().get()).unwrap_or(i32::MAX),
        status: v.status().as_str().to_owned(),
    }
}

#[tonic::async_trait]
impl pb::video_service_server::VideoService for VideoApi {
    async fn list_videos(
        &self,
        request: Request<pb::ListVideosRequest>,
    ) -> Result<Response<pb::ListVideosResponse>, Status> {
        let r = request.into_inner();
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let channel_id = input::optional_id("channel_id", &r.channel_id)?.unwrap_or_default();
        let client_id = input::optional_id("client_id", &r.client_id)?.unwrap_or_default();
        let rows = store::list(&self.store, &page, &channel_id, &client_id)
            .await
            .map_err(Error::from)?;
        let (videos, next_page_token) = page.split(rows);
        Ok(Response::new(pb::ListVideosResponse {
            videos: videos.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_video(
        &self,
        request: Request<pb::GetVideoRequest>,
    ) -> Result<Response<pb::Video>, Status> {
        let id = input::id("video_id", &request.into_inner().video_id)?;
        let video = store::get(&self.store, &id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound(id))?;
        Ok(Response::new(to_pb(video)))
    }

    async fn create_video(
        &self,
        request: Request<pb::CreateVideoRequest>,
    ) -> Result<Response<pb::Video>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.client_id = access::uploader(caller, &r.client_id)?;
        }
        Ok(Response::new(to_pb(self.upload(r).await?)))
    }

    async fn update_video(
        &self,
        request: Request<pb::UpdateVideoRequest>,
    ) -> Result<Response<pb::Video>, Status> {
        self.check_owner(auth::caller(&request), &request.get_ref().video_id)
            .await?;
        Ok(Response::new(to_pb(self.edit(request.into_inner()).await?)))
    }

    async fn delete_video(
        &self,
        request: Request<pb::DeleteVideoRequest>,
    ) -> Result<Response<pb::DeleteVideoResponse>, Status> {
        self.check_owner(auth::caller(&request), &request.get_ref().video_id)
            .await?;
        let id = input::id("video_id", &request.into_inner().video_id)?;
        write::delete(&self.store, &id).await?;
        Ok(Response::new(pb::DeleteVideoResponse {}))
    }

    async fn view_video(
        &self,
        request: Request<pb::ViewVideoRequest>,
    ) -> Result<Response<pb::Video>, Status> {
        let id = input::id("video_id", &request.into_inner().video_id)?;
        Ok(Response::new(to_pb(write::view(&self.store, &id).await?)))
    }
}
