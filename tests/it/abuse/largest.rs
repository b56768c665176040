//! The largest valid rows: from what each create accepted in its batch (the largest-valid
//! string cases that answered OK), a full page of creates with every field at its largest
//! accepted value, so that the lists probed next must serve a page of the largest rows.
use std::collections::HashMap;

use prost::Message;
use prost_reflect::Value;

use super::base::Base;
use super::contracts::Rpc;
use super::grpc::Case;
use super::judge::{Expect, Outcome};
use super::values;

/// One page of the largest rows per create.
const ROWS: usize = mediamesh_mesh::storage::page::MAX_PAGE_SIZE as usize;

pub fn cases<'a>(
    rpcs: &'a [Rpc],
    app: &str,
    answered: &[(&Case<'a>, Vec<Outcome>)],
    base: &Base,
) -> Vec<Case<'a>> {
    let accepted = |rpc: &Rpc, field: &str, kind: &str| {
        answered.iter().any(|(case, outcomes)| {
            case.rpc.path == rpc.path
                && case
                    .string
                    .as_ref()
                    .is_some_and(|(f, k)| f == field && *k == kind)
                && outcomes
                    .iter()
                    .all(|o| matches!(o, Outcome::Grpc(tonic::Code::Ok, _)))
        })
    };
    let strings: HashMap<&str, String> = values::strings().into_iter().collect();
    let mut cases = Vec::new();
    for rpc in rpcs.iter().filter(|r| r.app == app) {
        let Some(id) = rpc.created_id() else { continue };
        let largest: Vec<_> = rpc
            .input
            .fields()
            // References keep their base value: what an id names may be gone by now (the
            // batch deletes what it creates, concurrently).
            .filter(|f| f.number() != id.number() && !f.name().ends_with("_id"))
            .filter_map(|f| {
                let kind = values::LARGEST
                    .into_iter()
                    .find(|k| accepted(rpc, f.name(), k))?;
                Some((f, kind))
            })
            .collect();
        let long_ids = accepted(rpc, id.name(), values::ID_MAX_CHARS);
        let kind = largest
            .iter()
            .map(|(f, k)| format!("{}={k}", f.name()))
            .chain(long_ids.then(|| format!("{}={}", id.name(), values::ID_MAX_CHARS)))
            .collect::<Vec<_>>()
            .join(", ");
        for _ in 0..ROWS {
            let mut message = base.message(rpc);
            for (field, kind) in &largest {
                message.set_field(field, Base::string(field, strings[kind].clone()));
            }
            if long_ids {
                let unique = format!(
                    "{:x<width$}",
                    base.fresh(),
                    width = mediamesh_mesh::input::ID_MAX
                );
                message.set_field(&id, Value::String(unique));
            }
            cases.push(Case {
                rpc,
                path: rpc.path.clone(),
                kind: format!("{ROWS} largest valid creates ({kind})"),
                bodies: vec![message.encode_to_vec()],
                string: None,
                // Each value passed alone; together they may still pass a row's bound.
                expect: Expect::NoFault,
            });
        }
    }
    cases
}
