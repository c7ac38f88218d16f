//! Risk: how closely a person looks at a task before its change lands. Rules map path globs
//! (matched against the task's claims), agent kinds and capabilities to a [`RiskLevel`]; a
//! plan may state a task's `risk:` too, and the effective risk is the highest of them all.
//! High waits for approval before the agent starts, medium before the change is delivered,
//! low not at all.
//!
//! Before a task runs, a path rule matches a claim that lies in the rule's territory: the
//! rule's glob matches the claim as written (`migrations/**` and `db/migrations/1.sql` are in
//! `**/migrations/**`; `src/**` is not in `**/*auth*`, although it allows `src/auth.rs`). Once
//! its gates passed, the paths its change actually touched are matched too, and a match makes
//! it wait before delivery: that is how a broad claim, or no claim at all (which claims
//! everything), still cannot slip a migration through. (Matching every claim that merely
//! overlaps a rule would make every task claiming `src/**`, and every task without claims,
//! high under the built-in rules.)

use crate::claims::ClaimGlob;
use crate::plan::TaskSpec;
use baton_protocol::RiskLevel;

/// One rule: a task it matches has at least `level`. Every selector the rule gives must
/// match (a rule with `paths` and `agents` matches a task of such an agent claiming such a
/// path); a rule gives at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRule {
    /// The name messages use (`risk high: matches migrations (**/migrations/**)`); a
    /// configured rule with a built-in rule's name replaces it.
    pub name: String,
    /// The risk of a task it matches.
    pub level: RiskLevel,
    /// Globs matched against the task's claims as written, and against the paths its change
    /// touched.
    pub paths: Vec<String>,
    /// Agent kinds (`exec`, `claude`, ...) it applies to.
    pub agents: Vec<String>,
    /// Capabilities: a task needing one of them matches.
    pub capabilities: Vec<String>,
}

/// A rule that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskRuleError {
    /// The rule selects nothing.
    #[error("risk rule \"{rule}\" selects no task; give it paths, agents or capabilities")]
    NoSelector {
        /// The rule's name.
        rule: String,
    },
    /// A path glob does not compile.
    #[error("risk rule \"{rule}\": path \"{glob}\" is not a valid glob: {reason}")]
    BadGlob {
        /// The rule's name.
        rule: String,
        /// The glob as written.
        glob: String,
        /// Why it does not compile.
        reason: String,
    },
}

/// Why a task has its risk: the level and what gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskAssessment {
    /// The effective risk.
    pub level: RiskLevel,
    /// What gave it (`matches migrations (**/migrations/**)`, `the plan says risk: high`);
    /// `None` for low with nothing to say.
    pub because: Option<String>,
}

impl RiskAssessment {
    /// The words a wait records: `risk high: matches migrations (**/migrations/**)`.
    pub fn reason(&self) -> String {
        match &self.because {
            Some(because) => format!("risk {}: {because}", self.level),
            None => format!("risk {}", self.level),
        }
    }

    fn low() -> RiskAssessment {
        RiskAssessment {
            level: RiskLevel::Low,
            because: None,
        }
    }

    /// The higher of two assessments (the first when they are equal).
    fn max(self, other: RiskAssessment) -> RiskAssessment {
        if other.level > self.level {
            other
        } else {
            self
        }
    }
}

/// A rule ready to match.
#[derive(Debug, Clone)]
struct Compiled {
    rule: RiskRule,
    globs: Vec<ClaimGlob>,
}

/// The rules of a run, in order: built-in ones (unless turned off) then configured ones.
#[derive(Debug, Clone, Default)]
pub struct RiskRules {
    rules: Vec<Compiled>,
}

/// The names of the built-in rules, each `high`.
pub const DEFAULT_RULE_NAMES: &[&str] = &[
    "migrations",
    "auth",
    "payments",
    "ci",
    "infrastructure",
    "dependencies",
];

/// The built-in rules: migrations, auth, payments, CI configuration, infrastructure and
/// dependency manifests are high.
pub fn default_rules() -> Vec<RiskRule> {
    let rule = |name: &str, paths: &[&str]| RiskRule {
        name: name.to_owned(),
        level: RiskLevel::High,
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        agents: Vec::new(),
        capabilities: Vec::new(),
    };
    vec![
        rule(
            "migrations",
            &[
                "**/migrations/**",
                "**/migrate/**",
                "**/*migration*.sql",
                "**/*migrate*.sql",
            ],
        ),
        rule(
            "auth",
            &["**/auth/**", "**/*auth*", "**/*login*", "**/*login*/**"],
        ),
        rule(
            "payments",
            &[
                "**/payment*/**",
                "**/*payment*",
                "**/billing/**",
                "**/*billing*",
            ],
        ),
        rule(
            "ci",
            &[
                ".github/workflows/**",
                ".gitlab-ci.yml",
                ".ci/**",
                ".circleci/**",
                "Jenkinsfile",
            ],
        ),
        rule(
            "infrastructure",
            &[
                "**/Dockerfile",
                "**/Dockerfile.*",
                "**/docker-compose*.yml",
                "**/*.tf",
                "**/*.tfvars",
                "k8s/**",
                "helm/**",
                "infra/**",
            ],
        ),
        rule(
            "dependencies",
            &[
                "**/Cargo.toml",
                "**/Cargo.lock",
                "**/package.json",
                "**/package-lock.json",
                "**/yarn.lock",
                "**/pnpm-lock.yaml",
                "**/pyproject.toml",
                "**/poetry.lock",
                "**/uv.lock",
                "**/requirements*.txt",
                "**/go.mod",
                "**/go.sum",
                "**/Gemfile",
                "**/Gemfile.lock",
            ],
        ),
    ]
}

/// Checks one rule: it selects something and its globs compile.
pub fn check_rule(rule: &RiskRule) -> Result<(), RiskRuleError> {
    compile(rule.clone()).map(|_| ())
}

fn compile(rule: RiskRule) -> Result<Compiled, RiskRuleError> {
    if rule.paths.is_empty() && rule.agents.is_empty() && rule.capabilities.is_empty() {
        return Err(RiskRuleError::NoSelector { rule: rule.name });
    }
    let globs = rule
        .paths
        .iter()
        .map(|glob| {
            ClaimGlob::new(glob).map_err(|error| RiskRuleError::BadGlob {
                rule: rule.name.clone(),
                glob: glob.clone(),
                reason: match error {
                    crate::claims::ClaimError::InvalidGlob { reason, .. } => reason,
                    other => other.to_string(),
                },
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Compiled { rule, globs })
}

impl RiskRules {
    /// Compiles `rules`, in order.
    pub fn new(rules: Vec<RiskRule>) -> Result<RiskRules, RiskRuleError> {
        Ok(RiskRules {
            rules: rules.into_iter().map(compile).collect::<Result<_, _>>()?,
        })
    }

    /// The rules, in order.
    pub fn rules(&self) -> impl Iterator<Item = &RiskRule> {
        self.rules.iter().map(|c| &c.rule)
    }

    /// The risk of `spec` before it runs: its stated risk and every rule its claims (as
    /// written), agent and capabilities match.
    pub fn assess(&self, spec: &TaskSpec) -> RiskAssessment {
        let mut found = stated(spec);
        for compiled in &self.rules {
            let paths = if compiled.rule.paths.is_empty() {
                Some(None)
            } else {
                compiled
                    .globs
                    .iter()
                    .find(|glob| {
                        spec.claims
                            .claims()
                            .iter()
                            .any(|claim| glob.is_match(claim.glob().pattern()))
                    })
                    .map(|glob| Some(glob.pattern().to_owned()))
            };
            if let Some(glob) = paths
                && selects_kind(&compiled.rule, spec)
            {
                found = found.max(matched(&compiled.rule, glob.as_deref()));
            }
        }
        found
    }

    /// The risk of `spec`'s change touching `changed`: [`RiskRules::assess`], and the path
    /// rules matched against the paths it touched.
    pub fn assess_change(&self, spec: &TaskSpec, changed: &[String]) -> RiskAssessment {
        let mut found = self.assess(spec);
        for compiled in &self.rules {
            if compiled.rule.paths.is_empty() || !selects_kind(&compiled.rule, spec) {
                continue;
            }
            let hit = compiled.globs.iter().find_map(|glob| {
                changed
                    .iter()
                    .find(|path| glob.is_match(path))
                    .map(|path| format!("{} on {path}", glob.pattern()))
            });
            if let Some(hit) = hit {
                found = found.max(matched(&compiled.rule, Some(&hit)));
            }
        }
        found
    }
}

/// The plan's own `risk:`, or low.
fn stated(spec: &TaskSpec) -> RiskAssessment {
    match spec.risk {
        Some(level) if level > RiskLevel::Low => RiskAssessment {
            level,
            because: Some(format!("the plan says risk: {level}")),
        },
        _ => RiskAssessment::low(),
    }
}

/// Whether the rule's agents and capabilities (those it gives) select `spec`.
fn selects_kind(rule: &RiskRule, spec: &TaskSpec) -> bool {
    let agent = rule.agents.is_empty() || rule.agents.iter().any(|a| a == spec.agent.as_str());
    let capability = rule.capabilities.is_empty()
        || rule
            .capabilities
            .iter()
            .any(|c| spec.capabilities.contains(c));
    agent && capability
}

fn matched(rule: &RiskRule, glob: Option<&str>) -> RiskAssessment {
    let because = match glob {
        Some(glob) => format!("matches {} ({glob})", rule.name),
        None => format!("matches {}", rule.name),
    };
    RiskAssessment {
        level: rule.level,
        because: Some(because),
    }
}

#[cfg(test)]
#[path = "risk_tests.rs"]
mod tests;
