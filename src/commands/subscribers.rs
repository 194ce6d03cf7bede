//! `digest-feed subscribers [list | export | suppress ADDR... | unsuppress ADDR...]`:
//! the list as `mail` sees it, and the owner's hand on its suppressions.

use super::cli::{SubscribersAction, SubscribersArgs};
use super::report::Report;
use crate::config::{Cadence, Config};
use crate::error::{Error, Location, Problem};
use crate::list;
use crate::outbox;
use crate::text;

/// Runs `subscribers`.
pub(super) fn run(config: &Config, args: &SubscribersArgs, report: Report) -> Result<(), Error> {
    match &args.action {
        None | Some(SubscribersAction::List) => show(config, report),
        Some(SubscribersAction::Export) => export(config),
        Some(SubscribersAction::Suppress { addresses }) => {
            check(addresses)?;
            let new = list::suppress(
                config,
                addresses,
                list::Reason::Manual,
                "",
                "subscribers suppress",
            )?;
            for (address, new) in addresses.iter().zip(new) {
                report.result(if new {
                    format!("Suppressed {address}: it is not mailed until `digest-feed subscribers unsuppress {address}`")
                } else {
                    format!("{address} was suppressed already; kept as it was")
                });
            }
            Ok(())
        }
        Some(SubscribersAction::Unsuppress { addresses }) => {
            check(addresses)?;
            let had = list::unsuppress(config, addresses)?;
            for (address, had) in addresses.iter().zip(had) {
                report.result(if had {
                    format!("Unsuppressed {address}: it is mailed again if the list has it")
                } else {
                    format!("{address} was not suppressed")
                });
            }
            Ok(())
        }
    }
}

fn check(addresses: &[String]) -> Result<(), Error> {
    let problems: Vec<Problem> = addresses
        .iter()
        .filter_map(|address| crate::address::check(address).err())
        .map(|message| Problem::new(Location::file("ADDR"), message))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(problems))
    }
}

fn show(config: &Config, report: Report) -> Result<(), Error> {
    let (members, left_out) = list::roster(config)?;
    for problem in &left_out {
        report.warning(format!("{problem} (skipped)"));
    }
    let mut mailed = 0;
    for member in &members {
        let mut name = if member.name.is_empty() {
            String::new()
        } else {
            format!(" ({})", member.name)
        };
        // Daily is the default, and says nothing.
        if member.cadence == Cadence::Weekly {
            name.push_str("  weekly");
        }
        match &member.suppressed {
            None => {
                mailed += 1;
                report.result(format!("{}{name}  [{}]", member.email, member.source));
            }
            Some(s) => report.result(format!(
                "{}{name}  [{}]  suppressed: {}",
                member.email,
                member.source,
                outbox::suppression_line(s)
                    .split_once(": ")
                    .map_or("", |(_, why)| why)
            )),
        }
    }
    let pending: Vec<_> = list::signups(config)?
        .into_iter()
        .filter(|s| s.confirmed_at.is_none())
        .collect();
    for signup in &pending {
        report.result(format!(
            "{}  [sign-up pending since {}, by {}]",
            signup.email, signup.requested_at, signup.source
        ));
    }
    let suppressed = list::suppressions(config)?;
    report.result(format!(
        "{} mailed; {} suppressed; {} pending",
        text::count(mailed, "subscriber"),
        suppressed.len(),
        text::count(pending.len(), "sign-up")
    ));
    Ok(())
}

fn export(config: &Config) -> Result<(), Error> {
    let rows: Vec<Vec<String>> = list::members(config)?
        .into_iter()
        .map(|m| {
            let (reason, at) = m.suppressed.map(|s| (s.reason, s.at)).unwrap_or_default();
            vec![
                m.email,
                m.name,
                m.source.to_string(),
                if reason.is_empty() { "no" } else { "yes" }.to_string(),
                reason,
                at,
                m.cadence.as_str().to_string(),
            ]
        })
        .collect();
    // The cadence last: a script that reads the columns by place reads what it did.
    let bytes = crate::list::subscribers::to_csv(
        &[
            "email",
            "name",
            "source",
            "suppressed",
            "reason",
            "at",
            "cadence",
        ],
        &rows,
    )
    .map_err(|reason| Error::Render {
        format: "CSV",
        reason,
    })?;
    super::report::write_out(&bytes);
    Ok(())
}
