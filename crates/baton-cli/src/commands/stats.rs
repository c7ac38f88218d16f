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
                "{:<10} {:<14} {:>8} {:>9} {:>7}  ROUTING",
                "AGENT", "KIND", "ATTEMPTS", "SUCCEEDED", "RATE"
            );
            for record in records {
                println!(
                    "{:<10} {:<14} {:>8} {:>9} {:>6.0}%  {}",
                    record.agent,
                    record.kind,
                    record.attempts,
                    record.succeeded,
                    record.success_rate * 100.0,
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
