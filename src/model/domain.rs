//! One guest as the application keeps it.

use virt_manager_plugin_api::DomainInfo;

/// A guest of a connection. Later: its statistics history.
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    pub info: DomainInfo,
}

impl Domain {
    pub fn new(info: DomainInfo) -> Self {
        Domain { info }
    }
}
