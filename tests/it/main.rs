//! Cross-service tests against real nats-server (JetStream), Envoy, SQLite and PostgreSQL,
//! all started here on loopback and stopped afterwards. One binary so everything links once.
mod harness;

mod abuse;
mod auth;
mod chart;
mod cinema;
mod cinema_hardening;
mod cluster;
mod console;
mod gateway;
mod iptv;
mod liveness;
mod mesh_deadletters;
mod mesh_faults;
mod mesh_health;
mod mesh_ops;
mod music;
mod music_hardening;
mod otlp;
mod replicas;
mod rolling;
mod video_channelview;
mod video_comment;
mod video_demo;
mod video_notification;
mod video_policy;
mod video_rules;
mod vod_crash;
mod vod_faults;
mod vod_flow;
mod vod_hardening;
mod vod_races;
mod vod_scale;
