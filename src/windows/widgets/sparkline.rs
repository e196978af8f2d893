//! A small line chart of recent values (0-100), drawn with cairo at the
//! widget's own scale so it stays crisp on HiDPI screens.
//!
//! The values arrive as a [`Samples`] property, so a list row can bind it
//! to its guest with an expression and redraw on each statistics tick.

use std::sync::Arc;

use relm4::gtk;
use relm4::gtk::glib;
use relm4::gtk::prelude::*;
use relm4::gtk::subclass::prelude::*;

/// Values for a sparkline, oldest first, shared without copying.
#[derive(Clone, Debug, Default, PartialEq, glib::Boxed)]
#[boxed_type(name = "VmmSamples")]
pub struct Samples(pub Arc<[f32]>);

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::Sparkline)]
    pub struct Sparkline {
        #[property(get, set = Self::set_samples)]
        pub samples: RefCell<Samples>,
        /// How many samples fit the width (fewer are drawn right-aligned).
        #[property(get, set, default = 40)]
        pub capacity: Cell<u32>,
    }

    impl Sparkline {
        fn set_samples(&self, samples: Samples) {
            if *self.samples.borrow() != samples {
                self.samples.replace(samples);
                self.obj().queue_draw();
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Sparkline {
        const NAME: &'static str = "VmmSparkline";
        type Type = super::Sparkline;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("sparkline");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for Sparkline {
        fn constructed(&self) {
            self.parent_constructed();
            self.capacity.set(40);
        }
    }

    impl WidgetImpl for Sparkline {
        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            match orientation {
                gtk::Orientation::Horizontal => (40, 80, -1, -1),
                _ => (16, 24, -1, -1),
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let widget = self.obj();
            let (w, h) = (widget.width() as f64, widget.height() as f64);
            if w <= 2.0 || h <= 2.0 {
                return;
            }
            let samples = self.samples.borrow();
            let values = &samples.0;
            #[allow(deprecated)] // GtkWidget::color() is GTK 4.10.
            let fg = widget.style_context().color();
            let accent = super::accent_color(&*widget);
            let cr = snapshot.append_cairo(&gtk::graphene::Rect::new(0.0, 0.0, w as f32, h as f32));

            // A faint baseline so an idle guest still shows a chart.
            cr.set_source_rgba(fg.red() as f64, fg.green() as f64, fg.blue() as f64, 0.15);
            cr.set_line_width(1.0);
            cr.move_to(0.0, h - 0.5);
            cr.line_to(w, h - 0.5);
            let _ = cr.stroke();
            if values.len() < 2 {
                return;
            }
            let capacity = self.capacity.get().max(2) as f64;
            let step = w / (capacity - 1.0);
            let x0 = w - step * (values.len() as f64 - 1.0);
            let y = |v: f32| (h - 1.0) - (v.clamp(0.0, 100.0) as f64 / 100.0) * (h - 2.0);
            cr.move_to(x0, y(values[0]));
            for (i, v) in values.iter().enumerate().skip(1) {
                cr.line_to(x0 + step * i as f64, y(*v));
            }
            cr.set_source_rgba(accent.0, accent.1, accent.2, 1.0);
            cr.set_line_width(1.5);
            let _ = cr.stroke_preserve();
            cr.line_to(w, h);
            cr.line_to(x0, h);
            cr.close_path();
            cr.set_source_rgba(accent.0, accent.1, accent.2, 0.2);
            let _ = cr.fill();
        }
    }
}

glib::wrapper! {
    pub struct Sparkline(ObjectSubclass<imp::Sparkline>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for Sparkline {
    fn default() -> Self {
        glib::Object::new()
    }
}

/// The accent colour as RGB: libadwaita's blue, lighter in dark style.
pub(super) fn accent_color(widget: &impl IsA<gtk::Widget>) -> (f64, f64, f64) {
    #[allow(deprecated)]
    let ctx = widget.as_ref().style_context();
    #[allow(deprecated)]
    match ctx.lookup_color("accent_color") {
        Some(c) => (c.red() as f64, c.green() as f64, c.blue() as f64),
        None => (0.21, 0.52, 0.89),
    }
}
