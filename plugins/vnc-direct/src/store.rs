//! The list of servers: JSON under `$XDG_CONFIG_HOME/virt-manager/`.
//!
//! Every change is a read-modify-write under an exclusive lock on a
//! separate lock file (the app and `virt-manager vnc-direct` may change the
//! list at the same time), written to a temporary file and renamed over
//! the old one, so a reader never sees half a file. No password is ever
//! part of it: the application keeps those in the keyring.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One VNC server the user added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub uuid: String,
    pub name: String,
    pub host: String,
    pub port: u16,
}

/// What `define_domain` takes: exactly these keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    pub name: String,
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File1 {
    version: u32,
    servers: Vec<Server>,
}

const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid server list: {source}")]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot save {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("there is already a server named “{0}”")]
    Duplicate(String),
    #[error("no server with UUID {0}")]
    NotFound(String),
}

/// The default list: `$XDG_CONFIG_HOME/virt-manager/vnc-direct.json`.
pub fn default_path() -> PathBuf {
    let config = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".config"),
    };
    config.join("virt-manager/vnc-direct.json")
}

/// The server list in one file.
#[derive(Clone, Debug)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    pub fn new(path: PathBuf) -> Self {
        Store { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The servers, in the order they were added; none if the file does
    /// not exist yet.
    pub fn load(&self) -> Result<Vec<Server>, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let file: File1 =
            serde_json::from_slice(&bytes).map_err(|source| StoreError::Malformed {
                path: self.path.clone(),
                source,
            })?;
        Ok(file.servers)
    }

    /// Adds a server; returns it with its new UUID.
    pub fn add(&self, spec: ServerSpec) -> Result<Server, StoreError> {
        let spec = validate(spec)?;
        self.update(|servers| {
            if servers.iter().any(|s| s.name == spec.name) {
                return Err(StoreError::Duplicate(spec.name.clone()));
            }
            let server = Server {
                uuid: new_uuid().map_err(|e| StoreError::Invalid(e.to_string()))?,
                name: spec.name,
                host: spec.host,
                port: spec.port,
            };
            servers.push(server.clone());
            Ok(server)
        })
    }

    /// Removes the server with this UUID; returns it.
    pub fn remove(&self, uuid: &str) -> Result<Server, StoreError> {
        self.update(|servers| {
            let i = servers
                .iter()
                .position(|s| s.uuid == uuid)
                .ok_or_else(|| StoreError::NotFound(uuid.to_owned()))?;
            Ok(servers.remove(i))
        })
    }

    /// Runs `change` on the list under the lock and saves the result if
    /// it succeeded.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Vec<Server>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let write_err = |source| StoreError::Write {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("/"));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(write_err)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.sibling(".lock"))
            .map_err(write_err)?;
        lock.lock().map_err(write_err)?;
        let mut servers = self.load()?;
        let result = change(&mut servers)?;
        let json = serde_json::to_vec_pretty(&File1 {
            version: FORMAT_VERSION,
            servers,
        })
        .expect("a server list serializes");
        self.write_atomically(&json).map_err(write_err)?;
        Ok(result)
        // `lock` is released when dropped.
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_owned();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    fn write_atomically(&self, bytes: &[u8]) -> std::io::Result<()> {
        let tmp = self.sibling(".tmp");
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        // The rename itself must reach the disk too.
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

fn validate(spec: ServerSpec) -> Result<ServerSpec, StoreError> {
    let name = spec.name.trim().to_owned();
    let host = spec.host.trim().to_owned();
    if name.is_empty() || name.chars().any(char::is_control) || name.chars().count() > 200 {
        return Err(StoreError::Invalid(
            "a server needs a name of 1 to 200 printable characters".into(),
        ));
    }
    let bad_host = |c: char| c.is_whitespace() || c.is_control() || "/?#@".contains(c);
    if host.is_empty() || host.chars().any(bad_host) || host.len() > 253 {
        return Err(StoreError::Invalid(format!(
            "“{}” is not a host name or address",
            spec.host
        )));
    }
    if spec.port == 0 {
        return Err(StoreError::Invalid("port 0 is not a VNC port".into()));
    }
    // `[::1]` is how users write IPv6 addresses; the socket wants `::1`.
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .map(str::to_owned)
        .unwrap_or(host);
    Ok(ServerSpec {
        name,
        host,
        port: spec.port,
    })
}

/// A random (version 4) UUID, from the kernel's random source.
fn new_uuid() -> std::io::Result<String> {
    use std::io::Read;
    let mut b = [0u8; 16];
    File::open("/dev/urandom")?.read_exact(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn spec(name: &str, host: &str, port: u16) -> ServerSpec {
        ServerSpec {
            name: name.into(),
            host: host.into(),
            port,
        }
    }

    #[test]
    fn add_remove_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("sub/vnc-direct.json"));
        assert!(store.load().unwrap().is_empty(), "no file: no servers");
        let a = store.add(spec("a", "127.0.0.1", 5901)).unwrap();
        let b = store.add(spec(" b ", "[::1]", 5902)).unwrap();
        assert_eq!((b.name.as_str(), b.host.as_str()), ("b", "::1"));
        assert_ne!(a.uuid, b.uuid);
        assert_eq!(a.uuid.len(), 36);
        assert_eq!(store.load().unwrap(), vec![a.clone(), b.clone()]);
        assert!(matches!(
            store.add(spec("a", "h", 1)),
            Err(StoreError::Duplicate(_))
        ));
        assert_eq!(store.remove(&a.uuid).unwrap(), a);
        assert!(matches!(
            store.remove(&a.uuid),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.load().unwrap(), vec![b]);
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "private to its user");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn invalid_servers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("s.json"));
        for bad in [
            spec("", "h", 1),
            spec("n", "", 1),
            spec("n", "a b", 1),
            spec("n", "h/x", 1),
            spec("n", "h", 0),
        ] {
            assert!(
                matches!(store.add(bad), Err(StoreError::Invalid(_))),
                "accepted"
            );
        }
        assert!(!store.path().exists(), "nothing written");
    }

    #[test]
    fn a_malformed_file_is_reported_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, "{ not json").unwrap();
        let store = Store::new(path.clone());
        assert!(matches!(store.load(), Err(StoreError::Malformed { .. })));
        assert!(store.add(spec("n", "h", 1)).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::thread::scope(|s| {
            for t in 0..4 {
                let store = Store::new(path.clone());
                s.spawn(move || {
                    for i in 0..10 {
                        store.add(spec(&format!("{t}-{i}"), "h", 5900)).unwrap();
                    }
                });
            }
        });
        assert_eq!(Store::new(path).load().unwrap().len(), 40);
    }
}
