//! Who is calling. With auth on, every call to a context's RPC must carry
//! `authorization: Bearer <JWT>` signed by a key of the configured JWKS (ES256, issuer
//! `mediamesh`): the gateway checks it too, but the mesh port can be reached without the
//! gateway, so the mesh never trusts a call it has not verified itself. A verified token
//! becomes a [`Caller`] in the request's extensions; the contexts' rules read it from there,
//! never an identity from the body. Without a token, or with a bad one: `UNAUTHENTICATED`.
//!
//! Internal RPCs (no REST binding, e.g. `Pay`) are for the mesh itself: they need the
//! service role ([`SERVICE_ROLE`]), which the mesh's own token carries on its peer calls.
//! Health and reflection stay open (probes, grpcurl).
//!
//! Without auth no `Caller` exists and every rule allows the call, as before auth existed.
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use tonic::Status;

/// The issuer every mediamesh token names.
pub const ISSUER: &str = "mediamesh";
/// The signature algorithm of mediamesh tokens (Envoy's jwt_authn verifies it too).
pub const ALGORITHM: Algorithm = Algorithm::ES256;
/// The role of the mesh's own identity, on its calls between contexts.
pub const SERVICE_ROLE: &str = "mesh";
/// Most roles a token may carry.
const MAX_ROLES: usize = 16;
/// The operator's role: may act on anyone's resources.
pub const ADMIN_ROLE: &str = "admin";

/// A token's claims.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub iss: String,
    pub iat: u64,
    pub exp: u64,
}

/// The verified caller of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub roles: Vec<String>,
}

impl Caller {
    pub fn new(subject: &str, roles: &[&str]) -> Caller {
        Caller {
            subject: subject.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The mesh itself, or an operator: trusted with everyone's resources.
    pub fn is_trusted(&self) -> bool {
        self.has_role(SERVICE_ROLE) || self.has_role(ADMIN_ROLE)
    }

    /// Whether the caller may act on what `owner` owns: its own, or trusted.
    pub fn may_act_for(&self, owner: &str) -> bool {
        self.subject == owner || self.is_trusted()
    }

    /// Allowed when the caller may act for `owner`; denied naming `what` otherwise.
    pub fn acting_for(&self, owner: &str, what: &str) -> Result<(), Denied> {
        if self.may_act_for(owner) {
            Ok(())
        } else {
            Err(Denied(format!("{what} belongs to another customer")))
        }
    }

    /// Allowed when the caller has one of `roles` (or is the mesh itself).
    pub fn in_role(&self, roles: &[&str], what: &str) -> Result<(), Denied> {
        if self.has_role(SERVICE_ROLE) || roles.iter().any(|r| self.has_role(r)) {
            Ok(())
        } else {
            Err(Denied(format!(
                "{what} needs the role {}",
                roles.join(" or ")
            )))
        }
    }
}

/// A rule's refusal: `PERMISSION_DENIED` at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl From<Denied> for Status {
    fn from(denied: Denied) -> Status {
        Status::permission_denied(denied.0)
    }
}

/// The caller of a request: None when auth is off.
pub fn caller<T>(request: &tonic::Request<T>) -> Option<&Caller> {
    request.extensions().get::<Caller>()
}

/// Applies `rule` to the request's caller when auth is on; allows everything when it is off.
pub fn authorize<T>(
    request: &tonic::Request<T>,
    rule: impl FnOnce(&Caller) -> Result<(), Denied>,
) -> Result<(), Status> {
    check(caller(request), rule)
}

/// Applies `rule` to `caller` when auth is on (Some); allows everything when it is off.
pub fn check(
    caller: Option<&Caller>,
    rule: impl FnOnce(&Caller) -> Result<(), Denied>,
) -> Result<(), Status> {
    match caller {
        Some(caller) => rule(caller).map_err(Status::from),
        None => Ok(()),
    }
}

/// The customer a create is for: the caller when the body names none, the one it names when
/// the caller may act for them (itself, or trusted); denied otherwise.
pub fn customer_for(caller: &Caller, named: &str) -> Result<String, Denied> {
    if named.is_empty() {
        return Ok(caller.subject.clone());
    }
    if !caller.may_act_for(named) {
        return Err(Denied(
            "the body names another customer than the token's subject".into(),
        ));
    }
    Ok(named.to_owned())
}

/// The owner filter of a list: a customer lists their own (no filter means theirs, another's
/// is denied); trusted callers list anyone's, or all (empty).
pub fn own_filter(caller: &Caller, asked: &str) -> Result<String, Denied> {
    if caller.is_trusted() {
        return Ok(asked.to_owned());
    }
    customer_for(caller, asked)
}

/// Checks tokens against a JWKS.
pub struct Verifier {
    keys: Vec<(Option<String>, DecodingKey)>,
    validation: Validation,
}

impl Verifier {
    /// A verifier of the keys in a JWKS document (JSON).
    pub fn from_jwks(json: &str) -> anyhow::Result<Verifier> {
        let set: JwkSet = serde_json::from_str(json)?;
        let keys = set
            .keys
            .iter()
            .map(|jwk| Ok((jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!keys.is_empty(), "the JWKS has no key");
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // As Envoy's jwt_authn with no audiences configured: a token not yet valid is
        // refused, an `aud` claim (an identity provider's tokens carry one) is not.
        validation.validate_nbf = true;
        validation.validate_aud = false;
        Ok(Verifier { keys, validation })
    }

    /// The caller an `authorization` header value names, or why not.
    pub fn verify(&self, authorization: Option<&[u8]>) -> Result<Caller, &'static str> {
        let value = authorization.ok_or("missing bearer token")?;
        // The scheme is case-insensitive (RFC 9110), the token is not.
        let token = std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .ok_or("the authorization is not a bearer token")?
            .1
            .trim();
        let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed token")?;
        let kid = header.kid;
        let claims = self
            .keys
            .iter()
            .filter(|(id, _)| kid.is_none() || id == &kid)
            .find_map(|(_, key)| jsonwebtoken::decode::<Claims>(token, key, &self.validation).ok())
            .ok_or("invalid or expired token")?
            .claims;
        // The subject becomes a customer id in rows, events and headers: it follows the one
        // id rule like any other id, and the roles are few and short.
        if crate::input::id("sub", &claims.sub).is_err() {
            return Err("the token's subject is not a valid id");
        }
        if claims.roles.len() > MAX_ROLES
            || claims
                .roles
                .iter()
                .any(|r| crate::input::id("roles", r).is_err())
        {
            return Err("the token's roles are not valid ids");
        }
        Ok(Caller {
            subject: claims.sub,
            roles: claims.roles,
        })
    }
}

/// Verifies every call to a context RPC; see the module doc.
#[derive(Clone, Default)]
pub struct AuthLayer {
    verifier: Option<Arc<Verifier>>,
    /// gRPC paths of the internal RPCs (the service role only).
    internal: Arc<HashSet<String>>,
}

impl AuthLayer {
    /// Off: every call passes as it is.
    pub fn off() -> AuthLayer {
        AuthLayer::default()
    }

    pub fn on(verifier: Verifier) -> AuthLayer {
        let internal = mediamesh_proto::RPCS
            .iter()
            .filter(|rpc| !rpc.public)
            .map(|rpc| rpc.path())
            .collect();
        AuthLayer {
            verifier: Some(Arc::new(verifier)),
            internal: Arc::new(internal),
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Authenticated<S>;
    fn layer(&self, inner: S) -> Authenticated<S> {
        Authenticated {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Authenticated<S> {
    inner: S,
    layer: AuthLayer,
}

/// Paths served without a token: health (probes) and reflection.
fn open(path: &str) -> bool {
    path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.")
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Authenticated<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(verifier) = &self.layer.verifier {
            let path = request.uri().path();
            if !open(path) {
                let header = request
                    .headers()
                    .get(http::header::AUTHORIZATION)
                    .map(|v| v.as_bytes());
                let refused = match verifier.verify(header) {
                    Err(why) => Some(Status::unauthenticated(why)),
                    Ok(caller)
                        if self.layer.internal.contains(path) && !caller.has_role(SERVICE_ROLE) =>
                    {
                        Some(Status::permission_denied(
                            "an internal RPC: only the mesh calls it",
                        ))
                    }
                    Ok(caller) => {
                        request.extensions_mut().insert(caller);
                        None
                    }
                };
                if let Some(status) = refused {
                    return Box::pin(async move { Ok(status.into_http()) });
                }
            }
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_act_for_themselves_and_trusted_roles_for_anyone() {
        let alice = Caller::new("alice", &[]);
        assert!(alice.acting_for("alice", "purchase").is_ok());
        assert_eq!(
            alice.acting_for("bob", "purchase"),
            Err(Denied("purchase belongs to another customer".into()))
        );
        assert!(
            Caller::new("ops", &["admin"])
                .acting_for("bob", "x")
                .is_ok()
        );
        assert!(
            Caller::new("mediamesh", &["mesh"])
                .acting_for("bob", "x")
                .is_ok()
        );
        assert!(
            Caller::new("t", &["theater"])
                .acting_for("bob", "x")
                .is_err()
        );
    }

    #[test]
    fn a_create_is_for_the_caller_unless_trusted() {
        let alice = Caller::new("alice", &[]);
        assert_eq!(customer_for(&alice, ""), Ok("alice".to_owned()));
        assert_eq!(customer_for(&alice, "alice"), Ok("alice".to_owned()));
        assert!(customer_for(&alice, "bob").is_err());
        let ops = Caller::new("ops", &["admin"]);
        assert_eq!(customer_for(&ops, "bob"), Ok("bob".to_owned()));
    }

    #[test]
    fn lists_are_narrowed_to_the_caller_unless_trusted() {
        let alice = Caller::new("alice", &[]);
        assert_eq!(own_filter(&alice, ""), Ok("alice".to_owned()));
        assert!(own_filter(&alice, "bob").is_err());
        assert_eq!(
            own_filter(&Caller::new("o", &["admin"]), ""),
            Ok(String::new())
        );
    }

    #[test]
    fn roles_are_required_by_name() {
        let theater = Caller::new("t", &["theater"]);
        assert!(theater.in_role(&["admin", "theater"], "movies").is_ok());
        assert!(theater.in_role(&["admin"], "policies").is_err());
        assert!(Caller::new("m", &["mesh"]).in_role(&["admin"], "x").is_ok());
    }

    #[test]
    fn no_caller_means_auth_is_off_and_everything_passes() {
        let request = tonic::Request::new(());
        assert!(authorize(&request, |_| Err(Denied("no".into()))).is_ok());
        let mut request = tonic::Request::new(());
        request.extensions_mut().insert(Caller::new("alice", &[]));
        let refused = authorize(&request, |c| c.acting_for("bob", "order")).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn a_verifier_refuses_what_is_not_a_bearer_token() {
        let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"k",
            "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
        let verifier = Verifier::from_jwks(jwks).unwrap();
        assert_eq!(verifier.verify(None), Err("missing bearer token"));
        assert!(verifier.verify(Some(b"Basic abc")).is_err());
        assert_eq!(
            verifier.verify(Some(b"Bearer x.y.z")),
            Err("malformed token")
        );
        assert_eq!(
            verifier.verify(Some(b"bearer x.y.z")),
            Err("malformed token")
        );
    }
}
