//! The host summary window of one connection (the seed's manager.py host
//! summary): what the host is, its CPU and memory over time, its virtual
//! networks and its storage pools.

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::glib;
use relm4::prelude::*;
use virt_manager_plugin_api::{
    capability, BackendInfo, ConnectionInfo, NetworkAction, NetworkInfo, StoragePoolAction,
    StoragePoolInfo,
};

use crate::i18n::{gettext, gettext_f};
use crate::model::{ConnectionId, HostSample};
use crate::windows::format;
use crate::windows::manager::display_uri;
use crate::windows::widgets::Graph;

pub struct HostInit {
    pub id: ConnectionId,
    pub uri: String,
    pub host: Option<ConnectionInfo>,
    pub backend: Option<BackendInfo>,
    pub history: Vec<HostSample>,
    pub history_len: usize,
}

#[derive(Debug)]
pub enum HostInput {
    Info(Option<ConnectionInfo>),
    Sample(HostSample),
    Networks(Result<Vec<NetworkInfo>, String>),
    Pools(Result<Vec<StoragePoolInfo>, String>),
    ShowError(String),
    Network(String, NetworkAction),
    Pool(String, StoragePoolAction),
    Refresh,
    Closed,
}

#[derive(Debug)]
pub enum HostOutput {
    NetworkAction {
        id: ConnectionId,
        name: String,
        action: NetworkAction,
    },
    PoolAction {
        id: ConnectionId,
        name: String,
        action: StoragePoolAction,
    },
    Refresh {
        id: ConnectionId,
    },
    Closed {
        id: ConnectionId,
    },
}

pub struct HostWindow {
    id: ConnectionId,
    history: std::collections::VecDeque<HostSample>,
    history_len: usize,
}

pub struct HostWidgets {
    info_rows: Vec<adw::ActionRow>,
    cpu_graph: Graph,
    cpu_value: gtk::Label,
    mem_graph: Graph,
    mem_value: gtk::Label,
    networks: adw::PreferencesGroup,
    network_rows: Vec<adw::ExpanderRow>,
    pools: adw::PreferencesGroup,
    pool_rows: Vec<adw::ExpanderRow>,
    toasts: adw::ToastOverlay,
}

fn info_row(group: &adw::PreferencesGroup, title: &str) -> adw::ActionRow {
    let row = adw::ActionRow::builder().title(title).build();
    row.add_css_class("property");
    group.add(&row);
    row
}

fn graph_card(title: &str) -> (gtk::Box, Graph, gtk::Label) {
    let b = gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .spacing(6)
        .css_classes(["card", "perf-card"])
        .build();
    let head = gtk::Box::builder().spacing(6).build();
    head.append(
        &gtk::Label::builder()
            .label(title)
            .xalign(0.0)
            .hexpand(true)
            .css_classes(["heading"])
            .build(),
    );
    let value = gtk::Label::builder()
        .css_classes(["numeric", "dim-label"])
        .build();
    head.append(&value);
    b.append(&head);
    let graph = Graph::new(Some(100.0));
    graph.set_size_request(-1, 110);
    b.append(&graph);
    (b, graph, value)
}

fn set_info(rows: &[adw::ActionRow], uri: &str, host: Option<&ConnectionInfo>) {
    let dash = |s: &str| {
        if s.is_empty() {
            "—".to_owned()
        } else {
            glib::markup_escape_text(s).to_string()
        }
    };
    let values = match host {
        Some(h) => vec![
            dash(&display_uri(uri)),
            dash(&h.hostname),
            dash(&h.hypervisor),
            dash(&h.library),
            // libvirt's CPU "model" is often the architecture again.
            dash(
                if h.cpu_model.is_empty() || h.cpu_model == h.arch {
                    h.arch.clone()
                } else {
                    format!("{} ({})", h.arch, h.cpu_model)
                }
                .trim(),
            ),
            if h.cpus > 0 {
                if h.cpu_mhz > 0 {
                    gettext_f(
                        "{n} at {mhz} MHz",
                        &[("n", &h.cpus.to_string()), ("mhz", &h.cpu_mhz.to_string())],
                    )
                } else {
                    h.cpus.to_string()
                }
            } else {
                "—".to_owned()
            },
            if h.memory_kib > 0 {
                format::kib(h.memory_kib)
            } else {
                "—".to_owned()
            },
        ],
        None => {
            let mut v = vec![dash(&display_uri(uri))];
            v.resize(rows.len(), "—".to_owned());
            v
        }
    };
    for (row, value) in rows.iter().zip(values) {
        row.set_subtitle(&value);
    }
}

impl Component for HostWindow {
    type Init = HostInit;
    type Input = HostInput;
    type Output = HostOutput;
    type CommandOutput = ();
    type Root = adw::ApplicationWindow;
    type Widgets = HostWidgets;

    fn init_root() -> Self::Root {
        adw::ApplicationWindow::builder()
            .default_width(720)
            .default_height(640)
            .width_request(360)
            .height_request(294)
            .build()
    }

    fn init(
        init: Self::Init,
        root: Self::Root,
        sender: ComponentSender<Self>,
    ) -> ComponentParts<Self> {
        root.set_title(Some(&gettext_f(
            "{host} – Host Details",
            &[("host", &display_uri(&init.uri))],
        )));
        let has = |c: &str| init.backend.as_ref().is_some_and(|b| b.has(c));

        let stack = adw::ViewStack::new();
        let switcher = adw::ViewSwitcherTitle::builder()
            .stack(&stack)
            .title(gettext("Host Details"))
            .subtitle(display_uri(&init.uri))
            .build();
        let header = adw::HeaderBar::builder().title_widget(&switcher).build();
        let refresh = gtk::Button::builder()
            .icon_name("view-refresh-symbolic")
            .tooltip_text(gettext("Refresh"))
            .build();
        crate::windows::a11y::set_label(&refresh, &gettext("Refresh"));
        header.pack_start(&refresh);
        let bar = adw::ViewSwitcherBar::builder().stack(&stack).build();
        switcher
            .bind_property("title-visible", &bar, "reveal")
            .sync_create()
            .build();

        // Overview.
        let overview = adw::PreferencesPage::new();
        let about = adw::PreferencesGroup::builder()
            .title(gettext("Host"))
            .build();
        let info_rows: Vec<adw::ActionRow> = [
            gettext("Connection"),
            gettext("Host Name"),
            gettext("Hypervisor"),
            gettext("Library"),
            gettext("Architecture"),
            gettext("CPUs"),
            gettext("Memory"),
        ]
        .iter()
        .map(|t| info_row(&about, t))
        .collect();
        set_info(&info_rows, &init.uri, init.host.as_ref());
        overview.add(&about);
        let usage = adw::PreferencesGroup::builder()
            .title(gettext("Usage"))
            .build();
        let grid = gtk::Grid::builder()
            .column_spacing(12)
            .row_spacing(12)
            .column_homogeneous(true)
            .build();
        let (cpu_card, cpu_graph, cpu_value) = graph_card(&gettext("CPU Usage"));
        let (mem_card, mem_graph, mem_value) = graph_card(&gettext("Memory Usage"));
        grid.attach(&cpu_card, 0, 0, 1, 1);
        grid.attach(&mem_card, 1, 0, 1, 1);
        usage.add(&grid);
        if has(capability::STATISTICS) {
            overview.add(&usage);
        }
        stack.add_titled_with_icon(
            &overview,
            Some("overview"),
            &gettext("Overview"),
            "computer-symbolic",
        );

        let networks_page = adw::PreferencesPage::new();
        let networks = adw::PreferencesGroup::builder()
            .title(gettext("Virtual Networks"))
            .build();
        networks_page.add(&networks);
        if has(capability::NETWORKS) {
            stack.add_titled_with_icon(
                &networks_page,
                Some("networks"),
                &gettext("Networks"),
                "network-wired-symbolic",
            );
        }
        let storage_page = adw::PreferencesPage::new();
        let pools = adw::PreferencesGroup::builder()
            .title(gettext("Storage Pools"))
            .build();
        storage_page.add(&pools);
        if has(capability::STORAGE) {
            stack.add_titled_with_icon(
                &storage_page,
                Some("storage"),
                &gettext("Storage"),
                "drive-harddisk-symbolic",
            );
        }

        let toasts = {
            let t = adw::ToastOverlay::new();
            t.set_child(Some(&stack));
            t.set_vexpand(true);
            t
        };
        let content = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .build();
        content.append(&header);
        content.append(&toasts);
        content.append(&bar);
        root.set_content(Some(&content));

        {
            let s = sender.clone();
            refresh.connect_clicked(move |_| s.input(HostInput::Refresh));
            let s = sender.clone();
            root.connect_close_request(move |_| {
                s.input(HostInput::Closed);
                glib::Propagation::Proceed
            });
        }

        let model = HostWindow {
            id: init.id,
            history: init.history.into_iter().collect(),
            history_len: init.history_len,
        };
        let widgets = HostWidgets {
            info_rows,
            cpu_graph,
            cpu_value,
            mem_graph,
            mem_value,
            networks,
            network_rows: Vec::new(),
            pools,
            pool_rows: Vec::new(),
            toasts,
        };
        model.redraw(&widgets);
        crate::windows::a11y::name_buttons(&root);
        ComponentParts { model, widgets }
    }

    fn update_with_view(
        &mut self,
        w: &mut Self::Widgets,
        msg: Self::Input,
        sender: ComponentSender<Self>,
        _root: &Self::Root,
    ) {
        let id = self.id;
        match msg {
            HostInput::Info(info) => {
                let uri = w
                    .info_rows
                    .first()
                    .and_then(|r| r.subtitle())
                    .unwrap_or_default()
                    .to_string();
                set_info(&w.info_rows, &uri, info.as_ref());
            }
            HostInput::Sample(s) => {
                while self.history.len() >= self.history_len.max(1) {
                    self.history.pop_front();
                }
                self.history.push_back(s);
                self.redraw(w);
            }
            HostInput::Networks(Ok(list)) => show_networks(w, list, &sender),
            HostInput::Pools(Ok(list)) => show_pools(w, list, &sender),
            HostInput::Networks(Err(e)) | HostInput::Pools(Err(e)) | HostInput::ShowError(e) => {
                let t = adw::Toast::builder()
                    .title(glib::markup_escape_text(&e).as_str())
                    .timeout(0)
                    .build();
                w.toasts.add_toast(t);
            }
            HostInput::Network(name, action) => {
                let _ = sender.output(HostOutput::NetworkAction { id, name, action });
            }
            HostInput::Pool(name, action) => {
                let _ = sender.output(HostOutput::PoolAction { id, name, action });
            }
            HostInput::Refresh => {
                let _ = sender.output(HostOutput::Refresh { id });
            }
            HostInput::Closed => {
                let _ = sender.output(HostOutput::Closed { id });
            }
        }
    }
}

impl HostWindow {
    fn redraw(&self, w: &HostWidgets) {
        let cpu: Vec<Option<f64>> = self
            .history
            .iter()
            .map(|s| s.cpu_percent.map(f64::from))
            .collect();
        let mem: Vec<Option<f64>> = self
            .history
            .iter()
            .map(|s| {
                (s.memory_total_kib > 0)
                    .then(|| s.memory_used_kib as f64 * 100.0 / s.memory_total_kib as f64)
            })
            .collect();
        w.cpu_graph.set_capacity(self.history_len);
        w.mem_graph.set_capacity(self.history_len);
        let latest = self.history.back();
        let cpu_text = latest
            .and_then(|s| s.cpu_percent)
            .map(format::percent)
            .unwrap_or_else(|| "—".into());
        let mem_text = match latest {
            Some(s) if s.memory_total_kib > 0 => gettext_f(
                "{used} of {total}",
                &[
                    ("used", &format::kib(s.memory_used_kib)),
                    ("total", &format::kib(s.memory_total_kib)),
                ],
            ),
            _ => "—".into(),
        };
        w.cpu_value.set_label(&cpu_text);
        w.mem_value.set_label(&mem_text);
        w.cpu_graph.set_series(
            vec![cpu],
            &gettext_f("Host CPU usage: {value}", &[("value", &cpu_text)]),
        );
        w.mem_graph.set_series(
            vec![mem],
            &gettext_f("Host memory usage: {value}", &[("value", &mem_text)]),
        );
    }
}

fn property_row(title: &str, value: &str) -> adw::ActionRow {
    let row = adw::ActionRow::builder()
        .title(title)
        .subtitle(glib::markup_escape_text(value).as_str())
        .build();
    row.add_css_class("property");
    row
}

fn switch_row(title: &str, active: bool, on_toggle: impl Fn(bool) + 'static) -> adw::ActionRow {
    let switch = gtk::Switch::builder()
        .active(active)
        .valign(gtk::Align::Center)
        .build();
    let row = adw::ActionRow::builder()
        .title(title)
        .activatable_widget(&switch)
        .build();
    row.add_suffix(&switch);
    switch.connect_state_set(move |_, state| {
        on_toggle(state);
        glib::Propagation::Proceed
    });
    row
}

fn show_networks(
    w: &mut HostWidgets,
    list: Vec<NetworkInfo>,
    sender: &ComponentSender<HostWindow>,
) {
    for row in w.network_rows.drain(..) {
        w.networks.remove(&row);
    }
    if list.is_empty() {
        w.networks
            .set_description(Some(&gettext("This host has no virtual networks.")));
    }
    for net in list {
        let state = if net.active {
            gettext("Active")
        } else {
            gettext("Inactive")
        };
        let row = adw::ExpanderRow::builder()
            .title(glib::markup_escape_text(&net.name).as_str())
            .subtitle(&state)
            .build();
        let (label, action) = if net.active {
            (gettext("Stop"), NetworkAction::Stop)
        } else {
            (gettext("Start"), NetworkAction::Start)
        };
        let button = gtk::Button::builder()
            .label(&label)
            .valign(gtk::Align::Center)
            .build();
        crate::windows::a11y::set_label(&button, &format!("{label} {}", net.name));
        let (s, name) = (sender.clone(), net.name.clone());
        button.connect_clicked(move |_| s.input(HostInput::Network(name.clone(), action.clone())));
        row.add_action(&button);
        let (s, name) = (sender.clone(), net.name.clone());
        row.add_row(&switch_row(
            &gettext("Start at Host Boot"),
            net.autostart,
            move |on| {
                s.input(HostInput::Network(
                    name.clone(),
                    NetworkAction::SetAutostart { autostart: on },
                ))
            },
        ));
        row.add_row(&property_row(&gettext("Forwarding"), &net.forward_mode));
        if let Some(bridge) = &net.bridge {
            row.add_row(&property_row(&gettext("Bridge"), bridge));
        }
        if let Some(ip) = &net.ipv4 {
            row.add_row(&property_row(&gettext("IPv4 Network"), ip));
        }
        if let Some(dhcp) = &net.dhcp_range {
            row.add_row(&property_row(&gettext("DHCP Range"), dhcp));
        }
        w.networks.add(&row);
        w.network_rows.push(row);
    }
}

fn pool_state_label(state: &str) -> String {
    match state {
        "running" => gettext("Active"),
        "inactive" => gettext("Inactive"),
        "building" => gettext("Building"),
        "degraded" => gettext("Degraded"),
        "inaccessible" => gettext("Inaccessible"),
        other => other.to_owned(),
    }
}

fn show_pools(
    w: &mut HostWidgets,
    list: Vec<StoragePoolInfo>,
    sender: &ComponentSender<HostWindow>,
) {
    for row in w.pool_rows.drain(..) {
        w.pools.remove(&row);
    }
    if list.is_empty() {
        w.pools
            .set_description(Some(&gettext("This host has no storage pools.")));
    }
    for pool in list {
        let used = gettext_f(
            "{used} of {total} used",
            &[
                ("used", &format::bytes(pool.allocation_bytes)),
                ("total", &format::bytes(pool.capacity_bytes)),
            ],
        );
        let row = adw::ExpanderRow::builder()
            .title(glib::markup_escape_text(&pool.name).as_str())
            .subtitle(format!("{} · {}", pool_state_label(&pool.state), used))
            .build();
        let level = gtk::LevelBar::builder()
            .min_value(0.0)
            .max_value(1.0)
            .value(if pool.capacity_bytes > 0 {
                pool.allocation_bytes as f64 / pool.capacity_bytes as f64
            } else {
                0.0
            })
            .width_request(100)
            .valign(gtk::Align::Center)
            .build();
        crate::windows::a11y::set_label(&level, &used);
        row.add_action(&level);
        let refresh = gtk::Button::builder()
            .icon_name("view-refresh-symbolic")
            .tooltip_text(gettext("Refresh"))
            .valign(gtk::Align::Center)
            .css_classes(["flat"])
            .build();
        crate::windows::a11y::set_label(
            &refresh,
            &gettext_f("Refresh {pool}", &[("pool", &pool.name)]),
        );
        let (s, name) = (sender.clone(), pool.name.clone());
        refresh.connect_clicked(move |_| {
            s.input(HostInput::Pool(name.clone(), StoragePoolAction::Refresh))
        });
        row.add_action(&refresh);
        let active = pool.state == "running";
        let (label, action) = if active {
            (gettext("Stop"), StoragePoolAction::Stop)
        } else {
            (gettext("Start"), StoragePoolAction::Start)
        };
        let button = gtk::Button::builder()
            .label(&label)
            .valign(gtk::Align::Center)
            .build();
        let (s, name) = (sender.clone(), pool.name.clone());
        button.connect_clicked(move |_| s.input(HostInput::Pool(name.clone(), action.clone())));
        let start_row = adw::ActionRow::builder()
            .title(gettext("State"))
            .subtitle(pool_state_label(&pool.state))
            .build();
        start_row.add_suffix(&button);
        row.add_row(&start_row);
        let (s, name) = (sender.clone(), pool.name.clone());
        row.add_row(&switch_row(
            &gettext("Start at Host Boot"),
            pool.autostart,
            move |on| {
                s.input(HostInput::Pool(
                    name.clone(),
                    StoragePoolAction::SetAutostart { autostart: on },
                ))
            },
        ));
        row.add_row(&property_row(&gettext("Type"), &pool.kind));
        if let Some(path) = &pool.path {
            row.add_row(&property_row(&gettext("Location"), path));
        }
        row.add_row(&property_row(
            &gettext("Capacity"),
            &format::bytes(pool.capacity_bytes),
        ));
        row.add_row(&property_row(
            &gettext("Allocation"),
            &format::bytes(pool.allocation_bytes),
        ));
        row.add_row(&property_row(
            &gettext("Available"),
            &format::bytes(pool.available_bytes),
        ));
        w.pools.add(&row);
        w.pool_rows.push(row);
    }
}
