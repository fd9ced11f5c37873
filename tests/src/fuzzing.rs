//! What the fuzz targets (`tests/fuzz`, `cargo fuzz`) feed their inputs to, one function per
//! target, shared with `tests/fuzz_corpora.rs`, which replays every committed corpus as a
//! test. Each must return for any input, without a panic.

use brigade_bridge::{alert::Source, hooks};
use figment::{
    providers::{Format, Toml},
    Figment,
};
use hmac::{Hmac, Mac};
use matrix_sdk::ruma::server_name;
use sha2::Sha256;

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// Every target, by name: what `cargo fuzz run <name>` runs.
pub const TARGETS: [(&str, Target); 5] = [
    ("command", command),
    ("webhook", webhook),
    ("pagerduty_signature", pagerduty_signature),
    ("transaction", transaction),
    ("config", config),
];

/// A message as the bot reads it for a command.
pub fn command(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = brigade_bot::commands::parse(text, server_name!("example.org"));
    }
}

/// A webhook body of the source the first byte picks.
pub fn webhook(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let source = Source::ALL[usize::from(pick) % Source::ALL.len()];
    let _ = hooks::parse(source, body);
}

/// `X-PagerDuty-Signature` (the first line) over a body (the rest). A header of `valid` is
/// replaced by the body's true signature, so that what is read after the signature (the
/// event's ID and time) is fuzzed too.
pub fn pagerduty_signature(data: &[u8]) {
    let split = data
        .iter()
        .position(|&byte| byte == b'\n')
        .unwrap_or(data.len());
    let (header, body) = data.split_at(split);
    let body = body.get(1..).unwrap_or_default();
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    let signed;
    let header = if header == "valid" {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").expect("any key length");
        mac.update(body);
        signed = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
        &signed
    } else {
        header
    };
    let proof = hooks::Proof {
        signature: Some(header),
        ..hooks::Proof::default()
    };
    let _ = hooks::authenticate(Source::Pagerduty, "secret", proof, body, 1_795_856_400_000);
}

/// An appservice transaction's body.
pub fn transaction(data: &[u8]) {
    let _ = brigade_bridge::appservice::read("1", data.to_vec());
}

/// A configuration file of the bot (first byte even) or of the bridge (odd).
pub fn config(data: &[u8]) {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let figment = Figment::from(Toml::string(text));
    if pick % 2 == 0 {
        let _ = brigade_bot::config::Config::from_figment(&figment);
    } else {
        let _ = brigade_bridge::config::Config::from_figment(&figment);
    }
}
