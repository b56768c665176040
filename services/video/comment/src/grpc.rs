//! gRPC inbound adapter of comment. Every field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::input::{self, TEXT_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Peer, Store};
use mediamesh_proto::video::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::Comment;
use crate::error::Error;
use crate::store;
use crate::write::{self, NewComment};

pub struct CommentApi {
    store: Store,
    video: Peer,
}

impl CommentApi {
    pub fn new(store: Store, video: Peer) -> CommentApi {
        CommentApi { store, video }
    }

    async fn list(&self, r: pb::ListCommentsRequest) -> Result<pb::ListCommentsResponse, Error> {
        let video_id = input::id("video_id", &r.video_id)?;
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let rows = store::list(&self.store, &page, &video_id).await?;
        let (comments, next_page_token) = page.split(rows);
        Ok(pb::ListCommentsResponse {
            comments: comments.iter().map(to_pb).collect(),
            next_page_token,
        })
    }

    /// With auth on: the comment's writer, or a trusted caller.
    async fn check_owner(&self, caller: Option<&auth::Caller>, id: &str) -> Result<(), Status> {
        let Some(caller) = caller else {
            return Ok(());
        };
        let comment = self.get(id).await?;
        Ok(access::may_change(caller, comment.client_id())?)
    }

    async fn get(&self, id: &str) -> Result<Comment, Error> {
        let id = input::id("comment_id", id)?;
        store::get(&self.store, &id)
            .await?
            .ok_or(Error::NotFound(id))
    }
}

pub fn to_pb(c: &Comment) -> pb::Comment {
    pb::Comment {
        comment_id: c.comment_id().to_owned(),
        video_id: c.video_id().to_owned(),
        client_id: c.client_id().to_owned(),
        contents: c.contents().to_owned(),
        create_time: c.create_time().to_owned(),
    }
}

fn parse(r: pb::CreateCommentRequest) -> Result<NewComment, Error> {
    Ok(NewComment {
        comment_id: input::optional_id("comment_id", &r.comment_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        video_id: input::id("video_id", &r.video_id)?,
        client_id: input::id("client_id", &r.client_id)?,
        contents: input::required_text("contents", &r.contents, TEXT_MAX)?,
    })
}

#[tonic::async_trait]
impl pb::comment_service_server::CommentService for CommentApi {
    async fn create_comment(
        &self,
        request: Request<pb::CreateCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.client_id = access::writer(caller, &r.client_id)?;
        }
        let new = parse(r)?;
        let comment = write::create(&self.store, &self.video, new).await?;
        Ok(Response::new(to_pb(&comment)))
    }

    async fn get_comment(
        &self,
        request: Request<pb::GetCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let comment = self.get(&request.into_inner().comment_id).await?;
        Ok(Response::new(to_pb(&comment)))
    }

    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        Ok(Response::new(self.list(request.into_inner()).await?))
    }

    async fn update_comment(
        &self,
        request: Request<pb::UpdateCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        self.check_owner(auth::caller(&request), &request.get_ref().comment_id)
            .await?;
        let r = request.into_inner();
        let id = input::id("comment_id", &r.comment_id)?;
        let contents = input::required_text("contents", &r.contents, TEXT_MAX)?;
        let comment = write::edit(&self.store, &id, contents).await?;
        Ok(Response::new(to_pb(&comment)))
    }

    async fn delete_comment(
        &self,
        request: Request<pb::DeleteCommentRequest>,
    ) -> Result<Response<pb::DeleteCommentResponse>, Status> {
        self.check_owner(auth::caller(&request), &request.get_ref().comment_id)
            .await?;
        let id = input::id("comment_id", &request.into_inner().comment_id)?;
        write::delete(&self.store, &id).await?;
        Ok(Response::new(pb::DeleteCommentResponse {}))
    }
}
