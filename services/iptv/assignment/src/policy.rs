//! The desk hears of every join order, of its cancellation (recorded as requested and handed
//! to the task that asks installation), and of the installer completing the installation.
use mediamesh_mesh::{HandlerError, Tx};
use mediamesh_proto::iptv::v1 as pb;

use crate::cancel::Requests;
use crate::domain::{Assignment, Order};
use crate::store;

pub struct Desk {
    pub requests: Requests,
}

/// What both order events carry: customer, address, region, product.
type Carried = (String, String, String, String);

/// Records the order waiting at the desk (nothing if it is recorded already).
async fn waiting(tx: &mut Tx, id: String, carried: Carried) -> Result<(), HandlerError> {
    let (customer_id, address, region, product) = carried;
    let order = Order {
        customer_id,
        address,
        region,
        product,
    };
    store::insert(tx, &Assignment::waiting(id, order)).await?;
    Ok(())
}

impl Desk {
    /// The cancellation may arrive before the order itself: it carries the order.
    async fn cancel(&self, tx: &mut Tx, id: String, carried: Carried) -> Result<(), HandlerError> {
        waiting(tx, id.clone(), carried).await?;
        let Some(mut a) = store::lock(tx, &id).await? else {
            return Ok(());
        };
        if a.request_cancel(mediamesh_mesh::observe::telemetry::now_rfc3339()) {
            store::save(tx, &a).await?;
            self.requests.push(a);
        }
        Ok(())
    }
}

async fn installed(tx: &mut Tx, id: &str) -> Result<(), HandlerError> {
    if let Some(mut a) = store::lock(tx, id).await?
        && a.installed()
    {
        store::save(tx, &a).await?;
    }
    Ok(())
}

mediamesh_mesh::on_events! { Desk:
    pb::JoinOrderRequested |self, tx, e, _v|
        waiting(tx, e.join_order_id, (e.customer_id, e.address, e.region, e.product));
    pb::JoinOrderCancelRequested |self, tx, e, _v|
        self.cancel(tx, e.join_order_id, (e.customer_id, e.address, e.region, e.product));
    pb::InstallationCompleted |self, tx, e, _v| installed(tx, &e.join_order_id);
}
