//! The plan table of `baton plan new` and `baton run "GOAL"`, pinned with a snapshot.
use super::*;
use baton_core::CostBasis;
use baton_engine::PlannerUse;
use baton_protocol::{PlanFile, PlannedTask, PlannerAnswer, UsageTotals};

fn planned() -> Planned {
    let task = |id: &str, deps: &[&str], risk: &str, complexity: u32| PlannedTask {
        id: id.to_owned(),
        title: format!("Do {id}"),
        prompt: format!("Do {id}."),
        claims: vec![format!("src/{id}/**"), "shared:Cargo.lock".to_owned()],
        deps: deps.iter().map(|d| d.to_string()).collect(),
        priority: "medium".to_owned(),
        complexity,
        risk: risk.to_owned(),
        capabilities: Vec::new(),
        checks: Vec::new(),
        steps: Vec::new(),
    };
    Planned {
        goal: "Add OAuth2 login".to_owned(),
        answer: PlannerAnswer {
            summary: "Providers first, then the login page.".to_owned(),
            tasks: vec![
                task("providers", &[], "high", 6),
                task("login-page", &["providers"], "medium", 4),
                task("docs", &["providers", "login-page"], "low", 1),
            ],
            risks: vec!["tokens stored in clear".to_owned()],
            open_questions: vec!["GitHub only, or Google too?".to_owned()],
        },
        plan: PlanFile::default(),
        yaml: String::new(),
        planner: PlannerUse {
            provider: "anthropic".to_owned(),
            model: "claude-sonnet-4-5".to_owned(),
            calls: 2,
            usage: UsageTotals {
                input_tokens: 3000,
                cached_input_tokens: 1000,
                output_tokens: 800,
                ..UsageTotals::default()
            },
            cost: Some(Usd(21_000)),
            basis: CostBasis::Priced,
            price_version: None,
        },
        repaired: vec!["task \"docs\", field deps: names \"doc\", which no task defines".into()],
    }
}

fn estimate(task: &str, usd: Option<u64>) -> TaskEstimate {
    TaskEstimate {
        task: task.to_owned(),
        agent: Some("claude".to_owned()),
        model: Some("claude-sonnet-4-5".to_owned()),
        usd: usd.map(Usd),
        tokens: 0,
        basis: "test".to_owned(),
        attempts: 1,
    }
}

#[test]
fn the_plan_table_shows_deps_agents_risk_costs_risks_and_questions() {
    let costs = [
        estimate("providers", Some(1_200_000)),
        estimate("login-page", Some(800_000)),
        estimate("docs", None),
    ];
    insta::assert_snapshot!(render_planned(&planned(), Some(&costs)));
}

#[test]
fn without_estimates_the_table_shows_no_cost() {
    let shown = render_planned(&planned(), None);
    assert!(!shown.contains("estimated cost"), "{shown}");
    let row: Vec<&str> = shown
        .lines()
        .find(|line| line.starts_with("providers "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row,
        [
            "providers",
            "-",
            "-",
            "6",
            "high",
            "-",
            "src/providers/**",
            "shared:Cargo.lock"
        ]
    );
}
