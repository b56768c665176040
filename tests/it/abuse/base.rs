//! A plausible valid request for any RPC, so that one bad field at a time reaches the code
//! that checks it (a request wrong everywhere is refused at its first field and proves little).
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, Value};
use serde_json::{Map, Value as Json};

use super::contracts::Rpc;

/// Made for the run by `abuse::references` before the video and iptv batches: their creates
/// refuse references to what does not exist, so the base names these.
pub const CLIENT: &str = "abuse-client";
pub const CHANNEL: &str = "abuse-channel";
pub const VIDEO: &str = "abuse-video";
pub const INSTALLER: &str = "abuse-installer";
pub const REGION: &str = "abuse";

/// What the base requests refer to: the seeded VOD, a movie made for the run, and for each
/// RPC that reads, changes or deletes one resource, a resource of its own (so that its other
/// fields are checked too: a request for an unknown id may stop at the lookup).
pub struct Base {
    pub movie: String,
    /// gRPC path -> id of the resource made for it.
    targets: HashMap<String, String>,
    /// The same for the REST cases: their own, so that a delete or an edit over gRPC leaves
    /// the route's base valid.
    rest_targets: HashMap<String, String>,
    /// Shared with `for_rest`'s copy: fresh ids stay unique across transports.
    next: Arc<AtomicUsize>,
}

impl Base {
    pub fn new(movie: &str) -> Base {
        Base {
            movie: movie.to_owned(),
            targets: HashMap::new(),
            rest_targets: HashMap::new(),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn set_target(&mut self, rpc: &Rpc, id: String, rest: bool) {
        let targets = if rest {
            &mut self.rest_targets
        } else {
            &mut self.targets
        };
        targets.insert(rpc.path.clone(), id);
    }

    /// The base of the REST cases: the same values, the REST targets.
    pub fn for_rest(&self) -> Base {
        Base {
            movie: self.movie.clone(),
            targets: self.rest_targets.clone(),
            rest_targets: HashMap::new(),
            next: self.next.clone(),
        }
    }

    /// An id no one used yet in this run.
    pub fn fresh(&self) -> String {
        format!("ab{}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The valid value of `field` in a request of `rpc`, or None to leave it unset.
    pub fn value(&self, rpc: &Rpc, field: &FieldDescriptor) -> Option<Value> {
        let value = self.single(rpc, field)?;
        Some(if field.is_list() {
            Value::List(vec![value])
        } else {
            value
        })
    }

    /// `value` for one element (of a repeated field: its only element).
    fn single(&self, rpc: &Rpc, field: &FieldDescriptor) -> Option<Value> {
        let name = field.name();
        let text = |s: &str| Some(Value::String(s.to_owned()));
        // A reference (not the id a create chooses) to what the run made beforehand.
        let reference = field.number() != 1 || rpc.created_id().is_none();
        match field.kind() {
            Kind::String => match name {
                _ if field.number() == 1 && self.targets.contains_key(&rpc.path) => {
                    text(&self.targets[&rpc.path])
                }
                "page_token" | "original_content_id" => None,
                "vod_id" if field.number() != 1 || rpc.is_list() => text("1"),
                "movie_id" if field.number() != 1 || rpc.is_list() => text(&self.movie),
                "customer_id" | "creator_name" | "original_creator_name" => text("abuser"),
                "client_id" if reference => text(CLIENT),
                "channel_id" if reference => text(CHANNEL),
                "video_id" if reference => text(VIDEO),
                "installer_id" if reference => text(INSTALLER),
                "region" => text(REGION),
                "product" => text("INTERNET_TV"),
                // Not a word of any base text: a policy banning it removes nothing.
                "banned_words" => text("forbidden-word"),
                "type" => text("New Music"),
                // What each update accepts ("cancel" is
                // a join order's), an installation steps by "accept".
                // An assignment is changed by naming its installer (completes later).
                "status" if rpc.method == "UpdateAssignment" => None,
                "status" if rpc.method == "UpdateInstallation" => text("accept"),
                "status" | "order_status" => text("cancel"),
                _ if name.ends_with("_id") => text(&self.fresh()),
                _ => text("abuse"),
            },
            // Counts the channel and client compute: a client may not set them.
            Kind::Int32 if matches!(name, "total_view" | "video_count") => None,
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Some(Value::I32(match name {
                "page_size" | "seats" => 10,
                "price" | "amount" => 1000,
                _ => 1,
            })),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Some(Value::I64(1)),
            _ => None,
        }
    }

    /// `s` as the value of the string field `field` (of a repeated one: its only element).
    pub fn string(field: &FieldDescriptor, s: String) -> Value {
        if field.is_list() {
            Value::List(vec![Value::String(s)])
        } else {
            Value::String(s)
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
            let Some(json) = self.value(rpc, &field).as_ref().and_then(to_json) else {
                continue;
            };
            body.insert(field.json_name().to_owned(), json);
        }
        body
    }
}

/// proto3 JSON of a base value (64-bit integers as strings).
fn to_json(value: &Value) -> Option<Json> {
    match value {
        Value::String(s) => Some(Json::from(s.clone())),
        Value::I32(n) => Some(Json::from(*n)),
        Value::I64(n) => Some(Json::from(n.to_string())),
        Value::List(items) => items
            .iter()
            .map(to_json)
            .collect::<Option<Vec<_>>>()
            .map(Json::from),
        _ => None,
    }
}
