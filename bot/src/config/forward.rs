//! `[[forward]]`: reaction forwarding rules for every room (SPEC §8, §12).

use matrix_sdk::ruma::OwnedRoomOrAliasId;
use serde::Deserialize;

use super::{error::ConfigError, sections::IncidentsConfig};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawForward {
    emoji: String,
    to: OwnedRoomOrAliasId,
    from: Option<Vec<String>>,
}

/// A forwarding rule: a message reacted to with `emoji` in a room `from` matches is copied to
/// `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRule {
    /// The reaction, without a variation selector.
    pub emoji: String,
    /// The target room.
    pub to: OwnedRoomOrAliasId,
    /// Room aliases or IDs the rule applies in (`*` for any run of characters); every room
    /// when empty.
    pub from: Vec<String>,
}

/// Reactions that mean something else to Brigade and cannot forward.
pub fn builtin(emoji: &str, incidents: &IncidentsConfig) -> bool {
    ["👀", "🚑", "✅", "❓", "📤"].contains(&emoji)
        || incidents.flag_reactions.iter().any(|flag| flag == emoji)
        || incidents
            .thanks_reactions
            .iter()
            .any(|thanks| thanks == emoji)
}

/// `emoji` as rules keep it: trimmed, without a variation selector.
pub fn normal(emoji: &str) -> String {
    emoji.trim().trim_end_matches('\u{fe0f}').to_owned()
}

pub(super) fn validate_forward(
    raw: Vec<RawForward>,
    incidents: &IncidentsConfig,
) -> Result<Vec<ForwardRule>, ConfigError> {
    let mut rules: Vec<ForwardRule> = Vec::with_capacity(raw.len());
    for rule in raw {
        let emoji = normal(&rule.emoji);
        if emoji.is_empty() {
            return Err(ConfigError::Forward("an empty emoji".to_owned()));
        }
        if builtin(&emoji, incidents) {
            return Err(ConfigError::Forward(format!(
                "{emoji} already means something to Brigade; pick another emoji"
            )));
        }
        let from = rule.from.unwrap_or_default();
        if from.iter().any(|pattern| pattern.trim().is_empty()) {
            return Err(ConfigError::Forward(format!(
                "{emoji} → {}: an empty `from` pattern",
                rule.to
            )));
        }
        rules.push(ForwardRule {
            emoji,
            to: rule.to,
            from,
        });
    }
    Ok(rules)
}
