//! Other mesh processes' admin ports (`--admin-peer http://127.0.0.1:9465`): each is asked
//! for its own snapshot once a second while a console page is open here, with a short
//! deadline and a bounded answer, so a hung or hostile peer costs a timeout, never the page.
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;

use super::merge::{self, PeerView};

/// Admin peers at most: each costs a request a second.
pub const MAX_ADMIN_PEERS: usize = 32;
/// How long a peer has to answer before it counts as not answering.
pub const FETCH_TIMEOUT: Duration = Duration::from_millis(500);
/// The largest answer read from a peer.
pub const MAX_ANSWER: usize = 4 << 20;
/// The path a console serves its own snapshot on.
pub const PATH: &str = "/api/snapshot";

/// Another process's admin port, as `--admin-peer` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminPeer {
    /// `host:port`: where to connect, and the Host header.
    pub authority: String,
}

impl AdminPeer {
    /// `http://HOST:PORT` (a trailing `/` allowed); anything else is refused with why.
    pub fn parse(s: &str) -> Result<AdminPeer, String> {
        let s = s.trim();
        let refuse = |why: &str| Err(format!("admin peer {s:?}: {why}"));
        let Ok(uri) = s.parse::<Uri>() else {
            return refuse("not a URL (expected http://HOST:PORT)");
        };
        if uri.scheme_str() != Some("http") {
            return refuse("http:// only (the admin port serves plain HTTP)");
        }
        let Some(authority) = uri.authority() else {
            return refuse("a host is required");
        };
        if authority.as_str().contains('@') {
            return refuse("no user or password");
        }
        if authority.host().is_empty() || authority.host() == "[]" {
            return refuse("a host is required");
        }
        if authority.port_u16().is_none_or(|p| p == 0) {
            return refuse("a port is required (http://HOST:PORT)");
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return refuse("no path or query: the admin base URL only");
        }
        Ok(AdminPeer {
            authority: authority.as_str().to_owned(),
        })
    }

    /// `http://host:port`: how the page names the process.
    pub fn url(&self) -> String {
        format!("http://{}", self.authority)
    }
}

/// At most `MAX_ADMIN_PEERS`, none named twice.
pub fn check(peers: &[AdminPeer]) -> Result<(), String> {
    if peers.len() > MAX_ADMIN_PEERS {
        return Err(format!(
            "--admin-peer (MEDIAMESH_ADMIN_PEERS): at most {MAX_ADMIN_PEERS}, got {}",
            peers.len()
        ));
    }
    for (i, peer) in peers.iter().enumerate() {
        if peers[..i].contains(peer) {
            return Err(format!(
                "--admin-peer (MEDIAMESH_ADMIN_PEERS): {} named twice",
                peer.url()
            ));
        }
    }
    Ok(())
}

/// What asking a peer gave.
pub enum Answer {
    View(Box<PeerView>),
    /// It answers but has no figures yet (its sampler starts on the first ask).
    Warming,
    Failed(String),
}

/// Asks `peer` for its snapshot, within `FETCH_TIMEOUT`.
pub async fn fetch(peer: &AdminPeer) -> Answer {
    match tokio::time::timeout(FETCH_TIMEOUT, get(peer)).await {
        Err(_) => Answer::Failed("no answer within 500 ms".into()),
        Ok(Err(why)) => Answer::Failed(why),
        Ok(Ok((StatusCode::OK, body))) => match serde_json::from_slice::<PeerView>(&body) {
            Ok(view) => Answer::View(Box::new(merge::bounded(view))),
            Err(_) => Answer::Failed("answered something other than a snapshot".into()),
        },
        Ok(Ok((StatusCode::SERVICE_UNAVAILABLE, _))) => Answer::Warming,
        Ok(Ok((StatusCode::FORBIDDEN, _))) => Answer::Failed(
            "answered 403 Forbidden: a console answers clients on its own machine only".into(),
        ),
        Ok(Ok((status, _))) => Answer::Failed(format!("answered {status}")),
    }
}

/// One request on its own connection (closed after): the status and the body, bounded.
async fn get(peer: &AdminPeer) -> Result<(StatusCode, Bytes), String> {
    let stream = tokio::net::TcpStream::connect(peer.authority.as_str())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = Request::get(PATH)
        .header(header::HOST, peer.authority.as_str())
        .header(header::CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        drop(sender);
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|_| "an answer over 4 MiB, or cut short".to_owned())?
            .to_bytes();
        Ok((status, body))
    };
    // The connection is driven here, not spawned: a peer that hangs is dropped with it.
    let (answer, _) = tokio::join!(exchange, connection);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_peer_is_an_http_base_url_with_host_and_port() {
        for (url, authority) in [
            ("http://127.0.0.1:9465", "127.0.0.1:9465"),
            ("http://localhost:9465/", "localhost:9465"),
            (" http://[::1]:9465 ", "[::1]:9465"),
            ("http://payment.mesh:9464", "payment.mesh:9464"),
        ] {
            let peer = AdminPeer::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(peer.authority, authority);
            assert_eq!(peer.url(), format!("http://{authority}"));
        }
        for (url, why) in [
            ("https://127.0.0.1:9465", "http:// only"),
            ("127.0.0.1:9465", "http:// only"),
            ("http://127.0.0.1", "a port is required"),
            ("http://127.0.0.1:0", "a port is required"),
            ("http://:9465", "a host is required"),
            ("http://u:p@127.0.0.1:9465", "no user or password"),
            ("http://127.0.0.1:9465/metrics", "no path or query"),
            ("http://127.0.0.1:9465/?x=1", "no path or query"),
            ("not a url at all", "not a URL"),
            ("", "not a URL"),
        ] {
            let error = AdminPeer::parse(url).expect_err(url);
            assert!(error.contains(why), "{url}: {error}");
        }
    }

    #[test]
    fn at_most_32_admin_peers_each_once() {
        let peers: Vec<AdminPeer> = (0..33)
            .map(|i| AdminPeer::parse(&format!("http://127.0.0.1:{}", 9000 + i)).unwrap())
            .collect();
        assert!(check(&peers[..32]).is_ok());
        assert!(check(&peers).unwrap_err().contains("at most 32"));
        let twice = [peers[0].clone(), peers[1].clone(), peers[0].clone()];
        assert!(check(&twice).unwrap_err().contains("named twice"));
    }
}
