//! `parse_plan`: YAML text in, a validated [`Plan`] or every problem found out.
use super::Plan;
use super::diagnostic::{PlanErrors, Report};
use super::spans::{PlanSpans, describe_yaml_error};
use super::validate::validate;
use baton_protocol::PlanFile;

/// Parses and validates a version 1 plan file; `origin` is the file name used in messages.
///
/// Malformed YAML, wrong types and unknown fields stop at the first problem (the YAML reader
/// cannot go on); semantic problems are all collected.
pub fn parse_plan(source: &str, origin: &str) -> Result<Plan, PlanErrors> {
    let mut report = Report::new(origin);
    let file: PlanFile = match serde_saphyr::from_str(source) {
        Ok(file) => file,
        Err(error) => {
            let (pos, message) = describe_yaml_error(&error, source);
            report.at(pos, message);
            return Err(report.into_errors());
        }
    };
    let spans = PlanSpans::read(source);
    match validate(&file, &spans, &mut report) {
        Some(plan) if report.is_empty() => Ok(plan),
        _ => Err(report.into_errors()),
    }
}

/// Like [`parse_plan`], but returns the plan file as written (to change it and write it
/// again) once it validates.
pub fn parse_plan_file(source: &str, origin: &str) -> Result<PlanFile, PlanErrors> {
    parse_plan(source, origin)?;
    serde_saphyr::from_str(source).map_err(|error| {
        let mut report = Report::new(origin);
        let (pos, message) = describe_yaml_error(&error, source);
        report.at(pos, message);
        report.into_errors()
    })
}
