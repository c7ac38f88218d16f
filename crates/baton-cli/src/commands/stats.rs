//! `baton stats agents`: the agents' track records.

use super::{open_engine, print_json};
use crate::cli::StatsCommand;
use crate::{Exit, exit};

/// `baton stats SUBCOMMAND`.
pub async fn stats(command: StatsCommand, json: bool) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    match command {
        StatsCommand::Agents => {
            let records = engine.agent_records().await?;
            if json {
                print_json(&records)?;
                return Ok(exit::OK);
            }
            if records.is_empty() {
                println!("No AI agent has finished an attempt yet.");
                return Ok(exit::OK);
            }
            println!(
                "{:<10} {:<14} {:>8} {:>9} {:>7} {:>13}  ROUTING",
                "AGENT", "KIND", "ATTEMPTS", "SUCCEEDED", "RATE", "COUNCIL WINS"
            );
            for record in records {
                let wins = match record.win_rate {
                    Some(rate) => format!(
                        "{}/{} {:.0}%",
                        record.council_wins,
                        record.council_seats,
                        rate * 100.0
                    ),
                    None => "-".to_string(),
                };
                println!(
                    "{:<10} {:<14} {:>8} {:>9} {:>6.0}% {:>13}  {}",
                    record.agent,
                    record.kind,
                    record.attempts,
                    record.succeeded,
                    record.success_rate * 100.0,
                    wins,
                    if record.steers_routing {
                        "steers auto"
                    } else {
                        "too few attempts"
                    }
                );
            }
            Ok(exit::OK)
        }
    }
}
