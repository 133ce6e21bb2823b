//! Bearer-token authentication and the caller's scope.
//!
//! Tokens are JWTs signed with Ed25519 (EdDSA): services hold only the public
//! key, so a compromised service cannot mint tokens. Claims carry the roles,
//! the subtrees the caller may see and, for department operators, their
//! department. Health and reflection are served without the interceptor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};

/// What a caller does in the county; decides what it may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Administers the whole county's data.
    CountyAdmin,
    /// Administers one or more streets.
    StreetAdmin,
    /// Staff of a community.
    CommunityStaff,
    /// Works one or more grid cells.
    GridWorker,
    /// Operates for one functional department.
    DepartmentOperator,
    /// The emergency / command centre: sees everything, supervises.
    CommandCentre,
    /// Another department's system integrating through the API.
    IntegrationClient,
    /// Reads and analyses; never writes.
    ReadOnlyAnalyst,
    /// Another civicgrid service's identity (reads event logs to catch up).
    Service,
}

impl Role {
    /// Every role, for help texts and validation.
    pub const ALL: [Role; 9] = [
        Role::CountyAdmin,
        Role::StreetAdmin,
        Role::CommunityStaff,
        Role::GridWorker,
        Role::DepartmentOperator,
        Role::CommandCentre,
        Role::IntegrationClient,
        Role::ReadOnlyAnalyst,
        Role::Service,
    ];

    /// The snake_case name used in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CountyAdmin => "county_admin",
            Role::StreetAdmin => "street_admin",
            Role::CommunityStaff => "community_staff",
            Role::GridWorker => "grid_worker",
            Role::DepartmentOperator => "department_operator",
            Role::CommandCentre => "command_centre",
            Role::IntegrationClient => "integration_client",
            Role::ReadOnlyAnalyst => "read_only_analyst",
            Role::Service => "service",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

/// The claims of a civicgrid token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Who the caller is (a person's account or a client id).
    pub sub: String,
    /// Who issued the token.
    pub iss: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// The caller's roles.
    pub roles: Vec<Role>,
    /// Resource names of the subtrees the caller may see, e.g. `cells/st01`;
    /// `*` is the whole county.
    #[serde(default)]
    pub scope: Vec<String>,
    /// The department's id, for department operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// The authenticated caller of an RPC, put into the request's extensions.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's subject.
    pub subject: String,
    /// The caller's roles.
    pub roles: Vec<Role>,
    /// The resource names of the subtrees the caller may see.
    pub scope: Vec<String>,
    /// The department, for department operators.
    pub department: Option<String>,
}

impl Caller {
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller holds any of `roles`.
    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has_role(*role))
    }

    /// Whether the scope covers the whole county.
    pub fn sees_everything(&self) -> bool {
        self.scope.iter().any(|entry| entry == "*")
    }

    /// The ids of the scope's roots of one collection (`cells`, ...), or
    /// `None` when the caller sees the whole county.
    pub fn scope_roots(&self, collection: &str) -> Option<Vec<String>> {
        if self.sees_everything() {
            return None;
        }
        let prefix = format!("{collection}/");
        Some(
            self.scope
                .iter()
                .filter_map(|entry| entry.strip_prefix(&prefix))
                .map(str::to_owned)
                .collect(),
        )
    }

    /// The caller from a request's extensions; UNAUTHENTICATED if the
    /// authentication interceptor did not run (a wiring bug, never a client's fault).
    pub fn of<T>(request: &Request<T>) -> Result<&Caller, Status> {
        request
            .extensions()
            .get::<Caller>()
            .ok_or_else(|| Status::unauthenticated("no authenticated caller"))
    }
}

/// A problem with keys or tokens.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The key could not be read or parsed.
    #[error("bad key: {0}")]
    Key(String),
    /// The token could not be signed.
    #[error("cannot sign token: {0}")]
    Sign(String),
}

/// Seconds a token is still accepted after its `exp` (clock skew).
const LEEWAY_SECONDS: i64 = 30;

/// Verified tokens remembered at most; the memory starts over when full.
const MAX_REMEMBERED: usize = 10_000;

/// Verifies tokens against the configured public key.
///
/// A client sends the same token on every call until it expires, and the
/// Ed25519 check is the dearest step of a small request; so a token that
/// verified is remembered by its exact text, and a later call with the same
/// text only has its expiry checked again. Only good tokens are kept.
#[derive(Clone)]
pub struct Verifier {
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
    verified: Arc<Mutex<HashMap<String, Claims>>>,
}

impl Verifier {
    /// From an Ed25519 public key in PEM (SubjectPublicKeyInfo) and the expected issuer.
    pub fn from_pem(public_pem: &[u8], issuer: &str) -> Result<Verifier, AuthError> {
        let key =
            DecodingKey::from_ed_pem(public_pem).map_err(|e| AuthError::Key(e.to_string()))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = LEEWAY_SECONDS.unsigned_abs();
        Ok(Verifier {
            key: Arc::new(key),
            validation: Arc::new(validation),
            verified: Arc::default(),
        })
    }

    /// The verified claims of `token`.
    pub fn verify(&self, token: &str) -> Result<Claims, Status> {
        if let Some(claims) = self.remembered(token) {
            return Ok(claims);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| Status::unauthenticated(format!("invalid bearer token: {e}")))?;
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= MAX_REMEMBERED {
                verified.clear();
            }
            verified.insert(token.to_owned(), claims.clone());
        }
        Ok(claims)
    }

    /// The claims of a token verified before, while it has not expired.
    fn remembered(&self, token: &str) -> Option<Claims> {
        self.remembered_at(token, chrono::Utc::now().timestamp())
    }

    fn remembered_at(&self, token: &str, now: i64) -> Option<Claims> {
        let mut verified = self.verified.lock().ok()?;
        let claims = verified.get(token)?;
        if claims.exp + LEEWAY_SECONDS >= now {
            return Some(claims.clone());
        }
        verified.remove(token);
        None
    }
}

/// The tonic interceptor: a valid bearer token becomes a [`Caller`] in the
/// request's extensions; anything else is UNAUTHENTICATED.
#[derive(Clone)]
pub struct Authenticator {
    verifier: Verifier,
}

impl Authenticator {
    /// An interceptor verifying with `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        Authenticator { verifier }
    }
}

impl tonic::service::Interceptor for Authenticator {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let header = request.metadata().get("authorization").ok_or_else(|| {
            Status::unauthenticated("missing `authorization: Bearer <token>` metadata")
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .ok_or_else(|| {
                Status::unauthenticated("authorization metadata must be `Bearer <token>`")
            })?;
        let claims = self.verifier.verify(token.trim())?;
        if claims.roles.is_empty() {
            return Err(Status::unauthenticated("token carries no roles"));
        }
        request.extensions_mut().insert(Caller {
            subject: claims.sub,
            roles: claims.roles,
            scope: claims.scope,
            department: claims.department,
        });
        Ok(request)
    }
}

/// Mints tokens with the private key (the operator CLI and tests).
pub struct Signer {
    key: EncodingKey,
}

impl Signer {
    /// From an Ed25519 private key in PKCS#8 PEM.
    pub fn from_pem(private_pem: &[u8]) -> Result<Signer, AuthError> {
        let key =
            EncodingKey::from_ed_pem(private_pem).map_err(|e| AuthError::Key(e.to_string()))?;
        Ok(Signer { key })
    }

    /// A signed token carrying `claims`.
    pub fn mint(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &self.key)
            .map_err(|e| AuthError::Sign(e.to_string()))
    }
}

/// A fresh Ed25519 key pair as (private PKCS#8 PEM, public SPKI PEM).
pub fn generate_key_pair() -> Result<(String, String), AuthError> {
    let signing = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let private = signing
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| AuthError::Key(e.to_string()))?;
    let public = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| AuthError::Key(e.to_string()))?;
    Ok((private.to_string(), public))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::service::Interceptor;

    fn claims(roles: Vec<Role>, exp_offset: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "tester".into(),
            iss: "civicgrid".into(),
            iat: now,
            exp: now + exp_offset,
            roles,
            scope: vec!["cells/st01".into()],
            department: None,
        }
    }

    fn request_with(token: &str) -> Request<()> {
        let mut request = Request::new(());
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii"),
        );
        request
    }

    #[test]
    fn a_token_signed_with_the_pair_authenticates_with_its_claims() {
        let (private, public) = generate_key_pair().expect("keys");
        let token = Signer::from_pem(private.as_bytes())
            .expect("signer")
            .mint(&claims(vec![Role::StreetAdmin], 600))
            .expect("mint");
        let mut auth = Authenticator::new(
            Verifier::from_pem(public.as_bytes(), "civicgrid").expect("verifier"),
        );
        let request = auth.call(request_with(&token)).expect("authenticated");
        let caller = Caller::of(&request).expect("caller");
        assert_eq!(caller.roles, vec![Role::StreetAdmin]);
        assert_eq!(caller.scope_roots("cells"), Some(vec!["st01".to_owned()]));
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let (private, public) = generate_key_pair().expect("keys");
        let verifier = Verifier::from_pem(public.as_bytes(), "civicgrid").expect("verifier");
        let token = Signer::from_pem(private.as_bytes())
            .expect("signer")
            .mint(&claims(vec![Role::GridWorker], 600))
            .expect("mint");
        let first = verifier.verify(&token).expect("verified");
        let exp = first.exp;
        assert_eq!(verifier.remembered_at(&token, exp), Some(first));
        assert_eq!(
            verifier.remembered_at(&token, exp + LEEWAY_SECONDS + 1),
            None
        );
        // Forgotten, not merely skipped: the next look finds nothing.
        assert_eq!(verifier.remembered_at(&token, exp), None);
        assert!(verifier.remembered_at("some other text", exp).is_none());
    }

    #[test]
    fn expired_foreign_and_missing_tokens_are_unauthenticated() {
        let (private, public) = generate_key_pair().expect("keys");
        let (other_private, _) = generate_key_pair().expect("keys");
        let mut auth = Authenticator::new(
            Verifier::from_pem(public.as_bytes(), "civicgrid").expect("verifier"),
        );
        let expired = Signer::from_pem(private.as_bytes())
            .expect("signer")
            .mint(&claims(vec![Role::CountyAdmin], -3600))
            .expect("mint");
        let foreign = Signer::from_pem(other_private.as_bytes())
            .expect("signer")
            .mint(&claims(vec![Role::CountyAdmin], 600))
            .expect("mint");
        for request in [
            request_with(&expired),
            request_with(&foreign),
            request_with("garbage"),
            Request::new(()),
        ] {
            let status = auth.call(request).expect_err("must be refused");
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
        }
    }
}
