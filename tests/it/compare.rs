//! `flowlab compare`: the same results whatever the cores, confidence intervals that mean what
//! they say, and the lesson of the shipped comparisons.

use flowlab::compare::{self, Report};
use flowlab::testing::scenario_path;

#[test]
fn a_comparison_gives_the_same_results_on_one_core_or_many_and_writes_its_files() {
    let path = scenario_path("compare/queue_policy.ron");
    let (mut c, base) = compare::load(&path).expect("the shipped comparison loads");
    c.loads = vec![0.8, 2.0];
    c.duration_s = Some(20.0);
    let jobs = compare::grid(&c, 2);
    let bar = indicatif::ProgressBar::hidden();
    let one = compare::run_all(&c, &base, &jobs, 1, &bar);
    let four = compare::run_all(&c, &base, &jobs, 4, &bar);
    assert_eq!(
        format!("{one:?}"),
        format!("{four:?}"),
        "threads change nothing"
    );
    let report = Report {
        c: &c,
        jobs: &jobs,
        figures: &four,
        reps: 2,
    };
    let dir = std::env::temp_dir().join(format!("flowlab-compare-{}", std::process::id()));
    compare::check_out_dir(&dir, &compare::OUTPUTS, &[], false).expect("a fresh directory");
    let files = report.write(&dir, "comparison").expect("outputs written");
    for name in [
        "summary.txt",
        "results.csv",
        "goodput.svg",
        "goodput.png",
        "p99.svg",
        "p99.png",
        "timeline.svg",
        "timeline.png",
    ] {
        assert!(files.iter().any(|f| f.ends_with(name)), "{name}");
        assert!(
            std::fs::metadata(dir.join(name)).unwrap().len() > 500,
            "{name} has content"
        );
    }
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert!(csv.starts_with("variant,load,rep,metric,value\n"));
    // 19 figures and three time series of 60 slices per run.
    assert_eq!(
        csv.lines().count(),
        1 + jobs.len() * (19 + 3 * compare::SLICES)
    );
    // The lesson: at twice the capacity tail drop serves nothing in time; CoDel and adaptive
    // LIFO keep goodput near capacity (800/s).
    let v = |name: &str| {
        c.variants
            .iter()
            .position(|v| v.name.starts_with(name))
            .unwrap()
    };
    let goodput = |name: &str| report.points(v(name), 1, |f| f.goodput).0;
    assert!(
        goodput("drop newest") < 50.0,
        "tail drop: {}",
        goodput("drop newest")
    );
    for name in ["CoDel", "adaptive LIFO"] {
        assert!(goodput(name) > 700.0, "{name}: {}", goodput(name));
    }
}

#[test]
fn confidence_intervals_use_students_t() {
    let (m, h) = compare::mean_ci(&[1.0, 2.0, 3.0]);
    assert_eq!(m, 2.0);
    // sd 1, n 3: t(0.975, 2) = 4.303, half-width 4.303 / sqrt(3).
    assert!((h - 4.303 / 3f64.sqrt()).abs() < 1e-9, "{h}");
    assert_eq!(compare::mean_ci(&[5.0]), (5.0, 0.0));
    assert!(compare::mean_ci(&[f64::NAN]).0.is_nan());
}

#[test]
fn a_bad_comparison_says_which_variant_and_what() {
    let dir = std::env::temp_dir().join(format!("flowlab-badcmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(scenario_path("compare/server.ron"), dir.join("server.ron")).unwrap();
    let bad = dir.join("bad.ron");
    std::fs::write(
        &bad,
        r#"(question: "q", base: "server.ron", variants: [
            (name: "typo", commands: [SetQueuePolicy(component: "servce", policy: DropOldest)]),
        ])"#,
    )
    .unwrap();
    let err = compare::load(&bad).unwrap_err();
    assert!(
        err.contains("variants[0] `typo`") && err.contains("`servce` is not a component"),
        "{err}"
    );
    std::fs::write(
        &bad,
        r#"(question: "q", base: "server.ron", loads: [0.0], variants: [(name: "a")])"#,
    )
    .unwrap();
    assert!(compare::load(&bad).unwrap_err().contains("loads"));
}

#[test]
fn adaptive_concurrency_limits_keep_goodput_past_capacity_and_vegas_reads_variance_as_queueing() {
    let (mut c, base) = compare::load(&scenario_path("compare/concurrency.ron")).unwrap();
    c.loads = vec![0.8, 2.0];
    c.duration_s = Some(30.0);
    let jobs = compare::grid(&c, 2);
    let figures = compare::run_all(&c, &base, &jobs, 2, &indicatif::ProgressBar::hidden());
    let report = Report {
        c: &c,
        jobs: &jobs,
        figures: &figures,
        reps: 2,
    };
    let v = |name: &str| c.variants.iter().position(|v| v.name == name).unwrap();
    let goodput = |name: &str, load: usize| report.points(v(name), load, |f| f.goodput).0;
    assert!(goodput("no limit", 1) < 50.0);
    for name in [
        "AIMD",
        "Gradient2",
        "fixed limit 40",
        "AIMD at the clients",
        "Gradient2 at the clients",
    ] {
        assert!(
            goodput(name, 1) > 750.0,
            "{name} at 2x: {}",
            goodput(name, 1)
        );
    }
    // AIMD grows until requests are dropped: it runs just inside the clients' patience.
    let p99 = report.points(v("AIMD"), 1, |f| f.latency_ms[1]).0;
    assert!((200.0..300.0).contains(&p99), "AIMD p99 {p99} ms");
    // Vegas takes exponential service times' spread for a queue and admits too little.
    assert!(goodput("Vegas", 0) < 0.9 * goodput("no limit", 0));
}

#[test]
fn shards_merged_give_byte_for_byte_the_outputs_of_one_run() {
    let bin = env!("CARGO_BIN_EXE_flowlab");
    let dir = std::env::temp_dir().join(format!("flowlab-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(scenario_path("compare/server.ron"), dir.join("server.ron")).unwrap();
    let file = dir.join("small.ron");
    std::fs::write(
        &file,
        r#"(question: "Small", base: "server.ron", duration_s: 6.0, warmup_s: 1.0,
            loads: [0.5, 2.0], reps: 2, variants: [
            (name: "tail drop"),
            (name: "CoDel, defaults", commands: [SetQueuePolicy(component: "service", policy: CoDel(target_ms: 5.0, interval_ms: 100.0))]),
        ])"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(bin).args(args).output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let f = file.to_str().unwrap();
    let whole = dir.join("whole");
    run(&["compare", f, "--quiet", "--out", whole.to_str().unwrap()]);
    let mut shards = vec![];
    for i in 0..3 {
        let d = dir.join(format!("shard{i}"));
        run(&[
            "compare",
            f,
            "--quiet",
            "--shard",
            &format!("{i}/3"),
            "--out",
            d.to_str().unwrap(),
        ]);
        shards.push(d.to_string_lossy().into_owned());
    }
    let merged = dir.join("merged");
    let mut args = vec!["merge", f, "--out", merged.to_str().unwrap()];
    args.extend(shards.iter().map(|s| s.as_str()));
    run(&args);
    for name in [
        "summary.txt",
        "results.csv",
        "goodput.svg",
        "p99.svg",
        "goodput.png",
        "p99.png",
    ] {
        let (a, b) = (
            std::fs::read(whole.join(name)).unwrap(),
            std::fs::read(merged.join(name)).unwrap(),
        );
        assert!(
            a == b,
            "{name} differs between one run and the merged shards"
        );
    }
    // A shard missing is said, not papered over.
    let o = std::process::Command::new(bin)
        .args(["merge", f, "--out", merged.to_str().unwrap(), &shards[0]])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("shard(s) 1/3, 2/3 missing"));
}

#[test]
fn a_spike_is_measured_by_how_long_goodput_takes_to_come_back_and_what_it_wasted() {
    let (mut c, base) = compare::load(&scenario_path("compare/spike.ron")).unwrap();
    c.duration_s = Some(80.0);
    let jobs = compare::grid(&c, 2);
    let figures = compare::run_all(&c, &base, &jobs, 2, &indicatif::ProgressBar::hidden());
    let report = Report {
        c: &c,
        jobs: &jobs,
        figures: &figures,
        reps: 2,
    };
    let v = |name: &str| c.variants.iter().position(|v| v.name == name).unwrap();
    for name in ["tail drop", "adaptive LIFO", "token bucket 700/s"] {
        let (r, _) = report.points(v(name), 0, |f| f.recovery_s);
        assert!((0.0..15.0).contains(&r), "{name} back within 15 s: {r}");
        let (osc, _) = report.points(v(name), 0, |f| f.oscillation);
        assert!(
            osc > 0.0 && osc < 0.2,
            "{name}: steady outside the spike: {osc}"
        );
    }
    let wasted = |name: &str| report.points(v(name), 0, |f| f.wasted).0;
    assert!(wasted("tail drop") > 10.0 * wasted("adaptive LIFO").max(1.0));
    assert!(report.table().contains("recovery s"));
    // Memory: a full queue holds its 400 through the spike; a token bucket at the sender holds
    // next to nothing, because what it refuses is never stored.
    let peak = |name: &str| report.points(v(name), 0, |f| f.peak_held).0;
    assert!(peak("tail drop") > 400.0, "{}", peak("tail drop"));
    assert!(
        peak("token bucket 700/s") < 100.0,
        "{}",
        peak("token bucket 700/s")
    );
    // The time line shows the spike where it was: goodput of tail drop collapses inside the
    // spike (t = 40-50 s) and comes back after it.
    let slice = |t: f64| (t / c.run_s() * compare::SLICES as f64) as usize;
    let tail = |t: f64| {
        report
            .points(v("tail drop"), 0, |f| f.goodput_t[slice(t)])
            .0
    };
    assert!(
        tail(46.0) < 0.2 * tail(30.0),
        "{} vs {}",
        tail(46.0),
        tail(30.0)
    );
    assert!(
        tail(70.0) > 0.8 * tail(30.0),
        "{} vs {}",
        tail(70.0),
        tail(30.0)
    );
}

#[test]
fn retry_tiers_lose_no_payment_but_hold_the_failed_ones_in_memory_meanwhile() {
    let (c, base) = compare::load(&scenario_path("compare/dead_letter.ron")).unwrap();
    let jobs = compare::grid(&c, 1);
    let figures = compare::run_all(&c, &base, &jobs, 2, &indicatif::ProgressBar::hidden());
    let report = Report {
        c: &c,
        jobs: &jobs,
        figures: &figures,
        reps: 1,
    };
    let v = |name: &str| c.variants.iter().position(|v| v.name == name).unwrap();
    let f = |name: &str, m: fn(&compare::Figures) -> f64| report.points(v(name), 0, m).0;
    let (none, quick, tiers) = (
        "no redelivery",
        "at once, 4 deliveries",
        "tiers 1/5/30 s, 4 deliveries",
    );
    assert!(
        f(none, |x| x.work_lost) > 0.05,
        "no redelivery loses the outage's payments"
    );
    assert!(f(quick, |x| x.dead_lettered) > 0.01);
    assert_eq!(f(tiers, |x| x.work_lost), 0.0);
    assert!(f(tiers, |x| x.peak_held) > 10.0 * f(none, |x| x.peak_held));
    let table = report.table();
    assert!(table.contains("dead-lettered %") && table.contains("peak held"));
}
