//! The console window on real VNC servers: TigerVNC's Xvnc (with X
//! clients in it recording what arrives) and the tiny QEMU guest through
//! libvirt. The app runs under Xvfb; the tests look at its screen, click
//! and type with xdotool, and read the accessibility tree.

mod common;
mod vnc_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{wait_for, RunningApp, Service};
use vnc_support::xservers::{make_test_picture, Xvnc};

/// The console's display area on screen and where the frame sits in it.
struct Geometry {
    /// Screen position of framebuffer pixel (0, 0).
    x: f64,
    y: f64,
    /// Screen pixels per framebuffer pixel.
    scale: f64,
}

/// GTK 4.8 reports AT-SPI positions within the window's content, without
/// the invisible margin its client-side decorations keep around it: the
/// X window's size minus the frame's, halved.
fn csd_margin(app: &RunningApp, frame: &str) -> (i32, i32) {
    let (_, _, fw, fh) = app.extents("frame", frame).expect("the frame");
    let out = app
        .command("xdotool")
        .args(["search", "--name", frame])
        .output()
        .unwrap();
    let id = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let info = app.command("xwininfo").args(["-id", &id]).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    let field = |name: &str| -> i32 {
        info.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let (xw, xh) = (field("Width:"), field("Height:"));
    let (ax, ay) = (
        field("Absolute upper-left X:"),
        field("Absolute upper-left Y:"),
    );
    (ax + (xw - fw).max(0) / 2, ay + (xh - fh).max(0) / 2)
}

fn geometry(app: &RunningApp, title: &str, fb: (u32, u32)) -> Geometry {
    let (x, y, w, h) = wait_for(Duration::from_secs(20), || {
        app.extents("image", &format!("Screen of {title}"))
    })
    .expect("the console's display is on the accessibility tree");
    let (mx, my) = csd_margin(app, &format!("{title} – Console"));
    let (x, y) = (x + mx, y + my);
    let s = (w as f64 / fb.0 as f64).min(h as f64 / fb.1 as f64);
    let ox = ((w as f64 - fb.0 as f64 * s) / 2.0).max(0.0).floor();
    let oy = ((h as f64 - fb.1 as f64 * s) / 2.0).max(0.0).floor();
    Geometry {
        x: x as f64 + ox,
        y: y as f64 + oy,
        scale: s,
    }
}

fn xvnc_console(name: &str, xvnc: &Xvnc) -> RunningApp {
    let app = RunningApp::start(name, &[&xvnc.url()]);
    let title = format!("127.0.0.1:{}", xvnc.port);
    assert!(
        app.atspi("frame", &format!("{title} – Console"), "exists", 20),
        "the console window opened"
    );
    app
}

fn xdotool(app: &RunningApp, args: &[&str]) {
    let ok = app
        .command("xdotool")
        .args(args)
        .status()
        .expect("xdotool")
        .success();
    assert!(ok, "xdotool {args:?}");
}

#[test]
fn the_console_shows_the_servers_picture_scaled() {
    let xvnc = Xvnc::start_open(800, 600);
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("picture.png");
    make_test_picture(&picture, 800, 600);
    xvnc.show_on_root(&picture);
    let truth = dir.path().join("truth.png");
    xvnc.screenshot(&truth);

    let app = xvnc_console("console_picture", &xvnc);
    let title = format!("127.0.0.1:{}", xvnc.port);
    std::thread::sleep(Duration::from_secs(2));
    let g = geometry(&app, &title, (800, 600));
    let shot = common::artifacts_dir().join("console-fit.png");
    app.x.screenshot(&shot);

    // Crop the frame out of the screen, scale the truth the same, compare.
    let (w, h) = (
        (800.0 * g.scale).round() as u32,
        (600.0 * g.scale).round() as u32,
    );
    let crop = dir.path().join("crop.png");
    let scaled = dir.path().join("scaled.png");
    let ok = Command::new("convert")
        .arg(&shot)
        .args([
            "-crop",
            &format!("{w}x{h}+{}+{}", g.x as u32, g.y as u32),
            "+repage",
        ])
        .arg(&crop)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let ok = Command::new("convert")
        .arg(&truth)
        .args(["-resize", &format!("{w}x{h}!")])
        .arg(&scaled)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let psnr = vnc_support::psnr(&crop, &scaled);
    eprintln!(
        "console at scale {:.3}: PSNR {psnr:.1} dB against the scaled server picture",
        g.scale
    );
    assert!(
        psnr > 20.0,
        "the console shows the server's picture (PSNR {psnr:.1} dB)"
    );
}

/// Opens the console's View menu and picks an item.
fn view_menu_item(app: &RunningApp, item: &str) {
    // GTK 4.8 names the menu button's inner toggle "View View".
    let opened = app.atspi("push button", "View View", "click", 5);
    assert!(opened, "the View menu button: {:?}", app.tree());
    let picked = ["radio menu item", "check menu item", "menu item"]
        .iter()
        .any(|role| app.atspi(role, item, "click", 5));
    assert!(picked, "the View menu's {item:?}: {:?}", app.tree());
}

/// Crops `w`x`h` at (x, y) of a screenshot.
fn crop(shot: &Path, out: &Path, x: i32, y: i32, w: u32, h: u32) {
    let ok = Command::new("convert")
        .arg(shot)
        .args(["-crop", &format!("{w}x{h}+{x}+{y}"), "+repage"])
        .arg(out)
        .status()
        .unwrap()
        .success();
    assert!(ok, "convert -crop");
}

#[test]
fn original_size_and_fullscreen_from_the_view_menu() {
    // Larger than the Xvfb screen, so 1:1 must scroll.
    let (fw, fh) = (1600, 1200);
    let xvnc = Xvnc::start_open(fw, fh);
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("picture.png");
    make_test_picture(&picture, fw, fh);
    xvnc.show_on_root(&picture);
    let truth = dir.path().join("truth.png");
    xvnc.screenshot(&truth);
    let app = xvnc_console("console_scaling", &xvnc);
    let title = format!("127.0.0.1:{}", xvnc.port);
    let frame = format!("{title} – Console");
    std::thread::sleep(Duration::from_secs(2));

    // 1:1: guest pixels land unscaled, from the frame's top-left corner.
    view_menu_item(&app, "Original Size (1:1)");
    std::thread::sleep(Duration::from_secs(1));
    let (x, y, w, h) = app
        .extents("image", &format!("Screen of {title}"))
        .expect("the display");
    let (mx, my) = csd_margin(&app, &frame);
    let shot = common::artifacts_dir().join("console-one-to-one.png");
    app.x.screenshot(&shot);
    let (_, _, viewport_w, viewport_h) = app.extents("frame", &frame).unwrap();
    assert!(
        w as u32 >= fw && h as u32 >= fh,
        "at 1:1 the display is the framebuffer's size ({w}x{h}), scrolled in a smaller window ({viewport_w}x{viewport_h})"
    );
    let (cw, ch) = (300, 200);
    let seen = dir.path().join("seen.png");
    let expected = dir.path().join("expected.png");
    crop(&shot, &seen, x + mx, y + my, cw, ch);
    crop(&truth, &expected, 0, 0, cw, ch);
    let psnr = vnc_support::psnr(&seen, &expected);
    eprintln!("1:1 corner: PSNR {psnr:.1} dB");
    assert!(
        psnr > 40.0,
        "at 1:1 the corner is the server's own pixels (PSNR {psnr:.1} dB)"
    );

    // Back to fit, then fullscreen: the window covers the screen. Going
    // fullscreen on X11 is the window manager's job: start one.
    common::require("openbox", "openbox");
    let _wm = Service {
        name: "openbox",
        child: app
            .command("openbox")
            .args(["--sm-disable"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    };
    std::thread::sleep(Duration::from_secs(1));
    view_menu_item(&app, "Fit to Window");
    view_menu_item(&app, "Fullscreen");
    let full = wait_for(Duration::from_secs(10), || {
        let (_, _, w, h) = app.extents("frame", &frame)?;
        // Within the 5 px margin GTK 4.8 keeps for its shadow under a
        // window manager without a compositor.
        (w >= 1270 && h >= 790).then_some((w, h))
    });
    app.x
        .screenshot(&common::artifacts_dir().join("console-fullscreen.png"));
    assert!(
        full.is_some(),
        "fullscreen covers the 1280x800 screen: {:?}",
        app.extents("frame", &frame)
    );
    std::thread::sleep(Duration::from_secs(1));
    app.x
        .screenshot(&common::artifacts_dir().join("console-fullscreen.png"));
    // The toolbar reveals at the top edge, and leaves fullscreen.
    // (y = 7: below the 5 px margin noted above, within the top 6 px.)
    xdotool(&app, &["mousemove", "640", "200"]);
    xdotool(&app, &["mousemove", "640", "7"]);
    std::thread::sleep(Duration::from_millis(800));
    app.x
        .screenshot(&common::artifacts_dir().join("console-fullscreen-toolbar.png"));
    assert!(
        app.atspi("push button", "Leave Fullscreen", "click", 5),
        "the revealed toolbar's Leave Fullscreen button"
    );
    let left = wait_for(Duration::from_secs(10), || {
        let (_, _, w, h) = app.extents("frame", &frame)?;
        (w < 1270 || h < 790).then_some(())
    });
    assert!(left.is_some(), "the window left fullscreen");
}

/// Starts `xev` on the Xvnc display, recording root-window pointer and
/// keyboard events to a file.
fn record_events(xvnc: &Xvnc, out: &Path) -> Service {
    common::require("xev", "x11-utils");
    let child = Command::new("xev")
        .args(["-root", "-event", "button", "-event", "keyboard"])
        .env("DISPLAY", &xvnc.display)
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    Service { name: "xev", child }
}

#[test]
fn clicks_and_keys_arrive_where_they_should() {
    let xvnc = Xvnc::start_open(800, 600);
    let events = tempfile::NamedTempFile::new().unwrap();
    let _xev = record_events(&xvnc, events.path());
    let app = xvnc_console("console_input", &xvnc);
    let title = format!("127.0.0.1:{}", xvnc.port);
    std::thread::sleep(Duration::from_secs(1));
    let g = geometry(&app, &title, (800, 600));

    // A click at framebuffer (400, 300) and one at (100, 500).
    for (fx, fy) in [(400.0, 300.0), (100.0, 500.0)] {
        let sx = (g.x + (fx + 0.5) * g.scale) as i32;
        let sy = (g.y + (fy + 0.5) * g.scale) as i32;
        xdotool(
            &app,
            &["mousemove", &sx.to_string(), &sy.to_string(), "click", "1"],
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // The click grabbed the keyboard for the guest: type.
    xdotool(&app, &["type", "--delay", "80", "hello"]);
    let seen = wait_for(Duration::from_secs(10), || {
        let log = std::fs::read_to_string(events.path()).ok()?;
        (log.matches("KeyRelease").count() >= 5).then_some(log)
    })
    .expect("the keys arrived");

    let clicks: Vec<(f64, f64)> = seen
        .split("ButtonPress event")
        .skip(1)
        .filter_map(|ev| {
            let root = ev.split("root:(").nth(1)?;
            let (x, rest) = root.split_once(',')?;
            let y = rest.trim().split(')').next()?;
            Some((x.trim().parse().ok()?, y.trim().parse().ok()?))
        })
        .collect();
    assert_eq!(clicks.len(), 2, "{seen}");
    for ((x, y), (fx, fy)) in clicks.iter().zip([(400.0, 300.0), (100.0, 500.0)]) {
        // One screen pixel is 1/scale framebuffer pixels.
        let tolerance = (1.0 / g.scale).ceil() + 1.0;
        assert!(
            (x - fx).abs() <= tolerance && (y - fy).abs() <= tolerance,
            "click at ({x}, {y}), meant ({fx}, {fy})"
        );
    }
    let keys: Vec<&str> = seen
        .split("KeyPress event")
        .skip(1)
        .filter_map(|ev| {
            ev.split("keysym 0x")
                .nth(1)?
                .split(", ")
                .nth(1)?
                .split(')')
                .next()
        })
        .collect();
    assert_eq!(keys, ["h", "e", "l", "l", "o"], "{seen}");
}

fn xclip(display: &str, input: Option<&str>) -> String {
    common::require("xclip", "xclip");
    let mut cmd = Command::new("xclip");
    cmd.args(["-selection", "clipboard"])
        .env("DISPLAY", display);
    match input {
        Some(text) => {
            cmd.arg("-i")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            // xclip stays to serve the selection: leave it running.
            std::mem::forget(child);
            String::new()
        }
        None => {
            let out = cmd.arg("-o").output().unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    }
}

#[test]
fn the_clipboard_goes_both_ways() {
    let xvnc = Xvnc::start_open(640, 480);
    let app = xvnc_console("console_clipboard", &xvnc);
    std::thread::sleep(Duration::from_secs(1));

    xclip(&xvnc.display, Some("from the guest ✓"));
    let got = wait_for(Duration::from_secs(15), || {
        let t = xclip(&app.x.display, None);
        (t == "from the guest ✓").then_some(t)
    });
    assert!(got.is_some(), "the guest's clipboard reached the desktop");

    xclip(&app.x.display, Some("from the desktop ✓"));
    let got = wait_for(Duration::from_secs(15), || {
        let t = xclip(&xvnc.display, None);
        (t == "from the desktop ✓").then_some(t)
    });
    assert!(got.is_some(), "the desktop's clipboard reached the guest");
    let _ = Command::new("pkill")
        .args(["-f", "xclip -selection clipboard -i"])
        .status();
}

#[test]
fn losing_the_server_shows_why_and_reconnect_works() {
    let xvnc = Xvnc::start_open(640, 480);
    let port = xvnc.port;
    let app = xvnc_console("console_reconnect", &xvnc);
    std::thread::sleep(Duration::from_secs(1));
    drop(xvnc);
    let shown = wait_for(Duration::from_secs(15), || {
        let names: Vec<String> = app.tree().into_iter().map(|(_, n)| n).collect();
        names.iter().any(|n| n == "Disconnected").then_some(names)
    })
    .expect("the window says it is disconnected");
    assert!(
        shown
            .iter()
            .any(|n| n.contains("closed") || n.contains("connection")),
        "and why: {shown:?}"
    );
    app.x
        .screenshot(&common::artifacts_dir().join("console-disconnected.png"));

    // The same server again, on the same port.
    let log = common::artifacts_dir().join("console_reconnect_xvnc.log");
    let child = Command::new("Xvnc")
        .args([
            ":77",
            "-geometry",
            "640x480",
            "-depth",
            "24",
            "-rfbport",
            &port.to_string(),
        ])
        .args([
            "-localhost",
            "-nolisten",
            "tcp",
            "-SecurityTypes",
            "None",
            "-AlwaysShared",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let _again = Service {
        name: "Xvnc",
        child,
    };
    assert!(vnc_support::wait_for_port(port, Duration::from_secs(10)));
    assert!(app.atspi("push button", "Reconnect|Reconnect Reconnect", "click", 10));
    let back = wait_for(Duration::from_secs(15), || {
        app.tree()
            .iter()
            .any(|(_, n)| n == "Not encrypted")
            .then_some(())
    });
    assert!(back.is_some(), "connected again");
}

#[test]
fn the_tiny_guests_console_shows_seabios_and_takes_ctrl_alt_del() {
    let guest = common::TinyGuest::define("console");
    common::virsh(&["start", &guest.name]);
    let app = RunningApp::start("console_qemu", &["--connect", "qemu:///system"]);
    let uri = app.first_uri();
    let (ok, out) = app.gdbus(&["ShowConsole", &uri, &guest.name]);
    assert!(ok, "{out}");
    assert!(app.atspi("frame", &format!("{} – Console", guest.name), "exists", 20));
    let shown = wait_for(Duration::from_secs(20), || {
        app.tree()
            .iter()
            .any(|(_, n)| n == "Not encrypted")
            .then_some(())
    });
    assert!(shown.is_some(), "the console connected through libvirt");
    std::thread::sleep(Duration::from_secs(3));

    // The picture: the SeaBIOS text screen, as virsh sees it.
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("virsh.png");
    common::virsh(&["screenshot", &guest.name, truth.to_str().unwrap()]);
    let (fw, fh) = png_size(&truth);
    let g = geometry(&app, &guest.name, (fw, fh));
    let shot = common::artifacts_dir().join("console-seabios.png");
    app.x.screenshot(&shot);
    let (w, h) = (
        (fw as f64 * g.scale).round() as u32,
        (fh as f64 * g.scale).round() as u32,
    );
    let crop = dir.path().join("crop.png");
    let scaled = dir.path().join("scaled.png");
    assert!(Command::new("convert")
        .arg(&shot)
        .args([
            "-crop",
            &format!("{w}x{h}+{}+{}", g.x as u32, g.y as u32),
            "+repage"
        ])
        .arg(&crop)
        .status()
        .unwrap()
        .success());
    assert!(Command::new("convert")
        .arg(&truth)
        .args(["-resize", &format!("{w}x{h}!")])
        .arg(&scaled)
        .status()
        .unwrap()
        .success());
    let psnr = vnc_support::psnr(&crop, &scaled);
    eprintln!("SeaBIOS screen: PSNR {psnr:.1} dB");
    assert!(
        psnr > 18.0,
        "the console shows what virsh screenshot shows ({psnr:.1} dB)"
    );

    // Send Key > Ctrl+Alt+Del: SeaBIOS resets; libvirt reports a reboot.
    let mut watch = Command::new("virsh")
        .args([
            "-c",
            "qemu:///system",
            "event",
            &guest.name,
            "--event",
            "reboot",
            "--timeout",
            "30",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut rebooted = false;
    for _ in 0..5 {
        assert!(
            app.atspi("toggle button", "Send Key|Send Key Send Key", "click", 10)
                || app.click_at("push button", "Send Key")
        );
        assert!(
            app.atspi("menu item", "Ctrl+Alt+Del", "click", 10),
            "the Send Key menu item"
        );
        std::thread::sleep(Duration::from_secs(2));
        if let Ok(Some(_)) = watch.try_wait() {
            rebooted = true;
            break;
        }
    }
    let out = watch.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        rebooted || text.contains("reboot"),
        "the guest reset: {text}"
    );
}

fn png_size(path: &Path) -> (u32, u32) {
    let out = Command::new("identify")
        .args(["-format", "%w %h"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|n| n.parse::<u32>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}
