//! Mileage's event policies: accrue on approved payments, reverse on cancelled ones.
use mediamesh_mesh::{Delivered, Event, Handler, HandlerError, Tx};
use mediamesh_proto::vod::v1 as pb;

use crate::domain::POINTS_PER_PURCHASE;
use crate::store;

const CONTEXT: &str = "vod.mileage";

pub struct Accrue;

#[async_trait::async_trait]
impl Handler for Accrue {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        match event.name() {
            "PaymentApproved" => approved(tx, event.decode()?).await,
            "PaymentCancelled" => cancelled(tx, event.decode()?).await,
            other => Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
    }
}

async fn approved(tx: &mut Tx, e: pb::PaymentApproved) -> Result<(), HandlerError> {
    let mut account = store::load(tx, &e.customer_id).await?;
    if e.free_vod {
        account.use_credit();
        store::save(tx, &account).await?;
        return Ok(());
    }
    if e.amount == 0 {
        return Ok(()); // nothing was paid, nothing is earned
    }
    let credited = account.credit_purchase();
    store::record_credit(tx, &e.purchase_id, &e.customer_id, POINTS_PER_PURCHASE).await?;
    store::save(tx, &account).await?;
    let id = &e.customer_id;
    let event = pb::MileageCredited {
        customer_id: id.clone(),
        purchase_id: e.purchase_id.clone(),
        points: credited.points as i32,
    };
    tx.raise(Event::new(CONTEXT, &event, id, 0, &e.purchase_id))
        .await?;
    if credited.free_vod_issued {
        let issued = pb::FreeVodCreditIssued {
            customer_id: id.clone(),
            purchase_id: e.purchase_id.clone(),
            points: credited.points as i32,
        };
        tx.raise(Event::new(
            CONTEXT,
            &issued,
            id,
            account.credits_issued,
            &e.purchase_id,
        ))
        .await?;
    }
    Ok(())
}

async fn cancelled(tx: &mut Tx, e: pb::PaymentCancelled) -> Result<(), HandlerError> {
    let mut account = store::load(tx, &e.customer_id).await?;
    if e.free_vod {
        account.restore_credit();
        store::save(tx, &account).await?;
        return Ok(());
    }
    let Some(points) = store::take_reversal(tx, &e.purchase_id).await? else {
        return Ok(()); // never credited (free or zero amount)
    };
    account.reverse_purchase(points);
    store::save(tx, &account).await?;
    let event = pb::MileageReversed {
        customer_id: e.customer_id.clone(),
        purchase_id: e.purchase_id.clone(),
        points: account.points as i32,
    };
    tx.raise(Event::new(
        CONTEXT,
        &event,
        &e.customer_id,
        0,
        &e.purchase_id,
    ))
    .await?;
    Ok(())
}
