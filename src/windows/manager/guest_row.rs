//! The manager's row widget, built once per recycled list row and bound to
//! a [`GuestObject`] through property expressions (no per-bind code).

use relm4::gtk;
use relm4::gtk::glib;
use relm4::gtk::prelude::*;

use super::guest_object::GuestObject;

pub fn factory() -> gtk::SignalListItemFactory {
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(|_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        item.set_child(Some(&build_row(item)));
    });
    factory
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
    let name = gtk::Label::builder()
        .xalign(0.0)
        .ellipsize(gtk::pango::EllipsizeMode::End)
        .css_classes(["guest-name"])
        .build();
    let summary = gtk::Label::builder()
        .xalign(0.0)
        .ellipsize(gtk::pango::EllipsizeMode::End)
        .css_classes(["dim-label", "caption"])
        .build();
    let state = gtk::Label::builder()
        .xalign(1.0)
        .css_classes(["dim-label"])
        .build();
    text.append(&name);
    text.append(&summary);
    row.append(&icon);
    row.append(&text);
    row.append(&state);

    let guest = item.property_expression("item");
    guest
        .chain_property::<GuestObject>("name")
        .bind(&name, "label", gtk::Widget::NONE);
    guest
        .chain_property::<GuestObject>("summary")
        .bind(&summary, "label", gtk::Widget::NONE);
    guest
        .chain_property::<GuestObject>("state-label")
        .bind(&state, "label", gtk::Widget::NONE);
    guest
        .chain_property::<GuestObject>("icon-name")
        .bind(&icon, "icon-name", gtk::Widget::NONE);
    guest
        .chain_property::<GuestObject>("state")
        .chain_closure::<Vec<String>>(glib::closure!(|_: Option<glib::Object>, state: &str| {
            vec!["guest-state-icon".to_owned(), state.to_owned()]
        }))
        .bind(&icon, "css-classes", gtk::Widget::NONE);
    row
}
