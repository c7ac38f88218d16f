//! Planning against the fake LLM server over real HTTP, in a real repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::Home;
use baton_agents::keys::ApiKey;
use baton_agents::providers::ProviderOptions;
use baton_testkit::TestRepo;
use baton_testkit::fake_llm::{FakeLlm, Script, Turn};

fn answer(deps_of_a: &[&str]) -> String {
    serde_json::json!({
        "summary": "Docs after the code.",
        "tasks": [
            {"id": "a", "title": "Code", "prompt": "Change src/lib.rs.", "claims": ["src/lib.rs"],
             "deps": deps_of_a, "complexity": 3, "risk": "medium", "checks": ["cargo test"]},
            {"id": "b", "title": "Docs", "prompt": "Document it.", "claims": ["docs/**"],
             "deps": ["a"], "complexity": 1, "risk": "low"}
        ],
        "risks": [],
        "open_questions": ["Which version?"]
    })
    .to_string()
}

async fn setup(turns: Vec<String>) -> (TestRepo, Engine, FakeLlm, HttpProvider) {
    let repo = TestRepo::new().await.unwrap();
    repo.write("src/lib.rs", "pub fn f() {}\n").unwrap();
    repo.commit("code").await.unwrap();
    let engine = Engine::open(Home::new(repo.tmp().join("home")))
        .await
        .unwrap();
    let fake = FakeLlm::start(Script::new(turns.into_iter().map(Turn::text))).unwrap();
    let provider = HttpProvider::new(
        find("anthropic").unwrap(),
        ProviderOptions {
            base_url: Some(fake.url()),
            key: Some(ApiKey::new("sk-test")),
            ..ProviderOptions::default()
        },
    )
    .unwrap();
    (repo, engine, fake, provider)
}

fn planner_setup(provider: &HttpProvider) -> PlannerSetup<'_> {
    PlannerSetup {
        provider,
        model: "claude-sonnet-4-5".to_owned(),
        max_tokens: 4096,
        agent: "auto".to_owned(),
    }
}

#[tokio::test]
async fn a_fenced_answer_becomes_a_plan_after_one_repair() {
    let fenced = format!("Here you go:\n```json\n{}\n```", answer(&[]));
    let (repo, engine, fake, provider) = setup(vec![answer(&["b"]), fenced]).await;
    let request = PlanRequest {
        repo_dir: repo.path().to_path_buf(),
        goal: "Change f and document it".to_owned(),
    };
    let planned = engine
        .plan_with(&request, &planner_setup(&provider))
        .await
        .unwrap();
    assert_eq!(planned.planner.calls, 2);
    assert_eq!(planned.repaired.len(), 1, "{:?}", planned.repaired);
    assert!(
        planned.repaired[0].contains("cycle"),
        "{:?}",
        planned.repaired
    );
    assert_eq!(planned.answer.open_questions, ["Which version?"]);
    let plan = parse_plan(&planned.yaml, "plan.yaml").unwrap();
    assert_eq!(plan.tasks[1].deps.len(), 1);
    assert_eq!(fake.requests()[1].roles, ["user", "assistant", "user"]);
    // The request told the planner about the tree.
    let asked = fake.requests()[0].last_user_text.clone().unwrap();
    assert!(asked.contains("src/lib.rs"), "{asked}");

    let (plan_row, list_row) = engine.save_planned(None, &planned).await.unwrap();
    assert_eq!(plan_row.content, planned.yaml);
    let list: serde_json::Value = serde_json::from_str(&list_row.content).unwrap();
    assert_eq!(list["tasks"][0]["risk"], "medium");
    assert_eq!(list["planner"]["calls"], 2);
}

#[tokio::test]
async fn an_answer_unusable_twice_is_kept_as_an_artifact() {
    let (repo, engine, fake, provider) =
        setup(vec!["not json at all".to_owned(), answer(&["b"])]).await;
    let request = PlanRequest {
        repo_dir: repo.path().to_path_buf(),
        goal: "Change f".to_owned(),
    };
    let error = engine
        .plan_with(&request, &planner_setup(&provider))
        .await
        .unwrap_err();
    assert!(error.is_bad_input());
    let PlannerError::Invalid { problems, artifact } = error else {
        panic!("not Invalid: {error}");
    };
    assert_eq!(problems[0].field, "deps", "{problems:?}");
    let kept = engine.store().artifact(&artifact).await.unwrap();
    assert_eq!(kept.kind, ArtifactKind::PlannerOutput);
    assert_eq!(kept.content, answer(&["b"]));
    assert_eq!(fake.requests().len(), 2);
    // The repair request named the first problem.
    let repair = fake.requests()[1].last_user_text.clone().unwrap();
    assert!(repair.contains("answer: is not JSON"), "{repair}");
}
