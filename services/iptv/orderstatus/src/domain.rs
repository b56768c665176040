//! The customer's view of a join order: the steps it went through, each once with the time
//! it first happened, whatever order (or how many times) their events arrive; the status is
//! the furthest step, and the notice says what became of a cancellation. A pure function of
//! the events, so a rebuilt view equals the live one.

/// Every step, in process order (the derived order is the rank).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Requested,
    Assigned,
    Accepted,
    Installed,
    Joined,
    CancelRequested,
    Withdrawn,
    CancelRejected,
    Cancelled,
}

/// At most this many steps a order: every step once.
pub const STEPS: usize = 9;

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Requested => "REQUESTED",
            Step::Assigned => "ASSIGNED",
            Step::Accepted => "ACCEPTED",
            Step::Installed => "INSTALLED",
            Step::Joined => "JOINED",
            Step::CancelRequested => "CANCEL_REQUESTED",
            Step::Withdrawn => "WITHDRAWN",
            Step::CancelRejected => "CANCEL_REJECTED",
            Step::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        ALL.into_iter().find(|step| step.as_str() == s)
    }

    fn is_progress(self) -> bool {
        self <= Step::Joined
    }
}

const ALL: [Step; STEPS] = [
    Step::Requested,
    Step::Assigned,
    Step::Accepted,
    Step::Installed,
    Step::Joined,
    Step::CancelRequested,
    Step::Withdrawn,
    Step::CancelRejected,
    Step::Cancelled,
];

/// A join order as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// (step, time), in process order.
    steps: Vec<(Step, String)>,
}

impl View {
    pub fn new(mut steps: Vec<(Step, String)>) -> View {
        steps.sort();
        steps.dedup_by_key(|(step, _)| *step);
        View { steps }
    }

    pub fn steps(&self) -> &[(Step, String)] {
        &self.steps
    }

    fn has(&self, step: Step) -> bool {
        self.steps.iter().any(|(s, _)| *s == step)
    }

    /// CANCELLED once cancelled; else the furthest step of the process.
    pub fn status(&self) -> &'static str {
        if self.has(Step::Cancelled) {
            return Step::Cancelled.as_str();
        }
        self.steps
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| s.is_progress())
            .max()
            .unwrap_or(Step::Requested)
            .as_str()
    }

    /// What the customer is told about a cancellation (empty when none was asked).
    pub fn notice(&self) -> &'static str {
        if self.has(Step::Cancelled) {
            "Your cancellation is accepted: the installation is withdrawn and the order is cancelled."
        } else if self.has(Step::CancelRejected) {
            "Your cancellation cannot be accepted: the installation is complete, so the order stays as it is."
        } else if self.has(Step::CancelRequested) {
            "Your cancellation is being checked with the installer."
        } else {
            ""
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_in_process_order_each_once_whatever_the_arrival() {
        let view = View::new(vec![
            (Step::Installed, "t3".into()),
            (Step::Requested, "t0".into()),
            (Step::Assigned, "t1".into()),
            (Step::Installed, "t4".into()),
        ]);
        let steps: Vec<_> = view
            .steps()
            .iter()
            .map(|(s, t)| (s.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            steps,
            [("REQUESTED", "t0"), ("ASSIGNED", "t1"), ("INSTALLED", "t3")]
        );
        assert_eq!(view.status(), "INSTALLED");
        assert_eq!(view.notice(), "");
    }

    #[test]
    fn the_notice_tells_what_became_of_the_cancellation() {
        let asked = View::new(vec![
            (Step::Requested, "t0".into()),
            (Step::CancelRequested, "t1".into()),
        ]);
        assert_eq!(asked.status(), "REQUESTED");
        assert!(asked.notice().contains("being checked"));
        let mut steps = asked.steps().to_vec();
        steps.push((Step::Cancelled, "t2".into()));
        let cancelled = View::new(steps);
        assert_eq!(cancelled.status(), "CANCELLED");
        assert!(cancelled.notice().contains("accepted"));
        let rejected = View::new(vec![
            (Step::Installed, "t1".into()),
            (Step::CancelRejected, "t2".into()),
        ]);
        assert_eq!(rejected.status(), "INSTALLED");
        assert!(rejected.notice().contains("cannot"));
    }
}
