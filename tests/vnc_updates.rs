//! The client library (`virt_manager::vnc`) live against TigerVNC's Xvnc:
//! incremental updates with CopyRect when a window moves, the framebuffer
//! following a resize (xrandr, and our own SetDesktopSize), continuous
//! updates, the pointer shape, pointer input, and the clipboard both ways
//! through Extended Clipboard. The X screen (`import`, `xdotool`, `xclip`)
//! is the truth.

mod common;
mod vnc_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use virt_manager::plugin_host::PluginRegistry;
use virt_manager::vnc::{
    encodings, ConnectOptions, StaticCredentials, Transport, VncClient, VncEvent,
};
use vnc_support::live::{connect, poll};
use vnc_support::scratch_dir;
use vnc_support::xservers::Xvnc;

#[test]
fn a_moving_window_arrives_as_copyrect() {
    let dir = scratch_dir("updates-copyrect");
    let x = Xvnc::start_open(640, 480);
    // xlogo repaints only what is exposed, so a move is a pure copy.
    let _window = x.spawn(
        "xlogo",
        "xlogo",
        &[
            "-geometry",
            "240x180+20+20",
            "-bg",
            "#204080",
            "-fg",
            "#e0c040",
            "-render",
        ],
    );
    let id = poll(Duration::from_secs(15), || {
        let out = x.run("xdotool", &["search", "--onlyvisible", "--class", "xlogo"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .map(|l| l.trim().to_owned())
    })
    .expect("the xlogo window did not appear");

    let mut live = connect(
        x.port,
        ConnectOptions {
            encodings: vec![encodings::COPY_RECT, encodings::ZRLE, encodings::RAW],
            ..Default::default()
        },
    );
    // TigerVNC draws the pointer into the picture while it is somewhere
    // this client did not put it; put it in a corner, as a viewer would.
    live.client.pointer_event(1, 1, 0);
    live.wait_full_frame();
    live.assert_matches_screen(&x, &dir, "before");

    for (i, (px, py)) in [(300, 200), (120, 260), (360, 40)].iter().enumerate() {
        let out = x.run(
            "xdotool",
            &["windowmove", &id, &px.to_string(), &py.to_string()],
        );
        assert!(out.status.success());
        live.settle(Duration::from_millis(400));
        live.assert_matches_screen(&x, &dir, &format!("moved-{i}"));
    }
    let copies = live
        .client
        .stats()
        .rects
        .get(&encodings::COPY_RECT)
        .copied()
        .unwrap_or(0);
    assert!(
        copies > 0,
        "no CopyRect rectangle: {:?}",
        live.client.stats()
    );
    live.client.close();
}

#[test]
fn the_framebuffer_follows_resizes() {
    let dir = scratch_dir("updates-resize");
    let x = Xvnc::start_open(640, 480);
    let mut live = connect(x.port, ConnectOptions::default());
    live.wait_full_frame();
    assert_eq!(live.size(), (640, 480));

    // The server's own resize (RandR), announced as ExtendedDesktopSize.
    let out = x.run("xrandr", &["-s", "1024x768"]);
    assert!(
        out.status.success(),
        "xrandr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resized = live.wait_for(Duration::from_secs(10), |e| match e {
        VncEvent::Resized { width, height } => Some((*width, *height)),
        _ => None,
    });
    assert_eq!(resized, Some((1024, 768)));
    assert_eq!(live.size(), (1024, 768));
    x.run("xsetroot", &["-solid", "#8040c0"]);
    live.assert_matches_screen(&x, &dir, "xrandr");
    let ext = live
        .client
        .stats()
        .rects
        .get(&encodings::EXTENDED_DESKTOP_SIZE)
        .copied()
        .unwrap_or(0);
    assert!(
        ext >= 2,
        "expected ExtendedDesktopSize rectangles: {:?}",
        live.client.stats()
    );

    // Our own request (SetDesktopSize), as the console window does to fit
    // the guest to the window.
    assert!(live.client.features().set_desktop_size);
    assert!(live.client.set_desktop_size(800, 600));
    let resized = live.wait_for(Duration::from_secs(10), |e| match e {
        VncEvent::Resized { width, height } => Some((*width, *height)),
        VncEvent::ResizeRefused { reason } => panic!("refused: {reason}"),
        _ => None,
    });
    assert_eq!(resized, Some((800, 600)));
    let geometry = x.run("xdotool", &["getdisplaygeometry"]);
    assert_eq!(String::from_utf8_lossy(&geometry.stdout).trim(), "800 600");
    x.run("xsetroot", &["-solid", "#20a060"]);
    live.assert_matches_screen(&x, &dir, "set-desktop-size");
    live.client.close();
}

#[test]
fn continuous_updates_keep_the_screen_current() {
    let dir = scratch_dir("updates-continuous");
    let x = Xvnc::start_open(320, 240);
    let mut live = connect(
        x.port,
        ConnectOptions {
            continuous_updates: true,
            ..Default::default()
        },
    );
    live.wait_full_frame();
    assert!(
        poll(Duration::from_secs(5), || live
            .client
            .features()
            .continuous_updates
            .then_some(()))
        .is_some(),
        "Xvnc did not announce continuous updates"
    );
    for colour in ["#ff0000", "#00ff00", "#0000ff"] {
        x.run("xsetroot", &["-solid", colour]);
        live.assert_matches_screen(&x, &dir, &colour[1..]);
    }
    live.client.close();
}

#[test]
fn pointer_shape_and_pointer_input() {
    let x = Xvnc::start(
        320,
        240,
        &["-SecurityTypes", "None", "-desktop", "pointer test"],
    );
    // A visible pointer on the root window (Xvnc's own is empty).
    assert!(x
        .run("xsetroot", &["-cursor_name", "left_ptr"])
        .status
        .success());
    let plugins = Arc::new(PluginRegistry::discover_in(&[common::plugin_dir()]));
    let (tx, rx) = crossbeam_channel::unbounded();
    let client = VncClient::connect(
        Transport::Tcp {
            host: "localhost".into(),
            port: x.port,
        },
        ConnectOptions::default(),
        plugins,
        Arc::new(StaticCredentials::default()),
        move |e| {
            let _ = tx.send(e);
        },
    );
    // TigerVNC sends the shape once the pointer is where this client put
    // it (until then it draws the pointer into the picture itself).
    client.pointer_event(123, 45, 0);
    let mut name = None;
    let mut cursor = None;
    let deadline = Instant::now() + Duration::from_secs(15);
    while (name.is_none() || cursor.is_none()) && Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(VncEvent::Connected { name: n, .. }) => name = Some(n),
            Ok(VncEvent::Cursor(c)) if c.width > 0 => cursor = Some(c),
            Ok(VncEvent::Disconnected { reason, .. }) => panic!("{reason}"),
            _ => {}
        }
    }
    assert_eq!(name.as_deref(), Some("pointer test"));
    let cursor = cursor.expect("Xvnc sent no pointer shape");
    assert!(cursor.width > 0 && cursor.height > 0);
    assert_eq!(
        cursor.rgba.len(),
        (cursor.width * cursor.height * 4) as usize
    );
    assert!(
        cursor.rgba.chunks(4).any(|p| p[3] == 255),
        "the pointer is invisible"
    );

    client.pointer_event(123, 45, 0);
    let at = poll(Duration::from_secs(5), || {
        let out = x.run("xdotool", &["getmouselocation"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.starts_with("x:123 y:45 ").then_some(text)
    });
    assert!(at.is_some(), "the pointer did not move to 123,45");
    client.close();
}

#[test]
fn clipboard_both_ways_in_utf8() {
    let x = Xvnc::start_open(320, 240);
    let mut live = connect(x.port, ConnectOptions::default());
    live.wait_full_frame();
    assert!(
        poll(Duration::from_secs(5), || live
            .client
            .features()
            .extended_clipboard
            .then_some(()))
        .is_some(),
        "Xvnc did not offer Extended Clipboard"
    );

    // Ours to the server: an X client reads it from CLIPBOARD.
    let ours = "héllo wörld ✓\nsecond line";
    live.client.cut_text(ours);
    let pasted = poll(Duration::from_secs(10), || {
        let out = x.run("xclip", &["-o", "-selection", "clipboard"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (text == ours).then_some(text)
    });
    assert!(pasted.is_some(), "X did not get our clipboard");

    // The server's to us: an X client takes CLIPBOARD.
    let theirs = "ünïcødé from X ✓";
    let mut xclip = std::process::Command::new("xclip")
        .args(["-quiet", "-selection", "clipboard", "-i"])
        .env("DISPLAY", &x.display)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("xclip (package xclip)");
    {
        use std::io::Write;
        let mut stdin = xclip.stdin.take().unwrap();
        stdin.write_all(theirs.as_bytes()).unwrap();
    }
    let _xclip = common::Service {
        name: "xclip",
        child: xclip,
    };
    let got = live.wait_for(Duration::from_secs(10), |e| match e {
        VncEvent::ClipboardText(t) if t == theirs => Some(t.clone()),
        _ => None,
    });
    assert_eq!(got.as_deref(), Some(theirs), "events: {:#?}", live.seen);
    live.client.close();
}
