//! The console's display: paints the RFB framebuffer and turns pointer
//! events into framebuffer coordinates.
//!
//! Painting: the framebuffer is cut into 256x256 tiles; an update rebuilds
//! only the tiles it touched, so a small change never copies the whole
//! frame (GTK 4.8 has no GdkMemoryTextureBuilder to update a texture in
//! place). How a tile is held depends on the renderer drawing the window,
//! as tools/bench-console.sh measured:
//!
//! - GL (and Vulkan) renderers: a `GdkMemoryTexture` per tile, uploaded by
//!   GTK.
//! - The cairo renderer: a cairo RGB24 image surface per tile (its pixel
//!   word is the framebuffer's own 0x00RRGGBB), drawn by a cached cairo
//!   render node. GTK 4.8's cairo renderer draws a texture by converting
//!   every pixel to float and back; that loop was 60% of the console's CPU.
//!   Cached nodes also let GTK's node diff repaint only changed tiles.
//!   Each tile has two surfaces used in turn: the one being refilled is
//!   never the one the previous frame's nodes still hold, which would make
//!   cairo copy it first (copy-on-write of the recorded source).
//!
//! Direct painting (cairo renderer on X11): an update is painted straight
//! into the window's X drawable (cairo-xlib, from the framebuffer under
//! its lock) as soon as it arrives, instead of waiting for GTK's frame
//! clock. On X11 without a compositor that clock runs at most every
//! 16.7 ms (rounded to whole milliseconds), which against a 60 Hz guest
//! added 10 ms median latency, dropped frames, and cost a full GTK frame
//! (new window-sized image, node replay, upload) per update; see
//! tools/bench-console.sh. GTK's own picture stays right: the tiles stay
//! dirty, and the next frame GTK draws for any other reason (an overlay,
//! an expose, a resize) takes them first (a `before-paint` hook queues our
//! redraw). Only the part of the widget that is really visible is painted
//! directly: anything drawn over it (toasts, hints, the fullscreen bar,
//! scrollbars) and anything outside an ancestor's clip is left to GTK,
//! which gets a normal redraw for it. `VIRT_MANAGER_DISPLAY_DIRECT=0`
//! turns direct painting off.
//!
//! A GtkGLArea with glTexSubImage2D (display_gl.rs, opt-in with
//! `VIRT_MANAGER_DISPLAY=gl`) lost to both here (llvmpipe): GTK 4.8 reads
//! its texture back for the cairo renderer, and with the GL renderer every
//! repaint is software-rendered anyway.
//!
//! Geometry: in Fit mode the frame is scaled to the widget, keeping its
//! aspect, centred; in 1:1 mode one guest pixel is one *device* pixel
//! (crisp on HiDPI) and the widget asks for that size, inside a scrolled
//! window. [`Display::to_framebuffer`] inverts the mapping for pointers.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};

use relm4::gtk;
use relm4::gtk::prelude::*;
use relm4::gtk::subclass::prelude::*;
use relm4::gtk::{gdk, glib, graphene};

use relm4::gtk::{cairo, gsk};

use crate::vnc::{Damage, Framebuffer};

/// Damage rectangles painted one by one at most; beyond that, one
/// bounding box per tile.
const MAX_RECTS: usize = 32;

/// Room left around widgets drawn over the display (their shadows).
const OBSTRUCTION_MARGIN: f64 = 16.0;

/// Tile edge in framebuffer pixels.
pub const TILE: u32 = 256;

/// How the frame is fitted into the widget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scaling {
    /// Scaled to the widget, keeping its aspect.
    #[default]
    Fit,
    /// One framebuffer pixel per device pixel.
    OneToOne,
}

mod imp {
    use super::*;

    /// How tiles are held: see the module comment.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Paint {
        Textures,
        Cairo,
    }

    /// Where the cached cairo nodes were drawn: (ox, oy, scale, width,
    /// height); any change redraws them.
    pub type NodeGeometry = (f32, f32, f32, i32, i32);

    #[derive(Default)]
    pub struct Display {
        pub framebuffer: RefCell<Option<Arc<Mutex<Framebuffer>>>>,
        /// (width, height) the tiles were made for.
        pub size: Cell<(u32, u32)>,
        pub paint: Cell<Option<Paint>>,
        pub tiles: RefCell<Vec<Option<gdk::Texture>>>,
        /// Two surfaces per tile, used in turn; `front` says which one the
        /// tile's node shows.
        pub surfaces: RefCell<Vec<[Option<cairo::ImageSurface>; 2]>>,
        pub front: RefCell<Vec<u8>>,
        pub nodes: RefCell<Vec<Option<gsk::RenderNode>>>,
        pub node_geometry: Cell<Option<NodeGeometry>>,
        pub dirty: RefCell<Vec<bool>>,
        pub scaling: Cell<Scaling>,
        /// Tiles rebuilt since start (for the benchmark and tests).
        pub tiles_built: Cell<u64>,
        /// Where GTK last drew the widget: its origin in surface
        /// coordinates and the surface's scale. Direct painting needs the
        /// window to show the widget where it is now.
        pub drawn_at: Cell<Option<(f64, f64, i32)>>,
        /// Damage waiting for the direct painter.
        pub pending: RefCell<Vec<Damage>>,
        pub flush_source: RefCell<Option<glib::SourceId>>,
        /// Tiles were painted directly since GTK last took them.
        pub stale: Cell<bool>,
        pub before_paint: RefCell<Option<(gdk::FrameClock, glib::SignalHandlerId)>>,
        /// Updates painted directly since start (for tests).
        pub direct_paints: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Display {
        const NAME: &'static str = "VmmDisplay";
        type Type = super::Display;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("vncdisplay");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    impl ObjectImpl for Display {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_focusable(true);
            obj.set_can_focus(true);
            obj.set_overflow(gtk::Overflow::Hidden);
            obj.add_css_class("console-display");
        }
    }

    impl WidgetImpl for Display {
        fn realize(&self) {
            self.parent_realize();
            let obj = self.obj();
            if let Some(clock) = obj.frame_clock() {
                // A frame GTK draws anyway takes the directly painted tiles
                // (queue_draw before the paint phase counts for this frame).
                let weak = obj.downgrade();
                let id = clock.connect_before_paint(move |_| {
                    if let Some(d) = weak.upgrade() {
                        if d.imp().stale.get() {
                            d.queue_draw();
                        }
                    }
                });
                *self.before_paint.borrow_mut() = Some((clock, id));
            }
        }

        fn unrealize(&self) {
            if let Some((clock, id)) = self.before_paint.borrow_mut().take() {
                clock.disconnect(id);
            }
            if let Some(id) = self.flush_source.borrow_mut().take() {
                id.remove();
            }
            self.pending.borrow_mut().clear();
            self.drawn_at.set(None);
            self.parent_unrealize();
        }

        fn unmap(&self) {
            // Nothing is on screen to paint over until GTK draws again.
            self.drawn_at.set(None);
            self.parent_unmap();
        }

        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            let (w, h) = self.size.get();
            let natural = match self.scaling.get() {
                // 1:1 in device pixels is 1/scale in logical pixels.
                Scaling::OneToOne => {
                    let scale = self.obj().scale_factor().max(1) as u32;
                    if orientation == gtk::Orientation::Horizontal {
                        w.div_ceil(scale)
                    } else {
                        h.div_ceil(scale)
                    }
                }
                Scaling::Fit => 0,
            } as i32;
            let minimum = if self.scaling.get() == Scaling::OneToOne {
                natural
            } else {
                0
            };
            (minimum, natural.max(minimum), -1, -1)
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let obj = self.obj();
            let (ww, wh) = (obj.width() as f32, obj.height() as f32);
            self.stale.set(false);
            self.drawn_at.set(super::surface_origin(&obj));
            let (fw, fh) = self.size.get();
            if fw == 0 || fh == 0 {
                snapshot.append_color(&gdk::RGBA::BLACK, &graphene::Rect::new(0.0, 0.0, ww, wh));
                return;
            }
            // Black around the frame only: under it, painting black first
            // would cost a fill of the whole frame on every repaint.
            let (x0, y0, x1, y1) = frame_rect(&obj, fw, fh);
            for (x, y, w, h) in [
                (0.0, 0.0, ww, y0),
                (0.0, y1, ww, wh - y1),
                (0.0, y0, x0, y1 - y0),
                (x1, y0, ww - x1, y1 - y0),
            ] {
                if w > 0.0 && h > 0.0 {
                    snapshot.append_color(&gdk::RGBA::BLACK, &graphene::Rect::new(x, y, w, h));
                }
            }
            let paint = self.paint_for_renderer();
            if self.paint.get() != Some(paint) {
                // A new window or renderer: every tile is rebuilt its way.
                self.paint.set(Some(paint));
                self.dirty.borrow_mut().fill(true);
                self.node_geometry.set(None);
            }
            match paint {
                Paint::Textures => self.snapshot_textures(snapshot),
                Paint::Cairo => self.snapshot_cairo(snapshot),
            }
        }
    }

    /// The frame's rectangle (x0, y0, x1, y1) in widget coordinates, edges
    /// on whole device pixels as the tiles' are.
    fn frame_rect(obj: &super::Display, fw: u32, fh: u32) -> (f32, f32, f32, f32) {
        let (ox, oy, s) = obj.transform();
        let dev = obj.scale_factor().max(1) as f32;
        let snap = |v: f32| (v * dev).round() / dev;
        (
            snap(ox),
            snap(oy),
            snap(ox + fw as f32 * s),
            snap(oy + fh as f32 * s),
        )
    }

    /// Tile (i)'s rectangle in widget coordinates, edges on whole device
    /// pixels: scaled tiles that meet at fractions leave hairline seams.
    pub(super) fn tile_rect(
        obj: &super::Display,
        i: usize,
        fw: u32,
        fh: u32,
    ) -> (u32, u32, graphene::Rect) {
        let (ox, oy, s) = obj.transform();
        let cols = fw.div_ceil(TILE);
        let (tx, ty) = ((i as u32 % cols) * TILE, (i as u32 / cols) * TILE);
        let (w, h) = (TILE.min(fw - tx), TILE.min(fh - ty));
        let dev = obj.scale_factor().max(1) as f32;
        let snap = |v: f32| (v * dev).round() / dev;
        let (x0, y0) = (snap(ox + tx as f32 * s), snap(oy + ty as f32 * s));
        let x1 = snap(ox + (tx + w) as f32 * s);
        let y1 = snap(oy + (ty + h) as f32 * s);
        (w, h, graphene::Rect::new(x0, y0, x1 - x0, y1 - y0))
    }

    /// Paints a tile's pixels (`w` x `h`, at its origin) into `rect`, as
    /// its node does and as direct painting does.
    pub(super) fn paint_tile(
        cr: &cairo::Context,
        surface: &cairo::Surface,
        w: u32,
        h: u32,
        rect: &graphene::Rect,
        exact: bool,
    ) {
        cr.save().ok();
        cr.translate(rect.x() as f64, rect.y() as f64);
        cr.scale(
            (rect.width() / w as f32) as f64,
            (rect.height() / h as f32) as f64,
        );
        // Errors leave the tile black until the next update.
        let _ = cr.set_source_surface(surface, 0.0, 0.0);
        let source = cr.source();
        source.set_filter(if exact {
            cairo::Filter::Nearest
        } else {
            cairo::Filter::Good
        });
        // Scaled sampling at a tile's edge reads beyond it: repeat the
        // edge pixels rather than fade to black seams.
        source.set_extend(cairo::Extend::Pad);
        cr.set_operator(cairo::Operator::Source);
        cr.rectangle(0.0, 0.0, w as f64, h as f64);
        let _ = cr.fill();
        cr.restore().ok();
    }

    impl Display {
        pub(super) fn paint_for_renderer(&self) -> Paint {
            let cairo = self
                .obj()
                .native()
                .and_then(|n| n.renderer())
                .is_some_and(|r| r.is::<gsk::CairoRenderer>());
            if cairo {
                Paint::Cairo
            } else {
                Paint::Textures
            }
        }

        fn snapshot_textures(&self, snapshot: &gtk::Snapshot) {
            self.rebuild_dirty_tiles();
            let obj = self.obj();
            let (fw, fh) = self.size.get();
            for (i, tile) in self.tiles.borrow().iter().enumerate() {
                if let Some(tex) = tile {
                    snapshot.append_texture(tex, &tile_rect(&obj, i, fw, fh).2);
                }
            }
        }

        fn snapshot_cairo(&self, snapshot: &gtk::Snapshot) {
            let obj = self.obj();
            let (fw, fh) = self.size.get();
            let (ox, oy, s) = obj.transform();
            let geometry = Some((ox, oy, s, obj.width(), obj.height()));
            let mut nodes = self.nodes.borrow_mut();
            if self.node_geometry.get() != geometry {
                nodes.fill(None);
                self.node_geometry.set(geometry);
            }
            self.refresh_surfaces(&mut nodes);
            // Nearest when one framebuffer pixel is one device pixel (crisp
            // 1:1), smooth otherwise.
            let exact = (s * obj.scale_factor().max(1) as f32 - 1.0).abs() < 1e-4;
            let surfaces = self.surfaces.borrow();
            let front = self.front.borrow();
            for (i, node) in nodes.iter_mut().enumerate() {
                let Some(surface) = &surfaces[i][front[i] as usize] else {
                    continue;
                };
                let node = node.get_or_insert_with(|| {
                    let (w, h, rect) = tile_rect(&obj, i, fw, fh);
                    let node = gsk::CairoNode::new(&rect);
                    let cr = node.draw_context();
                    paint_tile(&cr, surface, w, h, &rect, exact);
                    node.upcast()
                });
                snapshot.append_node(&*node);
            }
        }

        /// Copies the dirty tiles into their back cairo surfaces (made once
        /// per size), makes those the front ones and drops those tiles'
        /// cached nodes.
        fn refresh_surfaces(&self, nodes: &mut [Option<gsk::RenderNode>]) {
            let Some(fb) = self.framebuffer.borrow().clone() else {
                return;
            };
            let mut dirty = self.dirty.borrow_mut();
            if !dirty.iter().any(|d| *d) {
                return;
            }
            let (fw, fh) = self.size.get();
            let cols = fw.div_ceil(TILE);
            let mut surfaces = self.surfaces.borrow_mut();
            let mut front = self.front.borrow_mut();
            let fb = match fb.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            if (fb.width, fb.height) != (fw, fh) {
                return;
            }
            let mut built = 0;
            for (i, d) in dirty.iter_mut().enumerate().filter(|(_, d)| **d) {
                *d = false;
                let (tx, ty) = ((i as u32 % cols) * TILE, (i as u32 / cols) * TILE);
                let (w, h) = (TILE.min(fw - tx), TILE.min(fh - ty));
                let back = 1 - front[i] as usize;
                let slot = &mut surfaces[i][back];
                let copy = |surface: &mut cairo::ImageSurface| {
                    let stride = surface.stride() as usize;
                    // Refused while anything else holds the surface.
                    let Ok(mut data) = surface.data() else {
                        return false;
                    };
                    for y in 0..h as usize {
                        let row = &fb.row(ty + y as u32)[tx as usize..(tx + w) as usize];
                        // RGB24 is a native-endian 0x00RRGGBB word, as ours.
                        let bytes = words_as_bytes(row);
                        data[y * stride..y * stride + bytes.len()].copy_from_slice(bytes);
                    }
                    true
                };
                let fresh =
                    || cairo::ImageSurface::create(cairo::Format::Rgb24, w as i32, h as i32).ok();
                if !slot.as_mut().is_some_and(copy) {
                    *slot = fresh();
                    if !slot.as_mut().is_some_and(copy) {
                        continue;
                    }
                }
                front[i] = back as u8;
                nodes[i] = None;
                built += 1;
            }
            self.tiles_built.set(self.tiles_built.get() + built);
        }

        /// Copies the dirty tiles out of the framebuffer into fresh
        /// textures. The framebuffer lock is held only while copying.
        fn rebuild_dirty_tiles(&self) {
            let Some(fb) = self.framebuffer.borrow().clone() else {
                return;
            };
            let mut dirty = self.dirty.borrow_mut();
            if !dirty.iter().any(|d| *d) {
                return;
            }
            let (fw, fh) = self.size.get();
            let cols = fw.div_ceil(TILE);
            let mut tiles = self.tiles.borrow_mut();
            let fb = match fb.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            if (fb.width, fb.height) != (fw, fh) {
                // A resize is on its way; the Resized event rebuilds all.
                return;
            }
            let mut built = 0;
            for (i, d) in dirty.iter_mut().enumerate().filter(|(_, d)| **d) {
                *d = false;
                let (tx, ty) = ((i as u32 % cols) * TILE, (i as u32 / cols) * TILE);
                let (w, h) = (TILE.min(fw - tx), TILE.min(fh - ty));
                let mut bytes = Vec::with_capacity((w * h * 4) as usize);
                for y in ty..ty + h {
                    let row = &fb.row(y)[tx as usize..(tx + w) as usize];
                    // 0x00RRGGBB words; GDK's premultiplied BGRA wants an
                    // opaque alpha byte.
                    bytes.extend(row.iter().flat_map(|p| (p | 0xFF00_0000).to_le_bytes()));
                }
                let tex = gdk::MemoryTexture::new(
                    w as i32,
                    h as i32,
                    gdk::MemoryFormat::B8g8r8a8Premultiplied,
                    &glib::Bytes::from_owned(bytes),
                    (w * 4) as usize,
                );
                tiles[i] = Some(tex.upcast());
                built += 1;
            }
            self.tiles_built.set(self.tiles_built.get() + built);
        }
    }
}

/// The native-endian bytes of pixel words, without copying.
fn words_as_bytes(words: &[u32]) -> &[u8] {
    // SAFETY: u32 has no padding and any byte is a valid u8; the length
    // covers exactly the same memory.
    unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), std::mem::size_of_val(words)) }
}

/// The widget's origin in its surface's coordinates and the surface's
/// scale; None when it is not in a realized window.
fn surface_origin(obj: &Display) -> Option<(f64, f64, i32)> {
    let native = obj.native()?;
    let surface = native.surface()?;
    let p = obj.compute_point(&native, &graphene::Point::new(0.0, 0.0))?;
    let (tx, ty) = native.surface_transform();
    Some((
        p.x() as f64 + tx,
        p.y() as f64 + ty,
        surface.scale_factor().max(1),
    ))
}

glib::wrapper! {
    pub struct Display(ObjectSubclass<imp::Display>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for Display {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl Display {
    /// Shows a new framebuffer (after connecting).
    pub fn set_framebuffer(&self, fb: Option<Arc<Mutex<Framebuffer>>>) {
        let size = fb.as_ref().map_or((0, 0), |fb| {
            let g = fb.lock().unwrap_or_else(|p| p.into_inner());
            (g.width, g.height)
        });
        *self.imp().framebuffer.borrow_mut() = fb;
        self.resized(size.0, size.1);
    }

    /// The framebuffer changed size: every tile is new.
    pub fn resized(&self, width: u32, height: u32) {
        let imp = self.imp();
        imp.size.set((width, height));
        // Nothing is painted directly until GTK has drawn the new size.
        imp.drawn_at.set(None);
        let n = (width.div_ceil(TILE) * height.div_ceil(TILE)) as usize;
        *imp.tiles.borrow_mut() = vec![None; n];
        *imp.surfaces.borrow_mut() = vec![[None, None]; n];
        *imp.front.borrow_mut() = vec![0; n];
        imp.pending.borrow_mut().clear();
        *imp.nodes.borrow_mut() = vec![None; n];
        *imp.dirty.borrow_mut() = vec![true; n];
        self.queue_resize();
        self.queue_draw();
    }

    /// Marks the tiles under `damage` for rebuilding and repaints.
    pub fn damaged(&self, damage: &[Damage]) {
        let imp = self.imp();
        let (fw, fh) = imp.size.get();
        if fw == 0 {
            return;
        }
        let cols = fw.div_ceil(TILE);
        let mut dirty = imp.dirty.borrow_mut();
        for d in damage {
            let (x0, y0) = (d.x.min(fw), d.y.min(fh));
            let (x1, y1) = ((d.x + d.width).min(fw), (d.y + d.height).min(fh));
            if x1 <= x0 || y1 <= y0 {
                continue;
            }
            for ty in y0 / TILE..=(y1 - 1) / TILE {
                for tx in x0 / TILE..=(x1 - 1) / TILE {
                    if let Some(flag) = dirty.get_mut((ty * cols + tx) as usize) {
                        *flag = true;
                    }
                }
            }
        }
        drop(dirty);
        if imp.paint.get() == Some(imp::Paint::Cairo)
            && imp.drawn_at.get().is_some()
            && direct_enabled()
        {
            // Painted as soon as the main loop has handled what is queued
            // now (several updates then paint as one).
            imp.pending.borrow_mut().extend_from_slice(damage);
            if imp.flush_source.borrow().is_none() {
                let weak = self.downgrade();
                let id = glib::idle_add_local_full(glib::Priority::DEFAULT, move || {
                    if let Some(d) = weak.upgrade() {
                        d.imp().flush_source.borrow_mut().take();
                        d.flush_direct();
                    }
                    glib::ControlFlow::Break
                });
                *imp.flush_source.borrow_mut() = Some(id);
            }
        } else {
            self.queue_draw();
        }
    }

    /// Paints the pending damage straight into the window, or leaves it
    /// to GTK where it cannot.
    fn flush_direct(&self) {
        let damage = std::mem::take(&mut *self.imp().pending.borrow_mut());
        if damage.is_empty() {
            return;
        }
        match direct::paint(self, &damage) {
            Some(true) => {
                self.imp().stale.set(true);
                let n = self.imp().direct_paints.get();
                self.imp().direct_paints.set(n + 1);
            }
            Some(false) => {
                // Partly covered: GTK draws it all.
                self.imp().stale.set(true);
                self.queue_draw();
            }
            None => self.queue_draw(),
        }
    }

    /// Updates painted straight into the window since start.
    pub fn direct_paints(&self) -> u64 {
        self.imp().direct_paints.get()
    }

    pub fn set_scaling(&self, scaling: Scaling) {
        self.imp().scaling.set(scaling);
        self.imp().drawn_at.set(None);
        self.queue_resize();
        self.queue_draw();
    }

    pub fn scaling(&self) -> Scaling {
        self.imp().scaling.get()
    }

    pub fn framebuffer_size(&self) -> (u32, u32) {
        self.imp().size.get()
    }

    pub fn tiles_built(&self) -> u64 {
        self.imp().tiles_built.get()
    }

    /// (offset x, offset y, scale): framebuffer pixel (x, y) is drawn at
    /// widget point (ox + x*s, oy + y*s).
    pub fn transform(&self) -> (f32, f32, f32) {
        super::display::frame_transform(
            self.upcast_ref(),
            self.imp().size.get(),
            self.imp().scaling.get(),
        )
    }

    /// The framebuffer pixel under a widget point, clamped to the frame.
    pub fn to_framebuffer(&self, x: f64, y: f64) -> Option<(u16, u16)> {
        super::display::point_to_framebuffer(self.imp().size.get(), self.transform(), x, y)
    }

    /// The widget's size in device pixels (for resize-guest-to-window).
    pub fn device_size(&self) -> (u32, u32) {
        super::display::device_size(self.upcast_ref())
    }
}

/// The geometry both display implementations share: (offset x, offset y,
/// scale) of a `fb`-sized frame in `widget` at `scaling` (Fit keeps the
/// aspect and centres; 1:1 is one guest pixel per device pixel).
pub(super) fn frame_transform(
    widget: &gtk::Widget,
    (fw, fh): (u32, u32),
    scaling: Scaling,
) -> (f32, f32, f32) {
    let (ww, wh) = (widget.width() as f32, widget.height() as f32);
    if fw == 0 || fh == 0 || ww <= 0.0 || wh <= 0.0 {
        return (0.0, 0.0, 1.0);
    }
    let s = match scaling {
        Scaling::Fit => (ww / fw as f32).min(wh / fh as f32),
        Scaling::OneToOne => 1.0 / widget.scale_factor().max(1) as f32,
    };
    let ox = ((ww - fw as f32 * s) / 2.0).max(0.0).floor();
    let oy = ((wh - fh as f32 * s) / 2.0).max(0.0).floor();
    (ox, oy, s)
}

/// The framebuffer pixel under a widget point, clamped to the frame.
pub(super) fn point_to_framebuffer(
    (fw, fh): (u32, u32),
    (ox, oy, s): (f32, f32, f32),
    x: f64,
    y: f64,
) -> Option<(u16, u16)> {
    if fw == 0 || fh == 0 {
        return None;
    }
    let fx = ((x as f32 - ox) / s).floor().clamp(0.0, (fw - 1) as f32);
    let fy = ((y as f32 - oy) / s).floor().clamp(0.0, (fh - 1) as f32);
    Some((fx as u16, fy as u16))
}

/// A widget's size in device pixels (for resize-guest-to-window).
pub(super) fn device_size(widget: &gtk::Widget) -> (u32, u32) {
    let s = widget.scale_factor().max(1) as u32;
    (
        widget.width().max(0) as u32 * s,
        widget.height().max(0) as u32 * s,
    )
}

/// `VIRT_MANAGER_DISPLAY_DIRECT=0` turns direct painting off.
fn direct_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("VIRT_MANAGER_DISPLAY_DIRECT").as_deref() != Ok("0"))
}

mod direct;
