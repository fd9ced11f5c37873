//! `!inc cover`: the cover goes into the team's rotation at once, for everything that asks who
//! is on call (pages, escalations, alerts' commanders, `!inc oncall`, handoffs), and into the
//! store, from which a restart puts it back.

use brigade_core::{oncall::Override, store::Store};
use tracing::info;

use super::super::{change::Change, error::ActionError, names};
use crate::{
    commands::{decide, Answer, CoverArgs},
    config::Config,
    keys::{self, Cover, KeyError},
    oncall,
};

/// Covers as `args` says, or says why not.
pub async fn run(change: &Change<'_>, args: CoverArgs) -> Result<Answer, ActionError> {
    let bot = change.bot;
    // From when it was asked: a command finished after a restart covers the same hours.
    let now = oncall::timestamp(change.sent);
    let mut people = oncall::people(&bot.config.oncall, now);
    people.extend([change.sender.to_owned()]);
    people.extend(args.who.clone());
    let names = names::of_anyone(change.room, people.iter().map(|user| &**user)).await;
    let covered = decide::cover(&args, change.sender, &bot.config, now, &names)?;
    covered.rotation.cover(covered.cover.clone());
    keep(bot.store.as_ref(), &bot.config, now).await?;
    info!(team = covered.rotation.team(), who = %covered.cover.who, until = %covered.cover.until, "covered");
    Ok(Answer::done(covered.answer))
}

/// Keeps every rotation's covers that have not ended by `now`.
async fn keep(store: &dyn Store, config: &Config, now: jiff::Timestamp) -> Result<(), KeyError> {
    let millis = |at: jiff::Timestamp| u64::try_from(at.as_millisecond()).unwrap_or(0);
    let covers: Vec<Cover> = config
        .oncall
        .iter()
        .flat_map(|rotation| {
            rotation.covers(now).into_iter().map(|cover| Cover {
                team: rotation.team().to_owned(),
                who: cover.who,
                from: millis(cover.from),
                until: millis(cover.until),
            })
        })
        .collect();
    keys::covers().set(store, &covers).await
}

/// Puts the kept covers back into `config`'s rotations (at start); a team no longer
/// configured loses its covers.
pub async fn restore(store: &dyn Store, config: &Config) -> Result<(), KeyError> {
    for cover in keys::covers().get(store).await?.unwrap_or_default() {
        if let Some(rotation) = config.rotation(&cover.team) {
            rotation.cover(Override {
                who: cover.who,
                from: oncall::timestamp(cover.from),
                until: oncall::timestamp(cover.until),
            });
        }
    }
    Ok(())
}
