//! A plausible valid request for any RPC, so that one bad field at a time reaches the code
//! that checks it (a request wrong everywhere is refused at its first field and proves little).
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, Value};
use serde_json::{Map, Value as Json};

use super::contracts::Rpc;

/// What the base requests refer to: the seeded VOD, a movie made for the run, and for each
/// RPC that reads, changes or deletes one resource, a resource of its own (so that its other
/// fields are checked too: a request for an unknown id may stop at the lookup).
pub struct Base {
    pub movie: String,
    /// gRPC path -> id of the resource made for it.
    targets: HashMap<String, String>,
    next: AtomicUsize,
}

impl Base {
    pub fn new(movie: &str) -> Base {
        Base {
            movie: movie.to_owned(),
            targets: HashMap::new(),
            next: AtomicUsize::new(0),
        }
    }

    pub fn set_target(&mut self, rpc: &Rpc, id: String) {
        self.targets.insert(rpc.path.clone(), id);
    }

    /// An id no one used yet in this run.
    pub fn fresh(&self) -> String {
        format!("ab{}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The valid value of `field` in a request of `rpc`, or None to leave it unset.
    pub fn value(&self, rpc: &Rpc, field: &FieldDescriptor) -> Option<Value> {
        let name = field.name();
        let text = |s: &str| Some(Value::String(s.to_owned()));
        match field.kind() {
            Kind::String => match name {
                _ if field.number() == 1 && self.targets.contains_key(&rpc.path) => {
                    text(&self.targets[&rpc.path])
                }
                "page_token" | "original_content_id" => None,
                "vod_id" if field.number() != 1 || rpc.is_list() => text("1"),
                "movie_id" if field.number() != 1 || rpc.is_list() => text(&self.movie),
                "customer_id" | "creator_name" | "original_creator_name" => text("abuser"),
                "type" => text("New Music"),
                "status" | "order_status" => text("cancel"),
                _ if name.ends_with("_id") => text(&self.fresh()),
                _ => text("abuse"),
            },
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Some(Value::I32(match name {
                "page_size" | "seats" => 10,
                "price" | "amount" => 1000,
                _ => 1,
            })),
            _ => None,
        }
    }

    /// The valid request as a message.
    pub fn message(&self, rpc: &Rpc) -> DynamicMessage {
        let mut message = DynamicMessage::new(rpc.input.clone());
        for field in rpc.input.fields() {
            if let Some(value) = self.value(rpc, &field) {
                message.set_field(&field, value);
            }
        }
        message
    }

    /// The valid request as proto3 JSON, without the fields named in `skip` (path variables).
    pub fn json(&self, rpc: &Rpc, skip: &[String]) -> Map<String, Json> {
        let mut body = Map::new();
        for field in rpc.input.fields() {
            if skip.iter().any(|s| s == field.name()) {
                continue;
            }
            let json = match self.value(rpc, &field) {
                Some(Value::String(s)) => Json::from(s),
                Some(Value::I32(n)) => Json::from(n),
                _ => continue,
            };
            body.insert(field.json_name().to_owned(), json);
        }
        body
    }
}
