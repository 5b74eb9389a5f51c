//! The command line on good and bad input: exit codes and messages that say where and what.

use std::process::{Command, Output};

fn flowlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowlab"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_scenario(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("flowlab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

const GOOD: &str = r#"(
    name: "tiny",
    sim: (duration_s: 2.0),
    sources: [(name: "u", rate: Constant(100.0), flows: [(name: "f", path: [To("s")])])],
    components: [(name: "s", kind: Service, service: (mean_ms: Some(1.0)))],
    links: [(from: "u", to: "s")],
)"#;

fn expect_error(text: &str, needles: &[&str]) {
    let p = write_scenario(&format!("bad{}.ron", needles[0].len() + text.len()), text);
    for cmd in ["check", "run"] {
        let o = flowlab(&[cmd, &p]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{cmd}: exit code for {needles:?}: {}",
            stderr(&o)
        );
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{err}");
        for n in needles {
            assert!(err.contains(n), "{cmd}: expected `{n}` in:\n{err}");
        }
    }
}

#[test]
fn run_prints_a_summary_and_writes_metrics() {
    let p = write_scenario("good.ron", GOOD);
    let csv = std::env::temp_dir().join(format!("flowlab-cli-{}.csv", std::process::id()));
    let o = flowlab(&[
        "run",
        &p,
        "--metrics",
        csv.to_str().unwrap(),
        "--verify",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("completed") && out.contains("p99 ms") && out.contains("peak queue"),
        "{out}"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("t,entity,metric,value\n"));
    assert!(text.contains("2.000,s,served,"), "a sample at 2 s");
    assert!(text.contains(",system,goodput,") && text.contains(",u->s,in_transit,"));
}

#[test]
fn help_lists_the_commands_and_check_accepts_every_shipped_scenario() {
    let o = flowlab(&["--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for c in ["run", "check", "open", "shot", "record", "compare"] {
        assert!(help.contains(c), "{c}: {help}");
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".ron"))
        .collect();
    files.push(format!("{dir}/compare/server.ron"));
    // Every shipped comparison loads, with its variants checked against its base.
    for e in std::fs::read_dir(format!("{dir}/compare")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().is_some_and(|n| n != "server.ron") {
            flowlab::compare::load(&p).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    files.sort();
    let mut args = vec!["check"];
    args.extend(files.iter().map(|s| s.as_str()));
    let o = flowlab(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let o = flowlab(&["run", "/nonexistent/x.ron"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/x.ron: cannot read scenario"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn syntax_errors_give_file_line_and_column() {
    let text = GOOD.replace("rate: Constant(100.0),", "rate: Constant(100.0)");
    expect_error(&text, &[".ron:4:", "Expected"]);
}

#[test]
fn unknown_fields_are_rejected() {
    let text = GOOD.replace("kind: Service,", "kind: Service, wrokers: 4,");
    expect_error(&text, &[".ron:5:", "wrokers"]);
}

#[test]
fn semantic_errors_name_the_field_and_give_a_hint() {
    expect_error(
        &GOOD.replace("(from: \"u\", to: \"s\")", "(from: \"u\", to: \"db\")"),
        &["links[0].to", "`db` is not a component", "hint:"],
    );
    expect_error(
        &GOOD.replace(
            "kind: Service,",
            "kind: Service, engines: (cpu_cores: 0.0),",
        ),
        &["components[0].engines.cpu_cores", "greater than 0"],
    );
    expect_error(
        &GOOD.replace("Constant(100.0)", "Constant(NaN)"),
        &["sources[0].rate", "NaN"],
    );
    expect_error(
        &GOOD.replace("Constant(100.0)", "Constant(-5.0)"),
        &["sources[0].rate", "-5"],
    );
    expect_error(
        &GOOD.replace(
            "path: [To(\"s\")]",
            "path: [OneOf([(\"s\", 0.5), (\"s\", 0.4)])]",
        ),
        &["sources[0].flows[0].path[0]", "add up to 0.9, not 1"],
    );
    expect_error(
        &GOOD.replace("path: [To(\"s\")]", "path: []"),
        &["sources[0].flows[0].path", "no end"],
    );
    expect_error(
        &GOOD.replace("Constant(100.0)", "Constant(1e300)"),
        &["sources[0].rate", "1e300 is above 1e9"],
    );
    // The rule broken is the one said, numbers printed as a person writes them.
    expect_error(
        &GOOD.replace(
            "sim: (duration_s: 2.0)",
            "sim: (duration_s: 2.0, tick_ms: 1001.0)",
        ),
        &["sim.tick_ms", "1001 is above the largest allowed, 1000"],
    );
    expect_error(
        &GOOD.replace(
            "path: [To(\"s\")]",
            "path: [OneOf([(\"s\", 1.5), (\"s\", -0.5)])]",
        ),
        &["path[0]", "the share of `s` is -0.5, below 0"],
    );
    expect_error(
        &GOOD.replace("path: [To(\"s\")]", "path: [OneOf([])]"),
        &["path[0]", "lists no option"],
    );
    expect_error(
        &GOOD.replace("service: (mean_ms: Some(1.0))", "service: ()"),
        &["components[0].service", "hint:"],
    );
    // Flow-control parameters are checked too, every bad one named.
    expect_error(
        &GOOD.replace(
            "sim: (duration_s: 2.0),",
            "sim: (duration_s: 2.0), backpressure: (enabled: true, stale_hold_s: -1.0, capacity_relax: 1e99), health: (forecast: (anomaly_min_share: 2.0)),",
        ),
        &[
            "backpressure.stale_hold_s",
            "backpressure.capacity_relax",
            "health.forecast.anomaly_min_share",
            "3 problem(s)",
        ],
    );
}

#[test]
fn absurd_command_line_numbers_are_refused() {
    let p = write_scenario("good2.ron", GOOD);
    for args in [
        ["--duration", "-5"],
        ["--duration", "NaN"],
        ["--sample-every", "0"],
    ] {
        let o = flowlab(&["run", &p, args[0], args[1]]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(args[0]), "{}", stderr(&o));
    }
    let o = flowlab(&["run", &p, "--seed", "banana"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn shot_and_record_refuse_bad_arguments_before_opening_a_window() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mm1.ron");
    let cases: [(&[&str], &str); 5] = [
        (&["shot", scenario, "--at", "-5"], "--at -5"),
        (
            &["shot", scenario, "--at", "3", "--size", "10x10"],
            "--size",
        ),
        (
            &["record", scenario, "--from", "5", "--to", "2"],
            "--to 2 must be after --from 5",
        ),
        (
            &[
                "record", scenario, "--from", "0", "--to", "2", "--speed", "1000",
            ],
            "--speed 1000",
        ),
        (
            &["shot", "/nonexistent/x.ron", "--at", "3"],
            "/nonexistent/x.ron: cannot read scenario",
        ),
    ];
    for (args, want) in cases {
        let o = flowlab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_byte_order_mark_standard_input_and_huge_files_are_handled() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mm1.ron")).unwrap();
    let bom = std::env::temp_dir().join(format!("flowlab-bom-{}.ron", std::process::id()));
    std::fs::write(&bom, format!("\u{feff}{text}")).unwrap();
    let o = flowlab(&["check", bom.to_str().unwrap()]);
    assert!(o.status.success(), "a BOM is accepted: {}", stderr(&o));
    // `-` reads the scenario from standard input.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowlab"))
        .args(["check", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("-: ok"));
    // A device that never ends is read only up to the limit.
    let o = flowlab(&["check", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/dev/zero: larger than"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn output_files_are_checked_before_the_run() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mm1.ron");
    let dir = std::env::temp_dir();
    let csv = dir.join(format!("flowlab-out-{}.csv", std::process::id()));
    let csv = csv.to_str().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &[
                "run",
                scenario,
                "--duration",
                "1",
                "--metrics",
                csv,
                "--events",
                csv,
            ],
            "name the same file",
        ),
        (
            &["run", scenario, "--duration", "1", "--metrics", scenario],
            "will not write over a scenario file",
        ),
        (
            &[
                "run",
                scenario,
                "--duration",
                "1",
                "--events",
                "/nonexistent/dir/e.jsonl",
            ],
            "the directory /nonexistent/dir does not exist",
        ),
    ];
    for (args, want) in cases {
        let started = std::time::Instant::now();
        let o = flowlab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        assert!(
            started.elapsed().as_secs_f64() < 5.0,
            "refused before running"
        );
    }
    // A file flowlab did not write is kept, unless --force; its own metrics file is rewritten.
    std::fs::write(csv, "old").unwrap();
    let run = |force: bool| {
        let mut args = vec![
            "run",
            scenario,
            "--duration",
            "1",
            "--quiet",
            "--metrics",
            csv,
        ];
        if force {
            args.push("--force");
        }
        flowlab(&args)
    };
    let o = run(false);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(csv).unwrap(), "old");
    assert!(run(true).status.success());
    assert!(run(false).status.success(), "flowlab's own metrics file");
    assert!(
        std::fs::read_to_string(csv)
            .unwrap()
            .starts_with("t,entity,metric,value")
    );
}

#[test]
fn what_is_allowed_but_likely_not_meant_is_warned_and_a_negative_seed_explained() {
    let text = GOOD.replace(
        "sim: (duration_s: 2.0)",
        "sim: (duration_s: 2.0, sample_every_s: 5.0)",
    )
    .replace(
        "links: [(from: \"u\", to: \"s\")],",
        "links: [(from: \"u\", to: \"s\")], faults: [(component: \"s\", at_s: 10.0, for_s: 1.0)],",
    );
    let path = std::env::temp_dir().join(format!("flowlab-warn-{}.ron", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let o = flowlab(&["check", path.to_str().unwrap()]);
    assert!(o.status.success(), "warnings do not fail: {}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("faults[0].at_s: 10 s is after the run ends (2 s)"),
        "{e}"
    );
    assert!(
        e.contains("sim.sample_every_s: 5 s is longer than the run"),
        "{e}"
    );
    let o = flowlab(&["run", path.to_str().unwrap(), "--seed", "-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a seed: give a whole number from 0"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_scenario_past_the_budget_is_refused_by_check_with_what_it_would_take() {
    let huge = GOOD.replace(
        r#"(name: "s", kind: Service,"#,
        r#"(name: "s", kind: Service, instances: 10000, workers: 1000000,"#,
    );
    expect_error(
        &huge,
        &[
            "1e10 simulated workers",
            "the budget is 4000000",
            "raise sim.request_unit to 2500",
        ],
    );
}

/// 500K requests/s into one worker with an unbounded queue: it grows by ~500K/s, past
/// `max_held` within half a second.
pub(crate) const FLOOD: &str = r#"(
    name: "flood",
    sim: (duration_s: 60.0, max_held: 200000),
    sources: [(name: "u", rate: Constant(500000.0), flows: [(name: "f", path: [To("s")])])],
    components: [(name: "s", kind: Service, workers: 1, queue: Unbounded, service: (mean_ms: 1.0))],
    links: [(from: "u", to: "s")],
)"#;

#[test]
fn an_unbounded_queue_flooded_stops_the_run_with_a_message_not_the_host() {
    let p = write_scenario("flood.ron", FLOOD);
    let started = std::time::Instant::now();
    let o = flowlab(&["run", &p, "--quiet"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    for needle in [
        "stopped at t = 0.4",
        "past sim.max_held (200000)",
        "s#0 holds",
        "Bound the queue",
    ] {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    assert!(
        started.elapsed().as_secs() < 20,
        "stopped early, not after 60 s of flood"
    );
    // What happened up to the stop is still summarised.
    assert!(String::from_utf8_lossy(&o.stdout).contains("generated"));
}

#[test]
fn routes_may_loop_back_and_end_early_and_bad_routing_says_what_rule_it_breaks() {
    let net = |path: &str| {
        format!(
            r#"(
            name: "loop",
            sim: (duration_s: 2.0),
            sources: [(name: "u", rate: Constant(100.0), flows: [(name: "f", path: {path})])],
            components: [(name: "a", kind: Service, service: (mean_ms: 1.0)), (name: "b", kind: Service, service: (mean_ms: 1.0))],
            links: [(from: "u", to: "a"), (from: "a", to: "b"), (from: "b", to: "a"), (from: "a", to: "a")],
        )"#
        )
    };
    // Links may form cycles; a route may revisit, loop and exit.
    let ok = write_scenario(
        "loop.ron",
        &net(r#"[To("a"), OneOf([("b", 0.5)]), To("a"), Back("a", 0.2)]"#),
    );
    let o = flowlab(&["run", &ok, "--quiet", "--verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    expect_error(
        &net(r#"[To("a"), Back("b", 0.5)]"#),
        &["`Back` goes to `b`, which this path has not visited before"],
    );
    expect_error(
        &net(r#"[To("a"), To("b"), Back("a", 1.0)]"#),
        &[
            "the feedback probability is 1",
            "at 1 a request would loop for ever",
        ],
    );
    expect_error(
        &net(r#"[OneOf([("a", 0.5)])]"#),
        &[
            "the shares add up to 0.5, not 1",
            "every request must go somewhere first",
        ],
    );
    expect_error(
        &net(r#"[To("a"), OneOf([("b", 0.7), ("a", 0.6)])]"#),
        &["the shares add up to 1.3, more than 1"],
    );
}

#[test]
fn a_value_of_the_wrong_kind_names_its_field_and_a_bare_value_is_taken_for_some() {
    let neg = GOOD.replace(
        r#"(name: "s", kind: Service,"#,
        r#"(name: "s", kind: Service, workers: -3,"#,
    );
    expect_error(
        &neg,
        &["workers: Integer is out of bounds", "whole numbers from 0"],
    );
    // `mean_ms: 1.0` and `mean_ms: Some(1.0)` are the same scenario.
    let bare = write_scenario("bare.ron", &GOOD.replace("Some(1.0)", "1.0"));
    let o = flowlab(&["check", &bare]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn run_theory_prints_prediction_against_observation_and_why_a_model_does_not_apply() {
    let o = flowlab(&[
        "run",
        "scenarios/mmc.ron",
        "--theory",
        "--quiet",
        "--duration",
        "60",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "server: M/M/4 (λ = 3400/s",
        "P(wait)",
        "0.689",
        "Little's law",
    ] {
        assert!(out.contains(needle), "expected {needle:?} in:\n{out}");
    }
    let o = flowlab(&[
        "run",
        "scenarios/breaker.ron",
        "--theory",
        "-q",
        "--duration",
        "30",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("checkout: ") && out.contains("synchronous calls to payments"),
        "{out}"
    );
}

#[test]
fn edit_applies_edits_in_order_and_a_refused_one_names_its_field_and_writes_nothing() {
    let p = write_scenario("edit.ron", GOOD);
    let o = flowlab(&[
        "edit",
        &p,
        "add db Database",
        "connect s db",
        "set db workers 4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(r#"(name: "db", kind: Database, workers: 4"#)
            && out.contains(r#"(from: "s", to: "db")"#),
        "{out}"
    );
    let before = std::fs::read_to_string(&p).unwrap();
    let o = flowlab(&[
        "edit",
        &p,
        "--write",
        "add db Database",
        "set db workers -1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("edit 2") && err.contains("components[1].workers"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        before,
        "nothing written"
    );
    let o = flowlab(&["edit", &p, "frobnicate s"]);
    assert!(stderr(&o).contains("no edit"), "{}", stderr(&o));
}
