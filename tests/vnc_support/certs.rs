//! Credentials for the auth tests, made with the real tools: a VNC
//! password file (vncpasswd) and a certificate authority with a server
//! certificate for 127.0.0.1 and localhost (openssl CLI).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::require;

/// A VNC password file for Xvnc's `-PasswordFile`.
pub fn vnc_password_file(dir: &Path, password: &str) -> PathBuf {
    require("vncpasswd", "tigervnc-tools");
    let path = dir.join("vncpasswd");
    let mut child = Command::new("vncpasswd")
        .arg("-f")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("vncpasswd");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && !out.stdout.is_empty(),
        "vncpasswd failed"
    );
    std::fs::write(&path, out.stdout).unwrap();
    path
}

/// A plain text file holding `password`, for `capture --password-file`.
pub fn password_file(dir: &Path, name: &str, password: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path
}

fn openssl(args: &[&str]) {
    require("openssl", "openssl");
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate authority: its certificate and key.
pub struct Ca {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Ca {
    pub fn new(dir: &Path, name: &str) -> Ca {
        let cert = dir.join(format!("{name}-ca.pem"));
        let key = dir.join(format!("{name}-ca.key"));
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} test CA"),
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ]);
        Ca { cert, key }
    }

    /// A server certificate for 127.0.0.1 and localhost, signed by this
    /// CA: (certificate, key).
    pub fn server_cert(&self, dir: &Path) -> (PathBuf, PathBuf) {
        self.server_cert_for(dir, "server", "IP:127.0.0.1,DNS:localhost")
    }

    /// A server certificate for the given subjectAltName list.
    pub fn server_cert_for(&self, dir: &Path, name: &str, alt_names: &str) -> (PathBuf, PathBuf) {
        let key = dir.join(format!("{name}.key"));
        let csr = dir.join(format!("{name}.csr"));
        let cert = dir.join(format!("{name}.pem"));
        let ext = dir.join(format!("{name}.ext"));
        std::fs::write(
            &ext,
            format!("subjectAltName={alt_names}\nextendedKeyUsage=serverAuth\n"),
        )
        .unwrap();
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            csr.to_str().unwrap(),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            csr.to_str().unwrap(),
            "-days",
            "2",
            "-CA",
            self.cert.to_str().unwrap(),
            "-CAkey",
            self.key.to_str().unwrap(),
            "-CAcreateserial",
            "-extfile",
            ext.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ]);
        (cert, key)
    }
}
