//! gRPC inbound adapter of policy. Every field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::Store;
use mediamesh_mesh::error::FieldViolation;
use mediamesh_mesh::input;
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_proto::video::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{BANNED_WORD_MAX, BANNED_WORDS_MAX, Patch, Policy};
use crate::error::Error;
use crate::store;
use crate::write::{self, NewPolicy};

/// Largest view count a refund bar may ask for.
pub const VIEWS_MAX: i64 = 1_000_000_000_000;

pub struct PolicyApi {
    store: Store,
}

impl PolicyApi {
    pub fn new(store: Store) -> PolicyApi {
        PolicyApi { store }
    }

    async fn list(&self, r: pb::ListPoliciesRequest) -> Result<pb::ListPoliciesResponse, Error> {
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let rows = store::list(&self.store, &page).await?;
        let (policies, next_page_token) = page.split(rows);
        Ok(pb::ListPoliciesResponse {
            policies: policies.iter().map(to_pb).collect(),
            next_page_token,
        })
    }

    async fn get(&self, id: &str) -> Result<Policy, Error> {
        let id = input::id("policy_id", id)?;
        store::get(&self.store, &id)
            .await?
            .ok_or(Error::NotFound(id))
    }
}

pub fn to_pb(p: &Policy) -> pb::Policy {
    pb::Policy {
        policy_id: p.policy_id().to_owned(),
        refund_policy: p.refund_policy(),
        delete_video_id: p.delete_video_id().to_owned(),
        banned_words: p.banned_words().to_vec(),
    }
}

fn banned_words(words: &[String]) -> Result<Vec<String>, FieldViolation> {
    if words.len() > BANNED_WORDS_MAX {
        return Err(FieldViolation::new(
            "banned_words",
            format!("must hold at most {BANNED_WORDS_MAX} words"),
        ));
    }
    words
        .iter()
        .map(|w| input::required_text("banned_words", w, BANNED_WORD_MAX))
        .collect()
}

fn parse(r: pb::CreatePolicyRequest) -> Result<NewPolicy, FieldViolation> {
    Ok(NewPolicy {
        policy_id: input::optional_id("policy_id", &r.policy_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        refund_policy: input::bounded("refund_policy", r.refund_policy, VIEWS_MAX)?,
        delete_video_id: input::optional_id("delete_video_id", &r.delete_video_id)?
            .unwrap_or_default(),
        banned_words: banned_words(&r.banned_words)?,
    })
}

fn parse_patch(r: &pb::UpdatePolicyRequest) -> Result<Patch, FieldViolation> {
    let words = if r.clear_banned_words {
        Some(Vec::new())
    } else if r.banned_words.is_empty() {
        None
    } else {
        Some(banned_words(&r.banned_words)?)
    };
    Ok(Patch {
        refund_policy: r
            .refund_policy
            .map(|v| input::bounded("refund_policy", v, VIEWS_MAX))
            .transpose()?,
        // An empty id clears the video the policy names.
        delete_video_id: r
            .delete_video_id
            .as_deref()
            .map(|v| input::optional_id("delete_video_id", v).map(Option::unwrap_or_default))
            .transpose()?,
        banned_words: words,
    })
}

#[tonic::async_trait]
impl pb::policy_service_server::PolicyService for PolicyApi {
    async fn create_policy(
        &self,
        request: Request<pb::CreatePolicyRequest>,
    ) -> Result<Response<pb::Policy>, Status> {
        auth::authorize(&request, access::may_manage)?;
        let new = parse(request.into_inner())?;
        let policy = write::create(&self.store, new).await?;
        Ok(Response::new(to_pb(&policy)))
    }

    async fn get_policy(
        &self,
        request: Request<pb::GetPolicyRequest>,
    ) -> Result<Response<pb::Policy>, Status> {
        let policy = self.get(&request.into_inner().policy_id).await?;
        Ok(Response::new(to_pb(&policy)))
    }

    async fn list_policies(
        &self,
        request: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::ListPoliciesResponse>, Status> {
        Ok(Response::new(self.list(request.into_inner()).await?))
    }

    async fn update_policy(
        &self,
        request: Request<pb::UpdatePolicyRequest>,
    ) -> Result<Response<pb::Policy>, Status> {
        auth::authorize(&request, access::may_manage)?;
        let r = request.into_inner();
        let id = input::id("policy_id", &r.policy_id)?;
        let patch = parse_patch(&r)?;
        let policy = write::update(&self.store, &id, patch).await?;
        Ok(Response::new(to_pb(&policy)))
    }

    async fn delete_policy(
        &self,
        request: Request<pb::DeletePolicyRequest>,
    ) -> Result<Response<pb::DeletePolicyResponse>, Status> {
        auth::authorize(&request, access::may_manage)?;
        let id = input::id("policy_id", &request.into_inner().policy_id)?;
        write::delete(&self.store, &id).await?;
        Ok(Response::new(pb::DeletePolicyResponse {}))
    }
}
