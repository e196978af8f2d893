//! Direct painting into the window's X drawable (see the module comment
//! of `display.rs`). Xlib, cairo-xlib and GDK's X11 functions are looked
//! up in the process (GTK has loaded them all), so nothing links against
//! X11 and other backends simply never get here.

use std::ffi::{c_int, c_ulong, c_void};
use std::sync::OnceLock;

use relm4::gtk;
use relm4::gtk::glib::translate::ToGlibPtr;
use relm4::gtk::prelude::*;
use relm4::gtk::subclass::prelude::*;
use relm4::gtk::{cairo, gdk};

use super::{imp, Display, MAX_RECTS, OBSTRUCTION_MARGIN, TILE};
use crate::vnc::Damage;

/// Xlib's XWindowAttributes (only `visual` is read).
#[repr(C)]
struct XWindowAttributes {
    x: c_int,
    y: c_int,
    width: c_int,
    height: c_int,
    border_width: c_int,
    depth: c_int,
    visual: *mut c_void,
    root: c_ulong,
    class: c_int,
    bit_gravity: c_int,
    win_gravity: c_int,
    backing_store: c_int,
    backing_planes: c_ulong,
    backing_pixel: c_ulong,
    save_under: c_int,
    colormap: c_ulong,
    map_installed: c_int,
    map_state: c_int,
    all_event_masks: std::ffi::c_long,
    your_event_mask: std::ffi::c_long,
    do_not_propagate_mask: std::ffi::c_long,
    override_redirect: c_int,
    screen: *mut c_void,
}

type XDisplayFn = unsafe extern "C" fn(*mut gdk::ffi::GdkDisplay) -> *mut c_void;
type XidFn = unsafe extern "C" fn(*mut gdk::ffi::GdkSurface) -> c_ulong;
type TrapFn = unsafe extern "C" fn(*mut gdk::ffi::GdkDisplay);
type AttributesFn = unsafe extern "C" fn(*mut c_void, c_ulong, *mut XWindowAttributes) -> c_int;
type FlushFn = unsafe extern "C" fn(*mut c_void) -> c_int;
type XlibSurfaceFn = unsafe extern "C" fn(
    *mut c_void,
    c_ulong,
    *mut c_void,
    c_int,
    c_int,
) -> *mut cairo::ffi::cairo_surface_t;

struct Fns {
    xdisplay: XDisplayFn,
    xid: XidFn,
    trap_push: TrapFn,
    trap_pop_ignored: TrapFn,
    window_attributes: AttributesFn,
    flush: FlushFn,
    xlib_surface_create: XlibSurfaceFn,
}

fn fns() -> Option<&'static Fns> {
    static FNS: OnceLock<Option<Fns>> = OnceLock::new();
    FNS.get_or_init(|| {
        fn sym(name: &str) -> Option<*mut c_void> {
            let name = std::ffi::CString::new(name).ok()?;
            // SAFETY: dlsym on the global namespace, NUL-terminated name.
            let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
            (!p.is_null()).then_some(p)
        }
        use std::mem::transmute;
        // SAFETY: each symbol has the C signature of the field it fills
        // (GDK 4's gdkx.h, Xlib.h, cairo-xlib.h).
        unsafe {
            Some(Fns {
                xdisplay: transmute::<*mut c_void, XDisplayFn>(sym(
                    "gdk_x11_display_get_xdisplay",
                )?),
                xid: transmute::<*mut c_void, XidFn>(sym("gdk_x11_surface_get_xid")?),
                trap_push: transmute::<*mut c_void, TrapFn>(sym(
                    "gdk_x11_display_error_trap_push",
                )?),
                trap_pop_ignored: transmute::<*mut c_void, TrapFn>(sym(
                    "gdk_x11_display_error_trap_pop_ignored",
                )?),
                window_attributes: transmute::<*mut c_void, AttributesFn>(sym(
                    "XGetWindowAttributes",
                )?),
                flush: transmute::<*mut c_void, FlushFn>(sym("XFlush")?),
                xlib_surface_create: transmute::<*mut c_void, XlibSurfaceFn>(sym(
                    "cairo_xlib_surface_create",
                )?),
            })
        }
    })
    .as_ref()
}

/// The X visual of each window painted into (one round trip per
/// window, not per update).
fn visual(fns: &Fns, dpy: *mut c_void, xid: c_ulong) -> Option<*mut c_void> {
    thread_local! {
        static VISUALS: std::cell::RefCell<Vec<(usize, c_ulong, usize)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    VISUALS.with(|v| {
        let mut v = v.borrow_mut();
        if let Some((_, _, visual)) = v.iter().find(|(d, w, _)| *d == dpy as usize && *w == xid) {
            return Some(*visual as *mut c_void);
        }
        // SAFETY: a zeroed plain C struct filled by Xlib for a window
        // GDK owns and keeps alive while its surface exists.
        let mut attrs: XWindowAttributes = unsafe { std::mem::zeroed() };
        let ok = unsafe { (fns.window_attributes)(dpy, xid, &mut attrs) };
        if ok == 0 || attrs.visual.is_null() {
            return None;
        }
        if v.len() > 16 {
            v.remove(0);
        }
        v.push((dpy as usize, xid, attrs.visual as usize));
        Some(attrs.visual)
    })
}

fn rect_int(x0: f64, y0: f64, x1: f64, y1: f64) -> cairo::RectangleInt {
    cairo::RectangleInt::new(
        x0 as i32,
        y0 as i32,
        (x1 - x0).max(0.0) as i32,
        (y1 - y0).max(0.0) as i32,
    )
}

/// The part of the widget that is really on screen, in device pixels
/// of its surface: inside every ancestor, minus everything drawn over
/// it.
fn visible_region(obj: &Display, native: &gtk::Native, scale: i32) -> Option<cairo::Region> {
    let scale = scale as f64;
    let (tx, ty) = native.surface_transform();
    let native_w: &gtk::Widget = native.upcast_ref();
    let bounds = obj.compute_bounds(native_w)?;
    let (mut x0, mut y0) = (bounds.x() as f64, bounds.y() as f64);
    let (mut x1, mut y1) = (x0 + bounds.width() as f64, y0 + bounds.height() as f64);
    let mut obstructions = Vec::new();
    let mut child: gtk::Widget = obj.clone().upcast();
    while let Some(parent) = child.parent() {
        if let Some(b) = parent.compute_bounds(native_w) {
            x0 = x0.max(b.x() as f64);
            y0 = y0.max(b.y() as f64);
            x1 = x1.min((b.x() + b.width()) as f64);
            y1 = y1.min((b.y() + b.height()) as f64);
        }
        // Drawn over the display: later siblings (overlays, toasts,
        // the fullscreen bar) and scrollbars while they show. Earlier
        // siblings are drawn before it, so its pixels win there.
        let mut later = false;
        let mut sibling = parent.first_child();
        while let Some(c) = sibling {
            if c == child {
                later = true;
            } else if (later || c.is::<gtk::Scrollbar>()) && c.is_drawable() && c.opacity() > 0.0 {
                if let Some(b) = c.compute_bounds(native_w) {
                    if b.width() > 0.0 && b.height() > 0.0 {
                        obstructions.push(b);
                    }
                }
            }
            sibling = c.next_sibling();
        }
        if parent == *native_w {
            break;
        }
        child = parent;
    }
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    // Visible: rounded inwards; obstructions: outwards, with margin.
    let to_dev = |v: f64, t: f64| (v + t) * scale;
    let region = cairo::Region::create_rectangle(&rect_int(
        to_dev(x0, tx).ceil(),
        to_dev(y0, ty).ceil(),
        to_dev(x1, tx).floor(),
        to_dev(y1, ty).floor(),
    ));
    for b in obstructions {
        let m = OBSTRUCTION_MARGIN;
        let (bx0, by0) = (b.x() as f64 - m, b.y() as f64 - m);
        let (bx1, by1) = (
            (b.x() + b.width()) as f64 + m,
            (b.y() + b.height()) as f64 + m,
        );
        if bx1 <= x0 || by1 <= y0 || bx0 >= x1 || by0 >= y1 {
            continue;
        }
        region
            .subtract_rectangle(&rect_int(
                to_dev(bx0, tx).floor(),
                to_dev(by0, ty).floor(),
                to_dev(bx1, tx).ceil(),
                to_dev(by1, ty).ceil(),
            ))
            .ok()?;
    }
    Some(region)
}

/// The damage clipped to the frame, as (x, y, w, h); many rectangles
/// become one bounding box per tile.
fn merge(damage: &[Damage], fw: u32, fh: u32) -> Vec<(u32, u32, u32, u32)> {
    let clipped = damage.iter().filter_map(|d| {
        let (x0, y0) = (d.x.min(fw), d.y.min(fh));
        let (x1, y1) = (
            d.x.saturating_add(d.width).min(fw),
            d.y.saturating_add(d.height).min(fh),
        );
        (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
    });
    let rects: Vec<_> = clipped.collect();
    if rects.len() <= MAX_RECTS {
        return rects
            .into_iter()
            .map(|(x0, y0, x1, y1)| (x0, y0, x1 - x0, y1 - y0))
            .collect();
    }
    let cols = fw.div_ceil(TILE);
    let mut boxes: Vec<Option<(u32, u32, u32, u32)>> =
        vec![None; (cols * fh.div_ceil(TILE)) as usize];
    for (x0, y0, x1, y1) in rects {
        for ty in y0 / TILE..=(y1 - 1) / TILE {
            for tx in x0 / TILE..=(x1 - 1) / TILE {
                let (bx0, by0) = (x0.max(tx * TILE), y0.max(ty * TILE));
                let (bx1, by1) = (x1.min((tx + 1) * TILE), y1.min((ty + 1) * TILE));
                let b = &mut boxes[(ty * cols + tx) as usize];
                *b = Some(match *b {
                    None => (bx0, by0, bx1, by1),
                    Some((a, b, c, d)) => (a.min(bx0), b.min(by0), c.max(bx1), d.max(by1)),
                });
            }
        }
    }
    boxes
        .into_iter()
        .flatten()
        .map(|(x0, y0, x1, y1)| (x0, y0, x1 - x0, y1 - y0))
        .collect()
}

/// Paints `damage` from the framebuffer into the window. None: not
/// possible now (GTK must draw it); Some(false): painted, but part of
/// it is covered and needs GTK too; Some(true): done.
pub(super) fn paint(obj: &Display, damage: &[Damage]) -> Option<bool> {
    let imp = obj.imp();
    if imp.paint.get() != Some(imp::Paint::Cairo) || !obj.is_drawable() {
        return None;
    }
    let fns = fns()?;
    let native = obj.native()?;
    let surface = native.surface()?;
    let display = surface.display();
    if !display.type_().name().starts_with("GdkX11") {
        return None;
    }
    // GTK last drew the widget where it is now, at this geometry.
    let origin = super::surface_origin(obj)?;
    if imp.drawn_at.get() != Some(origin) {
        return None;
    }
    let (ox, oy, s) = obj.transform();
    if imp.node_geometry.get() != Some((ox, oy, s, obj.width(), obj.height())) {
        return None;
    }
    let fb = imp.framebuffer.borrow().clone()?;
    let (fw, fh) = imp.size.get();
    let region = visible_region(obj, &native, origin.2)?;
    if region.is_empty() {
        return None;
    }
    let (sx, sy, scale) = origin;
    let dev = scale as f64;
    let exact = (s * scale as f32 - 1.0).abs() < 1e-4;
    let rects = merge(damage, fw, fh);
    if rects.is_empty() {
        return Some(true);
    }
    // Device-pixel rectangle of framebuffer rectangle (x, y, w, h).
    let dest = |x: u32, y: u32, w: u32, h: u32| {
        let fx = |v: u32| (sx + ox as f64 + v as f64 * s as f64) * dev;
        let fy = |v: u32| (sy + oy as f64 + v as f64 * s as f64) * dev;
        rect_int(
            fx(x).floor(),
            fy(y).floor(),
            fx(x + w).ceil(),
            fy(y + h).ceil(),
        )
    };
    let complete = rects.iter().all(|&(x, y, w, h)| {
        region.contains_rectangle(&dest(x, y, w, h)) == cairo::RegionOverlap::In
    });

    let gdk_display: *mut gdk::ffi::GdkDisplay = display.to_glib_none().0;
    let gdk_surface: *mut gdk::ffi::GdkSurface = surface.to_glib_none().0;
    // SAFETY: X11 display and surface (checked above), alive for this
    // call; errors are trapped (GDK would exit on an untrapped one).
    unsafe {
        (fns.trap_push)(gdk_display);
    }
    let painted = (|| {
        // SAFETY: as above.
        let (dpy, xid) = unsafe { ((fns.xdisplay)(gdk_display), (fns.xid)(gdk_surface)) };
        if dpy.is_null() || xid == 0 {
            return None;
        }
        let visual = visual(fns, dpy, xid)?;
        let (w, h) = (surface.width() * scale, surface.height() * scale);
        // SAFETY: a live window of this display with its own visual.
        let target = unsafe {
            cairo::Surface::from_raw_full((fns.xlib_surface_create)(dpy, xid, visual, w, h))
        }
        .ok()?;
        let cr = cairo::Context::new(&target).ok()?;
        for i in 0..region.num_rectangles() {
            let r = region.rectangle(i);
            cr.rectangle(
                r.x() as f64,
                r.y() as f64,
                r.width() as f64,
                r.height() as f64,
            );
        }
        cr.clip();
        // Widget coordinates from here on.
        cr.scale(dev, dev);
        cr.translate(sx, sy);
        let fb = fb.lock().unwrap_or_else(|p| p.into_inner());
        if (fb.width, fb.height) != (fw, fh) {
            return None;
        }
        let stride = (fb.stride * 4) as i32;
        // Surfaces over the framebuffer's own memory, finished before
        // the lock is let go.
        let view = |x: u32, y: u32, w: u32, h: u32| {
            let row = fb.row(y);
            let p = row[x as usize..].as_ptr() as *mut u8;
            // SAFETY: w x h pixels from (x, y) lie inside the locked
            // framebuffer (rows `stride` words apart); cairo only reads
            // a source, and the surface is finished before unlocking.
            unsafe {
                cairo::ImageSurface::create_for_data_unsafe(
                    p,
                    cairo::Format::Rgb24,
                    w as i32,
                    h as i32,
                    stride,
                )
            }
            .ok()
        };
        let mut views = Vec::new();
        if exact {
            // One guest pixel per device pixel: copy the rectangles.
            cr.translate(ox as f64, oy as f64);
            cr.scale(s as f64, s as f64);
            for &(x, y, w, h) in &rects {
                let Some(v) = view(x, y, w, h) else { continue };
                let _ = cr.set_source_surface(&v, x as f64, y as f64);
                cr.source().set_filter(cairo::Filter::Nearest);
                cr.set_operator(cairo::Operator::Source);
                cr.rectangle(x as f64, y as f64, w as f64, h as f64);
                let _ = cr.fill();
                views.push(v);
            }
        } else {
            // Scaled: each touched tile as its node draws it, clipped
            // to the damage.
            let cols = fw.div_ceil(TILE);
            let rows = fh.div_ceil(TILE);
            for i in 0..(cols * rows) as usize {
                let (tx, ty) = ((i as u32 % cols) * TILE, (i as u32 / cols) * TILE);
                let (tw, th) = (TILE.min(fw - tx), TILE.min(fh - ty));
                let hits: Vec<_> = rects
                    .iter()
                    .filter(|&&(x, y, w, h)| x < tx + tw && x + w > tx && y < ty + th && y + h > ty)
                    .collect();
                if hits.is_empty() {
                    continue;
                }
                let Some(v) = view(tx, ty, tw, th) else {
                    continue;
                };
                let (_, _, rect) = imp::tile_rect(obj, i, fw, fh);
                cr.save().ok();
                for &&(x, y, w, h) in &hits {
                    let d = dest(x, y, w, h);
                    cr.rectangle(
                        d.x() as f64 / dev - sx,
                        d.y() as f64 / dev - sy,
                        d.width() as f64 / dev,
                        d.height() as f64 / dev,
                    );
                }
                cr.clip();
                imp::paint_tile(&cr, &v, tw, th, &rect, false);
                cr.restore().ok();
                views.push(v);
            }
        }
        drop(cr);
        for v in &views {
            v.finish();
        }
        drop(views);
        drop(fb);
        target.flush();
        target.finish();
        // SAFETY: the display connection GDK uses on this thread.
        unsafe {
            (fns.flush)(dpy);
        }
        Some(())
    })();
    // SAFETY: pairs the push above.
    unsafe {
        (fns.trap_pop_ignored)(gdk_display);
    }
    painted.map(|()| complete)
}
