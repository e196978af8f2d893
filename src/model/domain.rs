//! One guest as the application keeps it: what the backend lists, and its
//! statistics over time.

use virt_manager_plugin_api::DomainInfo;

use super::stats::{Sample, SampleHistory};

#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    pub info: DomainInfo,
    pub history: SampleHistory,
}

impl Domain {
    pub fn new(info: DomainInfo, history_len: usize) -> Self {
        Domain {
            info,
            history: SampleHistory::new(history_len),
        }
    }

    pub fn latest(&self) -> Option<Sample> {
        self.history.latest()
    }
}
