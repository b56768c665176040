//! The projection: every event of a join order's life recorded as its step, at the time the
//! event happened (its `Mm-Occurred-At`), so replaying the stream gives the same view.
use mediamesh_mesh::events::event::OCCURRED_AT;
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::iptv::v1 as pb;

use crate::domain::Step;
use crate::store;

pub struct Project;

async fn record(
    tx: &mut Tx,
    d: &Delivered,
    (join_order_id, customer_id, product): (&str, &str, &str),
    step: Step,
) -> Result<(), HandlerError> {
    let Some(time) = d.headers.get(OCCURRED_AT) else {
        return Err(HandlerError::Poison(format!(
            "{} without {OCCURRED_AT}",
            d.subject
        )));
    };
    store::record(tx, join_order_id, customer_id, product, step, time).await?;
    Ok(())
}

/// One `On` per event: the step it means, and the product when it names one.
macro_rules! steps {
    ($($event:ident => $step:expr, |$e:ident| $product:expr;)*) => {$(
        #[async_trait::async_trait]
        impl On<pb::$event> for Project {
            async fn on(&self, tx: &mut Tx, $e: pb::$event, d: &Delivered) -> Result<(), HandlerError> {
                let product: String = $product;
                record(tx, d, (&$e.join_order_id, &$e.customer_id, &product), $step).await
            }
        }
    )*};
}

steps! {
    JoinOrderRequested => Step::Requested, |e| e.product.clone();
    InstallerAssigned => Step::Assigned, |e| e.product.clone();
    InstallationAccepted => Step::Accepted, |e| String::new();
    InstallationCompleted => Step::Installed, |e| String::new();
    SubscriptionCompleted => Step::Joined, |e| String::new();
    JoinOrderCancelRequested => Step::CancelRequested, |e| e.product.clone();
    InstallationWithdrawn => Step::Withdrawn, |e| String::new();
    CancellationRejected => Step::CancelRejected, |e| String::new();
    CancellationAccepted => Step::Cancelled, |e| String::new();
}
