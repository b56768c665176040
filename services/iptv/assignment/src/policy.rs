//! The desk hears of every join order, of its cancellation (recorded as requested and handed
//! to the task that asks installation), and of the installer completing the installation.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::iptv::v1 as pb;

use crate::cancel::Requests;
use crate::domain::{Assignment, Order};
use crate::store;

pub struct Desk {
    pub requests: Requests,
}

#[async_trait::async_trait]
impl On<pb::JoinOrderRequested> for Desk {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::JoinOrderRequested,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let order = Order {
            customer_id: e.customer_id,
            address: e.address,
            region: e.region,
            product: e.product,
        };
        store::insert(tx, &Assignment::waiting(e.join_order_id, order)).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::JoinOrderCancelRequested> for Desk {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::JoinOrderCancelRequested,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        // The cancellation may arrive before the order itself: it carries the order.
        let order = Order {
            customer_id: e.customer_id,
            address: e.address,
            region: e.region,
            product: e.product,
        };
        store::insert(tx, &Assignment::waiting(e.join_order_id.clone(), order)).await?;
        let Some(mut a) = store::lock(tx, &e.join_order_id).await? else {
            return Ok(());
        };
        if a.request_cancel(mediamesh_mesh::observe::telemetry::now_rfc3339()) {
            store::save(tx, &a).await?;
            self.requests.push(a);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::InstallationCompleted> for Desk {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::InstallationCompleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        if let Some(mut a) = store::lock(tx, &e.join_order_id).await?
            && a.installed()
        {
            store::save(tx, &a).await?;
        }
        Ok(())
    }
}
