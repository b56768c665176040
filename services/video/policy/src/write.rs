//! Registering, changing and deleting policies: each change and the events it raises commit
//! together, on the policy's locked row.
use mediamesh_mesh::{Raise, Store};

use crate::domain::{Patch, Policy};
use crate::error::Error;
use crate::{events, store};

/// A policy as asked for (fields checked at the edge).
pub struct NewPolicy {
    pub policy_id: String,
    pub refund_policy: i64,
    pub delete_video_id: String,
    pub banned_words: Vec<String>,
}

pub async fn create(store: &Store, new: NewPolicy) -> Result<Policy, Error> {
    let (policy, changed) = Policy::register(
        new.policy_id,
        new.refund_policy,
        new.delete_video_id,
        new.banned_words,
    );
    let mut tx = store.begin().await?;
    if !store::insert(&mut tx, &policy).await? {
        drop(tx);
        return replay(store, &policy).await;
    }
    tx.raise(events::changed(&changed)).await?;
    tx.commit().await?;
    Ok(policy)
}

/// A registration under a taken id (AIP-155): the same request again is answered the policy
/// as it is, without raising anything twice; another request under that id is refused.
async fn replay(store: &Store, asked: &Policy) -> Result<Policy, Error> {
    let id = asked.policy_id().to_owned();
    match store::get(store, &id).await? {
        Some(existing) if existing.same_request(asked) => Ok(existing),
        _ => Err(Error::IdTaken(id)),
    }
}

pub async fn update(store: &Store, policy_id: &str, patch: Patch) -> Result<Policy, Error> {
    let mut tx = store.begin().await?;
    let not_found = || Error::NotFound(policy_id.to_owned());
    let mut policy = store::lock(&mut tx, policy_id)
        .await?
        .ok_or_else(not_found)?;
    let changed = policy.update(patch).ok_or_else(not_found)?;
    store::save(&mut tx, &policy).await?;
    tx.raise(events::changed(&changed)).await?;
    tx.commit().await?;
    Ok(policy)
}

pub async fn delete(store: &Store, policy_id: &str) -> Result<(), Error> {
    let mut tx = store.begin().await?;
    let not_found = || Error::NotFound(policy_id.to_owned());
    let mut policy = store::lock(&mut tx, policy_id)
        .await?
        .ok_or_else(not_found)?;
    let deleted = policy.delete().ok_or_else(not_found)?;
    store::save(&mut tx, &policy).await?;
    tx.raise(events::deleted(&deleted)).await?;
    if let Some(takedown) = &deleted.takedown {
        tx.raise(events::takedown(takedown, deleted.version))
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
