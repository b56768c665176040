//! Purchase's event policies: keep the catalog replica and the free-VOD credits current.
//! A credit mileage took back is removed if still unspent; one spent meanwhile stays spent
//! (mileage charges it as a debt), so the two never disagree on what was paid.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::vod::v1 as pb;

use crate::domain::{Vod, Won};
use crate::store;

pub struct Replicate;

#[async_trait::async_trait]
impl On<pb::VodRegistered> for Replicate {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VodRegistered,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let price = Won::new(e.price.into())
            .map_err(|error| HandlerError::Poison(format!("price {error}")))?;
        let vod = Vod {
            id: e.vod_id,
            name: e.vod_name,
            price,
        };
        store::upsert_vod(tx, &vod).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::FreeVodCreditIssued> for Replicate {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::FreeVodCreditIssued,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        // Mileage issues credits to named customers only; an anonymous credit would be
        // anyone's.
        if e.customer_id.is_empty() {
            return Err(HandlerError::Poison("credit without a customer".into()));
        }
        store::add_credit(tx, &e.customer_id).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::FreeVodCreditRevoked> for Replicate {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::FreeVodCreditRevoked,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        if e.customer_id.is_empty() {
            return Err(HandlerError::Poison("credit without a customer".into()));
        }
        // Never below zero: a credit spent already is mileage's debt, not a negative balance.
        store::take_credit(tx, &e.customer_id).await?;
        Ok(())
    }
}
