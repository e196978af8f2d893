//! The console's display drawn with OpenGL: a `GtkGLArea` that keeps the
//! whole framebuffer in one GL texture and updates only the damaged
//! rectangles with `glTexSubImage2D`, straight from the framebuffer's
//! memory (no intermediate copy where `GL_UNPACK_ROW_LENGTH` exists, which
//! is every desktop GL and GLES 3). It is the alternative to the tiled
//! `GdkMemoryTexture`s of [`super::Display`] that issue 7 asks to measure;
//! the public API is the same, so the console can use either
//! ([`AnyDisplay`] picks one at run time).
//!
//! Geometry is [`super::Display`]'s: Fit scales the frame into the widget
//! keeping its aspect, centred; 1:1 is one framebuffer pixel per *device*
//! pixel. The quad is placed in device pixels and sampled with nearest
//! filtering whenever one texel covers exactly one device pixel (crisp
//! 1:1 on HiDPI), linear otherwise.
//!
//! GL functions come from libepoxy, which GTK itself uses and has already
//! loaded into the process: `epoxy_glFoo` is a function pointer that
//! resolves against the current context on first use (what the `epoxy`
//! crate does, without its build-time generator).

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};

use glow::HasContext;
use relm4::gtk;
use relm4::gtk::prelude::*;
use relm4::gtk::subclass::prelude::*;
use relm4::gtk::{gdk, glib};

use super::{Display, Scaling};
use crate::vnc::{Damage, Framebuffer};

/// Pending rectangles beyond which one bounding-box upload is cheaper
/// than many small ones.
const MAX_RECTS: usize = 32;

/// Looks `name` up in libepoxy's dispatch table (`epoxy_<name>`).
fn epoxy_proc_address(name: &str) -> *const std::ffi::c_void {
    let Ok(symbol) = std::ffi::CString::new(format!("epoxy_{name}")) else {
        return std::ptr::null();
    };
    // SAFETY: dlsym on the global namespace with a NUL-terminated name;
    // libepoxy's `epoxy_glFoo` symbols are pointer variables, so a hit
    // is the address of the function pointer, read once here.
    unsafe {
        let var = libc::dlsym(libc::RTLD_DEFAULT, symbol.as_ptr());
        if var.is_null() {
            std::ptr::null()
        } else {
            *(var as *const *const std::ffi::c_void)
        }
    }
}

/// The GL objects of one realized context.
struct GlState {
    gl: glow::Context,
    program: glow::Program,
    vao: Option<glow::VertexArray>,
    vbo: glow::Buffer,
    rect_loc: Option<glow::UniformLocation>,
    texture: glow::Texture,
    /// Size the texture has (0x0: none yet).
    tex_size: (u32, u32),
    /// Filter set on the texture (to change it only when needed).
    filter: i32,
    /// GL_UNPACK_ROW_LENGTH exists: rows upload from the framebuffer in
    /// place; otherwise each rectangle is copied out first.
    row_length: bool,
    /// GLES 2 wants the internal format equal to the format.
    internal_format: i32,
    max_texture: u32,
    /// Reused by uploads that cannot use GL_UNPACK_ROW_LENGTH.
    staging: Vec<u8>,
}

impl GlState {
    /// Creates the program, the quad and the texture in the current
    /// context.
    unsafe fn new(context: &gdk::GLContext) -> Result<Self, String> {
        let gl = glow::Context::from_loader_function(epoxy_proc_address);
        let v = gl.version().clone();
        let es = context.uses_es() || v.is_embedded;
        let modern = if es {
            v.major >= 3
        } else {
            (v.major, v.minor) >= (3, 0)
        };
        let header = match (es, modern) {
            (true, true) => "#version 300 es\n",
            (true, false) => "#version 100\n",
            (false, true) if (v.major, v.minor) >= (3, 2) => "#version 150\n",
            (false, true) => "#version 130\n",
            (false, false) => "#version 110\n",
        };
        let (attr, vary_out, vary_in, tex, frag_decl, frag_out) = if modern {
            (
                "in",
                "out",
                "in",
                "texture",
                "out vec4 frag_color;\n",
                "frag_color",
            )
        } else {
            (
                "attribute",
                "varying",
                "varying",
                "texture2D",
                "",
                "gl_FragColor",
            )
        };
        let precision = if es {
            "#ifdef GL_FRAGMENT_PRECISION_HIGH\nprecision highp float;\n#else\nprecision mediump float;\n#endif\n"
        } else {
            ""
        };
        let vertex = format!(
            "{header}{precision}{attr} vec2 corner;\n{vary_out} vec2 uv;\nuniform vec4 rect;\n\
             void main() {{\n  uv = vec2(corner.x, 1.0 - corner.y);\n  gl_Position = vec4(rect.xy + corner * rect.zw, 0.0, 1.0);\n}}\n"
        );
        // The framebuffer's words are 0x00RRGGBB: in memory B, G, R, X,
        // uploaded as RGBA bytes, so swap here and force opaque alpha.
        let fragment = format!(
            "{header}{precision}{vary_in} vec2 uv;\nuniform sampler2D frame;\n{frag_decl}\
             void main() {{\n  vec4 t = {tex}(frame, uv);\n  {frag_out} = vec4(t.b, t.g, t.r, 1.0);\n}}\n"
        );
        let program = gl.create_program()?;
        let mut shaders = Vec::new();
        for (kind, source) in [
            (glow::VERTEX_SHADER, &vertex),
            (glow::FRAGMENT_SHADER, &fragment),
        ] {
            let shader = gl.create_shader(kind)?;
            gl.shader_source(shader, source);
            gl.compile_shader(shader);
            if !gl.get_shader_compile_status(shader) {
                let log = gl.get_shader_info_log(shader);
                gl.delete_shader(shader);
                gl.delete_program(program);
                return Err(format!("shader: {log}"));
            }
            gl.attach_shader(program, shader);
            shaders.push(shader);
        }
        gl.bind_attrib_location(program, 0, "corner");
        gl.link_program(program);
        for s in shaders {
            gl.detach_shader(program, s);
            gl.delete_shader(s);
        }
        if !gl.get_program_link_status(program) {
            let log = gl.get_program_info_log(program);
            gl.delete_program(program);
            return Err(format!("program: {log}"));
        }
        let rect_loc = gl.get_uniform_location(program, "rect");
        gl.use_program(Some(program));
        let frame_loc = gl.get_uniform_location(program, "frame");
        gl.uniform_1_i32(frame_loc.as_ref(), 0);
        gl.use_program(None);

        let vao = if modern {
            Some(gl.create_vertex_array()?)
        } else {
            None
        };
        gl.bind_vertex_array(vao);
        let vbo = gl.create_buffer()?;
        gl.bind_buffer(glow::ARRAY_BUFFER, Some(vbo));
        let corners: [f32; 8] = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let bytes: Vec<u8> = corners.iter().flat_map(|f| f.to_ne_bytes()).collect();
        gl.buffer_data_u8_slice(glow::ARRAY_BUFFER, &bytes, glow::STATIC_DRAW);
        gl.vertex_attrib_pointer_f32(0, 2, glow::FLOAT, false, 8, 0);
        gl.enable_vertex_attrib_array(0);
        gl.bind_vertex_array(None);
        gl.bind_buffer(glow::ARRAY_BUFFER, None);

        let texture = gl.create_texture()?;
        gl.bind_texture(glow::TEXTURE_2D, Some(texture));
        for (p, val) in [
            (glow::TEXTURE_WRAP_S, glow::CLAMP_TO_EDGE),
            (glow::TEXTURE_WRAP_T, glow::CLAMP_TO_EDGE),
            (glow::TEXTURE_MIN_FILTER, glow::NEAREST),
            (glow::TEXTURE_MAG_FILTER, glow::NEAREST),
        ] {
            gl.tex_parameter_i32(glow::TEXTURE_2D, p, val as i32);
        }
        gl.bind_texture(glow::TEXTURE_2D, None);
        let max_texture = gl.get_parameter_i32(glow::MAX_TEXTURE_SIZE).max(0) as u32;
        tracing::debug!(
            "GL display: {} ({}), max texture {max_texture}",
            gl.get_parameter_string(glow::VERSION),
            gl.get_parameter_string(glow::RENDERER)
        );
        Ok(GlState {
            gl,
            program,
            vao,
            vbo,
            rect_loc,
            texture,
            tex_size: (0, 0),
            filter: glow::NEAREST as i32,
            row_length: !es || v.major >= 3,
            internal_format: if es && v.major < 3 {
                glow::RGBA as i32
            } else {
                glow::RGBA8 as i32
            },
            max_texture,
            staging: Vec::new(),
        })
    }

    unsafe fn destroy(self) {
        let gl = &self.gl;
        gl.delete_texture(self.texture);
        gl.delete_buffer(self.vbo);
        if let Some(vao) = self.vao {
            gl.delete_vertex_array(vao);
        }
        gl.delete_program(self.program);
    }

    /// Uploads `rect` of `fb` into the texture (texture bound).
    unsafe fn upload(&mut self, fb: &Framebuffer, r: &Damage, whole: bool) {
        let gl = &self.gl;
        let start = r.y as usize * fb.stride + r.x as usize;
        let end = (r.y + r.height - 1) as usize * fb.stride + (r.x + r.width) as usize;
        let words = &fb.pixels[start..end];
        let slice: &[u8] = if self.row_length {
            gl.pixel_store_i32(glow::UNPACK_ROW_LENGTH, fb.stride as i32);
            // SAFETY: u32 words viewed as their bytes.
            std::slice::from_raw_parts(words.as_ptr() as *const u8, words.len() * 4)
        } else {
            self.staging.clear();
            for y in r.y..r.y + r.height {
                let row = &fb.row(y)[r.x as usize..(r.x + r.width) as usize];
                self.staging
                    .extend(row.iter().flat_map(|p| p.to_ne_bytes()));
            }
            &self.staging
        };
        let data = glow::PixelUnpackData::Slice(Some(slice));
        if whole {
            gl.tex_image_2d(
                glow::TEXTURE_2D,
                0,
                self.internal_format,
                fb.width as i32,
                fb.height as i32,
                0,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                data,
            );
        } else {
            gl.tex_sub_image_2d(
                glow::TEXTURE_2D,
                0,
                r.x as i32,
                r.y as i32,
                r.width as i32,
                r.height as i32,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                data,
            );
        }
        if self.row_length {
            gl.pixel_store_i32(glow::UNPACK_ROW_LENGTH, 0);
        }
    }
}

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct DisplayGl {
        pub(super) framebuffer: RefCell<Option<Arc<Mutex<Framebuffer>>>>,
        /// (width, height) of the framebuffer shown.
        pub(super) size: Cell<(u32, u32)>,
        pub(super) scaling: Cell<Scaling>,
        /// Areas changed since the last upload (clamped to the frame).
        pub(super) pending: RefCell<Vec<Damage>>,
        /// The whole texture must be (re)made: new framebuffer, new size,
        /// new GL context.
        pub(super) whole: Cell<bool>,
        pub(super) gl: RefCell<Option<GlState>>,
        /// Set once GL failed, so the error is logged once.
        pub(super) failed: Cell<bool>,
        /// Pixels uploaded since start (for the benchmark and tests).
        pub(super) texels_uploaded: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DisplayGl {
        const NAME: &'static str = "VmmDisplayGl";
        type Type = super::DisplayGl;
        type ParentType = gtk::GLArea;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("vncdisplay");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    impl ObjectImpl for DisplayGl {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_focusable(true);
            obj.set_can_focus(true);
            obj.set_overflow(gtk::Overflow::Hidden);
            obj.add_css_class("console-display");
            obj.set_has_depth_buffer(false);
            obj.set_has_stencil_buffer(false);
            obj.set_auto_render(true);
        }
    }

    impl WidgetImpl for DisplayGl {
        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            let (w, h) = self.size.get();
            let natural = match self.scaling.get() {
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

        fn realize(&self) {
            self.parent_realize();
            let obj = self.obj();
            obj.make_current();
            if let Some(e) = obj.error() {
                self.fail(&format!("no GL context: {e}"));
                return;
            }
            let Some(context) = obj.context() else { return };
            // SAFETY: the area's context is current.
            match unsafe { GlState::new(&context) } {
                Ok(state) => {
                    *self.gl.borrow_mut() = Some(state);
                    self.whole.set(true);
                }
                Err(e) => self.fail(&e),
            }
        }

        fn unrealize(&self) {
            let obj = self.obj();
            if let Some(state) = self.gl.borrow_mut().take() {
                obj.make_current();
                if obj.error().is_none() {
                    // SAFETY: the objects belong to this, current, context.
                    unsafe { state.destroy() };
                }
            }
            self.parent_unrealize();
        }
    }

    impl GLAreaImpl for DisplayGl {
        fn render(&self, _context: &gdk::GLContext) -> glib::Propagation {
            let obj = self.obj();
            let mut guard = self.gl.borrow_mut();
            let Some(st) = guard.as_mut() else {
                return glib::Propagation::Stop;
            };
            let sf = obj.scale_factor().max(1) as f32;
            let (dw, dh) = (
                (obj.width() as f32 * sf).round(),
                (obj.height() as f32 * sf).round(),
            );
            // SAFETY: GtkGLArea made its context current and bound its
            // framebuffer before calling render.
            unsafe {
                st.gl.viewport(0, 0, dw as i32, dh as i32);
                st.gl.clear_color(0.0, 0.0, 0.0, 1.0);
                st.gl.clear(glow::COLOR_BUFFER_BIT);
                st.gl.bind_texture(glow::TEXTURE_2D, Some(st.texture));
                self.upload(st);
                let (fw, fh) = st.tex_size;
                if fw > 0 && fh > 0 && dw > 0.0 && dh > 0.0 {
                    let (ox, oy, s) = obj.transform();
                    // Device pixels, whole at 1:1.
                    let (x0, y0) = ((ox * sf).round(), (oy * sf).round());
                    let (w, h) = (fw as f32 * s * sf, fh as f32 * s * sf);
                    let exact = (w - fw as f32).abs() < 1e-3 && (h - fh as f32).abs() < 1e-3;
                    let filter = if exact { glow::NEAREST } else { glow::LINEAR } as i32;
                    if filter != st.filter {
                        st.gl
                            .tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_MIN_FILTER, filter);
                        st.gl
                            .tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_MAG_FILTER, filter);
                        st.filter = filter;
                    }
                    // Normalised device coordinates, y up; the quad's
                    // bottom-left corner and its extent.
                    let nx = x0 / dw * 2.0 - 1.0;
                    let ny = 1.0 - (y0 + h) / dh * 2.0;
                    st.gl.use_program(Some(st.program));
                    st.gl
                        .uniform_4_f32(st.rect_loc.as_ref(), nx, ny, w / dw * 2.0, h / dh * 2.0);
                    st.gl.active_texture(glow::TEXTURE0);
                    if let Some(vao) = st.vao {
                        st.gl.bind_vertex_array(Some(vao));
                    } else {
                        st.gl.bind_buffer(glow::ARRAY_BUFFER, Some(st.vbo));
                        st.gl
                            .vertex_attrib_pointer_f32(0, 2, glow::FLOAT, false, 8, 0);
                        st.gl.enable_vertex_attrib_array(0);
                    }
                    st.gl.draw_arrays(glow::TRIANGLE_STRIP, 0, 4);
                    if st.vao.is_some() {
                        st.gl.bind_vertex_array(None);
                    } else {
                        st.gl.disable_vertex_attrib_array(0);
                        st.gl.bind_buffer(glow::ARRAY_BUFFER, None);
                    }
                    st.gl.use_program(None);
                }
                st.gl.bind_texture(glow::TEXTURE_2D, None);
            }
            glib::Propagation::Stop
        }
    }

    impl DisplayGl {
        fn fail(&self, why: &str) {
            if !self.failed.replace(true) {
                tracing::warn!(
                    "console display: OpenGL unavailable, the screen stays black ({why})"
                );
            }
        }

        /// Brings the texture up to date with the framebuffer: the whole
        /// of it after a resize, else the pending rectangles (or their
        /// bounding box when that is as cheap). The framebuffer lock is
        /// held only while uploading.
        ///
        /// # Safety
        /// The GL context is current and the texture is bound.
        unsafe fn upload(&self, st: &mut GlState) {
            let Some(fb) = self.framebuffer.borrow().clone() else {
                st.tex_size = (0, 0);
                return;
            };
            let (fw, fh) = self.size.get();
            let whole = self.whole.get() || st.tex_size != (fw, fh);
            if !whole && self.pending.borrow().is_empty() {
                return;
            }
            if fw == 0 || fh == 0 {
                return;
            }
            if fw > st.max_texture || fh > st.max_texture {
                self.fail(&format!(
                    "{fw}x{fh} is larger than the GL texture limit {}",
                    st.max_texture
                ));
                return;
            }
            let fb = match fb.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            if (fb.width, fb.height) != (fw, fh) {
                // A resize is on its way; its Resized event uploads all.
                return;
            }
            let mut pending = self.pending.borrow_mut();
            if whole {
                pending.clear();
                st.upload(
                    &fb,
                    &Damage {
                        x: 0,
                        y: 0,
                        width: fw,
                        height: fh,
                    },
                    true,
                );
                st.tex_size = (fw, fh);
                self.whole.set(false);
                self.texels_uploaded
                    .set(self.texels_uploaded.get() + fw as u64 * fh as u64);
                return;
            }
            let rects: Vec<Damage> = std::mem::take(&mut *pending);
            drop(pending);
            let area: u64 = rects.iter().map(|r| r.width as u64 * r.height as u64).sum();
            let bbox = bounding_box(&rects);
            let bbox_area = bbox.width as u64 * bbox.height as u64;
            // Overlapping rectangles count twice in `area`: one upload of
            // the box wins once the pieces cover most of it anyway.
            let list = if rects.len() > MAX_RECTS || area * 4 >= bbox_area * 3 {
                vec![bbox]
            } else {
                rects
            };
            let mut n = 0;
            for r in &list {
                st.upload(&fb, r, false);
                n += r.width as u64 * r.height as u64;
            }
            self.texels_uploaded.set(self.texels_uploaded.get() + n);
        }
    }
}

fn bounding_box(rects: &[Damage]) -> Damage {
    let x0 = rects.iter().map(|r| r.x).min().unwrap_or(0);
    let y0 = rects.iter().map(|r| r.y).min().unwrap_or(0);
    let x1 = rects.iter().map(|r| r.x + r.width).max().unwrap_or(0);
    let y1 = rects.iter().map(|r| r.y + r.height).max().unwrap_or(0);
    Damage {
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
    }
}

glib::wrapper! {
    /// The console display as one GL texture; same API as [`Display`].
    pub struct DisplayGl(ObjectSubclass<imp::DisplayGl>)
        @extends gtk::GLArea, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for DisplayGl {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl DisplayGl {
    /// Shows a new framebuffer (after connecting).
    pub fn set_framebuffer(&self, fb: Option<Arc<Mutex<Framebuffer>>>) {
        let size = fb.as_ref().map_or((0, 0), |fb| {
            let g = fb.lock().unwrap_or_else(|p| p.into_inner());
            (g.width, g.height)
        });
        *self.imp().framebuffer.borrow_mut() = fb;
        self.resized(size.0, size.1);
    }

    /// The framebuffer changed size: the whole texture is new.
    pub fn resized(&self, width: u32, height: u32) {
        let imp = self.imp();
        imp.size.set((width, height));
        imp.pending.borrow_mut().clear();
        imp.whole.set(true);
        self.queue_resize();
        self.queue_draw();
    }

    /// Queues `damage` for upload and repaints.
    pub fn damaged(&self, damage: &[Damage]) {
        let imp = self.imp();
        let (fw, fh) = imp.size.get();
        if fw == 0 || imp.whole.get() {
            self.queue_draw();
            return;
        }
        let mut pending = imp.pending.borrow_mut();
        for d in damage {
            let (x0, y0) = (d.x.min(fw), d.y.min(fh));
            let (x1, y1) = (
                d.x.saturating_add(d.width).min(fw),
                d.y.saturating_add(d.height).min(fh),
            );
            if x1 > x0 && y1 > y0 {
                pending.push(Damage {
                    x: x0,
                    y: y0,
                    width: x1 - x0,
                    height: y1 - y0,
                });
            }
        }
        if pending.len() > 4 * MAX_RECTS {
            // Many updates between two frames: keep the list short.
            let b = bounding_box(&pending);
            pending.clear();
            pending.push(b);
        }
        drop(pending);
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

    /// Framebuffer pixels uploaded to the GL texture since start.
    pub fn texels_uploaded(&self) -> u64 {
        self.imp().texels_uploaded.get()
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

/// Which display implementation to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayKind {
    /// [`Display`]: tiled `GdkMemoryTexture`s.
    Tiles,
    /// [`DisplayGl`]: one GL texture.
    Gl,
}

impl DisplayKind {
    /// The default implementation.
    pub const DEFAULT: DisplayKind = DisplayKind::Tiles;

    /// `VIRT_MANAGER_DISPLAY=gl|tiles`, else [`Self::DEFAULT`]; GL only
    /// where this display can make a GL context at all.
    pub fn from_env() -> Self {
        let wanted = match std::env::var("VIRT_MANAGER_DISPLAY").as_deref() {
            Ok("gl") => DisplayKind::Gl,
            Ok("tiles") => DisplayKind::Tiles,
            Ok(other) => {
                tracing::warn!("VIRT_MANAGER_DISPLAY={other}: expected gl or tiles");
                Self::DEFAULT
            }
            Err(_) => Self::DEFAULT,
        };
        if wanted == DisplayKind::Gl && !gl_available() {
            tracing::info!("console display: no OpenGL here, using tiles");
            return DisplayKind::Tiles;
        }
        wanted
    }
}

/// Whether the default GDK display can make and realize a GL context.
pub fn gl_available() -> bool {
    let Some(display) = gdk::Display::default() else {
        return false;
    };
    match display
        .create_gl_context()
        .and_then(|c| c.realize().map(|()| c))
    {
        Ok(_) => true,
        Err(e) => {
            tracing::debug!("no GL context: {e}");
            false
        }
    }
}

/// Either display, chosen at run time, with the one API both share. It
/// dereferences to its `gtk::Widget` for everything else (controllers,
/// focus, cursor, packing: `&*display`).
#[derive(Clone, Debug)]
pub enum AnyDisplay {
    Tiles(Display),
    Gl(DisplayGl),
}

/// A weak reference to an [`AnyDisplay`], for input handlers.
#[derive(Clone, Debug)]
pub enum WeakAnyDisplay {
    Tiles(glib::WeakRef<Display>),
    Gl(glib::WeakRef<DisplayGl>),
}

impl WeakAnyDisplay {
    pub fn upgrade(&self) -> Option<AnyDisplay> {
        match self {
            WeakAnyDisplay::Tiles(w) => w.upgrade().map(AnyDisplay::Tiles),
            WeakAnyDisplay::Gl(w) => w.upgrade().map(AnyDisplay::Gl),
        }
    }
}

impl Default for AnyDisplay {
    /// The implementation [`DisplayKind::from_env`] names.
    fn default() -> Self {
        AnyDisplay::new(DisplayKind::from_env())
    }
}

impl std::ops::Deref for AnyDisplay {
    type Target = gtk::Widget;
    fn deref(&self) -> &gtk::Widget {
        match self {
            AnyDisplay::Tiles(d) => d.upcast_ref(),
            AnyDisplay::Gl(d) => d.upcast_ref(),
        }
    }
}

macro_rules! both {
    ($self:ident, $d:ident => $e:expr) => {
        match $self {
            AnyDisplay::Tiles($d) => $e,
            AnyDisplay::Gl($d) => $e,
        }
    };
}

impl AnyDisplay {
    pub fn new(kind: DisplayKind) -> Self {
        match kind {
            DisplayKind::Tiles => AnyDisplay::Tiles(Display::default()),
            DisplayKind::Gl => AnyDisplay::Gl(DisplayGl::default()),
        }
    }

    pub fn kind(&self) -> DisplayKind {
        match self {
            AnyDisplay::Tiles(_) => DisplayKind::Tiles,
            AnyDisplay::Gl(_) => DisplayKind::Gl,
        }
    }

    pub fn widget(&self) -> &gtk::Widget {
        self
    }

    pub fn downgrade(&self) -> WeakAnyDisplay {
        match self {
            AnyDisplay::Tiles(d) => WeakAnyDisplay::Tiles(d.downgrade()),
            AnyDisplay::Gl(d) => WeakAnyDisplay::Gl(d.downgrade()),
        }
    }

    pub fn set_framebuffer(&self, fb: Option<Arc<Mutex<Framebuffer>>>) {
        both!(self, d => d.set_framebuffer(fb))
    }
    pub fn resized(&self, width: u32, height: u32) {
        both!(self, d => d.resized(width, height))
    }
    pub fn damaged(&self, damage: &[Damage]) {
        both!(self, d => d.damaged(damage))
    }
    pub fn set_scaling(&self, scaling: Scaling) {
        both!(self, d => d.set_scaling(scaling))
    }
    pub fn scaling(&self) -> Scaling {
        both!(self, d => d.scaling())
    }
    pub fn framebuffer_size(&self) -> (u32, u32) {
        both!(self, d => d.framebuffer_size())
    }
    pub fn transform(&self) -> (f32, f32, f32) {
        both!(self, d => d.transform())
    }
    pub fn to_framebuffer(&self, x: f64, y: f64) -> Option<(u16, u16)> {
        both!(self, d => d.to_framebuffer(x, y))
    }
    pub fn device_size(&self) -> (u32, u32) {
        both!(self, d => d.device_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounding_box_covers_all() {
        let b = bounding_box(&[
            Damage {
                x: 10,
                y: 20,
                width: 5,
                height: 5,
            },
            Damage {
                x: 0,
                y: 30,
                width: 2,
                height: 10,
            },
        ]);
        assert_eq!(
            b,
            Damage {
                x: 0,
                y: 20,
                width: 15,
                height: 20
            }
        );
    }

    #[test]
    fn epoxy_lookup_of_unknown_name_is_null() {
        assert!(epoxy_proc_address("glNoSuchFunction").is_null());
    }
}
