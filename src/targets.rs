//! The context table: every context the binary can run, and `--target` selection.
use std::sync::Arc;

use mediamesh_mesh::Context;

/// Every context, in start order.
pub fn all_contexts() -> Vec<Arc<dyn Context>> {
    vec![
        Arc::new(vod_catalog::Catalog),
        Arc::new(vod_payment::Payment),
        Arc::new(vod_mileage::Mileage),
        Arc::new(vod_purchase::Purchase),
        Arc::new(cinema_movie::Movie),
        Arc::new(cinema_payment::Payment),
        Arc::new(cinema_reservation::Reservation),
        Arc::new(cinema_message::Message),
        Arc::new(cinema_review::Review),
        Arc::new(cinema_viewpage::Viewpage),
        Arc::new(music_copyright::Copyright),
        Arc::new(music_content::Content),
        Arc::new(music_source::Source),
        Arc::new(music_mypage::Mypage),
        Arc::new(iptv_order::Order),
        Arc::new(iptv_installation::Installation),
        Arc::new(iptv_assignment::Assignment::default()),
        Arc::new(iptv_orderstatus::Orderstatus),
        Arc::new(video_channel::Channel),
        Arc::new(video_client::Client),
        Arc::new(video_video::Video),
        Arc::new(video_policy::Policy),
        Arc::new(video_notification::Notification),
        Arc::new(video_comment::Comment),
        Arc::new(video_channelview::ChannelView),
    ]
}

/// Selects contexts by a comma-separated list of `all`, apps (`vod`) and contexts
/// (`vod.purchase`).
pub fn select(target: &str) -> anyhow::Result<Vec<Arc<dyn Context>>> {
    let all = all_contexts();
    let mut chosen: Vec<Arc<dyn Context>> = Vec::new();
    for part in target.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let matched: Vec<_> = all
            .iter()
            .filter(|c| part == "all" || part == c.info().app || part == c.info().id())
            .cloned()
            .collect();
        if matched.is_empty() {
            let known: Vec<String> = all.iter().map(|c| c.info().id()).collect();
            anyhow::bail!(
                "unknown target {part:?}; known: all, vod, {}",
                known.join(", ")
            );
        }
        for context in matched {
            if !chosen.iter().any(|c| c.info().id() == context.info().id()) {
                chosen.push(context);
            }
        }
    }
    if chosen.is_empty() {
        anyhow::bail!("--target names no context");
    }
    Ok(chosen)
}
