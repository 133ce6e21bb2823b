//! A key pair per test process and tokens signed with it.

use std::path::PathBuf;
use std::sync::OnceLock;

use civicgrid_runtime::auth::{Claims, Role, Signer, generate_key_pair};

/// The process's test signing key and the file holding its public half.
pub struct TestKeys {
    signer: Signer,
    /// The PEM file services under test verify tokens with.
    pub public_key_path: PathBuf,
    /// The data key file services under test seal personal data with.
    pub data_key_path: PathBuf,
    /// A file holding a service identity token (role `service`, scope
    /// `*`), for services under test reading each other's event logs.
    pub service_token_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestKeys {
    /// The shared test keys, created on first use.
    pub fn get() -> &'static TestKeys {
        static KEYS: OnceLock<TestKeys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let (private, public) = generate_key_pair().expect("test key pair");
            let dir = tempfile::tempdir().expect("temp dir");
            let public_key_path = dir.path().join("auth_public.pem");
            std::fs::write(&public_key_path, public).expect("write public key");
            let data_key_path = dir.path().join("data.key");
            std::fs::write(
                &data_key_path,
                civicgrid_runtime::crypto::DataKey::generate_base64(),
            )
            .expect("write data key");
            let signer = Signer::from_pem(private.as_bytes()).expect("signer");
            let now = chrono::Utc::now().timestamp();
            let service_token = signer
                .mint(&Claims {
                    sub: "test-service".to_owned(),
                    iss: "civicgrid".to_owned(),
                    iat: now,
                    // A test process may outlive an hour (a long bench run).
                    exp: now + 7 * 24 * 3600,
                    roles: vec![Role::Service],
                    scope: vec!["*".to_owned()],
                    department: None,
                })
                .expect("mint service token");
            let service_token_path = dir.path().join("service.token");
            std::fs::write(&service_token_path, service_token).expect("write service token");
            TestKeys {
                signer,
                public_key_path,
                data_key_path,
                service_token_path,
                _dir: dir,
            }
        })
    }

    /// A token for `roles` seeing `scope` (`*` or resource names).
    pub fn token(&self, roles: &[Role], scope: &[&str], department: Option<&str>) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: format!(
                "test-{}",
                roles.first().map(|r| r.as_str()).unwrap_or("nobody")
            ),
            iss: "civicgrid".to_owned(),
            iat: now,
            exp: now + 3600,
            roles: roles.to_vec(),
            scope: scope.iter().map(|s| (*s).to_owned()).collect(),
            department: department.map(str::to_owned),
        };
        self.signer.mint(&claims).expect("mint test token")
    }

    /// A county administrator's token seeing everything.
    pub fn county_admin(&self) -> String {
        self.token(&[Role::CountyAdmin], &["*"], None)
    }
}
