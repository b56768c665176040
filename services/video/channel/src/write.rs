//! Opening and deleting channels. A channel is opened only for a live client: the client is
//! checked against the replica, or asked of client on a miss (the replica learns the answer);
//! the check is made again on the locked replica row in the transaction that writes the
//! channel, so an opening racing its client's deletion either lands before it (and is deleted
//! with it) or is refused. A channel and the event it raises commit together.
use mediamesh_mesh::{Event, Peer, Raise, Retry, Store, Tx};
use mediamesh_proto::video::v1 as pb;
use mediamesh_proto::video::v1::client_service_client::ClientServiceClient;

use crate::domain::{Channel, Named};
use crate::error::Error;
use crate::replica::{ClientCheck, ClientNotFound, ReplicaClient};
use crate::store;

pub const CONTEXT: &str = "video.channel";

pub async fn open(
    store: &Store,
    client: &Peer,
    (channel, named): (Channel, Named),
) -> Result<Channel, Error> {
    let replica = store::client(store, channel.client_id()).await?;
    let asked = match ReplicaClient::check(replica.as_ref(), channel.client_id())? {
        ClientCheck::Live => false,
        ClientCheck::Ask => {
            ask_client(client, channel.client_id()).await?;
            true
        }
    };
    let mut tx = store.begin().await?;
    let mut replica = store::lock_client(&mut tx, channel.client_id()).await?;
    if !replica.is_heard() && asked {
        // Confirmed by client a moment ago: the replica learns it.
        replica.register();
        store::save_client(&mut tx, &replica).await?;
    }
    if ReplicaClient::check(Some(&replica), channel.client_id())? != ClientCheck::Live {
        // Heard of a moment ago, then forgotten: cannot happen (rows are never removed).
        return Err(ClientNotFound(channel.client_id().to_owned()).into());
    }
    if !store::insert(&mut tx, &channel).await? {
        drop(tx);
        return replay(store, &channel).await;
    }
    let event = pb::ChannelCreated {
        channel_id: named.channel_id.clone(),
        channel_name: named.channel_name.clone(),
        client_id: named.client_id.clone(),
    };
    tx.raise(event_of(&event, &named)).await?;
    tx.commit().await?;
    Ok(channel)
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

/// Deletes a locked channel for good and raises ChannelDeleted (video deletes its videos).
pub async fn delete_locked(tx: &mut Tx, channel: &mut Channel) -> Result<(), sqlx::Error> {
    let deleted = channel.delete();
    store::save(tx, channel, true).await?;
    let event = pb::ChannelDeleted {
        channel_id: deleted.channel_id.clone(),
        client_id: deleted.client_id.clone(),
    };
    let id = &deleted.channel_id;
    tx.raise(Event::new(CONTEXT, &event, id, deleted.version, id))
        .await
}

/// Asks client whether a client the replica has not heard of exists (registered a moment ago?).
async fn ask_client(client: &Peer, client_id: &str) -> Result<(), Error> {
    let request = pb::GetClientRequest {
        client_id: client_id.to_owned(),
    };
    let answer = client
        .call(Retry::Safe, |ch| {
            let request = client.request(request.clone());
            async move { ClientServiceClient::new(ch).get_client(request).await }
        })
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() => Err(ClientNotFound(client_id.to_owned()).into()),
        Err(error) => Err(error.into()),
    }
}

pub fn event_of<M: prost::Message + prost::Name>(event: &M, named: &Named) -> Event {
    let id = &named.channel_id;
    Event::new(CONTEXT, event, id, named.version, id)
}
