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

/// The accessible name, for controls whose visible text does not say
/// what they are (icon buttons, lists, graphs).
pub fn set_label(widget: &impl IsA<gtk::Widget>, label: &str) {
    update(widget, gtk::AccessibleProperty::Label, label);
}

/// A longer description: a graph's current values, say.
pub fn set_description(widget: &impl IsA<gtk::Widget>, description: &str) {
    update(widget, gtk::AccessibleProperty::Description, description);
}
