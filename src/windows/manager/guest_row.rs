//! The manager's row widget, built once per recycled list row and bound to
//! a [`GuestObject`] through property expressions (no per-bind code), so
//! 1500 guests cost only the rows on screen.

use std::rc::Rc;

use relm4::gtk;
use relm4::gtk::glib;
use relm4::gtk::prelude::*;

use super::guest_object::GuestObject;
use crate::windows::widgets::Sparkline;

/// Called with the row's list position and the pointer position within
/// the row when the user asks for a row's context menu.
pub type ContextMenuHandler = Rc<dyn Fn(u32, &gtk::Widget, f64, f64)>;

pub fn factory(on_context_menu: ContextMenuHandler) -> gtk::SignalListItemFactory {
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(move |_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let row = build_row(item);
        let click = gtk::GestureClick::builder()
            .button(gtk::gdk::BUTTON_SECONDARY)
            .build();
        let weak_item = item.downgrade();
        let handler = on_context_menu.clone();
        let weak_row = row.downgrade();
        click.connect_pressed(move |gesture, _, x, y| {
            let (Some(item), Some(row)) = (weak_item.upgrade(), weak_row.upgrade()) else {
                return;
            };
            if item.position() != gtk::INVALID_LIST_POSITION {
                gesture.set_state(gtk::EventSequenceState::Claimed);
                handler(item.position(), row.upcast_ref(), x, y);
            }
        });
        row.add_controller(click);
        item.set_child(Some(&row));
    });
    factory
}

fn label(classes: &[&str], xalign: f32) -> gtk::Label {
    gtk::Label::builder()
        .xalign(xalign)
        .ellipsize(gtk::pango::EllipsizeMode::End)
        .css_classes(classes.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        .build()
}

fn build_row(item: &gtk::ListItem) -> gtk::Box {
    let row = gtk::Box::builder()
        .spacing(12)
        .css_classes(["guest-row"])
        .build();

    let icon = gtk::Image::builder().pixel_size(16).build();
    let text = gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .hexpand(true)
        .spacing(2)
        .build();
    let name = label(&["guest-name"], 0.0);
    let summary = label(&["dim-label", "caption"], 0.0);
    text.append(&name);
    text.append(&summary);

    let sparkline = Sparkline::default();
    sparkline.set_valign(gtk::Align::Center);
    sparkline.set_size_request(80, 24);
    let cpu = label(&["numeric", "caption"], 1.0);
    cpu.set_width_chars(6);
    let memory = label(&["numeric", "caption", "dim-label"], 1.0);
    memory.set_width_chars(9);
    let state = label(&["dim-label"], 1.0);
    state.set_width_chars(10);

    row.append(&icon);
    row.append(&text);
    row.append(&sparkline);
    row.append(&cpu);
    row.append(&memory);
    row.append(&state);

    let guest = item.property_expression("item");
    let bind = |prop: &str, widget: &gtk::Widget, target: &str| {
        guest
            .chain_property::<GuestObject>(prop)
            .bind(widget, target, gtk::Widget::NONE);
    };
    bind("name", name.upcast_ref(), "label");
    bind("summary", summary.upcast_ref(), "label");
    bind("state-label", state.upcast_ref(), "label");
    bind("icon-name", icon.upcast_ref(), "icon-name");
    bind("cpu-text", cpu.upcast_ref(), "label");
    bind("memory-text", memory.upcast_ref(), "label");
    bind("cpu-history", sparkline.upcast_ref(), "samples");
    bind("description", sparkline.upcast_ref(), "tooltip-text");
    guest
        .chain_property::<GuestObject>("state")
        .chain_closure::<Vec<String>>(glib::closure!(|_: Option<glib::Object>, state: &str| {
            vec!["guest-state-icon".to_owned(), state.to_owned()]
        }))
        .bind(&icon, "css-classes", gtk::Widget::NONE);
    row
}
