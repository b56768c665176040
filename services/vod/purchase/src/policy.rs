//! Purchase's event policies: keep the catalog replica and the free-VOD credits current.
use mediamesh_mesh::{Delivered, Handler, HandlerError, Tx};
use mediamesh_proto::vod::v1 as pb;

use crate::domain::Vod;
use crate::store;

pub struct Replicate;

#[async_trait::async_trait]
impl Handler for Replicate {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        match event.name() {
            "VodRegistered" => {
                let e: pb::VodRegistered = event.decode()?;
                store::upsert_vod(
                    tx,
                    &Vod {
                        id: e.vod_id,
                        name: e.vod_name,
                        price: e.price.into(),
                    },
                )
                .await?;
            }
            "FreeVodCreditIssued" => {
                let e: pb::FreeVodCreditIssued = event.decode()?;
                // Mileage issues credits to named customers only; an anonymous credit
                // would be anyone's.
                if e.customer_id.is_empty() {
                    return Err(HandlerError::Poison("credit without a customer".into()));
                }
                store::add_credit(tx, &e.customer_id).await?;
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
        Ok(())
    }
}
