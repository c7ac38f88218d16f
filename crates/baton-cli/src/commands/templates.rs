//! `baton template list|show|export|import|validate|set-default`.

use super::{bad_input, print_json, repo_dir};
use crate::cli_templates::TemplateCommand;
use crate::{Exit, exit, style};
use baton_core::template::Template;
use baton_engine::templates::{
    TemplateScope, check_text, import_template, list_templates, load_template, set_default_template,
};
use std::path::{Path, PathBuf};

/// The repository root around `repo`, or (outside a repository) `None`.
async fn repo_root(repo: &Option<PathBuf>) -> Option<PathBuf> {
    baton_git::Git::discover(&repo_dir(repo))
        .await
        .ok()
        .map(|git| git.root().to_path_buf())
}

/// The repository root, required for `--project`.
async fn required_root(repo: &Option<PathBuf>) -> Result<PathBuf, Exit> {
    repo_root(repo).await.ok_or_else(|| {
        bad_input(format!(
            "{} is not in a git repository: --project writes the repository's .baton/templates",
            repo_dir(repo).display()
        ))
    })
}

fn scope(repo: bool) -> TemplateScope {
    if repo {
        TemplateScope::Repo
    } else {
        TemplateScope::User
    }
}

/// Runs a `baton template` command.
pub async fn template(
    repo: &Option<PathBuf>,
    command: TemplateCommand,
    json: bool,
) -> Result<u8, Exit> {
    // Outside a repository only the built-in and the user's templates exist.
    let root = repo_root(repo).await.unwrap_or_else(|| repo_dir(repo));
    match command {
        TemplateCommand::List => list(&root, json),
        TemplateCommand::Show { name } => {
            let (template, entry) = load_template(&root, &name)?;
            if json {
                print_json(&serde_json::json!({
                    "name": template.name,
                    "scope": entry.scope,
                    "path": entry.path,
                    "description": template.description,
                    "phases": phases_json(&template),
                    "text": entry.text,
                }))?;
            } else {
                print!("{}", render(&template, entry.scope.as_str()));
            }
            Ok(exit::OK)
        }
        TemplateCommand::Export {
            name,
            output,
            force,
        } => {
            let entry = baton_engine::templates::find_template(&root, &name)?;
            match output {
                None if !json => print!("{}", entry.text),
                None => print_json(&serde_json::json!({ "name": name, "text": entry.text }))?,
                Some(path) => {
                    if !force && (path.exists() || path.is_symlink()) {
                        return Err(bad_input(format!(
                            "{} already exists; --force replaces it",
                            path.display()
                        )));
                    }
                    super::write_file(&path, entry.text.as_bytes(), force)?;
                    if json {
                        print_json(&serde_json::json!({ "name": name, "written": path }))?;
                    } else {
                        println!(
                            "{} template {name} to {}",
                            style::good("wrote"),
                            path.display()
                        );
                    }
                }
            }
            Ok(exit::OK)
        }
        TemplateCommand::Import {
            file,
            project: in_repo,
            force,
        } => {
            let root = if in_repo {
                required_root(repo).await?
            } else {
                root
            };
            let (template, path) = import_template(&root, &file, scope(in_repo), force)?;
            if json {
                print_json(&serde_json::json!({ "name": template.name, "written": path }))?;
            } else {
                println!(
                    "{} template {} ({} phases) as {}",
                    style::good("imported"),
                    template.name,
                    template.phases.len(),
                    path.display()
                );
            }
            Ok(exit::OK)
        }
        TemplateCommand::Validate { template } => validate(&root, &template, json),
        TemplateCommand::SetDefault {
            name,
            project: in_repo,
        } => {
            let root = if in_repo {
                required_root(repo).await?
            } else {
                root
            };
            let path = set_default_template(&root, &name, scope(in_repo))?;
            if json {
                print_json(&serde_json::json!({ "default": name, "written": path }))?;
            } else {
                println!(
                    "{} `baton run \"GOAL\"` follows template {name} (in {})",
                    style::good("default:"),
                    path.display()
                );
            }
            Ok(exit::OK)
        }
    }
}

fn list(root: &Path, json: bool) -> Result<u8, Exit> {
    let all = list_templates(root)?;
    if json {
        print_json(&all)?;
        return Ok(exit::OK);
    }
    println!("{:<16} {:<9} {:<8} DESCRIPTION", "NAME", "SCOPE", "");
    for entry in &all {
        let mark = if entry.default {
            style::good("default")
        } else if entry.shadowed {
            style::dim("hidden")
        } else if !entry.valid {
            style::bad("invalid")
        } else {
            String::new()
        };
        println!(
            "{:<16} {:<9} {:<8} {}",
            entry.name,
            entry.scope.as_str(),
            mark,
            entry.description
        );
    }
    println!(
        "\n{}",
        style::dim(
            "`baton template show NAME` shows its phases; `baton run \"GOAL\" --template NAME` \
             follows it"
        )
    );
    Ok(exit::OK)
}

fn validate(root: &Path, template: &str, json: bool) -> Result<u8, Exit> {
    let as_file = Path::new(template);
    let is_file = template.ends_with(".yaml") || template.ends_with(".yml") || as_file.is_file();
    let checked = if is_file {
        let text = std::fs::read_to_string(as_file)
            .map_err(|e| bad_input(format!("cannot read {template}: {e}")))?;
        check_text(&text, template, None)?
    } else {
        load_template(root, template)?.0
    };
    if json {
        print_json(&serde_json::json!({
            "valid": true, "name": checked.name, "phases": phases_json(&checked),
        }))?;
    } else {
        println!(
            "{} template {} ({} phases)",
            style::good("valid:"),
            checked.name,
            checked.phases.len()
        );
    }
    Ok(exit::OK)
}

fn phases_json(template: &Template) -> serde_json::Value {
    let waits = template.waits_for();
    serde_json::Value::Array(
        template
            .phases
            .iter()
            .enumerate()
            .map(|(index, phase)| {
                serde_json::json!({
                    "name": phase.name,
                    "role": phase.role.as_str(),
                    "after": waits[index].iter().map(|&i| &template.phases[i].name).collect::<Vec<_>>(),
                    "agent": phase.agent,
                    "provider": phase.provider,
                    "cli": phase.cli,
                    "model": phase.model,
                    "tool": phase.scan.then_some("scan"),
                    "can_skip": phase.can_skip,
                    "max_retries": phase.max_retries,
                    "success": phase.success.iter().map(|c| serde_json::json!({
                        "run": c.run, "expect": if c.expect_fail { "fail" } else { "pass" },
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// The template as a table of phases.
fn render(template: &Template, scope: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({scope})",
        style::bold("template:"),
        template.name
    );
    if !template.description.is_empty() {
        let _ = writeln!(out, "{}", template.description);
    }
    let on_failure = match template.on_failure {
        baton_core::template::OnFailure::Pause => "pause (needs_human)",
        baton_core::template::OnFailure::Fail => "fail",
    };
    let _ = writeln!(
        out,
        "max_iterations {}, on_failure {on_failure}, budget {}",
        template
            .max_iterations
            .map_or_else(|| "from [review]".to_owned(), |m| m.to_string()),
        template
            .budget_usd
            .map_or_else(|| "none".to_owned(), |b| format!("${b:.2}"))
    );
    let waits = template.waits_for();
    let _ = writeln!(
        out,
        "\n{:<20} {:<20} {:<24} WHO / CHECKS",
        "PHASE", "ROLE", "AFTER"
    );
    for (index, phase) in template.phases.iter().enumerate() {
        let after: Vec<&str> = waits[index]
            .iter()
            .map(|&i| template.phases[i].name.as_str())
            .collect();
        let who = phase
            .agent
            .clone()
            .or_else(|| phase.cli.as_ref().map(|c| format!("cli {c}")))
            .or_else(|| phase.provider.clone())
            .or_else(|| phase.scan.then(|| "baton scan".to_owned()))
            .unwrap_or_else(|| "configured".to_owned());
        let checks: Vec<String> = phase
            .success
            .iter()
            .map(|c| {
                if c.expect_fail {
                    format!("{} (must fail)", c.run)
                } else {
                    c.run.clone()
                }
            })
            .collect();
        let mut line = who;
        if !checks.is_empty() {
            line.push_str(&format!("; checks: {}", checks.join(", ")));
        }
        if phase.can_skip {
            line.push_str("; may be skipped");
        }
        let _ = writeln!(
            out,
            "{:<20} {:<20} {:<24} {line}",
            phase.name,
            phase.role.as_str(),
            if after.is_empty() {
                "-".to_owned()
            } else {
                after.join(", ")
            }
        );
    }
    out
}
