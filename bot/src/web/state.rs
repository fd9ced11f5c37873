//! What the HTTP handlers read, passed to each as axum state.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use brigade_core::{record::IncidentRecord, store::Store};
use matrix_sdk::ruma::UserId;

use super::{openid, session};
use crate::{
    config::Config,
    desk::Desk,
    metrics::{Health, Metrics},
};

/// What the HTTP handlers read.
#[derive(Debug, Clone)]
pub struct WebState {
    /// Sync health.
    pub health: Arc<Health>,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// The incidents, for their metrics.
    pub store: Arc<dyn Store>,
    /// How old the last sync may be while the bot counts as healthy.
    pub unhealthy_after: Duration,
    /// The configuration (`[web]`, the incident types).
    pub config: Arc<Config>,
    /// Who is signed in.
    pub sessions: Arc<session::Sessions>,
    /// Checks sign-in tokens with their homeservers.
    pub verifier: Arc<openid::Verifier>,
    /// The time.
    pub clock: Arc<dyn brigade_core::clock::Clock>,
    /// Where reports are filed: set once the bot has connected to its homeserver.
    pub desk: Arc<OnceLock<Arc<dyn Desk>>>,
}

impl WebState {
    /// The state for `config`, before the bot has connected (no desk yet).
    pub fn new(
        config: Arc<Config>,
        health: Arc<Health>,
        metrics: Arc<Metrics>,
        store: Arc<dyn Store>,
        clock: Arc<dyn brigade_core::clock::Clock>,
    ) -> Self {
        let named = config
            .web
            .homeservers
            .iter()
            .filter_map(|homeserver| {
                let url = homeserver.userinfo_url.clone()?;
                Some((homeserver.server.clone(), url))
            })
            .collect();
        let verifier = openid::Verifier::new(config.access.allowed_servers.clone(), named);
        Self {
            health,
            metrics,
            store,
            unhealthy_after: config.http.unhealthy_after,
            sessions: Arc::new(session::Sessions::new(
                clock.clone(),
                config.web.session_lifetime,
            )),
            clock,
            verifier: Arc::new(verifier),
            desk: Arc::default(),
            config,
        }
    }

    /// Of `records`, those `user_id` may see: a private incident only while they are joined
    /// to its room, as the bot reads it (nobody's before the bot has connected).
    pub async fn visible<'a>(
        &self,
        user_id: &UserId,
        records: Vec<&'a IncidentRecord>,
    ) -> Vec<&'a IncidentRecord> {
        let private: Vec<_> = records
            .iter()
            .filter(|record| record.incident.private)
            .map(|record| record.room_id.clone())
            .collect();
        let member_of = match self.desk.get() {
            Some(desk) if !private.is_empty() => desk.joined(user_id, &private).await,
            _ => Vec::new(),
        };
        records
            .into_iter()
            .filter(|record| !record.incident.private || member_of.contains(&record.room_id))
            .collect()
    }
}
