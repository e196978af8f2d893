//! Credentials: who provides them, and the two ways RFB sends them (VNC
//! Authentication's DES challenge, VeNCrypt's Plain).

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};

/// What the server asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRequest {
    pub username: bool,
    pub password: bool,
    /// The security type asking, for the prompt ("VNC password",
    /// "VeNCrypt X509Plain").
    pub security: String,
}

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .finish()
    }
}

/// Answers a server's request for credentials. Called on the client's
/// own thread, so it may block (a GUI asks the user and waits); `None`
/// cancels the connection.
pub trait CredentialProvider: Send + Sync {
    fn credentials(&self, request: &CredentialRequest) -> Option<Credentials>;
}

impl<F> CredentialProvider for F
where
    F: Fn(&CredentialRequest) -> Option<Credentials> + Send + Sync,
{
    fn credentials(&self, request: &CredentialRequest) -> Option<Credentials> {
        self(request)
    }
}

/// Fixed credentials (the command line's --password-file).
#[derive(Clone, Debug, Default)]
pub struct StaticCredentials(pub Credentials);

impl CredentialProvider for StaticCredentials {
    fn credentials(&self, request: &CredentialRequest) -> Option<Credentials> {
        let c = &self.0;
        let complete = (!request.password || c.password.is_some())
            && (!request.username || c.username.is_some());
        complete.then(|| c.clone())
    }
}

/// VNC Authentication: the challenge encrypted with DES under the
/// password (at most 8 bytes, zero-padded), each key byte's bits mirrored
/// as the original implementation did.
pub fn vnc_auth_response(password: &str, challenge: &[u8; 16]) -> [u8; 16] {
    let mut key = [0u8; 8];
    for (k, b) in key.iter_mut().zip(password.as_bytes()) {
        *k = b.reverse_bits();
    }
    let cipher = des::Des::new(GenericArray::from_slice(&key));
    let mut out = *challenge;
    for block in out.chunks_exact_mut(8) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    out
}

/// VeNCrypt Plain: lengths, then username and password in the clear (only
/// ever sent inside TLS unless the server offers nothing else).
pub fn plain_auth_message(username: &str, password: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(8 + username.len() + password.len());
    m.extend_from_slice(&(username.len() as u32).to_be_bytes());
    m.extend_from_slice(&(password.len() as u32).to_be_bytes());
    m.extend_from_slice(username.as_bytes());
    m.extend_from_slice(password.as_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn des_response_matches_known_vector() {
        // From `openssl enc -des-ecb -nopad` with the mirrored key
        // 0e86ceceeef64e26 ("password") over "0123456789abcdef".
        let r = vnc_auth_response("password", b"0123456789abcdef");
        assert_eq!(
            r,
            [
                0x56, 0x45, 0xab, 0xeb, 0x5f, 0x1e, 0x64, 0x75, 0xe8, 0xfe, 0xb1, 0x1b, 0xeb, 0x66,
                0xea, 0x19
            ]
        );
        // Only the first eight characters count.
        assert_eq!(
            vnc_auth_response("password", &[7; 16]),
            vnc_auth_response("password123", &[7; 16])
        );
    }

    #[test]
    fn static_credentials_refuse_what_they_lack() {
        let p = StaticCredentials(Credentials {
            username: None,
            password: Some("x".into()),
        });
        let req = |username| CredentialRequest {
            username,
            password: true,
            security: "t".into(),
        };
        assert!(p.credentials(&req(false)).is_some());
        assert!(p.credentials(&req(true)).is_none());
    }
}
