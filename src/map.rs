//! `mediamesh map`: the context map as Mermaid, generated from what contexts register.
use std::fmt::Write;
use std::sync::Arc;

use mediamesh_mesh::Context;

pub fn mermaid(contexts: &[Arc<dyn Context>]) -> String {
    let mut out = String::from("flowchart LR\n");
    let node = |id: &str| id.replace('.', "_");
    let mut apps: Vec<&str> = contexts.iter().map(|c| c.info().app).collect();
    apps.dedup();
    for app in apps {
        let _ = writeln!(out, "  subgraph {app}");
        for c in contexts.iter().filter(|c| c.info().app == app) {
            let info = c.info();
            let rpcs: Vec<&str> = info
                .services
                .iter()
                .flat_map(|(_, rpcs)| rpcs.iter().copied())
                .collect();
            let _ = writeln!(
                out,
                "    {}[\"{} ({})<br/>{}\"]",
                node(&info.id()),
                info.id(),
                info.role,
                rpcs.join(", ")
            );
        }
        let _ = writeln!(out, "  end");
    }
    for c in contexts {
        let info = c.info();
        for (callee, rpc) in info.calls {
            let _ = writeln!(
                out,
                "  {} -- \"gRPC {rpc}\" --> {}",
                node(&info.id()),
                node(callee)
            );
        }
        for event in c.policies().map(|p| p.events()).unwrap_or_default() {
            // Every context of the app that raises it.
            for publisher in contexts
                .iter()
                .map(|p| p.info())
                .filter(|p| p.app == event.app && p.publishes.contains(&event.name.as_str()))
            {
                let _ = writeln!(
                    out,
                    "  {} -. \"{}\" .-> {}",
                    node(&publisher.id()),
                    event.name,
                    node(&info.id())
                );
            }
        }
    }
    out
}
