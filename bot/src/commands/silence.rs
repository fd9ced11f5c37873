//! `!inc silence` and `!inc unsilence`: the alert bridge's commands, carried out by the bridge
//! in the rooms of its Alertmanager routes. The bot lists them in its help and stays quiet
//! where the bridge answers; anywhere else it says where they work.

use super::info::{CommandInfo, ParseError, Scope, Who};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "silence",
    arguments: "[<label>=<value>… [for 2h]]",
    summary: "in an alert room of the bridge: silence the alerts the matchers match in Alertmanager for a while (2h unless said), or list this room's silences; `!inc unsilence <id>` ends one (the bridge answers)",
    scope: Scope::Anywhere,
    who: Who::Anyone,
    in_shared_room: false,
};

/// Where the bridge's commands work, for a room where the bridge does not answer them.
pub(super) fn elsewhere() -> ParseError {
    ParseError::Bridge(
        "`!inc silence` and `!inc unsilence` are the alert bridge's: use them in the room of an Alertmanager route that names its `alertmanager_url`",
    )
}
