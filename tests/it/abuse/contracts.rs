//! The contracts as the abuse suite reads them: every RPC of every `mediamesh.*` service with
//! its request message, and its REST binding (`google.api.http`) when it has one. Generating
//! the cases from here means a new RPC or field is abused without anyone listing it.
use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};

/// A `google.api.http` rule.
pub struct Http {
    pub verb: reqwest::Method,
    /// `/vodLists/{vod_id}`.
    pub template: String,
    /// `body: "*"`: every field not in the path comes from the JSON body.
    pub body: bool,
}

impl Http {
    /// The proto names of the path variables, in order.
    pub fn variables(&self) -> Vec<String> {
        self.template
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}'))
            .map(|(v, _)| v.split('=').next().unwrap_or(v).to_owned())
            .collect()
    }

    /// The path with each variable replaced by `fill(name)` (already percent-encoded).
    pub fn path(&self, fill: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut rest = self.template.as_str();
        while let Some((head, tail)) = rest.split_once('{') {
            out.push_str(head);
            let (variable, tail) = tail.split_once('}').expect("closed variable");
            out.push_str(&fill(variable.split('=').next().unwrap_or(variable)));
            rest = tail;
        }
        out.push_str(rest);
        out
    }

    /// The route as a person names it: `GET /vodLists/{vod_id}`.
    pub fn route(&self) -> String {
        format!("{} {}", self.verb, self.template)
    }
}

pub struct Rpc {
    /// `vod`, from the package `mediamesh.vod.v1`.
    pub app: String,
    /// `/mediamesh.vod.v1.PaymentService/Pay`.
    pub path: String,
    pub method: String,
    pub input: MessageDescriptor,
    pub http: Option<Http>,
}

impl Rpc {
    /// The field holding a client-chosen id of what this RPC creates (its first field, named
    /// `*_id`, on a method that is not a standard read, update or delete): the key that
    /// duplicate and concurrent creates share.
    pub fn created_id(&self) -> Option<FieldDescriptor> {
        // Methods that act on what exists (video's ViewVideo, iptv's WithdrawInstallation).
        const NOT_CREATES: [&str; 7] = [
            "Get", "List", "Update", "Delete", "Cancel", "View", "Withdraw",
        ];
        if NOT_CREATES.iter().any(|p| self.method.starts_with(p)) {
            return None;
        }
        let first = self.input.get_field(1)?;
        (first.name().ends_with("_id") && matches!(first.kind(), Kind::String)).then_some(first)
    }

    /// The RPC of the same service that creates what this one reads, changes or deletes by
    /// its first field (`GetPayment` -> `Pay`, `UpdateMovie` -> `CreateMovie`).
    pub fn creator<'a>(&self, rpcs: &'a [Rpc]) -> Option<&'a Rpc> {
        let first = self.input.get_field(1)?;
        if self.created_id().is_some() || self.is_list() || !first.name().ends_with("_id") {
            return None;
        }
        let service = |r: &Rpc| r.path.rsplit_once('/').map(|(s, _)| s.to_owned());
        rpcs.iter().find(|r| {
            service(r) == service(self)
                && r.created_id().is_some_and(|id| id.name() == first.name())
        })
    }

    pub fn is_list(&self) -> bool {
        self.method.starts_with("List")
    }
}

/// Every mediamesh RPC, sorted by gRPC path.
pub fn load() -> Vec<Rpc> {
    let pool = DescriptorPool::decode(mediamesh_proto::FILE_DESCRIPTOR_SET)
        .expect("the compiled contracts decode");
    let http = pool
        .get_extension_by_name("google.api.http")
        .expect("google.api.http in the descriptor set");
    let mut rpcs = Vec::new();
    for service in pool.services() {
        let Some(app) = service.package_name().strip_prefix("mediamesh.") else {
            continue;
        };
        let app = app.split('.').next().unwrap_or(app).to_owned();
        for method in service.methods() {
            let options = method.options();
            let http = options.has_extension(&http).then(|| {
                let rule = options.get_extension(&http);
                let rule = rule.as_message().expect("HttpRule is a message");
                let (verb, template) = ["get", "put", "post", "delete", "patch"]
                    .into_iter()
                    .find(|v| rule.has_field_by_name(v))
                    .map(|v| {
                        let template = rule.get_field_by_name(v).unwrap();
                        let verb = reqwest::Method::from_bytes(v.to_uppercase().as_bytes());
                        (verb.unwrap(), template.as_str().unwrap().to_owned())
                    })
                    .expect("a verb in every http rule");
                let body = rule
                    .get_field_by_name("body")
                    .is_some_and(|b| b.as_str() == Some("*"));
                Http {
                    verb,
                    template,
                    body,
                }
            });
            rpcs.push(Rpc {
                app: app.clone(),
                path: format!("/{}/{}", service.full_name(), method.name()),
                method: method.name().to_owned(),
                input: method.input(),
                http,
            });
        }
    }
    rpcs.sort_by(|a, b| a.path.cmp(&b.path));
    // The mesh routes and labels from the same contracts: both walks must agree.
    let mut table: Vec<(String, bool)> = mediamesh_proto::RPCS
        .iter()
        .map(|r| (r.path(), r.public))
        .collect();
    table.sort();
    let walked: Vec<(String, bool)> = rpcs
        .iter()
        .map(|r| (r.path.clone(), r.http.is_some()))
        .collect();
    assert_eq!(walked, table, "descriptor walk and proto::RPCS disagree");
    rpcs
}
