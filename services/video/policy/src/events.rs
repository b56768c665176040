//! The events policy raises, built from what the domain returns.
use mediamesh_mesh::Event;
use mediamesh_proto::video::v1 as pb;

use crate::domain::{Changed, Decision, Deleted, Takedown};

pub const CONTEXT: &str = "video.policy";

pub fn changed(c: &Changed) -> Event {
    let event = pb::PolicyChanged {
        policy_id: c.policy_id.clone(),
        refund_policy: c.refund_policy,
        delete_video_id: c.delete_video_id.clone(),
        banned_words: c.banned_words.clone(),
    };
    Event::new(CONTEXT, &event, &c.policy_id, c.version, &c.policy_id)
}

pub fn deleted(d: &Deleted) -> Event {
    let event = pb::PolicyDeleted {
        policy_id: d.policy_id.clone(),
        delete_video_id: d.delete_video_id.clone(),
    };
    Event::new(CONTEXT, &event, &d.policy_id, d.version, &d.policy_id)
}

/// A takedown order, about the video at `version` (the policy's version for a deletion,
/// the video's for a banned word): video takes a live video down once, whatever the order.
pub fn takedown(t: &Takedown, version: i64) -> Event {
    let event = pb::VideoTakedownOrdered {
        video_id: t.video_id.clone(),
        policy_id: t.policy_id.clone(),
        reason: t.reason.clone(),
    };
    Event::new(CONTEXT, &event, &t.video_id, version, &t.video_id)
}

/// The refund's answer, version 2 of the request (RefundRequested is its version 1),
/// correlated by the request id.
pub fn decided(d: &Decision) -> Event {
    let event = pb::RefundDecided {
        refund_request_id: d.refund_request_id.clone(),
        client_id: d.client_id.clone(),
        status: d.verdict.as_str().to_owned(),
        total_view: d.total_view,
        refund_policy: d.refund_policy,
    };
    let id = &d.refund_request_id;
    Event::new(CONTEXT, &event, id, 2, id)
}
