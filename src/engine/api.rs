//! Requests from programs (the D-Bus service): each runs the same engine
//! code as the matching button, and answers on its reply channel.

use virt_manager_plugin_api::{DomainAction, DomainState, StoragePoolAction};

use relm4::ComponentController;

use super::{Engine, EngineMsg};
use crate::api::{ApiError, ApiReply, ApiRequest, ApiResponse, ApiSignal, DomainSummary};
use crate::i18n::{gettext, gettext_f};
use crate::model::{Connection, ConnectionId, ConnectionState, Domain, ModelEvent};
use crate::windows::details::DetailsPage;
use crate::windows::manager::ManagerInput;

fn answer(reply: ApiReply, result: Result<ApiResponse, ApiError>) {
    // The caller may have gone (timeout): nothing to tell then.
    let _ = reply.send(result);
}

/// Text folded for matching: lowercase, without accents.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Engine {
    /// The connection a program names by URI.
    fn find_uri(&self, uri: &str) -> Result<ConnectionId, ApiError> {
        self.connections
            .iter()
            .find(|(_, (candidates, conn))| {
                conn.state().0 == uri || candidates.iter().any(|c| c == uri)
            })
            .map(|(id, _)| *id)
            .ok_or_else(|| ApiError::NoSuchConnection(uri.to_owned()))
    }

    /// A guest by UUID first, then by name (as virsh resolves them).
    fn find_guest(&self, uri: &str, guest: &str) -> Result<(ConnectionId, Domain), ApiError> {
        let id = self.find_uri(uri)?;
        let conn = self
            .connection(id)
            .ok_or_else(|| ApiError::NoSuchConnection(uri.to_owned()))?;
        if conn.state().1 != ConnectionState::Active {
            return Err(ApiError::Failed(format!("{uri} is not connected")));
        }
        let domain = conn
            .find_domain(guest)
            .ok_or_else(|| ApiError::NoSuchDomain(guest.to_owned()))?;
        Ok((id, domain))
    }

    fn summary(conn: &Connection, d: &Domain) -> DomainSummary {
        let latest = d.latest();
        let running = d.info.state.is_active();
        DomainSummary {
            uri: conn.state().0,
            name: d.info.name.clone(),
            uuid: d.info.uuid.clone(),
            state: d.info.state.as_str().to_owned(),
            vcpus: d.info.vcpus,
            memory_kib: d.info.memory_kib,
            cpu_percent: latest
                .and_then(|s| s.cpu_percent)
                .filter(|_| running)
                .map_or(-1.0, f64::from),
            memory_used_kib: latest
                .and_then(|s| s.memory_used_kib)
                .filter(|_| running)
                .unwrap_or(0),
        }
    }

    /// Runs a blocking backend call for a program and answers it.
    fn request_for<R: Send + 'static>(
        &self,
        id: ConnectionId,
        reply: ApiReply,
        call: impl FnOnce(
                &crate::plugin_host::BackendConnection,
            ) -> Result<R, virt_manager_plugin_api::PluginError>
            + Send
            + 'static,
        into: impl FnOnce(R) -> Result<ApiResponse, ApiError> + Send + 'static,
    ) {
        match self.connection(id) {
            Some(conn) => conn.request(call, move |r| {
                answer(reply, r.map_err(ApiError::from).and_then(into))
            }),
            None => answer(reply, Err(ApiError::NoSuchConnection(id.to_string()))),
        }
    }

    pub(super) fn api(&mut self, request: ApiRequest, reply: ApiReply) {
        match request {
            ApiRequest::ListConnections => {
                let list = self
                    .connections
                    .values()
                    .map(|(_, c)| (c.state().0, c.state().1.as_str().to_owned()))
                    .collect();
                answer(reply, Ok(ApiResponse::Connections(list)));
            }
            ApiRequest::OpenConnection { uri } => {
                if let Err(e) = crate::uri::validate(&uri) {
                    return answer(reply, Err(ApiError::InvalidArgs(e)));
                }
                let Some(plugins) = &self.plugins else {
                    return answer(
                        reply,
                        Err(ApiError::Failed(gettext("the plugins are still loading"))),
                    );
                };
                if plugins.backend_for_uri(&uri).is_none() {
                    return answer(
                        reply,
                        Err(ApiError::NotSupported(gettext_f(
                            "no loaded plugin handles {uri}",
                            &[("uri", &uri)],
                        ))),
                    );
                }
                if let Ok(id) = self.find_uri(&uri) {
                    if self
                        .connection(id)
                        .is_some_and(|c| c.state().1 == ConnectionState::Active)
                    {
                        return answer(reply, Ok(ApiResponse::Done));
                    }
                }
                match self.open(vec![uri.clone()]) {
                    Some(id) => self.pending_api_open.push((id, uri, reply)),
                    None => answer(
                        reply,
                        Err(ApiError::Failed(gettext("the plugins are still loading"))),
                    ),
                }
            }
            ApiRequest::CloseConnection { uri } => match self.find_uri(&uri) {
                Ok(id) => {
                    if let Some(c) = self.connection(id) {
                        c.disconnect();
                    }
                    answer(reply, Ok(ApiResponse::Done));
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::RemoveConnection { uri } => match self.find_uri(&uri) {
                Ok(id) => {
                    self.remove_connection(id);
                    answer(reply, Ok(ApiResponse::Done));
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::SetAutoconnect { uri, on } => match self.find_uri(&uri) {
                Ok(id) => {
                    let remembered = match self.connections.get(&id) {
                        Some((candidates, _)) if candidates.len() == 1 => candidates[0].clone(),
                        _ => uri,
                    };
                    self.remember(&remembered, on);
                    answer(reply, Ok(ApiResponse::Done));
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::ListDomains { uri } => match self.find_uri(&uri) {
                Ok(id) => {
                    let conn = self.connection(id).expect("found");
                    let list = conn
                        .domains()
                        .iter()
                        .map(|d| Self::summary(conn, d))
                        .collect();
                    answer(reply, Ok(ApiResponse::Domains(list)));
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::Lifecycle { uri, guest, action } => match self.find_guest(&uri, &guest) {
                Ok((id, d)) => {
                    // A managed-saved guest is restored by Start; libvirt
                    // does that itself. Only Delete asks the user.
                    let ask = matches!(action, DomainAction::Delete { .. });
                    self.lifecycle(id, d.info.uuid, d.info.name, action, ask, Some(reply));
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::SetDomainConfig {
                uri,
                guest,
                changes,
            } => match self.find_guest(&uri, &guest) {
                Ok((id, d)) => {
                    let uuid = d.info.uuid.clone();
                    let s = self.sender.clone();
                    let u = uuid.clone();
                    self.request_for(
                        id,
                        reply,
                        move |c| c.apply_domain_config(&u, &changes),
                        move |_| {
                            // Open details windows show the new values.
                            s.emit(EngineMsg::ConfigChangedElsewhere { id, uuid });
                            Ok(ApiResponse::Done)
                        },
                    );
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::SendKeys { uri, guest, keys } => match self.find_guest(&uri, &guest) {
                Ok((id, d)) => {
                    let seq = virt_manager_plugin_api::KeySequence {
                        linux_keycodes: keys,
                        hold_ms: 0,
                    };
                    let u = d.info.uuid;
                    self.request_for(
                        id,
                        reply,
                        move |c| c.send_keys(&u, &seq),
                        |()| Ok(ApiResponse::Done),
                    );
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::Screenshot { uri, guest } => match self.find_guest(&uri, &guest) {
                Ok((id, d)) => {
                    if !d.info.state.is_active() {
                        return answer(
                            reply,
                            Err(ApiError::Failed(format!("{guest} is not running"))),
                        );
                    }
                    let u = d.info.uuid;
                    self.request_for(
                        id,
                        reply,
                        move |c| c.screenshot(&u),
                        |bytes| {
                            crate::image::to_png(&bytes)
                                .map(ApiResponse::Png)
                                .map_err(ApiError::Failed)
                        },
                    );
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::ListNetworks { uri } => match self.find_uri(&uri) {
                Ok(id) => self.request_for(
                    id,
                    reply,
                    |c| c.list_networks(),
                    |l| Ok(ApiResponse::Networks(l)),
                ),
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::NetworkAction { uri, name, action } => match self.find_uri(&uri) {
                Ok(id) => {
                    let s = self.sender.clone();
                    self.request_for(
                        id,
                        reply,
                        move |c| c.network_action(&name, &action),
                        move |()| {
                            s.emit(EngineMsg::HostActionDone { id, result: Ok(()) });
                            Ok(ApiResponse::Done)
                        },
                    );
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::ListStoragePools { uri } => match self.find_uri(&uri) {
                Ok(id) => self.request_for(
                    id,
                    reply,
                    |c| c.list_storage_pools(),
                    |l| Ok(ApiResponse::Pools(l)),
                ),
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::RefreshStoragePool { uri, name } => match self.find_uri(&uri) {
                Ok(id) => {
                    let s = self.sender.clone();
                    self.request_for(
                        id,
                        reply,
                        move |c| c.storage_pool_action(&name, &StoragePoolAction::Refresh),
                        move |()| {
                            s.emit(EngineMsg::HostActionDone { id, result: Ok(()) });
                            Ok(ApiResponse::Done)
                        },
                    );
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::ShowManager => {
                self.show_manager();
                answer(reply, Ok(ApiResponse::Done));
            }
            ApiRequest::ShowConnect => {
                self.show_manager_if_needed();
                self.show_connect();
                answer(reply, Ok(ApiResponse::Done));
            }
            ApiRequest::ShowPreferences => {
                self.show_preferences();
                answer(reply, Ok(ApiResponse::Done));
            }
            ApiRequest::ShowDetails { uri, guest } => match self.find_guest(&uri, &guest) {
                Ok((id, d)) => {
                    self.show_details(id, &d.info.uuid, DetailsPage::Overview);
                    answer(reply, Ok(ApiResponse::Done));
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::ShowConsole { uri, guest } => match self.find_guest(&uri, &guest) {
                Ok((id, d)) => answer(
                    reply,
                    self.show_console(id, &d.info.uuid)
                        .map(|()| ApiResponse::Done),
                ),
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::ShowHostSummary { uri } => match self.find_uri(&uri) {
                Ok(id) => {
                    self.show_host(id);
                    answer(reply, Ok(ApiResponse::Done));
                }
                Err(e) => answer(reply, Err(e)),
            },
            ApiRequest::Search { terms } => {
                let terms: Vec<String> = terms
                    .iter()
                    .map(|t| fold(t))
                    .filter(|t| !t.is_empty())
                    .collect();
                let mut found = Vec::new();
                if !terms.is_empty() {
                    for (_, conn) in self.connections.values() {
                        for d in conn.domains() {
                            let name = fold(&d.info.name);
                            if terms.iter().all(|t| name.contains(t.as_str())) {
                                found.push(Self::summary(conn, &d));
                            }
                        }
                    }
                }
                answer(reply, Ok(ApiResponse::Domains(found)));
            }
            ApiRequest::LaunchSearch { terms } => {
                self.show_manager();
                if let Some(m) = &self.manager {
                    m.emit(ManagerInput::SetSearch(terms.join(" ")));
                }
                answer(reply, Ok(ApiResponse::Done));
            }
        }
    }

    /// Tells programs about a model change, and settles D-Bus opens.
    pub(super) fn api_model_event(&mut self, ev: &ModelEvent) {
        if let ModelEvent::State { id, state, .. } = ev {
            let mut i = 0;
            while i < self.pending_api_open.len() {
                if self.pending_api_open[i].0 != *id {
                    i += 1;
                    continue;
                }
                let result = match state {
                    ConnectionState::Active => Ok(ApiResponse::Done),
                    ConnectionState::Failed(r) => Err(ApiError::Failed(r.clone())),
                    _ => {
                        i += 1;
                        continue;
                    }
                };
                let (pid, uri, reply) = self.pending_api_open.remove(i);
                match &result {
                    Ok(_) => self.remember(&uri, false),
                    Err(_) => {
                        if !self.settings.strv("connections").contains(&uri) {
                            self.remove_connection(pid);
                        }
                    }
                }
                answer(reply, result);
            }
        }
        if self.signals.is_none() {
            return;
        }
        let uri_of = |engine: &Engine, id: &ConnectionId| {
            engine
                .connection(*id)
                .map(|c| c.state().0)
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        match ev {
            ModelEvent::State { uri, state, .. } => out.push(ApiSignal::ConnectionStateChanged {
                uri: uri.clone(),
                state: state.as_str().to_owned(),
            }),
            ModelEvent::DomainsListed { id, domains } => {
                for d in domains {
                    self.known_states.insert((*id, d.uuid.clone()), d.state);
                }
            }
            ModelEvent::DomainAdded { id, domain } => {
                self.known_states
                    .insert((*id, domain.uuid.clone()), domain.state);
                out.push(ApiSignal::DomainAdded {
                    uri: uri_of(self, id),
                    guest: domain.uuid.clone(),
                });
            }
            ModelEvent::DomainChanged { id, domain } => {
                let before = self
                    .known_states
                    .insert((*id, domain.uuid.clone()), domain.state);
                if before != Some(domain.state) {
                    out.push(ApiSignal::DomainStateChanged {
                        uri: uri_of(self, id),
                        guest: domain.uuid.clone(),
                        state: domain.state.as_str().to_owned(),
                    });
                }
            }
            ModelEvent::DomainRemoved { id, uuid } => {
                self.known_states.remove(&(*id, uuid.clone()));
                out.push(ApiSignal::DomainRemoved {
                    uri: uri_of(self, id),
                    guest: uuid.clone(),
                });
            }
            _ => {}
        }
        if let Some(signals) = &self.signals {
            for s in out {
                let _ = signals.send(s);
            }
        }
    }

    /// Whether a guest in this state has a console to open.
    pub(super) fn console_possible(state: DomainState) -> bool {
        matches!(
            state,
            DomainState::Running | DomainState::Blocked | DomainState::Paused
        )
    }
}
