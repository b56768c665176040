//! Mileage's event policies: accrue on approved payments, reverse on cancelled ones.
//! Anonymous purchases (no customer) have no account: they earn and spend nothing.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, Event, HandlerError, Raise, Tx};
use mediamesh_proto::vod::v1 as pb;

use crate::domain::{CreditError, Earning, FREE_VOD_PRICE, Spent, wire};
use crate::store::{self, Reversal};

const CONTEXT: &str = "vod.mileage";

pub struct Accrue;

#[async_trait::async_trait]
impl On<pb::PaymentApproved> for Accrue {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::PaymentApproved,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        approved(tx, e).await
    }
}

#[async_trait::async_trait]
impl On<pb::PaymentCancelled> for Accrue {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::PaymentCancelled,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        cancelled(tx, e).await
    }
}

/// A credit rule broken by an event (a free VOD without a credit): it can never apply.
fn broken(error: CreditError) -> HandlerError {
    HandlerError::Poison(error.to_string())
}

async fn approved(tx: &mut Tx, e: pb::PaymentApproved) -> Result<(), HandlerError> {
    let points = match Earning::of(&e.customer_id, e.amount.into(), e.free_vod) {
        Earning::Nothing => return Ok(()),
        Earning::Points(points) => points,
        Earning::SpendsCredit => 0,
    };
    let (purchase, id) = (&e.purchase_id, &e.customer_id);
    if !store::record_approval(tx, purchase, id, points, e.free_vod).await? {
        return Ok(()); // seen before, or reversed before it arrived
    }
    let mut account = store::lock(tx, id).await?;
    if e.free_vod {
        if let Spent::Debt { .. } = account.use_credit() {
            // Its credit was taken back meanwhile: the ledger keeps the debt, so a
            // cancellation of this purchase refunds points, not a credit.
            store::record_debt(tx, purchase, -FREE_VOD_PRICE).await?;
        }
        store::save(tx, &account).await?;
        return Ok(());
    }
    let credited = account.credit_purchase(points);
    let version = store::save(tx, &account).await?;
    let event = pb::MileageCredited {
        customer_id: id.clone(),
        purchase_id: purchase.clone(),
        points: wire(credited.points),
    };
    tx.raise(Event::new(CONTEXT, &event, id, version, purchase))
        .await?;
    if credited.free_vod_issued {
        let issued = pb::FreeVodCreditIssued {
            customer_id: id.clone(),
            purchase_id: purchase.clone(),
            points: wire(credited.points),
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
    let reversed = account.reverse_purchase(points);
    let version = store::save(tx, &account).await?;
    let event = pb::MileageReversed {
        customer_id: id.clone(),
        purchase_id: purchase.clone(),
        points: wire(reversed.points),
    };
    tx.raise(Event::new(CONTEXT, &event, id, version, purchase))
        .await?;
    if reversed.credit_revoked {
        // Purchase's replica of the credits loses it too (if it was not spent meanwhile).
        let revoked = pb::FreeVodCreditRevoked {
            customer_id: id.clone(),
            purchase_id: purchase.clone(),
            points: wire(reversed.points),
        };
        tx.raise(Event::new(CONTEXT, &revoked, id, version, purchase))
            .await?;
    }
    Ok(())
}
