//! The details window's Hardware page: the editable basics (vCPUs, memory,
//! boot order, autostart) and every device of the guest, read-only.

use std::cell::RefCell;
use std::rc::Rc;

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use virt_manager_plugin_api::{ConfigChanges, DomainConfig};

use crate::i18n::gettext;

/// Boot devices libvirt knows, with what users call them.
fn boot_devices() -> Vec<(&'static str, String)> {
    vec![
        ("hd", gettext("Hard Disk")),
        ("cdrom", gettext("CD-ROM")),
        ("network", gettext("Network (PXE)")),
        ("fd", gettext("Floppy")),
    ]
}

type Changed = Rc<dyn Fn()>;

pub struct HardwarePage {
    pub root: adw::PreferencesPage,
    vcpus: gtk::SpinButton,
    memory_mib: gtk::SpinButton,
    autostart: gtk::Switch,
    boot_list: gtk::ListBox,
    /// Boot devices in order, with whether each is enabled.
    boot: Rc<RefCell<Vec<(String, bool)>>>,
    devices: adw::PreferencesGroup,
    device_rows: RefCell<Vec<adw::ExpanderRow>>,
    changed: Changed,
    /// Set while the page itself writes widgets, so that is not an edit.
    loading: Rc<std::cell::Cell<bool>>,
}

fn spin_row(title: &str, subtitle: &str, spin: &gtk::SpinButton) -> adw::ActionRow {
    let row = adw::ActionRow::builder()
        .title(title)
        .subtitle(subtitle)
        .build();
    spin.set_valign(gtk::Align::Center);
    row.add_suffix(spin);
    row.set_activatable_widget(Some(spin));
    row
}

impl HardwarePage {
    pub fn new(changed: Changed) -> Rc<Self> {
        let root = adw::PreferencesPage::new();
        let loading = Rc::new(std::cell::Cell::new(false));

        let cpu_group = adw::PreferencesGroup::builder()
            .title(gettext("Processor"))
            .build();
        let vcpus = gtk::SpinButton::with_range(1.0, 512.0, 1.0);
        cpu_group.add(&spin_row(
            &gettext("Virtual CPUs"),
            &gettext("Takes effect at the next boot"),
            &vcpus,
        ));
        root.add(&cpu_group);

        let mem_group = adw::PreferencesGroup::builder()
            .title(gettext("Memory"))
            .build();
        let memory_mib = gtk::SpinButton::with_range(16.0, 16.0 * 1024.0 * 1024.0, 64.0);
        mem_group.add(&spin_row(
            &gettext("Memory (MiB)"),
            &gettext("Takes effect at the next boot"),
            &memory_mib,
        ));
        root.add(&mem_group);

        let boot_group = adw::PreferencesGroup::builder()
            .title(gettext("Boot Options"))
            .build();
        let autostart = gtk::Switch::builder().valign(gtk::Align::Center).build();
        let auto_row = adw::ActionRow::builder()
            .title(gettext("Start at Host Boot"))
            .subtitle(gettext("Run this guest when the host starts"))
            .activatable_widget(&autostart)
            .build();
        auto_row.add_suffix(&autostart);
        boot_group.add(&auto_row);
        let boot_list = gtk::ListBox::builder()
            .selection_mode(gtk::SelectionMode::None)
            .css_classes(["boxed-list"])
            .build();
        crate::windows::a11y::set_label(&boot_list, &gettext("Boot order"));
        let boot_title = gtk::Label::builder()
            .label(gettext("Boot Order"))
            .xalign(0.0)
            .margin_top(12)
            .margin_bottom(6)
            .css_classes(["heading"])
            .build();
        let boot_box = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .build();
        boot_box.append(&boot_title);
        boot_box.append(&boot_list);
        boot_group.add(&boot_box);
        root.add(&boot_group);

        let devices = adw::PreferencesGroup::builder()
            .title(gettext("Devices"))
            .build();
        root.add(&devices);

        let page = Rc::new(HardwarePage {
            root,
            vcpus,
            memory_mib,
            autostart,
            boot_list,
            boot: Rc::new(RefCell::new(Vec::new())),
            devices,
            device_rows: RefCell::new(Vec::new()),
            changed,
            loading,
        });
        for spin in [&page.vcpus, &page.memory_mib] {
            let p = Rc::downgrade(&page);
            spin.connect_value_changed(move |_| {
                if let Some(p) = p.upgrade() {
                    p.edited();
                }
            });
        }
        let p = Rc::downgrade(&page);
        page.autostart.connect_active_notify(move |_| {
            if let Some(p) = p.upgrade() {
                p.edited();
            }
        });
        page
    }

    fn edited(&self) {
        if !self.loading.get() {
            (self.changed)();
        }
    }

    /// Shows `config` in the widgets (after loading, Apply or Revert).
    pub fn set_config(self: &Rc<Self>, config: &DomainConfig) {
        self.loading.set(true);
        let max_vcpus = if config.max_vcpus > 0 {
            config.max_vcpus.max(config.vcpus)
        } else {
            512
        };
        self.vcpus.set_range(1.0, max_vcpus as f64);
        self.vcpus.set_value(config.vcpus as f64);
        self.memory_mib.set_value((config.memory_kib / 1024) as f64);
        self.autostart.set_active(config.autostart);
        let mut boot: Vec<(String, bool)> = config
            .boot_order
            .iter()
            .map(|d| (d.clone(), true))
            .collect();
        for (dev, _) in boot_devices() {
            if !boot.iter().any(|(d, _)| d == dev) {
                boot.push((dev.to_owned(), false));
            }
        }
        *self.boot.borrow_mut() = boot;
        self.rebuild_boot_rows();
        self.show_devices(config);
        self.loading.set(false);
    }

    fn rebuild_boot_rows(self: &Rc<Self>) {
        while let Some(child) = self.boot_list.first_child() {
            self.boot_list.remove(&child);
        }
        let names = boot_devices();
        let boot = self.boot.borrow().clone();
        let n = boot.len();
        for (i, (dev, enabled)) in boot.iter().enumerate() {
            let label = names
                .iter()
                .find(|(d, _)| d == dev)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| dev.clone());
            let row = adw::ActionRow::builder().title(&label).build();
            let check = gtk::CheckButton::builder()
                .active(*enabled)
                .valign(gtk::Align::Center)
                .build();
            row.add_prefix(&check);
            row.set_activatable_widget(Some(&check));
            let up = gtk::Button::builder()
                .icon_name("go-up-symbolic")
                .valign(gtk::Align::Center)
                .sensitive(i > 0)
                .css_classes(["flat"])
                .tooltip_text(gettext("Move Up"))
                .build();
            let down = gtk::Button::builder()
                .icon_name("go-down-symbolic")
                .valign(gtk::Align::Center)
                .sensitive(i + 1 < n)
                .css_classes(["flat"])
                .tooltip_text(gettext("Move Down"))
                .build();
            row.add_suffix(&up);
            row.add_suffix(&down);
            let p = Rc::downgrade(self);
            check.connect_toggled(move |c| {
                if let Some(p) = p.upgrade() {
                    p.boot.borrow_mut()[i].1 = c.is_active();
                    p.edited();
                }
            });
            for (button, delta) in [(&up, -1isize), (&down, 1isize)] {
                let p = Rc::downgrade(self);
                button.connect_clicked(move |_| {
                    let Some(p) = p.upgrade() else { return };
                    let j = (i as isize + delta) as usize;
                    p.boot.borrow_mut().swap(i, j);
                    // Rebuilding from inside a row's handler: defer it.
                    let p2 = p.clone();
                    gtk::glib::idle_add_local_once(move || p2.rebuild_boot_rows());
                    p.edited();
                });
            }
            self.boot_list.append(&row);
        }
    }

    fn show_devices(&self, config: &DomainConfig) {
        for row in self.device_rows.borrow_mut().drain(..) {
            self.devices.remove(&row);
        }
        for dev in &config.devices {
            let row = adw::ExpanderRow::builder()
                .title(gtk::glib::markup_escape_text(&dev.title).as_str())
                .build();
            row.set_subtitle(&device_kind_label(&dev.kind));
            for (name, value) in &dev.properties {
                let prop = adw::ActionRow::builder()
                    .title(gtk::glib::markup_escape_text(name).as_str())
                    .subtitle(gtk::glib::markup_escape_text(value).as_str())
                    .build();
                prop.add_css_class("property");
                row.add_row(&prop);
            }
            self.devices.add(&row);
            self.device_rows.borrow_mut().push(row);
        }
    }

    /// What differs from `original`.
    pub fn changes(&self, original: &DomainConfig, into: &mut ConfigChanges) {
        let vcpus = self.vcpus.value() as u32;
        if vcpus != original.vcpus {
            into.vcpus = Some(vcpus);
        }
        let mib = self.memory_mib.value() as u64;
        if mib != original.memory_kib / 1024 {
            into.memory_kib = Some(mib * 1024);
        }
        if self.autostart.is_active() != original.autostart {
            into.autostart = Some(self.autostart.is_active());
        }
        let order: Vec<String> = self
            .boot
            .borrow()
            .iter()
            .filter(|(_, on)| *on)
            .map(|(d, _)| d.clone())
            .collect();
        if order != original.boot_order {
            into.boot_order = Some(order);
        }
    }
}

/// A device kind as the user reads it.
pub fn device_kind_label(kind: &str) -> String {
    match kind {
        "disk" => gettext("Disk"),
        "cdrom" => gettext("CD-ROM"),
        "interface" => gettext("Network Interface"),
        "graphics" => gettext("Graphics"),
        "video" => gettext("Video"),
        "controller" => gettext("Controller"),
        "input" => gettext("Input"),
        "sound" => gettext("Sound"),
        "serial" => gettext("Serial Port"),
        "console" => gettext("Console"),
        "channel" => gettext("Channel"),
        "hostdev" => gettext("Host Device"),
        "rng" => gettext("Random Number Generator"),
        "tpm" => gettext("TPM"),
        "watchdog" => gettext("Watchdog"),
        "memballoon" => gettext("Memory Balloon"),
        other => other.to_owned(),
    }
}
