//! `flowlab fmt`: every shipped scenario written canonically reads back as the same scenario,
//! runs byte for byte as the original, keeps its comments, and formatting twice changes nothing.

use flowlab::runner::Simulation;
use flowlab::scenario::{self, fmt};
use std::path::Path;

fn shipped() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_shipped_scenario_formats_to_the_same_scenario_keeping_its_comments_and_settles() {
    for p in shipped() {
        let text = std::fs::read_to_string(&p).unwrap();
        let out = fmt::format(&text, &p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let (a, b) = (
            scenario::parse(&text, &p).unwrap(),
            scenario::parse(&out, Path::new("formatted")).unwrap(),
        );
        assert_eq!(
            ron::to_string(&a).unwrap(),
            ron::to_string(&b).unwrap(),
            "{}",
            p.display()
        );
        assert_eq!(
            fmt::format(&out, &p).unwrap(),
            out,
            "{}: not idempotent",
            p.display()
        );
        // Every comment on a line of its own is still there, in the same order.
        let comments = |t: &str| -> Vec<String> {
            (t.lines().map(str::trim))
                .filter(|l| l.starts_with("//"))
                .map(String::from)
                .collect()
        };
        assert_eq!(comments(&text), comments(&out), "{}", p.display());
        for line in out.lines() {
            let atom = line.contains("description:") || line.contains("name:");
            let atom = atom || line.trim_start().starts_with("//");
            assert!(
                line.len() <= 100 || atom,
                "{}: long line {line}",
                p.display()
            );
        }
    }
}

#[test]
fn a_formatted_file_runs_byte_for_byte_as_the_original() {
    for name in ["netflix_friday.ron", "breaker.ron", "credits.ron"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        let text = std::fs::read_to_string(&p).unwrap();
        let formatted = fmt::format(&text, &p).unwrap();
        let digest = |t: &str| {
            let mut sim = Simulation::new(scenario::parse(t, &p).unwrap());
            sim.keep_metrics();
            sim.run_for(20.0);
            sim.metrics_digest()
        };
        assert_eq!(digest(&text), digest(&formatted), "{name}");
    }
}

#[test]
fn defaults_are_left_out_and_everything_else_is_kept() {
    let text = r#"(name: "d", sim: (tick_ms: 1.0, seed: 7),
        sources: [(name: "u", arrivals: Poisson, rate: Constant(10.0), flows: [(name: "f", weight: 1.0, path: [To("s")])])],
        components: [(name: "s", kind: Service, instances: 1, workers: 4, queue: Bounded(1000),
                      service: (mean_ms: Some(2.0), shape: Exponential))],
        links: [(from: "u", to: "s", call: Sync)])"#;
    let out = fmt::format(text, Path::new("d.ron")).unwrap();
    for gone in [
        "tick_ms",
        "arrivals",
        "weight",
        "instances",
        "Bounded(1000)",
        "Exponential",
        "Sync",
    ] {
        assert!(!out.contains(gone), "{gone} is a default:\n{out}");
    }
    for kept in ["seed: 7", "workers: 4", "mean_ms: Some(2.0)"] {
        assert!(out.contains(kept), "{kept} is not a default:\n{out}");
    }
}

#[test]
fn a_file_that_does_not_read_is_refused_with_the_readers_message() {
    let e = fmt::format("(name: \"x\", sources: [", Path::new("bad.ron")).unwrap_err();
    assert!(e.to_string().contains("bad.ron:1:"), "{e}");
}
