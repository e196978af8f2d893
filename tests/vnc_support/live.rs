//! The client library in-process, for tests that watch its events: a
//! connection with its event channel and helpers to wait on it.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use virt_manager::plugin_host::PluginRegistry;
use virt_manager::vnc::{
    ConnectOptions, Coverage, Framebuffer, StaticCredentials, Transport, VncClient, VncEvent,
};

use super::differing_pixels;
use super::xservers::Xvnc;
use crate::common;

pub struct Live {
    pub client: VncClient,
    pub events: Receiver<VncEvent>,
    pub fb: Arc<Mutex<Framebuffer>>,
    /// Every event seen so far, for assertions at the end.
    pub seen: Vec<String>,
}

pub fn connect(port: u16, options: ConnectOptions) -> Live {
    let plugins = Arc::new(PluginRegistry::discover_in(&[common::plugin_dir()]));
    let (tx, rx) = crossbeam_channel::unbounded();
    let client = VncClient::connect(
        Transport::Tcp {
            host: "127.0.0.1".into(),
            port,
        },
        options,
        plugins,
        Arc::new(StaticCredentials::default()),
        move |e| {
            let _ = tx.send(e);
        },
    );
    let mut live = Live {
        client,
        events: rx,
        fb: Arc::default(),
        seen: Vec::new(),
    };
    let fb = live.wait_for(Duration::from_secs(15), |e| match e {
        VncEvent::Connected { framebuffer, .. } => Some(framebuffer.clone()),
        _ => None,
    });
    live.fb = fb.expect("no Connected event");
    live
}

impl Live {
    /// Waits for an event `f` picks, handling all others on the way.
    pub fn wait_for<T>(
        &mut self,
        timeout: Duration,
        mut f: impl FnMut(&VncEvent) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) => {
                    self.seen.push(format!("{e:?}").chars().take(120).collect());
                    if let VncEvent::Disconnected { reason, .. } = &e {
                        panic!("disconnected: {reason}");
                    }
                    if let Some(v) = f(&e) {
                        return Some(v);
                    }
                }
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => panic!("event channel closed"),
            }
        }
    }

    /// Waits until every pixel has been updated at least once.
    pub fn wait_full_frame(&mut self) {
        let (w, h) = self.size();
        let mut coverage = Coverage::new(w, h);
        let done = self.wait_for(Duration::from_secs(20), |e| {
            match e {
                VncEvent::Resized { width, height } => coverage = Coverage::new(*width, *height),
                VncEvent::Updated { damage } => damage.iter().for_each(|d| coverage.add(d)),
                _ => {}
            }
            coverage.is_complete().then_some(())
        });
        assert!(done.is_some(), "no full frame; events: {:#?}", self.seen);
    }

    /// Waits until no update came for `quiet`.
    pub fn settle(&mut self, quiet: Duration) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.wait_for(quiet, |_| Some(())).is_none() {
                return;
            }
        }
        panic!("the screen never settled");
    }

    pub fn size(&self) -> (u32, u32) {
        let fb = self.fb.lock().unwrap();
        (fb.width, fb.height)
    }

    pub fn save(&self, path: &Path) {
        let fb = self.fb.lock().unwrap().clone();
        fb.write_png(std::fs::File::create(path).unwrap()).unwrap();
    }

    /// The framebuffer must equal the X screen.
    pub fn assert_matches_screen(&mut self, x: &Xvnc, dir: &Path, label: &str) {
        self.settle(Duration::from_millis(500));
        let ours = dir.join(format!("{label}-client.png"));
        let truth = dir.join(format!("{label}-screen.png"));
        self.save(&ours);
        x.screenshot(&truth);
        assert_eq!(
            differing_pixels(&truth, &ours),
            0,
            "{label}: the client's framebuffer differs from the screen"
        );
    }
}

pub fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
