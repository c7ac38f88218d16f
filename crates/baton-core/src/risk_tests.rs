use super::*;
use crate::claims::ClaimSet;
use crate::plan::AgentKind;

fn task(claims: &[&str]) -> TaskSpec {
    let mut spec = TaskSpec::exec("t", "true");
    let texts: Vec<String> = claims.iter().map(|c| c.to_string()).collect();
    spec.claims = ClaimSet::parse(&texts).unwrap();
    spec
}

fn defaults() -> RiskRules {
    RiskRules::new(default_rules()).unwrap()
}

fn rule(name: &str, level: RiskLevel, paths: &[&str]) -> RiskRule {
    RiskRule {
        name: name.into(),
        level,
        paths: paths.iter().map(|p| p.to_string()).collect(),
        agents: Vec::new(),
        capabilities: Vec::new(),
    }
}

#[test]
fn a_task_claiming_migrations_is_high_and_says_which_rule() {
    let found = defaults().assess(&task(&["migrations/**"]));
    assert_eq!(found.level, RiskLevel::High);
    assert_eq!(
        found.reason(),
        "risk high: matches migrations (**/migrations/**)"
    );
}

#[test]
fn each_built_in_area_is_high() {
    for claim in [
        "db/migrations/0001.sql",
        "db/0042_add_users_migration.sql",
        "src/auth/token.rs",
        "src/login.rs",
        "app/payments/charge.py",
        "src/billing/invoice.rs",
        ".github/workflows/ci.yml",
        ".gitlab-ci.yml",
        ".ci/run",
        "Dockerfile",
        "deploy/main.tf",
        "k8s/app.yaml",
        "helm/values.yaml",
        "infra/vpc.yaml",
        "Cargo.toml",
        "crates/x/Cargo.toml",
        "Cargo.lock",
        "web/package.json",
        "yarn.lock",
        "pyproject.toml",
        "requirements-dev.txt",
        "go.mod",
    ] {
        let found = defaults().assess(&task(&[claim]));
        assert_eq!(found.level, RiskLevel::High, "{claim}: {found:?}");
    }
}

#[test]
fn ordinary_claims_are_low() {
    for claim in [
        "src/lexer.rs",
        "docs/**",
        "out/a.txt",
        "README.md",
        "notes/*.txt",
        "db/schema.sql",
    ] {
        let found = defaults().assess(&task(&[claim]));
        assert_eq!(found, RiskAssessment::low(), "{claim}");
    }
}

#[test]
fn a_broad_claim_is_judged_again_on_what_it_changed() {
    // `src/**` is not in the auth rule's territory, but the change it made may be.
    let rules = defaults();
    let spec = task(&["src/**"]);
    assert_eq!(rules.assess(&spec).level, RiskLevel::Low);
    assert_eq!(
        rules.assess_change(&spec, &["src/lexer.rs".into()]).level,
        RiskLevel::Low
    );
    let found = rules.assess_change(&spec, &["src/auth.rs".into()]);
    assert_eq!(
        found.reason(),
        "risk high: matches auth (**/*auth* on src/auth.rs)"
    );
}

#[test]
fn a_task_claiming_everything_is_judged_on_what_it_changed() {
    let rules = defaults();
    let spec = task(&[]);
    assert_eq!(rules.assess(&spec).level, RiskLevel::Low);
    let quiet = rules.assess_change(&spec, &["out/a.txt".into()]);
    assert_eq!(quiet.level, RiskLevel::Low);
    let risky = rules.assess_change(&spec, &["out/a.txt".into(), "db/migrations/1.sql".into()]);
    assert_eq!(risky.level, RiskLevel::High);
    assert_eq!(
        risky.reason(),
        "risk high: matches migrations (**/migrations/** on db/migrations/1.sql)"
    );
}

#[test]
fn the_stated_risk_counts_and_the_highest_wins() {
    let mut spec = task(&["docs/**"]);
    spec.risk = Some(RiskLevel::Medium);
    let found = defaults().assess(&spec);
    assert_eq!(found.level, RiskLevel::Medium);
    assert_eq!(found.reason(), "risk medium: the plan says risk: medium");
    // A stated low does not lower a rule's high.
    let mut spec = task(&["migrations/**"]);
    spec.risk = Some(RiskLevel::Low);
    assert_eq!(defaults().assess(&spec).level, RiskLevel::High);
}

#[test]
fn a_rule_matches_only_when_all_its_selectors_do() {
    let mut only_exec = rule("shell-docs", RiskLevel::Medium, &["docs/**"]);
    only_exec.agents = vec!["exec".into()];
    let rules = RiskRules::new(vec![only_exec]).unwrap();
    assert_eq!(rules.assess(&task(&["docs/a.md"])).level, RiskLevel::Medium);
    let mut ai = task(&["docs/a.md"]);
    ai.agent = AgentKind::Claude;
    assert_eq!(rules.assess(&ai).level, RiskLevel::Low);
    assert_eq!(rules.assess(&task(&["src/a.rs"])).level, RiskLevel::Low);
}

#[test]
fn a_capability_rule_selects_tasks_needing_it() {
    let mut security = rule("security", RiskLevel::High, &[]);
    security.capabilities = vec!["security".into()];
    let rules = RiskRules::new(vec![security]).unwrap();
    let mut spec = task(&["src/a.rs"]);
    assert_eq!(rules.assess(&spec).level, RiskLevel::Low);
    spec.capabilities = vec!["security".into()];
    let found = rules.assess(&spec);
    assert_eq!(found.reason(), "risk high: matches security");
}

#[test]
fn bad_rules_are_refused_with_their_name() {
    let error = RiskRules::new(vec![rule("x", RiskLevel::High, &["src/[ab"])]).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("risk rule \"x\": path \"src/[ab\" is not a valid glob"),
        "{error}"
    );
    let error = check_rule(&rule("empty", RiskLevel::Low, &[])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "risk rule \"empty\" selects no task; give it paths, agents or capabilities"
    );
}

#[test]
fn without_rules_only_the_stated_risk_counts() {
    let rules = RiskRules::default();
    assert_eq!(
        rules.assess(&task(&["migrations/**"])).level,
        RiskLevel::Low
    );
    assert_eq!(rules.rules().count(), 0);
    assert_eq!(DEFAULT_RULE_NAMES.len(), default_rules().len());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Paths built from segments that hit the built-in rules and segments that do not.
    fn path() -> impl Strategy<Value = String> {
        let segment = prop::sample::select(vec![
            "src",
            "docs",
            "migrations",
            "auth",
            "login.rs",
            "Cargo.toml",
            "a.txt",
            "infra",
            "lib.rs",
            "billing",
            ".github",
            "workflows",
            "x.tf",
        ]);
        prop::collection::vec(segment, 1..4).prop_map(|s| s.join("/"))
    }

    fn level() -> impl Strategy<Value = Option<RiskLevel>> {
        prop::option::of(prop::sample::select(RiskLevel::ALL.to_vec()))
    }

    proptest! {
        /// The effective risk is never below what the plan states, never below a rule that
        /// one of the touched paths matches, and the change can only raise the risk.
        #[test]
        fn the_risk_is_the_highest_of_all_that_applies(
            claims in prop::collection::vec(path(), 0..3),
            changed in prop::collection::vec(path(), 0..4),
            stated in level(),
        ) {
            let rules = defaults();
            let mut spec = task(&claims.iter().map(String::as_str).collect::<Vec<_>>());
            spec.risk = stated;
            let before = rules.assess(&spec);
            let after = rules.assess_change(&spec, &changed);
            prop_assert!(after.level >= before.level);
            if let Some(stated) = stated {
                prop_assert!(before.level >= stated);
            }
            for rule in default_rules() {
                let matcher = RiskRules::new(vec![rule.clone()]).unwrap();
                let hit = changed.iter().any(|path| {
                    rule.paths.iter().any(|glob| ClaimGlob::new(glob).unwrap().is_match(path))
                });
                if hit {
                    prop_assert!(after.level >= rule.level, "{rule:?} on {changed:?}");
                    prop_assert!(matcher.assess_change(&spec, &changed).level >= rule.level);
                }
            }
            // What is low says nothing; what is not low says why.
            prop_assert_eq!(after.level == RiskLevel::Low, after.because.is_none());
        }
    }
}
