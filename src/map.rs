//! `mediamesh map`: the context map as Mermaid, generated from what contexts register (the
//! same map the admin console draws: `serving::console::map_of`).
use std::fmt::Write;
use std::sync::Arc;

use mediamesh_mesh::Context;
use mediamesh_mesh::serving::console::map_of;

pub fn mermaid(contexts: &[Arc<dyn Context>]) -> String {
    let registered: Vec<_> = contexts
        .iter()
        .map(|c| {
            (
                c.info(),
                c.policies().map(|p| p.events()).unwrap_or_default(),
            )
        })
        .collect();
    let map = map_of(&registered);
    let mut out = String::from("flowchart LR\n");
    let node = |id: &str| id.replace(['.', '*'], "_");
    for app in &map.apps {
        let _ = writeln!(out, "  subgraph {}", app.app);
        for c in &app.contexts {
            let _ = writeln!(
                out,
                "    {}[\"{} ({})<br/>{}\"]",
                node(&c.id),
                c.id,
                c.role,
                c.rpcs.join(", ")
            );
        }
        let _ = writeln!(out, "  end");
    }
    for call in &map.calls {
        let (from, to) = (node(&call.from), node(&call.to));
        let _ = writeln!(out, "  {from} -- \"gRPC {}\" --> {to}", call.rpc);
    }
    for edge in &map.edges {
        let (from, to) = (node(&edge.from), node(&edge.to));
        let _ = writeln!(out, "  {from} -. \"{}\" .-> {to}", edge.event);
    }
    out
}
