//! GNOME Shell's search provider (`org.gnome.Shell.SearchProvider2`) at
//! `/org/virt_manager/VirtManager1/SearchProvider`: guests of every open
//! connection, matched by name ignoring case and accents. Activating a
//! result opens the guest's console, or its details when it has none.

use std::collections::HashMap;

use zbus::zvariant::{OwnedValue, Value};

use super::{call, DbusError};
use crate::api::{ApiRequest, ApiResponse, DomainSummary};
use crate::config;
use crate::engine::EngineMsg;
use crate::i18n::gettext;

pub struct SearchProvider {
    engine: relm4::Sender<EngineMsg>,
}

/// Result identifiers carry the guest and its connection: "UUID URI".
fn result_id(d: &DomainSummary) -> String {
    format!("{} {}", d.uuid, d.uri)
}

fn parse_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(' ')
}

impl SearchProvider {
    pub fn new(engine: relm4::Sender<EngineMsg>) -> Self {
        SearchProvider { engine }
    }

    async fn search(&self, terms: Vec<String>) -> Result<Vec<String>, DbusError> {
        match call(&self.engine, ApiRequest::Search { terms }).await? {
            ApiResponse::Domains(list) => Ok(list.iter().map(result_id).collect()),
            _ => Ok(Vec::new()),
        }
    }
}

fn ov<'a>(v: impl Into<Value<'a>>) -> OwnedValue {
    OwnedValue::try_from(v.into()).expect("a plain value")
}

#[zbus::interface(name = "org.gnome.Shell.SearchProvider2")]
impl SearchProvider {
    async fn get_initial_result_set(&self, terms: Vec<String>) -> Result<Vec<String>, DbusError> {
        self.search(terms).await
    }

    async fn get_subsearch_result_set(
        &self,
        _previous_results: Vec<String>,
        terms: Vec<String>,
    ) -> Result<Vec<String>, DbusError> {
        // Guests come and go between keystrokes: search afresh.
        self.search(terms).await
    }

    async fn get_result_metas(
        &self,
        identifiers: Vec<String>,
    ) -> Result<Vec<HashMap<String, OwnedValue>>, DbusError> {
        let mut by_uri: HashMap<&str, Vec<&str>> = HashMap::new();
        for id in &identifiers {
            if let Some((uuid, uri)) = parse_id(id) {
                by_uri.entry(uri).or_default().push(uuid);
            }
        }
        let mut found: HashMap<String, DomainSummary> = HashMap::new();
        for uri in by_uri.keys() {
            if let Ok(ApiResponse::Domains(list)) = call(
                &self.engine,
                ApiRequest::ListDomains {
                    uri: (*uri).to_owned(),
                },
            )
            .await
            {
                for d in list {
                    found.insert(result_id(&d), d);
                }
            }
        }
        Ok(identifiers
            .iter()
            .filter_map(|id| found.get(id).map(|d| (id, d)))
            .map(|(id, d)| {
                let state = crate::labels::state_name_label(&d.state);
                let description = format!("{state} · {}", crate::labels::display_uri(&d.uri));
                HashMap::from([
                    ("id".to_owned(), ov(id.as_str())),
                    ("name".to_owned(), ov(d.name.as_str())),
                    ("description".to_owned(), ov(description)),
                    ("gicon".to_owned(), ov(config::APP_ID)),
                ])
            })
            .collect())
    }

    async fn activate_result(
        &self,
        identifier: String,
        _terms: Vec<String>,
        _timestamp: u32,
    ) -> Result<(), DbusError> {
        let (uuid, uri) = parse_id(&identifier)
            .ok_or_else(|| DbusError::InvalidArgs(gettext("malformed result")))?;
        let (uri, guest) = (uri.to_owned(), uuid.to_owned());
        // The console of a running guest, else (or if it has none) details.
        let console = call(
            &self.engine,
            ApiRequest::ShowConsole {
                uri: uri.clone(),
                guest: guest.clone(),
            },
        )
        .await;
        if console.is_err() {
            call(&self.engine, ApiRequest::ShowDetails { uri, guest }).await?;
        }
        Ok(())
    }

    async fn launch_search(&self, terms: Vec<String>, _timestamp: u32) -> Result<(), DbusError> {
        call(&self.engine, ApiRequest::LaunchSearch { terms })
            .await
            .map(drop)
    }
}
