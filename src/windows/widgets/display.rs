//! The console's display: paints the RFB framebuffer and turns pointer
//! events into framebuffer coordinates.
//!
//! Painting: the framebuffer is cut into 256x256 tiles, each a
//! `GdkMemoryTexture`; an update rebuilds only the tiles it touched, so a
//! small change never copies the whole frame (GTK 4.8 has no
//! GdkMemoryTextureBuilder to update a texture in place). Snapshots draw
//! the tiles scaled into the widget.
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

use crate::vnc::{Damage, Framebuffer};

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

    #[derive(Default)]
    pub struct Display {
        pub framebuffer: RefCell<Option<Arc<Mutex<Framebuffer>>>>,
        /// (width, height) the tiles were made for.
        pub size: Cell<(u32, u32)>,
        pub tiles: RefCell<Vec<Option<gdk::Texture>>>,
        pub dirty: RefCell<Vec<bool>>,
        pub scaling: Cell<Scaling>,
        /// Tiles rebuilt since start (for the benchmark and tests).
        pub tiles_built: Cell<u64>,
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
            snapshot.append_color(&gdk::RGBA::BLACK, &graphene::Rect::new(0.0, 0.0, ww, wh));
            let (fw, fh) = self.size.get();
            if fw == 0 || fh == 0 {
                return;
            }
            self.rebuild_dirty_tiles();
            let (ox, oy, s) = obj.transform();
            let tiles = self.tiles.borrow();
            let cols = fw.div_ceil(TILE);
            for (i, tile) in tiles.iter().enumerate() {
                let Some(tex) = tile else { continue };
                let (tx, ty) = ((i as u32 % cols) * TILE, (i as u32 / cols) * TILE);
                // Tile edges on whole device pixels: scaled tiles that meet
                // at fractions leave hairline seams.
                let dev = obj.scale_factor().max(1) as f32;
                let snap = |v: f32| (v * dev).round() / dev;
                let (x0, y0) = (snap(ox + tx as f32 * s), snap(oy + ty as f32 * s));
                let x1 = snap(ox + (tx + tex.width() as u32) as f32 * s);
                let y1 = snap(oy + (ty + tex.height() as u32) as f32 * s);
                let rect = graphene::Rect::new(x0, y0, x1 - x0, y1 - y0);
                snapshot.append_texture(tex, &rect);
            }
        }
    }

    impl Display {
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
        let n = (width.div_ceil(TILE) * height.div_ceil(TILE)) as usize;
        *imp.tiles.borrow_mut() = vec![None; n];
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
        self.queue_draw();
    }

    pub fn set_scaling(&self, scaling: Scaling) {
        self.imp().scaling.set(scaling);
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
        let (fw, fh) = self.imp().size.get();
        let (ww, wh) = (self.width() as f32, self.height() as f32);
        if fw == 0 || fh == 0 || ww <= 0.0 || wh <= 0.0 {
            return (0.0, 0.0, 1.0);
        }
        let s = match self.imp().scaling.get() {
            Scaling::Fit => (ww / fw as f32).min(wh / fh as f32),
            Scaling::OneToOne => 1.0 / self.scale_factor().max(1) as f32,
        };
        let ox = ((ww - fw as f32 * s) / 2.0).max(0.0).floor();
        let oy = ((wh - fh as f32 * s) / 2.0).max(0.0).floor();
        (ox, oy, s)
    }

    /// The framebuffer pixel under a widget point, clamped to the frame.
    pub fn to_framebuffer(&self, x: f64, y: f64) -> Option<(u16, u16)> {
        let (fw, fh) = self.imp().size.get();
        if fw == 0 || fh == 0 {
            return None;
        }
        let (ox, oy, s) = self.transform();
        let fx = ((x as f32 - ox) / s).floor().clamp(0.0, (fw - 1) as f32);
        let fy = ((y as f32 - oy) / s).floor().clamp(0.0, (fh - 1) as f32);
        Some((fx as u16, fy as u16))
    }

    /// The widget's size in device pixels (for resize-guest-to-window).
    pub fn device_size(&self) -> (u32, u32) {
        let s = self.scale_factor().max(1) as u32;
        (
            self.width().max(0) as u32 * s,
            self.height().max(0) as u32 * s,
        )
    }
}
