//! Security against TigerVNC's Xvnc: VNC password authentication, and
//! VeNCrypt with anonymous TLS and with X509 certificates the test makes
//! (openssl CLI). Right credentials connect and report how the session is
//! protected; a wrong password, a missing one and an untrusted
//! certificate each fail with their own clear line.

mod common;
mod vnc_support;

use vnc_support::certs::{password_file, vnc_password_file, Ca};
use vnc_support::hostile::{ScriptedServer, PIXEL_FORMAT};
use vnc_support::xservers::{make_test_picture, Xvnc};
use vnc_support::{capture_err, capture_ok, differing_pixels, free_port, scratch_dir};

#[test]
fn vnc_password() {
    let dir = scratch_dir("auth-vncauth");
    let server_file = vnc_password_file(&dir, "s3cret!");
    let x = Xvnc::start(
        320,
        200,
        &[
            "-SecurityTypes",
            "VncAuth",
            "-PasswordFile",
            server_file.to_str().unwrap(),
        ],
    );
    let home = dir.join("home");
    let out = dir.join("shot.png");
    let right = password_file(&dir, "right", "s3cret!");
    let wrong = password_file(&dir, "wrong", "guess");

    let stdout = capture_ok(
        &home,
        &[
            &x.url(),
            out.to_str().unwrap(),
            "--password-file",
            right.to_str().unwrap(),
        ],
    );
    assert!(
        stdout.contains("security VNC password (not encrypted)"),
        "{stdout}"
    );
    let truth = dir.join("truth.png");
    x.screenshot(&truth);
    assert_eq!(differing_pixels(&truth, &out), 0);

    let err = capture_err(
        &home,
        &[
            &x.url(),
            out.to_str().unwrap(),
            "--password-file",
            wrong.to_str().unwrap(),
        ],
    );
    assert!(err.contains("authentication failed"), "{err}");
    let err = capture_err(&home, &[&x.url(), out.to_str().unwrap()]);
    assert!(
        err.contains("authentication cancelled: no password given"),
        "{err}"
    );
}

#[test]
fn vencrypt_x509_checks_the_certificate() {
    let dir = scratch_dir("auth-x509");
    let ca = Ca::new(&dir, "good");
    let (cert, key) = ca.server_cert(&dir);
    let other_ca = Ca::new(&dir, "other");
    let server_file = vnc_password_file(&dir, "tls-pass");
    let x = Xvnc::start(
        320,
        200,
        &[
            "-SecurityTypes",
            "X509Vnc",
            "-X509Cert",
            cert.to_str().unwrap(),
            "-X509Key",
            key.to_str().unwrap(),
            "-PasswordFile",
            server_file.to_str().unwrap(),
        ],
    );
    let home = dir.join("home");
    let out = dir.join("shot.png");
    let pass = password_file(&dir, "pass", "tls-pass");
    let wrong = password_file(&dir, "wrong", "nope");

    let stdout = capture_ok(
        &home,
        &[
            &x.url(),
            out.to_str().unwrap(),
            "--password-file",
            pass.to_str().unwrap(),
            "--ca-file",
            ca.cert.to_str().unwrap(),
        ],
    );
    assert!(
        stdout.contains("security VeNCrypt X509Vnc (encrypted, server authenticated)"),
        "{stdout}"
    );
    let truth = dir.join("truth.png");
    x.screenshot(&truth);
    assert_eq!(differing_pixels(&truth, &out), 0);

    let err = capture_err(
        &home,
        &[
            &x.url(),
            out.to_str().unwrap(),
            "--password-file",
            pass.to_str().unwrap(),
            "--ca-file",
            other_ca.cert.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("the server's certificate is not trusted"),
        "{err}"
    );
    assert!(err.contains(other_ca.cert.to_str().unwrap()), "{err}");

    // A certificate from the right CA, but for another host.
    let (elsewhere_cert, elsewhere_key) =
        ca.server_cert_for(&dir, "elsewhere", "DNS:elsewhere.test");
    let elsewhere = Xvnc::start(
        200,
        100,
        &[
            "-SecurityTypes",
            "X509None",
            "-X509Cert",
            elsewhere_cert.to_str().unwrap(),
            "-X509Key",
            elsewhere_key.to_str().unwrap(),
        ],
    );
    let err = capture_err(
        &home,
        &[
            &elsewhere.url(),
            out.to_str().unwrap(),
            "--ca-file",
            ca.cert.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("not trusted") && err.contains("mismatch"),
        "{err}"
    );

    let err = capture_err(
        &home,
        &[
            &x.url(),
            out.to_str().unwrap(),
            "--password-file",
            wrong.to_str().unwrap(),
            "--ca-file",
            ca.cert.to_str().unwrap(),
        ],
    );
    assert!(err.contains("authentication failed"), "{err}");
}

#[test]
fn vencrypt_anonymous_tls_is_encrypted_but_not_authenticated() {
    let dir = scratch_dir("auth-tls");
    let server_file = vnc_password_file(&dir, "anon-pass");
    // Large enough that a raw frame (3 MiB) exercises the TLS relay's
    // flow control.
    let x = Xvnc::start(
        1024,
        768,
        &[
            "-SecurityTypes",
            "TLSVnc",
            "-PasswordFile",
            server_file.to_str().unwrap(),
        ],
    );
    let home = dir.join("home");
    let out = dir.join("shot.png");
    let pass = password_file(&dir, "pass", "anon-pass");
    let stdout = capture_ok(
        &home,
        &[
            &x.url(),
            out.to_str().unwrap(),
            "--password-file",
            pass.to_str().unwrap(),
        ],
    );
    assert!(
        stdout.contains("security VeNCrypt TLSVnc (encrypted, server not authenticated)"),
        "{stdout}"
    );
    let picture = dir.join("picture.png");
    make_test_picture(&picture, 1024, 768);
    x.show_on_root(&picture);
    let truth = dir.join("truth.png");
    x.screenshot(&truth);
    let raw = dir.join("raw.png");
    capture_ok(
        &home,
        &[
            &x.url(),
            raw.to_str().unwrap(),
            "--password-file",
            pass.to_str().unwrap(),
            "--encodings",
            "raw",
        ],
    );
    assert_eq!(differing_pixels(&truth, &raw), 0);
    // Every encoding goes through the TLS relay too.
    let z = dir.join("zrle.png");
    capture_ok(
        &home,
        &[
            &x.url(),
            z.to_str().unwrap(),
            "--password-file",
            pass.to_str().unwrap(),
            "--encodings",
            "zrle",
        ],
    );
    assert_eq!(differing_pixels(&truth, &z), 0);
}

#[test]
fn vencrypt_tls_none_and_x509_none() {
    let dir = scratch_dir("auth-tlsnone");
    let ca = Ca::new(&dir, "none");
    let (cert, key) = ca.server_cert(&dir);
    let home = dir.join("home");
    let out = dir.join("shot.png");
    let x = Xvnc::start(200, 100, &["-SecurityTypes", "TLSNone"]);
    let stdout = capture_ok(&home, &[&x.url(), out.to_str().unwrap()]);
    assert!(
        stdout.contains("VeNCrypt TLSNone (encrypted, server not authenticated)"),
        "{stdout}"
    );
    let x = Xvnc::start(
        200,
        100,
        &[
            "-SecurityTypes",
            "X509None",
            "-X509Cert",
            cert.to_str().unwrap(),
            "-X509Key",
            key.to_str().unwrap(),
        ],
    );
    let stdout = capture_ok(
        &home,
        &[
            &x.url(),
            out.to_str().unwrap(),
            "--ca-file",
            ca.cert.to_str().unwrap(),
        ],
    );
    assert!(
        stdout.contains("VeNCrypt X509None (encrypted, server authenticated)"),
        "{stdout}"
    );
    // Without a CA file the system's trust store is used, which does not
    // know the test CA.
    let err = capture_err(&home, &[&x.url(), out.to_str().unwrap()]);
    assert!(err.contains("not trusted"), "{err}");
}

#[test]
fn connection_failures_are_one_clear_line() {
    let dir = scratch_dir("auth-failures");
    let home = dir.join("home");
    let out = dir.join("shot.png");
    let out = out.to_str().unwrap();

    let port = free_port();
    let err = capture_err(&home, &[&format!("vnc://127.0.0.1:{port}"), out]);
    assert!(
        err.contains("cannot connect to 127.0.0.1:") && err.contains("refused"),
        "{err}"
    );

    let server = ScriptedServer::start(|mut s| {
        use std::io::Write;
        let _ = s.write_all(b"RFB 003.008\n");
    });
    let err = capture_err(&home, &[&server.url(), out]);
    assert!(
        err.contains("closed the connection during the handshake"),
        "{err}"
    );

    let server = ScriptedServer::start(|mut s| {
        use std::io::Write;
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
    });
    let err = capture_err(&home, &[&server.url(), out]);
    assert!(err.contains("not a VNC server"), "{err}");

    // Only security types this client does not speak (RA2, SASL).
    let server = ScriptedServer::start(|mut s| {
        use std::io::{Read, Write};
        let _ = s.write_all(b"RFB 003.008\n");
        let mut v = [0u8; 12];
        let _ = s.read_exact(&mut v);
        let _ = s.write_all(&[2, 5, 20]);
        let _ = s.read(&mut v);
    });
    let err = capture_err(&home, &[&server.url(), out]);
    assert!(
        err.contains("no security type in common: the server offers RA2, SASL"),
        "{err}"
    );

    // A server that refuses with a reason.
    let server = ScriptedServer::start(|mut s| {
        use std::io::{Read, Write};
        let _ = s.write_all(b"RFB 003.008\n");
        let mut v = [0u8; 12];
        let _ = s.read_exact(&mut v);
        let _ = s.write_all(&[0, 0, 0, 0, 14]);
        let _ = s.write_all(b"too many users");
    });
    let err = capture_err(&home, &[&server.url(), out]);
    assert!(
        err.ends_with("the server refused the connection: too many users"),
        "{err}"
    );

    // RFB 3.3 with the password refused (no reason in 3.3).
    let server = ScriptedServer::start(|mut s| {
        use std::io::{Read, Write};
        let _ = s.write_all(b"RFB 003.003\n");
        let mut v = [0u8; 12];
        let _ = s.read_exact(&mut v);
        let _ = s.write_all(&2u32.to_be_bytes());
        let _ = s.write_all(&[9; 16]);
        let mut response = [0u8; 16];
        let _ = s.read_exact(&mut response);
        let _ = s.write_all(&1u32.to_be_bytes());
    });
    let pass = password_file(&dir, "pass", "x");
    let err = capture_err(
        &home,
        &[
            &server.url(),
            out,
            "--password-file",
            pass.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("authentication failed: refused by the server (wrong password?)"),
        "{err}"
    );

    // RFB 3.7 with None: no SecurityResult, straight to ServerInit.
    let server = ScriptedServer::start(|mut s| {
        use std::io::{Read, Write};
        let _ = s.write_all(b"RFB 003.007\n");
        let mut v = [0u8; 12];
        let _ = s.read_exact(&mut v);
        assert_eq!(&v, b"RFB 003.007\n");
        let _ = s.write_all(&[1, 1]);
        let mut b = [0u8; 2];
        let _ = s.read_exact(&mut b);
        let mut init = vec![0, 2, 0, 1];
        init.extend_from_slice(&PIXEL_FORMAT);
        init.extend_from_slice(&[0, 0, 0, 3]);
        init.extend_from_slice(b"3.7");
        let _ = s.write_all(&init);
        let mut update = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0];
        update.extend_from_slice(&[0xff, 0, 0, 0, 0, 0xff, 0, 0]);
        let _ = s.write_all(&update);
        let _ = s.read(&mut [0u8; 64]);
    });
    let stdout = capture_ok(&home, &[&server.url(), out]);
    assert!(stdout.contains("RFB 3.7, security None"), "{stdout}");
}
