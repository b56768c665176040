//! Typed event policies. A context's policy implements `On<M>` once per event type it reacts
//! to and registers each with `.on::<M>()`; the subject comes from the message type (its
//! package names the app, its name the event), so a misspelt event cannot compile, and what a
//! context consumes is derived from what it registered, never listed by hand.
//!
//! Subjects are `<app>.<context>.<Event>`; a policy listens on `<app>.*.<Event>`: it cares
//! which event happened, not which context raised it.
use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;

#[doc(hidden)]
pub use async_trait::async_trait;

use crate::events::consumer::{Handler, HandlerError};
use crate::events::event::Delivered;
use crate::storage::store::Tx;

/// Reacting to event `M` inside the transaction the consumer opened: the changes made with
/// `tx` commit together with the event's inbox row, exactly once.
#[async_trait::async_trait]
pub trait On<M>: Send + Sync {
    async fn on(&self, tx: &mut Tx, event: M, meta: &Delivered) -> Result<(), HandlerError>;
}

/// An event type a policy handles: the app whose stream carries it and its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventType {
    /// `vod`, from the package `mediamesh.vod.v1`.
    pub app: String,
    /// `PaymentApproved`.
    pub name: String,
    /// `mediamesh.vod.v1.PaymentApproved`.
    pub full_name: String,
}

impl EventType {
    pub fn of<M: prost::Name>() -> EventType {
        let app = M::PACKAGE
            .split('.')
            .nth(1)
            .expect("contracts live in mediamesh.<app>.v1");
        EventType {
            app: app.to_owned(),
            name: M::NAME.to_owned(),
            full_name: M::full_name(),
        }
    }

    /// The JetStream filter for this event from any context of its app.
    pub fn subject_filter(&self) -> String {
        format!("{}.*.{}", self.app, self.name)
    }
}

type Route<P> =
    for<'t> fn(&'t P, &'t mut Tx, &'t Delivered) -> BoxFuture<'t, Result<(), HandlerError>>;

/// A policy and the event types it registered.
pub struct Policies<P> {
    policy: P,
    routes: BTreeMap<(String, String), (EventType, Route<P>)>,
}

impl<P: Send + Sync + 'static> Policies<P> {
    pub fn new(policy: P) -> Policies<P> {
        Policies {
            policy,
            routes: BTreeMap::new(),
        }
    }

    /// Registers the policy's handler of `M`.
    pub fn on<M>(mut self) -> Policies<P>
    where
        P: On<M>,
        M: prost::Message + prost::Name + Default + Send + 'static,
    {
        let event = EventType::of::<M>();
        let key = (event.app.clone(), event.name.clone());
        self.routes.insert(key, (event, route::<P, M>));
        self
    }

    /// Boxes the set for the runtime.
    pub fn into_handler(self) -> Arc<dyn Handler> {
        Arc::new(self)
    }
}

fn route<'t, P, M>(
    policy: &'t P,
    tx: &'t mut Tx,
    delivered: &'t Delivered,
) -> BoxFuture<'t, Result<(), HandlerError>>
where
    P: On<M>,
    M: prost::Message + Default + Send + 'static,
{
    Box::pin(async move {
        let event: M = delivered.decode()?;
        policy.on(tx, event, delivered).await
    })
}

#[async_trait::async_trait]
impl<P: Send + Sync + 'static> Handler for Policies<P> {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        let mut tokens = event.subject.split('.');
        let app = tokens.next().unwrap_or_default();
        let name = event.name();
        match self.routes.get(&(app.to_owned(), name.to_owned())) {
            Some((_, route)) => route(&self.policy, tx, event).await,
            // Only subscribed subjects arrive; anything else is not ours to apply.
            None => Err(HandlerError::Poison(format!(
                "no policy for {}",
                event.subject
            ))),
        }
    }

    fn events(&self) -> Vec<EventType> {
        self.routes
            .values()
            .map(|(event, _)| event.clone())
            .collect()
    }
}

/// `On` for each listed event type whose handling is one change: `|tx, e, v|` (or
/// `|self, tx, e, v|`) name the transaction, the decoded event and its aggregate version;
/// the change is a future whose error converts into `HandlerError`. Projections react to
/// many events in a line or two each, so the per-event impl is written once here:
///
/// ```ignore
/// mediamesh_mesh::on_events! { Project:
///     pb::ChannelRenamed |tx, e, v| store::rename(tx, &e.channel_id, &e.channel_name, v);
/// }
/// ```
#[macro_export]
macro_rules! on_events {
    // The change may use the policy's own state: `|self, tx, e, v|`.
    ($policy:ty: $($event:path |$s:ident, $tx:ident, $e:ident, $v:ident| $change:expr;)*) => {$(
        #[$crate::events::policy::async_trait]
        impl $crate::events::policy::On<$event> for $policy {
            async fn on(
                &$s,
                $tx: &mut $crate::Tx,
                $e: $event,
                delivered: &$crate::Delivered,
            ) -> Result<(), $crate::HandlerError> {
                let $v = delivered.aggregate_version();
                $change.await?;
                Ok(())
            }
        }
    )*};
    ($policy:ty: $($event:path |$tx:ident, $e:ident, $v:ident| $change:expr;)*) => {
        $crate::on_events! { $policy: $($event |self, $tx, $e, $v| $change;)* }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediamesh_proto::vod::v1 as pb;

    #[test]
    fn event_types_come_from_the_message_types() {
        let event = EventType::of::<pb::PaymentApproved>();
        assert_eq!(event.app, "vod");
        assert_eq!(event.name, "PaymentApproved");
        assert_eq!(event.full_name, "mediamesh.vod.v1.PaymentApproved");
        assert_eq!(event.subject_filter(), "vod.*.PaymentApproved");
    }
}
