//! The titles purchase sells: its replica of the catalog, fed by `VodRegistered`, so
//! purchases never need the catalog up. A title registered a moment ago may not have reached
//! the replica yet: on a miss, purchase asks the catalog (`GetVod`, through the breaker) and
//! records the answer, so what a user just registered is purchasable at once.
use mediamesh_mesh::{Peer, Retry, Store};
use mediamesh_proto::vod::v1 as pb;
use mediamesh_proto::vod::v1::catalog_service_client::CatalogServiceClient;

use crate::domain::{Vod, Won};
use crate::error::Error;
use crate::store;

#[derive(Clone)]
pub struct Titles {
    store: Store,
    catalog: Peer,
}

impl Titles {
    pub fn new(store: Store, catalog: Peer) -> Titles {
        Titles { store, catalog }
    }

    /// The VOD and the customer's spendable free-VOD credits. NOT_FOUND only when the
    /// catalog confirms the VOD is absent; UNAVAILABLE with RetryInfo when it cannot say.
    pub async fn offer(&self, vod_id: &str, customer_id: &str) -> Result<(Vod, i64), Error> {
        if let Some(offer) = store::offer(&self.store, vod_id, customer_id).await? {
            return Ok(offer);
        }
        let vod = self.ask_catalog(vod_id).await?;
        let credits = store::credits(&self.store, customer_id).await?;
        Ok((vod, credits))
    }

    async fn ask_catalog(&self, vod_id: &str) -> Result<Vod, Error> {
        let request = pb::GetVodRequest {
            vod_id: vod_id.to_owned(),
        };
        let found = self
            .catalog
            .call(Retry::Safe, |channel| {
                let request = self.catalog.request(request.clone());
                async move { CatalogServiceClient::new(channel).get_vod(request).await }
            })
            .await
            .map_err(|error| match error.is_not_found() {
                true => Error::Unknown {
                    field: "vod_id",
                    kind: "vod",
                    id: vod_id.to_owned(),
                },
                false => Error::Peer(error),
            })?;
        let vod = Vod {
            id: found.vod_id,
            name: found.vod_name,
            price: Won::new(found.price.into())?,
        };
        // The same row `VodRegistered` will bring: whichever lands first, the other agrees.
        let recorded = self
            .store
            .write(move |tx| {
                let vod = vod.clone();
                Box::pin(async move {
                    store::upsert_vod(tx, &vod).await?;
                    Ok(vod)
                })
            })
            .await?;
        Ok(recorded)
    }
}
