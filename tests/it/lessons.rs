//! Lessons: every shipped lesson's claims hold on its run; a claim made untrue fails, naming
//! the step, the claim and what was measured; a bad lesson is refused with its field.

use flowlab::testing::scenario_path;
use std::path::{Path, PathBuf};

fn lessons_dir() -> PathBuf {
    scenario_path("").parent().unwrap().join("lessons")
}

#[test]
fn every_shipped_lesson_holds_every_claim() {
    let mut found = 0;
    for e in std::fs::read_dir(lessons_dir()).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "ron") {
            continue;
        }
        let (l, s) = flowlab::lesson::load(&p).unwrap_or_else(|e| panic!("{e}"));
        let report = flowlab::lesson::check(&l, &s);
        assert_eq!(report.failed(), 0, "{}", report.render());
        assert!(report.halted.is_none());
        // Every caption's figures are filled in from the run.
        for step in &report.steps {
            assert!(step.caption.iter().all(|c| !c.contains('{')), "{step:?}");
        }
        found += 1;
    }
    assert!(found >= 3, "{found} lessons");
}

/// The shipped why_backpressure lesson with `from` replaced by `to`, in a temporary directory
/// (its scenario path made absolute).
fn edited(name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(lessons_dir().join("why_backpressure.ron")).unwrap();
    assert!(text.contains(from), "{from}");
    let scenario = scenario_path("no_backpressure.ron");
    let text = text.replacen(from, to, 1).replace(
        "../scenarios/no_backpressure.ron",
        scenario.to_str().unwrap(),
    );
    let dir = std::env::temp_dir().join(format!("flowlab-lessons-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_claim_made_untrue_fails_naming_the_step_the_claim_and_the_figure() {
    let p = edited(
        "untrue.ron",
        "AtEnd(GoodputAbove(40000.0))",
        "AtEnd(GoodputAbove(60000.0))",
    );
    let (l, s) = flowlab::lesson::load(&p).unwrap();
    let report = flowlab::lesson::check(&l, &s);
    assert_eq!(report.failed(), 1, "{}", report.render());
    let text = report.render();
    let line = text.lines().find(|l| l.contains("FAIL")).unwrap();
    assert!(
        line.contains("at the end, goodput is above 60000/s: goodput 4"),
        "{line}"
    );
    let step = text[..text.find("FAIL").unwrap()]
        .rfind("step 4 ")
        .is_some();
    assert!(step, "{text}");
    // A step waiting for what never happens fails too.
    let p = edited(
        "never.ron",
        "run: When(Crashed(\"database\"), 10.0)",
        "run: When(Crashed(\"web\"), 10.0)",
    );
    let (l, s) = flowlab::lesson::load(&p).unwrap();
    let text = flowlab::lesson::check(&l, &s).render();
    assert!(
        text.contains("FAIL the step runs until web crashes: not reached by t = 12.0 s"),
        "{text}"
    );
    // The command line says so with exit code 1.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_flowlab"))
        .args(["lesson", p.to_str().unwrap(), "--check"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_bad_lesson_is_refused_with_the_field_and_the_reason() {
    for (from, to, says) in [
        (
            "QueueAtLeast(\"database\", 50000)",
            "QueueAtLeast(\"datab\", 50000)",
            "steps[0].expect[0]: `datab` is not a component",
        ),
        (
            "At t = {t} the database",
            "At t = {when} the database",
            "steps[1].caption[0]: `{when}` is not a figure",
        ),
        (
            "(at_s: 0.0, command: FlowControl(true))",
            "(at_s: 0.0, command: Spike(source: \"users\", factor: 1e308, for_s: 1.0))",
            "steps[3].commands[0]: factor 1e308",
        ),
        (
            "At t = {t} the database",
            "At t = {waiting:web->cache} the database",
            "steps[1].caption[0]: `web->cache` is not a link",
        ),
        (
            "AtEnd(GoodputAbove(40000.0))",
            "AtEnd(SentAbove(\"web->cache\", 1.0))",
            "steps[3].expect[1]: `web->cache` is not a link",
        ),
        (
            "AtEnd(GoodputAbove(40000.0))",
            "AtEnd(P99Above(\"datab\", 5.0))",
            "steps[3].expect[1]: `datab` is not a component",
        ),
        (
            "AtEnd(GoodputAbove(40000.0))",
            "AtEnd(ResourceAtLeast(\"database\", 2.0))",
            "steps[3].expect[1]: 2 is not a health from 0 to 1",
        ),
        ("run: For(2.0)", "run: For(-2.0)", "steps[0].run: For(-2)"),
        (
            "InstanceDown(\"database#0\"))],",
            "InstanceDown(\"database#7\"))],",
            "`database#7` is not an instance",
        ),
        (
            "run: For(2.0),",
            "run: For(2.0), camera: Zoom(\"datab\"),",
            "steps[0].camera: `datab` is not a component or source",
        ),
        (
            "highlight: [\"database\", \"web->database\"],",
            "highlight: [\"web->cache\"],",
            "steps[0].highlight[0]: `web->cache` is not a component",
        ),
        (
            "callouts: [(at: Gauge(\"database#0\"), label: \"its queue\", from_s: 0.5)],",
            "callouts: [(at: Gate(\"users->db\"), label: \"the gate\")],",
            "steps[0].callouts[0].at: `users->db` is not a link",
        ),
        (
            "callouts: [(at: Gauge(\"database#0\"), label: \"its queue\", from_s: 0.5)],",
            "callouts: [(at: Plot, label: \"queue\")],",
            "add show: [Inspector(..)] for the plots",
        ),
        (
            "run: For(2.0),",
            "run: For(2.0), speed: Some(0.0),",
            "steps[0].speed: 0: give 0.01 to 100",
        ),
        (
            "(text: \"Take the database down\", done: Command(\"down\")),",
            "(text: \"Crash it\", done: Reached(Crashed(\"db\"))),",
            "goals[1].done: `db` is not a component",
        ),
        (
            "scenario: \"../scenarios/no_backpressure.ron\",",
            "",
            "give a path (scenario:",
        ),
    ] {
        let p = edited("bad.ron", from, to);
        let e = flowlab::lesson::load(Path::new(&p)).expect_err(says);
        assert!(e.contains(says), "{says}: {e}");
    }
}

/// What a moment of the run looks like to a lesson, and how many events came before it.
fn fingerprint(sim: &mut flowlab::runner::Simulation) -> String {
    let m = sim.view(flowlab::lesson::Moment::of);
    format!("{} {m:?} {}", sim.now(), sim.journal().events.len())
}

#[test]
fn going_back_to_a_step_rebuilds_the_run_exactly_where_playing_it_through_had_it() {
    use flowlab::lesson::replay;
    for name in [
        "why_backpressure.ron",
        "friday_night.ron",
        "circuit_breakers.ron",
    ] {
        let (l, s) = flowlab::lesson::load(&lessons_dir().join(name)).unwrap();
        let plan = flowlab::lesson::check(&l, &s);
        // Played through as the presenter plays it: each step's commands at its start, then
        // the run to its planned end.
        let mut sim = flowlab::runner::Simulation::new(s.clone());
        let mut at_start = vec![];
        for (k, r) in plan.steps.iter().enumerate() {
            assert_eq!(
                sim.now(),
                r.clock.0,
                "{name}: step {} starts where the last ended",
                k + 1
            );
            at_start.push(fingerprint(&mut sim));
            replay::queue_step(sim.world_mut(), &l, &plan, k);
            sim.run_until(r.clock.1, |_| {});
        }
        // Rebuilt from t = 0 to each step's start: the same moment.
        for (k, want) in at_start.iter().enumerate().rev() {
            let mut again = flowlab::runner::Simulation::new(s.clone());
            again.run_for(0.5);
            replay::rebuild_to(again.world_mut(), &l, &plan, &s, k);
            assert_eq!(&fingerprint(&mut again), want, "{name}: step {}", k + 1);
        }
    }
}
