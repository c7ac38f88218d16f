//! `baton template ...`: the workflow templates' command line (see docs/workflows.md).

use clap::Subcommand;
use std::path::PathBuf;

/// `baton template` subcommands.
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// List the templates: built-in, yours (~/.config/baton/templates) and the repository's
    /// (.baton/templates); a later one hides an earlier one of the same name.
    List,
    /// Show a template's phases (who does what, in which order) and its settings.
    Show {
        /// The template's name (see `baton template list`).
        name: String,
    },
    /// Write a template's YAML to a file (or stdout), to read or to start your own from.
    Export {
        /// The template's name.
        name: String,
        /// The file (default: stdout).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Check a template file and copy it to your templates (or, with --project, the
    /// repository's) under its name.
    Import {
        /// The template file (YAML).
        file: PathBuf,
        /// Into the repository's .baton/templates instead of ~/.config/baton/templates.
        #[arg(long)]
        project: bool,
        /// Replace a template of that name.
        #[arg(long)]
        force: bool,
    },
    /// Check a template file, or a template by name; errors name file:line:col.
    Validate {
        /// A file (a path ending in .yaml or .yml) or a template's name.
        template: String,
    },
    /// Make NAME the template `baton run "GOAL"` follows (yours, or with --project the
    /// repository's, which wins).
    SetDefault {
        /// The template's name.
        name: String,
        /// Set the repository's default instead of yours.
        #[arg(long)]
        project: bool,
    },
}
