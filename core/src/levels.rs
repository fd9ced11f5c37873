//! The power levels of SPEC §6, one place for the bot's rooms, its refusals and its checks.

/// An incident's commander (and a shared room's).
pub const COMMANDER_LEVEL: i64 = 100;
/// Comms, scribe and liaison; moderators. From here on, people direct any incident and change a
/// room's forwarding rules.
pub const MODERATOR_LEVEL: i64 = 50;
/// Everyone else in the room.
pub const RESPONDER_LEVEL: i64 = 0;
/// The bot's own level in rooms before version 12 (from 12 on, the creator is above all).
pub const BOT_LEVEL: i64 = 150;
