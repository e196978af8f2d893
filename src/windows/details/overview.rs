//! The details window's Overview page: who the guest is, and its editable
//! title and description.

use std::rc::Rc;

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use virt_manager_plugin_api::{ConfigChanges, DomainConfig, DomainInfo};

use crate::i18n::gettext;
use crate::windows::state_label;

pub struct OverviewPage {
    pub root: adw::PreferencesPage,
    name: adw::ActionRow,
    uuid: adw::ActionRow,
    state: adw::ActionRow,
    title: adw::EntryRow,
    hypervisor: adw::ActionRow,
    arch: adw::ActionRow,
    machine: adw::ActionRow,
    description: gtk::TextView,
    loading: std::cell::Cell<bool>,
}

fn info_row(group: &adw::PreferencesGroup, title: &str) -> adw::ActionRow {
    let row = adw::ActionRow::builder().title(title).build();
    row.add_css_class("property");
    group.add(&row);
    row
}

impl OverviewPage {
    pub fn new(changed: Rc<dyn Fn()>) -> Rc<Self> {
        let root = adw::PreferencesPage::new();
        let basic = adw::PreferencesGroup::builder()
            .title(gettext("Basic Details"))
            .build();
        let name = info_row(&basic, &gettext("Name"));
        let title = adw::EntryRow::builder().title(gettext("Title")).build();
        basic.add(&title);
        let uuid = info_row(&basic, &gettext("UUID"));
        let state = info_row(&basic, &gettext("Status"));
        root.add(&basic);

        let hv = adw::PreferencesGroup::builder()
            .title(gettext("Hypervisor Details"))
            .build();
        let hypervisor = info_row(&hv, &gettext("Hypervisor"));
        let arch = info_row(&hv, &gettext("Architecture"));
        let machine = info_row(&hv, &gettext("Machine Type"));
        root.add(&hv);

        let desc_group = adw::PreferencesGroup::builder()
            .title(gettext("Description"))
            .build();
        let description = gtk::TextView::builder()
            .wrap_mode(gtk::WrapMode::WordChar)
            .top_margin(8)
            .bottom_margin(8)
            .left_margin(8)
            .right_margin(8)
            .height_request(90)
            .build();
        crate::windows::a11y::set_label(&description, &gettext("Description"));
        let frame = gtk::Frame::builder()
            .child(&description)
            .css_classes(["view"])
            .build();
        desc_group.add(&frame);
        root.add(&desc_group);

        let page = Rc::new(OverviewPage {
            root,
            name,
            uuid,
            state,
            title,
            hypervisor,
            arch,
            machine,
            description,
            loading: std::cell::Cell::new(false),
        });
        let p = Rc::downgrade(&page);
        let c = changed.clone();
        page.title.connect_changed(move |_| {
            if p.upgrade().is_some_and(|p| !p.loading.get()) {
                c();
            }
        });
        let p = Rc::downgrade(&page);
        page.description.buffer().connect_changed(move |_| {
            if p.upgrade().is_some_and(|p| !p.loading.get()) {
                changed();
            }
        });
        page
    }

    pub fn set_info(&self, info: &DomainInfo) {
        self.name
            .set_subtitle(&gtk::glib::markup_escape_text(&info.name));
        self.uuid.set_subtitle(&info.uuid);
        self.state.set_subtitle(&state_label(info.state));
    }

    pub fn set_config(&self, config: &DomainConfig) {
        self.loading.set(true);
        self.title.set_text(&config.title);
        self.description.buffer().set_text(&config.description);
        let dash = |s: &str| {
            if s.is_empty() {
                "—".to_owned()
            } else {
                gtk::glib::markup_escape_text(s).to_string()
            }
        };
        self.hypervisor.set_subtitle(&dash(&config.hypervisor));
        self.arch.set_subtitle(&dash(&config.arch));
        self.machine.set_subtitle(&dash(&config.machine));
        self.loading.set(false);
    }

    pub fn changes(&self, original: &DomainConfig, into: &mut ConfigChanges) {
        let title = self.title.text().to_string();
        if title != original.title {
            into.title = Some(title);
        }
        let buf = self.description.buffer();
        let desc = buf
            .text(&buf.start_iter(), &buf.end_iter(), false)
            .to_string();
        if desc != original.description {
            into.description = Some(desc);
        }
    }
}
