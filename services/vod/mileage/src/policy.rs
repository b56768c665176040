//! Mileage's event policies: accrue on approved payments, reverse on cancelled ones.
//! Anonymous purchases (no customer) have no account: they earn and spend nothing.
use mediamesh_mesh::{Delivered, Event, Handler, HandlerError, Raise, Tx};
use mediamesh_proto::vod::v1 as pb;

use crate::domain::POINTS_PER_PURCHASE;
use crate::store::{self, Reversal};

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

/// A credit rule broken by an event (a free VOD without a credit): it can never apply.
fn broken(error: crate::domain::CreditError) -> HandlerError {
    HandlerError::Poison(error.to_string())
}

async fn approved(tx: &mut Tx, e: pb::PaymentApproved) -> Result<(), HandlerError> {
    if e.customer_id.is_empty() || (e.amount == 0 && !e.free_vod) {
        return Ok(()); // nobody to credit, or nothing was paid
    }
    let points = if e.free_vod { 0 } else { POINTS_PER_PURCHASE };
    let (purchase, id) = (&e.purchase_id, &e.customer_id);
    if !store::record_approval(tx, purchase, id, points, e.free_vod).await? {
        return Ok(()); // seen before, or reversed before it arrived
    }
    let mut account = store::lock(tx, id).await?;
    if e.free_vod {
        account.use_credit().map_err(broken)?;
        store::save(tx, &account).await?;
        return Ok(());
    }
    let credited = account.credit_purchase();
    let version = store::save(tx, &account).await?;
    let event = pb::MileageCredited {
        customer_id: id.clone(),
        purchase_id: purchase.clone(),
        points: credited.points as i32,
    };
    tx.raise(Event::new(CONTEXT, &event, id, version, purchase))
        .await?;
    if credited.free_vod_issued {
        let issued = pb::FreeVodCreditIssued {
            customer_id: id.clone(),
            purchase_id: purchase.clone(),
            points: credited.points as i32,
        };
        tx.raise(Event::new(CONTEXT, &issued, id, version, purchase))
            .await?;
    }
    Ok(())
}

async fn cancelled(tx: &mut Tx, e: pb::PaymentCancelled) -> Result<(), HandlerError> {
    if e.customer_id.is_empty() {
        return Ok(());
    }
    let (purchase, id) = (&e.purchase_id, &e.customer_id);
    let Reversal::Take { points, free_vod } = store::record_reversal(tx, purchase, id).await?
    else {
        return Ok(()); // reversed already, or first: the credit will be skipped
    };
    let mut account = store::lock(tx, id).await?;
    if free_vod {
        account.restore_credit().map_err(broken)?;
        store::save(tx, &account).await?;
        return Ok(());
    }
    account.reverse_purchase(points);
    let version = store::save(tx, &account).await?;
    let event = pb::MileageReversed {
        customer_id: id.clone(),
        purchase_id: purchase.clone(),
        points: account.points as i32,
    };
    tx.raise(Event::new(CONTEXT, &event, id, version, purchase))
        .await?;
    Ok(())
}
