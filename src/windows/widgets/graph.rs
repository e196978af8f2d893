//! A performance graph: one or two series over the statistics history,
//! with a faint grid, drawn with cairo at the widget's scale (crisp on
//! HiDPI, readable in dark style). Its accessible description states the
//! current values in words, since a chart tells nothing to a screen reader.

use std::cell::{Cell, RefCell};

use relm4::gtk;
use relm4::gtk::glib;
use relm4::gtk::prelude::*;
use relm4::gtk::subclass::prelude::*;

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct Graph {
        /// Up to two series, oldest first; `None` gaps break the line.
        pub series: RefCell<Vec<Vec<Option<f64>>>>,
        /// Fixed top of the scale (100 for percentages); None: automatic.
        pub max: Cell<Option<f64>>,
        pub capacity: Cell<usize>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Graph {
        const NAME: &'static str = "VmmGraph";
        type Type = super::Graph;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("graph");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    impl ObjectImpl for Graph {
        fn constructed(&self) {
            self.parent_constructed();
            self.capacity.set(120);
        }
    }

    impl WidgetImpl for Graph {
        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            match orientation {
                gtk::Orientation::Horizontal => (120, 300, -1, -1),
                _ => (60, 100, -1, -1),
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let widget = self.obj();
            let (w, h) = (widget.width() as f64, widget.height() as f64);
            if w <= 4.0 || h <= 4.0 {
                return;
            }
            #[allow(deprecated)]
            let fg = widget.style_context().color();
            let (fr, fg_, fb) = (fg.red() as f64, fg.green() as f64, fg.blue() as f64);
            let accent = super::super::sparkline::accent_color(&*widget);
            let second = (0.90, 0.38, 0.0); // libadwaita orange 4
            let cr = snapshot.append_cairo(&gtk::graphene::Rect::new(0.0, 0.0, w as f32, h as f32));

            // Frame and grid: quarters of the scale.
            cr.set_line_width(1.0);
            cr.set_source_rgba(fr, fg_, fb, 0.12);
            for i in 0..=4 {
                let y = (h - 1.0) * i as f64 / 4.0 + 0.5;
                cr.move_to(0.0, y);
                cr.line_to(w, y);
            }
            let _ = cr.stroke();

            let series = self.series.borrow();
            let top = self.max.get().unwrap_or_else(|| {
                let m = series
                    .iter()
                    .flatten()
                    .flatten()
                    .fold(0.0f64, |a, b| a.max(*b));
                if m <= 0.0 {
                    1.0
                } else {
                    m * 1.1
                }
            });
            let capacity = self.capacity.get().max(2) as f64;
            let step = w / (capacity - 1.0);
            for (idx, values) in series.iter().enumerate() {
                let (r, g, b) = if idx == 0 { accent } else { second };
                let x0 = w - step * (values.len() as f64 - 1.0);
                let y = |v: f64| (h - 1.0) - (v / top).clamp(0.0, 1.0) * (h - 2.0);
                let mut started = false;
                let mut first_x = 0.0;
                let mut last_x = 0.0;
                for (i, v) in values.iter().enumerate() {
                    let x = x0 + step * i as f64;
                    match v {
                        Some(v) if started => cr.line_to(x, y(*v)),
                        Some(v) => {
                            cr.move_to(x, y(*v));
                            started = true;
                            first_x = x;
                        }
                        None => {
                            if started {
                                let _ = cr.stroke();
                            }
                            started = false;
                            continue;
                        }
                    }
                    last_x = x;
                }
                if started {
                    cr.set_source_rgba(r, g, b, 1.0);
                    cr.set_line_width(2.0);
                    let _ = cr.stroke_preserve();
                    if idx == 0 {
                        cr.line_to(last_x, h);
                        cr.line_to(first_x, h);
                        cr.close_path();
                        cr.set_source_rgba(r, g, b, 0.18);
                        let _ = cr.fill();
                    } else {
                        cr.new_path();
                    }
                }
            }
        }
    }
}

glib::wrapper! {
    pub struct Graph(ObjectSubclass<imp::Graph>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for Graph {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl Graph {
    /// A graph whose scale tops out at `max` (None: fits the data).
    pub fn new(max: Option<f64>) -> Self {
        let g = Self::default();
        g.imp().max.set(max);
        g
    }

    /// How many samples span the width.
    pub fn set_capacity(&self, capacity: usize) {
        self.imp().capacity.set(capacity.max(2));
        self.queue_draw();
    }

    /// New data, and the sentence a screen reader says about it.
    pub fn set_series(&self, series: Vec<Vec<Option<f64>>>, description: &str) {
        *self.imp().series.borrow_mut() = series;
        crate::windows::a11y::set_description(self, description);
        self.queue_draw();
    }
}
