//! The desk's assignment opens the installation, once; an order withdrawn in advance (its
//! cancellation came first) stays withdrawn.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::iptv::v1 as pb;

use crate::domain::{Installation, Work};
use crate::store;

pub struct Open;

#[async_trait::async_trait]
impl On<pb::InstallerAssigned> for Open {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::InstallerAssigned,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let work = Work {
            installer_id: e.installer_id,
            customer_id: e.customer_id,
            address: e.address,
            product: e.product,
        };
        store::insert(tx, &Installation::assigned(e.join_order_id, work)).await?;
        Ok(())
    }
}
