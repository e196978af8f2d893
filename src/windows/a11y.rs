//! Accessible names and descriptions.
//!
//! gtk4-rs 0.11 exposes `GtkAccessible` and `update_property` only with its
//! `v4_10` feature, though the C call exists since GTK 4.0 (GTK here is
//! 4.8), so this declares and calls it directly. Every `GtkWidget` is a
//! `GtkAccessible`.

use std::ffi::{c_int, c_void};

use relm4::gtk;
use relm4::gtk::glib;
use relm4::gtk::glib::translate::{IntoGlib, ToGlibPtr};
use relm4::gtk::glib::value::ToValue;
use relm4::gtk::prelude::*;

unsafe extern "C" {
    fn gtk_accessible_update_state_value(
        accessible: *mut c_void,
        n_states: c_int,
        states: *const c_int,
        values: *const glib::gobject_ffi::GValue,
    );
    fn gtk_accessible_update_property_value(
        accessible: *mut c_void,
        n_properties: c_int,
        properties: *const c_int,
        values: *const glib::gobject_ffi::GValue,
    );
}

fn update(widget: &impl IsA<gtk::Widget>, property: gtk::AccessibleProperty, value: &str) {
    let props: [c_int; 1] = [property.into_glib()];
    let values = [value.to_value()];
    let ptr: *mut gtk::ffi::GtkWidget = widget.as_ref().to_glib_none().0;
    // Safety: a GtkWidget implements GtkAccessible; `values` holds one
    // initialised GValue of the type the property expects (a string).
    unsafe {
        gtk_accessible_update_property_value(
            ptr as *mut c_void,
            1,
            props.as_ptr(),
            values.as_ptr() as *const glib::gobject_ffi::GValue,
        );
    }
}

/// Hides a widget from assistive technologies (its parent speaks for it).
pub fn hide(widget: &impl IsA<gtk::Widget>) {
    let states: [c_int; 1] = [gtk::AccessibleState::Hidden.into_glib()];
    let values = [true.to_value()];
    let ptr: *mut gtk::ffi::GtkWidget = widget.as_ref().to_glib_none().0;
    // Safety: as in `update`, with one boolean state.
    unsafe {
        gtk_accessible_update_state_value(
            ptr as *mut c_void,
            1,
            states.as_ptr(),
            values.as_ptr() as *const glib::gobject_ffi::GValue,
        );
    }
}

/// The accessible name, for controls whose visible text does not say
/// what they are (icon buttons, lists, graphs).
pub fn set_label(widget: &impl IsA<gtk::Widget>, label: &str) {
    update(widget, gtk::AccessibleProperty::Label, label);
}

/// A longer description: a graph's current values, say.
pub fn set_description(widget: &impl IsA<gtk::Widget>, description: &str) {
    update(widget, gtk::AccessibleProperty::Description, description);
}

/// Names every icon-only button under `root` after its tooltip (GTK 4.8
/// does not), and every labelled button after its label without the
/// mnemonic underscore. (GTK 4.8's AT-SPI bridge still repeats a text
/// button's label in its name, "Apply Apply"; fixed in later GTK.)
pub fn name_buttons(root: &impl IsA<gtk::Widget>) {
    let mut stack = vec![root.as_ref().clone()];
    while let Some(w) = stack.pop() {
        let tooltip = w.tooltip_text();
        let is_button =
            w.is::<gtk::Button>() || w.is::<gtk::MenuButton>() || w.is::<gtk::ToggleButton>();
        if is_button {
            let label = w
                .downcast_ref::<gtk::Button>()
                .and_then(|b| b.label())
                .or_else(|| w.downcast_ref::<gtk::MenuButton>().and_then(|b| b.label()));
            match (label, tooltip) {
                (Some(l), _) => set_label(&w, &l.replace('_', "")),
                (None, Some(t)) => {
                    set_label(&w, &t);
                    // A MenuButton's inner toggle is what AT-SPI focuses;
                    // GTK 4.8 adds the tooltip to its name if it has none.
                    if let Some(inner) = w.first_child() {
                        if inner.is::<gtk::ToggleButton>() {
                            set_label(&inner, &t);
                            inner.set_has_tooltip(false);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut child = w.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            stack.push(c);
        }
    }
}
