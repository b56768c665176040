//! Development tokens: `mediamesh token --sub ID --role ROLE` signs an ES256 JWT with a key
//! kept under the data dir (`auth/signing-key.p8`, PKCS#8, mode 0600, made on first use),
//! and writes the public half beside it as a JWKS (`auth/jwks.json`) for Envoy's
//! `jwt_authn` and the mesh. ES256 because both verify it and ring (already in the tree)
//! makes and signs the key. Production keys come from elsewhere (the chart's Secret).
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Args;
use mediamesh_mesh::serving::auth::{ALGORITHM, Claims, ISSUER, SERVICE_ROLE};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

#[derive(Args, Clone, Debug)]
pub struct TokenArgs {
    /// The subject: the customer id (or the operator's name).
    #[arg(long)]
    pub sub: String,
    /// A role (`admin`, `theater`, `installer`, ...); repeatable. A customer needs none.
    #[arg(long = "role")]
    pub roles: Vec<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub ttl_secs: u64,
    /// The folder holding the key (the same as `up`'s).
    #[arg(long, env = "MEDIAMESH_DATA_DIR", default_value = ".mediamesh")]
    pub data_dir: PathBuf,
}

/// `mediamesh token`: prints a token.
pub fn run(args: &TokenArgs) -> anyhow::Result<()> {
    let key = SigningKey::ensure(&args.data_dir)?;
    let roles: Vec<&str> = args.roles.iter().map(String::as_str).collect();
    println!(
        "{}",
        key.issue(&args.sub, &roles, Duration::from_secs(args.ttl_secs))?
    );
    Ok(())
}

/// The signing key of a data dir.
pub struct SigningKey {
    pkcs8: Vec<u8>,
    kid: String,
    /// Where its JWKS is.
    pub jwks: PathBuf,
}

impl SigningKey {
    /// The data dir's key, made (and its JWKS written) on first use.
    pub fn ensure(data_dir: &Path) -> anyhow::Result<SigningKey> {
        let dir = data_dir.join("auth");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("signing-key.p8");
        if !path.exists() {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| anyhow::anyhow!("cannot generate a P-256 key"))?;
            publish_once(&path, pkcs8.as_ref())?;
        }
        let pkcs8 = std::fs::read(&path)?;
        let pair = key_pair(&pkcs8)?;
        // The point is 0x04 || x || y (32 bytes each).
        let point = pair.public_key().as_ref();
        anyhow::ensure!(point.len() == 65, "unexpected P-256 public key");
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..]),
        );
        let kid = ring::digest::digest(&ring::digest::SHA256, point);
        let kid = URL_SAFE_NO_PAD.encode(&kid.as_ref()[..12]);
        let jwks = serde_json::json!({ "keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid, "x": x, "y": y,
        }]});
        let jwks_path = dir.join("jwks.json");
        let tmp = dir.join(format!("jwks.json.{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec_pretty(&jwks)?)?;
        std::fs::rename(&tmp, &jwks_path)?;
        Ok(SigningKey {
            pkcs8,
            kid,
            jwks: jwks_path,
        })
    }

    /// A token for `subject` with `roles`, valid for `ttl`.
    pub fn issue(&self, subject: &str, roles: &[&str], ttl: Duration) -> anyhow::Result<String> {
        mediamesh_mesh::input::id("sub", subject)
            .map_err(|v| anyhow::anyhow!("--sub: {}", v.description))?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let claims = Claims {
            sub: subject.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + ttl.as_secs(),
        };
        let mut header = jsonwebtoken::Header::new(ALGORITHM);
        header.kid = Some(self.kid.clone());
        let key = jsonwebtoken::EncodingKey::from_ec_der(&self.pkcs8);
        Ok(jsonwebtoken::encode(&header, &claims, &key)?)
    }

    /// The mesh's own token (role `mesh`) for its calls between contexts.
    pub fn service_token(&self) -> anyhow::Result<String> {
        self.issue(
            "mediamesh",
            &[SERVICE_ROLE],
            Duration::from_secs(365 * 86_400),
        )
    }
}

fn key_pair(pkcs8: &[u8]) -> anyhow::Result<EcdsaKeyPair> {
    EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .map_err(|e| anyhow::anyhow!("the signing key is not a P-256 PKCS#8 key: {e}"))
}

/// Writes a secret file readable by this user only, and never over one that exists: two
/// first uses at once keep the key written first (the link fails for the second).
fn publish_once(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&tmp, path);
    std::fs::remove_file(&tmp)?;
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediamesh_mesh::serving::auth::Verifier;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_token_verifies_against_the_written_jwks_and_the_key_is_private() {
        let dir = std::env::temp_dir().join(format!("mediamesh-token-{}", std::process::id()));
        let key = SigningKey::ensure(&dir).unwrap();
        let again = SigningKey::ensure(&dir).unwrap();
        assert_eq!(key.kid, again.kid, "the key is made once");
        let mode = std::fs::metadata(dir.join("auth/signing-key.p8"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let verifier = Verifier::from_jwks(&std::fs::read_to_string(&key.jwks).unwrap()).unwrap();
        let token = key
            .issue("alice", &["admin"], Duration::from_secs(60))
            .unwrap();
        let caller = verifier
            .verify(Some(format!("Bearer {token}").as_bytes()))
            .unwrap();
        assert_eq!(caller.subject, "alice");
        assert_eq!(caller.roles, vec!["admin".to_owned()]);
        let other = std::env::temp_dir().join(format!("mediamesh-token-o-{}", std::process::id()));
        let forged = SigningKey::ensure(&other)
            .unwrap()
            .issue("alice", &["admin"], Duration::from_secs(60))
            .unwrap();
        assert!(
            verifier
                .verify(Some(format!("Bearer {forged}").as_bytes()))
                .is_err()
        );
        // As the gateway decides: not before its `nbf`, whatever its `aud`.
        let sign = |claims: serde_json::Value| {
            let mut header = jsonwebtoken::Header::new(ALGORITHM);
            header.kid = Some(key.kid.clone());
            let der = jsonwebtoken::EncodingKey::from_ec_der(&key.pkcs8);
            jsonwebtoken::encode(&header, &claims, &der).unwrap()
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = |extra: serde_json::Value| {
            let mut c =
                serde_json::json!({"sub": "alice", "iss": ISSUER, "iat": now, "exp": now + 600});
            c.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            c
        };
        // A subject becomes a customer id: it follows the id rule, and roles are bounded.
        for bad in [
            serde_json::json!({"sub": "a b"}),
            serde_json::json!({"sub": "x".repeat(65)}),
            serde_json::json!({"roles": ["ad\nmin"]}),
            serde_json::json!({"roles": vec!["r"; 17]}),
        ] {
            let token = sign(claims(bad.clone()));
            assert!(
                verifier
                    .verify(Some(format!("Bearer {token}").as_bytes()))
                    .is_err(),
                "{bad}"
            );
        }
        assert!(key.issue("a b", &[], Duration::from_secs(60)).is_err());
        let early = sign(claims(serde_json::json!({"nbf": now + 3600})));
        assert!(
            verifier
                .verify(Some(format!("Bearer {early}").as_bytes()))
                .is_err()
        );
        let with_audience = sign(claims(serde_json::json!({"aud": "mediamesh-api"})));
        assert!(
            verifier
                .verify(Some(format!("Bearer {with_audience}").as_bytes()))
                .is_ok()
        );
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&other).unwrap();
    }
}
