//! The About window (the seed's about.py), an AdwAboutWindow.

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;

use crate::config;
use crate::i18n::gettext;

/// What the About window lists beyond the fixed facts.
pub struct AboutInfo {
    /// One line per plugin: "libvirt 0.1.0 — loaded (…/libvirt_manager_libvirt.so)".
    pub plugins: Vec<String>,
}

pub fn show(parent: Option<&gtk::Window>, info: &AboutInfo) -> adw::AboutWindow {
    let about = adw::AboutWindow::builder()
        .application_name(gettext("Virtual Machine Manager"))
        .application_icon(config::APP_ID)
        .version(config::VERSION)
        .developer_name(gettext("The Virtual Machine Manager developers"))
        .license_type(gtk::License::Gpl30)
        .website(config::WEBSITE)
        .issue_url(format!("{}/issues", config::WEBSITE))
        .comments(gettext("Manage virtual machines and use their consoles"))
        .translator_credits(gettext("translator-credits"))
        .debug_info(debug_info(info))
        .debug_info_filename("virt-manager-debug.txt")
        .modal(true)
        .build();
    if let Some(p) = parent {
        about.set_transient_for(Some(p));
    }
    about.present();
    about
}

fn debug_info(info: &AboutInfo) -> String {
    let mut s = format!(
        "{} {}\n\n{}\n",
        config::APP_NAME,
        config::VERSION,
        gettext("Plugins:")
    );
    for line in &info.plugins {
        s.push_str("  ");
        s.push_str(line);
        s.push('\n');
    }
    s
}
