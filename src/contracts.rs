//! Registrations checked against the contracts, without IO: every service and RPC a context
//! lists is in the compiled descriptor set, every event it raises or handles is a message of
//! its app's package (and a handled one is raised by some context), and every sync call names
//! a registered context and an RPC that context serves. A typo in a registration fails here,
//! in a unit test, instead of at run time as a dead letter or a missing edge.
use std::sync::Arc;

use mediamesh_mesh::events::policy::EventType;
use mediamesh_mesh::{Context, ContextInfo};

/// One context as registered: its info and the event types its policies handle.
pub struct Registration<'a> {
    pub info: &'a ContextInfo,
    pub handles: Vec<EventType>,
}

pub fn registrations(contexts: &[Arc<dyn Context>]) -> Vec<Registration<'static>> {
    contexts
        .iter()
        .map(|c| Registration {
            info: c.info(),
            handles: c.policies().map(|p| p.events()).unwrap_or_default(),
        })
        .collect()
}

/// Refuses to run a binary whose registrations name services, RPCs or messages its own
/// contracts do not have; a handled event no context raises is only logged (it breaks
/// nothing at run time, and the unit test refuses it).
pub fn verify() -> anyhow::Result<()> {
    let (unraised, broken): (Vec<String>, Vec<String>) =
        problems(&registrations(&crate::targets::all_contexts()))
            .into_iter()
            .partition(|p| p.ends_with(UNRAISED));
    for problem in unraised {
        tracing::warn!(problem, "registration");
    }
    anyhow::ensure!(
        broken.is_empty(),
        "registrations disagree with the contracts:\n{}",
        broken.join("\n")
    );
    Ok(())
}

const UNRAISED: &str = "which no context raises";

/// Every way the registrations disagree with the contracts, one line each.
pub fn problems(registrations: &[Registration]) -> Vec<String> {
    let mut problems = Vec::new();
    for r in registrations {
        let id = r.info.id();
        let package = format!("mediamesh.{}.v1", r.info.app);
        for (service, rpcs) in r.info.services {
            for rpc in *rpcs {
                let known = mediamesh_proto::RPCS
                    .iter()
                    .any(|k| k.service == *service && k.method == *rpc);
                if !known {
                    problems.push(format!(
                        "{id}: serves {service}/{rpc}, not in the contracts"
                    ));
                }
            }
        }
        for event in r.info.publishes {
            if !mediamesh_proto::has_message(&format!("{package}.{event}")) {
                problems.push(format!(
                    "{id}: publishes {event}, not a message of {package}"
                ));
            }
        }
        for (callee, rpc) in r.info.calls {
            match registrations.iter().find(|c| c.info.id() == *callee) {
                None => problems.push(format!("{id}: calls {callee}, not a registered context")),
                Some(c) if !c.info.services.iter().any(|(_, rpcs)| rpcs.contains(rpc)) => problems
                    .push(format!(
                        "{id}: calls {callee} {rpc}, which it does not serve"
                    )),
                Some(_) => {}
            }
        }
        for event in &r.handles {
            if !mediamesh_proto::has_message(&event.full_name) {
                problems.push(format!(
                    "{id}: handles {}, not in the contracts",
                    event.full_name
                ));
            }
            let raised = registrations.iter().any(|c| {
                c.info.app == event.app && c.info.publishes.contains(&event.name.as_str())
            });
            if !raised {
                problems.push(format!(
                    "{id}: handles {}, which no context raises",
                    event.name
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registration_matches_the_contracts() {
        let contexts = crate::targets::all_contexts();
        let problems = problems(&registrations(&contexts));
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    static TYPO: ContextInfo = ContextInfo {
        app: "vod",
        name: "typo",
        role: "test",
        services: &[("mediamesh.vod.v1.PaymentService", &["Pay", "Refund"])],
        calls: &[("vod.payment", "Pay"), ("vod.paymnet", "Pay")],
        publishes: &["PaymentAproved"],
        migrations: &[],
        views: &[],
    };

    #[test]
    fn a_planted_typo_is_caught() {
        let mut all = registrations(&crate::targets::all_contexts());
        all.push(Registration {
            info: &TYPO,
            handles: vec![EventType {
                app: "vod".into(),
                name: "MileageCredit".into(),
                full_name: "mediamesh.vod.v1.MileageCredit".into(),
            }],
        });
        let found = problems(&all).join("\n");
        for typo in ["Refund", "vod.paymnet", "PaymentAproved", "MileageCredit"] {
            assert!(found.contains(typo), "{typo} not caught:\n{found}");
        }
        assert_eq!(problems(&all).len(), 5, "{found}");
    }
}
