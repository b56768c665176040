//! Notification's rules: one notification per video status change (uploaded, edited,
//! deleted, taken down) and per refund decision. Its id is derived from the change it tells
//! of (the video and the version it reached, or the refund request), so an event delivered
//! twice, or the same change raised again under another event id, makes one notification.
//! A webhook delivery is retried with a doubling backoff, capped.
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    VideoUploaded,
    VideoEdited,
    VideoDeleted,
    VideoRemovedByPolicy,
    RefundDecided,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::VideoUploaded => "VIDEO_UPLOADED",
            Kind::VideoEdited => "VIDEO_EDITED",
            Kind::VideoDeleted => "VIDEO_DELETED",
            Kind::VideoRemovedByPolicy => "VIDEO_REMOVED_BY_POLICY",
            Kind::RefundDecided => "REFUND_DECIDED",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Kind::VideoUploaded => "uploaded",
            Kind::VideoEdited => "edited",
            Kind::VideoDeleted => "deleted",
            Kind::VideoRemovedByPolicy => "removed",
            Kind::RefundDecided => "refund",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    notification_id: String,
    client_id: String,
    kind: Kind,
    subject_id: String,
    message: String,
}

impl Notice {
    /// A change of video `video_id` that brought it to `version`.
    pub fn video(
        kind: Kind,
        video_id: &str,
        version: i64,
        client_id: &str,
        message: String,
    ) -> Notice {
        Notice {
            notification_id: format!("{video_id}.{version}.{}", kind.suffix()),
            client_id: client_id.to_owned(),
            kind,
            subject_id: video_id.to_owned(),
            message,
        }
    }

    /// The decision on a refund request (decided once).
    pub fn refund(refund_request_id: &str, client_id: &str, status: &str) -> Notice {
        let kind = Kind::RefundDecided;
        Notice {
            notification_id: format!("{refund_request_id}.{}", kind.suffix()),
            client_id: client_id.to_owned(),
            kind,
            subject_id: refund_request_id.to_owned(),
            message: format!("refund request {refund_request_id} {status}"),
        }
    }

    pub fn notification_id(&self) -> &str {
        &self.notification_id
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn subject_id(&self) -> &str {
        &self.subject_id
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The wait before webhook attempt `attempts + 1`: `first`, doubled each failure, at most `cap`.
pub fn backoff(attempts: u32, first: Duration, cap: Duration) -> Duration {
    first
        .checked_mul(2u32.saturating_pow(attempts.min(20)))
        .unwrap_or(cap)
        .min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_change_makes_the_same_notification() {
        let a = Notice::video(Kind::VideoEdited, "v1", 3, "c1", "x".into());
        let b = Notice::video(Kind::VideoEdited, "v1", 3, "c1", "y".into());
        assert_eq!(a.notification_id(), b.notification_id());
        let later = Notice::video(Kind::VideoEdited, "v1", 4, "c1", "x".into());
        assert_ne!(a.notification_id(), later.notification_id());
        let refund = Notice::refund("r1", "c1", "APPROVED");
        assert_eq!(refund.notification_id(), "r1.refund");
        assert_eq!(refund.kind().as_str(), "REFUND_DECIDED");
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let (first, cap) = (Duration::from_millis(100), Duration::from_secs(1));
        let waits: Vec<u128> = (0..6).map(|n| backoff(n, first, cap).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff(u32::MAX, first, cap), cap);
    }
}
