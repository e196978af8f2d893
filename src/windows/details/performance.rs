//! The details window's Performance page: CPU, memory, disk and network
//! over the statistics history, updated every tick.

use relm4::adw;
use relm4::gtk;
use relm4::gtk::prelude::*;

use crate::i18n::{gettext, gettext_f};
use crate::model::Sample;
use crate::windows::format;
use crate::windows::widgets::Graph;

struct Card {
    value: gtk::Label,
    graph: Graph,
    hint: gtk::Label,
}

pub struct PerformancePage {
    pub root: gtk::ScrolledWindow,
    cpu: Card,
    memory: Card,
    disk: Card,
    net: Card,
}

fn card(
    grid: &gtk::Grid,
    col: i32,
    row: i32,
    title: &str,
    max: Option<f64>,
    legend: Option<(&str, &str)>,
) -> Card {
    let b = gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .spacing(6)
        .css_classes(["card", "perf-card"])
        .hexpand(true)
        .build();
    let head = gtk::Box::builder().spacing(6).build();
    let t = gtk::Label::builder()
        .label(title)
        .xalign(0.0)
        .hexpand(true)
        .css_classes(["heading"])
        .build();
    let value = gtk::Label::builder()
        .xalign(1.0)
        .css_classes(["numeric", "dim-label"])
        .build();
    head.append(&t);
    head.append(&value);
    b.append(&head);
    let graph = Graph::new(max);
    graph.set_size_request(-1, 110);
    graph.set_vexpand(true);
    b.append(&graph);
    if let Some((first, second)) = legend {
        let l = gtk::Label::builder()
            .use_markup(true)
            .label(format!(
                "<span foreground=\"#3584e4\">■</span> {}   <span foreground=\"#e66100\">■</span> {}",
                gtk::glib::markup_escape_text(first),
                gtk::glib::markup_escape_text(second)
            ))
            .xalign(0.0)
            .css_classes(["caption"])
            .build();
        b.append(&l);
    }
    let hint = gtk::Label::builder()
        .wrap(true)
        .xalign(0.0)
        .css_classes(["caption", "dim-label"])
        .visible(false)
        .build();
    b.append(&hint);
    grid.attach(&b, col, row, 1, 1);
    Card { value, graph, hint }
}

impl PerformancePage {
    pub fn new() -> Self {
        let grid = gtk::Grid::builder()
            .row_spacing(12)
            .column_spacing(12)
            .column_homogeneous(true)
            .margin_top(18)
            .margin_bottom(18)
            .margin_start(18)
            .margin_end(18)
            .build();
        let cpu = card(&grid, 0, 0, &gettext("CPU Usage"), Some(100.0), None);
        let memory = card(&grid, 1, 0, &gettext("Memory Usage"), Some(100.0), None);
        let disk = card(
            &grid,
            0,
            1,
            &gettext("Disk I/O"),
            None,
            Some((&gettext("Read"), &gettext("Write"))),
        );
        let net = card(
            &grid,
            1,
            1,
            &gettext("Network I/O"),
            None,
            Some((&gettext("Received"), &gettext("Sent"))),
        );
        let clamp = adw::Clamp::builder()
            .maximum_size(1000)
            .child(&grid)
            .build();
        let root = gtk::ScrolledWindow::builder()
            .hscrollbar_policy(gtk::PolicyType::Never)
            .child(&clamp)
            .build();
        PerformancePage {
            root,
            cpu,
            memory,
            disk,
            net,
        }
    }

    /// Redraws every graph from the history (oldest first).
    pub fn update(&self, history: &[Sample], capacity: usize) {
        let latest = history.last();
        for g in [
            &self.cpu.graph,
            &self.memory.graph,
            &self.disk.graph,
            &self.net.graph,
        ] {
            g.set_capacity(capacity);
        }

        let cpu: Vec<Option<f64>> = history
            .iter()
            .map(|s| s.cpu_percent.map(f64::from))
            .collect();
        let cpu_now = latest.and_then(|s| s.cpu_percent);
        let cpu_text = cpu_now
            .map(format::percent)
            .unwrap_or_else(|| gettext("Not running"));
        self.cpu.value.set_label(&cpu_text);
        self.cpu.graph.set_series(
            vec![cpu],
            &gettext_f("CPU usage: {value}", &[("value", &cpu_text)]),
        );

        let mem: Vec<Option<f64>> = history
            .iter()
            .map(|s| s.memory_percent.map(f64::from))
            .collect();
        let mem_text = match latest.and_then(|s| s.memory_used_kib.zip(s.memory_percent)) {
            Some((kib, pct)) => format!("{} ({})", format::kib(kib), format::percent(pct)),
            None => "—".to_owned(),
        };
        self.memory.value.set_label(&mem_text);
        self.memory.graph.set_series(
            vec![mem],
            &gettext_f("Memory usage: {value}", &[("value", &mem_text)]),
        );

        let rates = |f: fn(&Sample) -> Option<f64>| history.iter().map(f).collect::<Vec<_>>();
        let two = |a: Option<f64>, b: Option<f64>, first: &str, second: &str| match (a, b) {
            (None, None) => "—".to_owned(),
            (a, b) => format!(
                "{first} {} · {second} {}",
                format::rate(a.unwrap_or(0.0)),
                format::rate(b.unwrap_or(0.0))
            ),
        };
        let disk_text = two(
            latest.and_then(|s| s.disk_read_bps),
            latest.and_then(|s| s.disk_write_bps),
            &gettext("read"),
            &gettext("write"),
        );
        self.disk.value.set_label(&disk_text);
        self.disk.graph.set_series(
            vec![rates(|s| s.disk_read_bps), rates(|s| s.disk_write_bps)],
            &gettext_f("Disk I/O: {value}", &[("value", &disk_text)]),
        );
        let net_text = two(
            latest.and_then(|s| s.net_rx_bps),
            latest.and_then(|s| s.net_tx_bps),
            &gettext("in"),
            &gettext("out"),
        );
        self.net.value.set_label(&net_text);
        self.net.graph.set_series(
            vec![rates(|s| s.net_rx_bps), rates(|s| s.net_tx_bps)],
            &gettext_f("Network I/O: {value}", &[("value", &net_text)]),
        );
    }

    /// Says which statistics are switched off in the preferences.
    pub fn set_polling(&self, memory: bool, disk: bool, net: bool) {
        let off = gettext("Not sampled: turn it on in Preferences, Statistics.");
        for (card, on) in [(&self.memory, memory), (&self.disk, disk), (&self.net, net)] {
            card.hint.set_label(&off);
            card.hint.set_visible(!on);
        }
    }
}
