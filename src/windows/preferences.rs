//! The Preferences window (the seed's preferences.py), an
//! AdwPreferencesWindow whose controls are bound straight to GSettings:
//! what the user changes is saved at once, and the engine hears of it
//! through the settings' change signals.

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::glib;

use crate::i18n::gettext;
use crate::settings::Settings;

/// One plugin as the Plugins page lists it.
#[derive(Clone, Debug)]
pub struct PluginSummary {
    pub title: String,
    /// "Loaded", or "Failed: reason".
    pub status: String,
    pub ok: bool,
    /// File, kind, versions and what it provides.
    pub details: Vec<(String, String)>,
}

fn switch_row(settings: &Settings, key: &str, title: &str, subtitle: &str) -> adw::ActionRow {
    let switch = gtk::Switch::builder().valign(gtk::Align::Center).build();
    let row = adw::ActionRow::builder()
        .title(title)
        .subtitle(subtitle)
        .activatable_widget(&switch)
        .build();
    row.add_suffix(&switch);
    match settings.gio() {
        Some(s) => s.bind(key, &switch, "active").build(),
        None => switch.set_sensitive(false),
    }
    row
}

fn spin_row(
    settings: &Settings,
    key: &str,
    title: &str,
    subtitle: &str,
    min: f64,
    max: f64,
) -> adw::ActionRow {
    let spin = gtk::SpinButton::with_range(min, max, 1.0);
    spin.set_valign(gtk::Align::Center);
    let row = adw::ActionRow::builder()
        .title(title)
        .subtitle(subtitle)
        .activatable_widget(&spin)
        .build();
    row.add_suffix(&spin);
    match settings.gio() {
        Some(s) => s.bind(key, &spin, "value").build(),
        None => spin.set_sensitive(false),
    }
    row
}

/// A choice row for a string or enum key.
fn combo_row(
    settings: &Settings,
    key: &str,
    title: &str,
    choices: &[(&str, String)],
) -> adw::ComboRow {
    let labels: Vec<&str> = choices.iter().map(|(_, l)| l.as_str()).collect();
    let row = adw::ComboRow::builder()
        .title(title)
        .model(&gtk::StringList::new(&labels))
        .build();
    let current = settings.string(key, choices[0].0);
    if let Some(i) = choices.iter().position(|(v, _)| *v == current) {
        row.set_selected(i as u32);
    }
    let values: Vec<String> = choices.iter().map(|(v, _)| v.to_string()).collect();
    let settings = settings.clone();
    let key = key.to_owned();
    row.connect_selected_notify(move |r| {
        if let Some(v) = values.get(r.selected() as usize) {
            settings.set_string(&key, v);
        }
    });
    row
}

pub fn show(
    parent: Option<&gtk::Window>,
    settings: &Settings,
    plugins: &[PluginSummary],
) -> adw::PreferencesWindow {
    let window = adw::PreferencesWindow::builder()
        .title(gettext("Preferences"))
        .default_width(640)
        .default_height(640)
        .search_enabled(true)
        .modal(false)
        .build();
    if let Some(p) = parent {
        window.set_transient_for(Some(p));
    }

    // Statistics.
    let stats = adw::PreferencesPage::builder()
        .title(gettext("Statistics"))
        .icon_name("power-profile-performance-symbolic")
        .build();
    let sampling = adw::PreferencesGroup::builder()
        .title(gettext("Sampling"))
        .description(gettext(
            "One request per connection gathers the statistics of all its guests.",
        ))
        .build();
    sampling.add(&spin_row(
        settings,
        "stats-interval",
        &gettext("Update Interval"),
        &gettext("Seconds between samples"),
        1.0,
        60.0,
    ));
    sampling.add(&spin_row(
        settings,
        "history-length",
        &gettext("History Length"),
        &gettext("Samples kept for the graphs"),
        10.0,
        3600.0,
    ));
    stats.add(&sampling);
    let polled = adw::PreferencesGroup::builder()
        .title(gettext("Statistics to Sample"))
        .build();
    polled.add(&switch_row(
        settings,
        "stats-poll-cpu",
        &gettext("CPU Usage"),
        "",
    ));
    polled.add(&switch_row(
        settings,
        "stats-poll-memory",
        &gettext("Memory Usage"),
        &gettext("Costs a balloon query on some hosts"),
    ));
    polled.add(&switch_row(
        settings,
        "stats-poll-disk",
        &gettext("Disk I/O"),
        "",
    ));
    polled.add(&switch_row(
        settings,
        "stats-poll-net",
        &gettext("Network I/O"),
        "",
    ));
    stats.add(&polled);
    window.add(&stats);

    // Console.
    let console = adw::PreferencesPage::builder()
        .title(gettext("Console"))
        .icon_name("video-display-symbolic")
        .build();
    let display = adw::PreferencesGroup::builder()
        .title(gettext("Display"))
        .build();
    display.add(&combo_row(
        settings,
        "console-scaling",
        &gettext("Scaling"),
        &[
            ("fit", gettext("Fit to Window")),
            ("one-to-one", gettext("Original Size (1:1)")),
        ],
    ));
    display.add(&switch_row(
        settings,
        "console-resize-guest",
        &gettext("Resize Guest to Window"),
        &gettext("Where the guest allows it"),
    ));
    console.add(&display);
    let keyboard = adw::PreferencesGroup::builder()
        .title(gettext("Keyboard"))
        .build();
    keyboard.add(&combo_row(
        settings,
        "grab-release-keys",
        &gettext("Release Keyboard With"),
        &[
            ("Control_L+Alt_L", gettext("Ctrl+Alt")),
            ("Control_L+Alt_R", gettext("Ctrl+AltGr")),
            ("Control_R", gettext("Right Ctrl")),
            ("Alt_L+Shift_L", gettext("Alt+Shift")),
            ("Super_L+Escape", gettext("Super+Escape")),
        ],
    ));
    console.add(&keyboard);
    window.add(&console);

    // Confirmations.
    let confirm = adw::PreferencesPage::builder()
        .title(gettext("Confirmations"))
        .icon_name("dialog-question-symbolic")
        .build();
    let ask = adw::PreferencesGroup::builder()
        .title(gettext("Ask Before"))
        .build();
    ask.add(&switch_row(
        settings,
        "confirm-force-off",
        &gettext("Forcing a Guest Off"),
        "",
    ));
    ask.add(&switch_row(
        settings,
        "confirm-pause",
        &gettext("Pausing a Guest"),
        "",
    ));
    ask.add(&switch_row(
        settings,
        "confirm-delete",
        &gettext("Deleting a Guest"),
        "",
    ));
    confirm.add(&ask);
    window.add(&confirm);

    // Plugins.
    let page = adw::PreferencesPage::builder()
        .title(gettext("Plugins"))
        .icon_name("application-x-addon-symbolic")
        .build();
    let group = adw::PreferencesGroup::builder()
        .title(gettext("Plugins"))
        .description(gettext(
            "Hypervisor backends and console decoders found at start.",
        ))
        .build();
    if plugins.is_empty() {
        group.add(
            &adw::ActionRow::builder()
                .title(gettext("No plugins were found"))
                .build(),
        );
    }
    for p in plugins {
        let row = adw::ExpanderRow::builder()
            .title(glib::markup_escape_text(&p.title).as_str())
            .subtitle(glib::markup_escape_text(&p.status).as_str())
            .build();
        let icon = gtk::Image::from_icon_name(if p.ok {
            "emblem-ok-symbolic"
        } else {
            "dialog-warning-symbolic"
        });
        icon.add_css_class(if p.ok { "success" } else { "warning" });
        crate::windows::a11y::set_label(&icon, &p.status);
        row.add_prefix(&icon);
        for (name, value) in &p.details {
            let r = adw::ActionRow::builder()
                .title(glib::markup_escape_text(name).as_str())
                .subtitle(glib::markup_escape_text(value).as_str())
                .build();
            r.add_css_class("property");
            row.add_row(&r);
        }
        group.add(&row);
    }
    page.add(&group);
    window.add(&page);

    window.present();
    window
}
