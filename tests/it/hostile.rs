//! Hostile and careless input on every surface (compare, merge, shot, record, check and run,
//! commands and names), one row per case: the exit code, what the message names, and that no
//! file the user had changed (a refusal also writes nothing new).

use flowlab::testing::scenario_path;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A comparison of two variants on the one-service scenario, 6 s a run.
const SMALL: &str = r#"(question: "Small", base: "server.ron", duration_s: 6.0, warmup_s: 1.0,
    loads: [0.5, 2.0], reps: 2, variants: [
    (name: "tail drop"),
    (name: "CoDel", commands: [SetQueuePolicy(component: "service", policy: CoDel(target_ms: 5.0, interval_ms: 100.0))]),
])"#;

/// One case: files to set up in a fresh directory, the arguments, whether a display is there,
/// the exit code and a piece of the message.
struct Case {
    name: &'static str,
    setup: Box<dyn Fn(&Path)>,
    args: Vec<String>,
    display: bool,
    code: i32,
    says: &'static str,
}

fn case(
    name: &'static str,
    setup: impl Fn(&Path) + 'static,
    args: &str,
    code: i32,
    says: &'static str,
) -> Case {
    Case {
        name,
        setup: Box::new(setup),
        args: args.split_whitespace().map(String::from).collect(),
        display: true,
        code,
        says,
    }
}

/// Every file under `dir` (links as their target), by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.file_type().is_symlink() {
                out.insert(
                    rel,
                    std::fs::read_link(&p)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned()
                        .into_bytes(),
                );
            } else if m.is_dir() {
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn base(dir: &Path) {
    std::fs::copy(scenario_path("compare/server.ron"), dir.join("server.ron")).unwrap();
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
}

/// `small.ron` with `from` replaced by `to`.
fn small_with(from: &'static str, to: &'static str) -> impl Fn(&Path) {
    move |dir: &Path| {
        base(dir);
        assert!(SMALL.contains(from), "{from}");
        std::fs::write(dir.join("small.ron"), SMALL.replacen(from, to, 1)).unwrap();
    }
}

/// server.ron with `extra` added before its closing bracket, as `name`.
fn scenario_with(name: &'static str, edit: impl Fn(String) -> String + 'static) -> impl Fn(&Path) {
    move |dir: &Path| {
        base(dir);
        let s = std::fs::read_to_string(dir.join("server.ron")).unwrap();
        std::fs::write(dir.join(name), edit(s)).unwrap();
    }
}

fn with_commands(cmds: &'static str) -> impl Fn(String) -> String {
    move |s: String| {
        let end = s.rfind(')').unwrap();
        format!(
            "{}, commands: [{cmds}])",
            s[..end].trim_end().trim_end_matches(',')
        )
    }
}

/// Three shards of `small.ron` in s0, s1, s2 (run once, copied into each case's directory).
fn shards() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowlab-hostile-shards-{}", std::process::id()));
    if dir.join("s2/manifest.json").exists() {
        return dir;
    }
    std::fs::create_dir_all(&dir).unwrap();
    base(&dir);
    for i in 0..3 {
        let o = Command::new(env!("CARGO_BIN_EXE_flowlab"))
            .current_dir(&dir)
            .args(["compare", "small.ron", "--quiet", "--shard"])
            .arg(format!("{i}/3"))
            .args(["--out", &format!("s{i}")])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    dir
}

fn with_shards(edit: impl Fn(&Path) + 'static) -> impl Fn(&Path) {
    move |dir: &Path| {
        let from = shards();
        base(dir);
        for i in 0..3 {
            let d = dir.join(format!("s{i}"));
            std::fs::create_dir_all(&d).unwrap();
            for f in ["results.csv", "manifest.json"] {
                std::fs::copy(from.join(format!("s{i}/{f}")), d.join(f)).unwrap();
            }
        }
        edit(dir);
    }
}

/// Rewrites shard 2's manifest so it matches its (edited) rows again: only the value check is
/// left to refuse them.
fn reseal(dir: &Path) {
    let csv = std::fs::read(dir.join("s2/results.csv")).unwrap();
    let m = std::fs::read_to_string(dir.join("s2/manifest.json")).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&m).unwrap();
    m["files"]["results.csv"] = flowlab::files::digest(&csv).into();
    std::fs::write(dir.join("s2/manifest.json"), m.to_string()).unwrap();
}

fn cases() -> Vec<Case> {
    let mut v = vec![
        // compare: inputs.
        case(
            "compare /dev/zero",
            base,
            "compare /dev/zero",
            2,
            "larger than",
        ),
        case(
            "compare a directory",
            base,
            "compare .",
            2,
            "is a directory",
        ),
        case(
            "a negative duration",
            small_with("duration_s: 6.0", "duration_s: -5.0"),
            "compare small.ron --quiet",
            2,
            "duration_s: -5",
        ),
        case(
            "a NaN duration",
            small_with("duration_s: 6.0", "duration_s: NaN"),
            "compare small.ron --quiet",
            2,
            "duration_s: NaN",
        ),
        case(
            "an absurd duration",
            small_with("duration_s: 6.0", "duration_s: 1e15"),
            "compare small.ron --quiet",
            2,
            "duration_s: 1000000000000000",
        ),
        case(
            "a negative warm-up",
            small_with("warmup_s: 1.0", "warmup_s: -20000.0"),
            "compare small.ron --quiet",
            2,
            "warmup_s: -20000",
        ),
        case(
            "a negative spike",
            small_with(
                "reps: 2,",
                "reps: 2, spike: (at_s: 2.0, for_s: 1.0, factor: -3.0),",
            ),
            "compare small.ron --quiet",
            2,
            "spike.factor",
        ),
        case(
            "an absurd spike",
            small_with(
                "reps: 2,",
                "reps: 2, spike: (at_s: 2.0, for_s: 1.0, factor: 1e300),",
            ),
            "compare small.ron --quiet",
            2,
            "spike.factor",
        ),
        case(
            "a spike at NaN",
            small_with(
                "reps: 2,",
                "reps: 2, spike: (at_s: NaN, for_s: 1.0, factor: 3.0),",
            ),
            "compare small.ron --quiet",
            2,
            "spike.at_s",
        ),
        case(
            "no loads",
            small_with("loads: [0.5, 2.0]", "loads: []"),
            "compare small.ron --quiet",
            2,
            "loads: empty",
        ),
        case(
            "--reps 0",
            base,
            "compare small.ron --quiet --reps 0",
            2,
            "--reps 0: give 1 to 1000",
        ),
        case(
            "--reps too many",
            base,
            "compare small.ron --quiet --reps 1000000000",
            2,
            "--reps 1000000000: give 1 to 1000",
        ),
        case(
            "two variants one name in the CSV",
            small_with(
                "(name: \"CoDel\"",
                "(name: \"tail;drop\"), (name: \"tail,drop\"",
            ),
            "compare small.ron --quiet",
            2,
            "variants[2].name",
        ),
        case(
            "a command on an instance that is not there",
            small_with(
                "(name: \"tail drop\")",
                "(name: \"tail drop\", commands: [TakeDown(component: \"service\", instance: 4294967295)])",
            ),
            "compare small.ron --quiet",
            2,
            "variants[0] `tail drop`: commands[0].command: service has 1 instances",
        ),
        case(
            "a question that prints backwards",
            small_with("question: \"Small\"", "question: \"Sm\u{202e}all\""),
            "compare small.ron --quiet",
            2,
            "question: `Sm\\u{202e}all` holds U+202E",
        ),
        // compare: outputs.
        case(
            "--out onto a file",
            |d: &Path| {
                base(d);
                std::fs::write(d.join("out"), "mine").unwrap();
            },
            "compare small.ron --quiet --out out",
            2,
            "is a file",
        ),
        case(
            "--out over a user's summary",
            |d: &Path| {
                base(d);
                std::fs::create_dir_all(d.join("out")).unwrap();
                std::fs::write(d.join("out/summary.txt"), "my notes").unwrap();
            },
            "compare small.ron --quiet --out out",
            2,
            "summary.txt exists and flowlab did not write it",
        ),
        case(
            "--out with a summary linked to the comparison",
            |d: &Path| {
                base(d);
                std::fs::create_dir_all(d.join("out")).unwrap();
                std::os::unix::fs::symlink("../small.ron", d.join("out/summary.txt")).unwrap();
            },
            "compare small.ron --quiet --out out",
            2,
            "would overwrite",
        ),
        case(
            "a sweep whose runs stop",
            scenario_with("server.ron", |s| {
                s.replace("sim: (", "sim: (max_held: 100, ")
            }),
            "compare small.ron --quiet --reps 1 --out out",
            4,
            "runs stopped early",
        ),
        // merge.
        case(
            "a shard without its manifest",
            with_shards(|d| std::fs::remove_file(d.join("s1/manifest.json")).unwrap()),
            "merge small.ron s0 s1 s2 --out m",
            2,
            "s1: not the output of `flowlab compare --shard`",
        ),
        case(
            "a shard cut mid-value",
            with_shards(|d| {
                let t = std::fs::read(d.join("s2/results.csv")).unwrap();
                std::fs::write(d.join("s2/results.csv"), &t[..t.len() - 3]).unwrap();
            }),
            "merge small.ron s0 s1 s2 --out m",
            2,
            "cut short",
        ),
        case(
            "a shard cut at a line",
            with_shards(|d| {
                let t = std::fs::read_to_string(d.join("s2/results.csv")).unwrap();
                let cut: String = t.lines().take(100).map(|l| format!("{l}\n")).collect();
                std::fs::write(d.join("s2/results.csv"), cut).unwrap();
            }),
            "merge small.ron s0 s1 s2 --out m",
            2,
            "does not match its manifest",
        ),
        case(
            "a shard without its header",
            with_shards(|d| {
                let t = std::fs::read_to_string(d.join("s2/results.csv")).unwrap();
                let body = t.split_once('\n').unwrap().1.to_string();
                std::fs::write(d.join("s2/results.csv"), body).unwrap();
            }),
            "merge small.ron s0 s1 s2 --out m",
            2,
            "the header is not",
        ),
        case(
            "a shard of another comparison",
            with_shards(|d| {
                std::fs::write(d.join("other.ron"), SMALL.replace("Small", "Other")).unwrap();
            }),
            "merge other.ron s0 s1 s2 --out m",
            2,
            "another comparison file",
        ),
        case(
            "a shard given twice",
            with_shards(|_| {}),
            "merge small.ron s0 s1 s1 --out m",
            2,
            "both shard 1/3",
        ),
        case(
            "an absurd value in a shard",
            with_shards(|d| {
                let t = std::fs::read_to_string(d.join("s2/results.csv")).unwrap();
                let t = t.replacen(",goodput_per_s,", ",goodput_per_s,1e300\n#", 1);
                let t: String = t
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .map(|l| format!("{l}\n"))
                    .collect();
                std::fs::write(d.join("s2/results.csv"), t).unwrap();
                reseal(d);
            }),
            "merge small.ron s0 s1 s2 --out m",
            2,
            "beyond any figure",
        ),
        case(
            "merge into a shard",
            with_shards(|_| {}),
            "merge small.ron s0 s1 s2 --out s1",
            2,
            "overwrite its input",
        ),
        case(
            "a shard's results that never end",
            with_shards(|d| {
                std::fs::remove_file(d.join("s2/results.csv")).unwrap();
                std::os::unix::fs::symlink("/dev/zero", d.join("s2/results.csv")).unwrap();
            }),
            "merge small.ron s0 s1 s2 --out m",
            2,
            "cut short or too long",
        ),
        // shot and record.
        case(
            "shot /dev/zero",
            base,
            "shot /dev/zero --at 1",
            2,
            "larger than",
        ),
        case(
            "shot past the run's end",
            base,
            "shot server.ron --at 100000",
            2,
            "--at 100000: give simulated seconds between 0 and 60",
        ),
        case(
            "shot into a missing directory",
            base,
            "shot server.ron --at 1 --out nowhere/x.png",
            2,
            "does not exist",
        ),
        case(
            "shot onto the scenario",
            base,
            "shot server.ron --at 1 --out server.ron",
            2,
            "give a .png file name",
        ),
        case(
            "shot over a user's picture",
            |d: &Path| {
                base(d);
                std::fs::write(d.join("mine.png"), b"\x89PNG not flowlab's").unwrap();
            },
            "shot server.ron --at 1 --out mine.png",
            2,
            "exists and is not a PNG flowlab wrote",
        ),
        case(
            "record past the run's end",
            base,
            "record server.ron --from 1 --to 1000",
            2,
            "--to 1000",
        ),
        // scenarios: commands and names, check and run alike.
        case(
            "a command check would let through",
            scenario_with(
                "cmd.ron",
                with_commands(
                    r#"(at_s: 1.0, command: Spike(source: "clients", factor: 1e308, for_s: 2.0))"#,
                ),
            ),
            "check cmd.ron",
            2,
            "commands[0].command: factor 1e308",
        ),
        case(
            "a negative slow-down",
            scenario_with(
                "cmd.ron",
                with_commands(
                    r#"(at_s: 1.0, command: SlowDown(component: "service", instance: 0, factor: -3.0, for_s: 1.0))"#,
                ),
            ),
            "run cmd.ron --quiet",
            2,
            "commands[0].command: factor -3",
        ),
        case(
            "a right-to-left override in a name",
            scenario_with("rlo.ron", |s| {
                s.replace("\"service\"", "\"serv\u{202e}ice\"")
            }),
            "check rlo.ron",
            2,
            "holds U+202E at character 5",
        ),
        case(
            "a zero-width space in a flow's name",
            scenario_with("zw.ron", |s| s.replace("\"call\"", "\"ca\u{200b}ll\"")),
            "check zw.ron",
            2,
            "flows[0].name: the name `ca\\u{200b}ll` holds U+200B",
        ),
        case(
            "nesting too deep",
            |d: &Path| {
                base(d);
                // A scenario whose command loads a scenario whose command loads ... 300 deep.
                let open = "(name: \"x\", sources: [], commands: [(at_s: 0.0, command: Load(";
                let deep = format!("{}{}", open.repeat(300), ")))]))".repeat(300));
                std::fs::write(d.join("deep.ron"), deep).unwrap();
            },
            "check deep.ron",
            2,
            "nested too deeply",
        ),
        case(
            "more sources than the budget",
            |d: &Path| {
                base(d);
                let src: Vec<String> = (0..5001)
                    .map(|i| format!("(name: \"s{i}\", rate: Constant(1.0), flows: [(name: \"f{i}\", path: [To(\"web\")])])"))
                    .collect();
                let links: Vec<String> = (0..5001)
                    .map(|i| format!("(from: \"s{i}\", to: \"web\")"))
                    .collect();
                let text = format!(
                    "(name: \"many\", sources: [{}], components: [(name: \"web\", kind: Service, service: (mean_ms: 1.0))], links: [{}])",
                    src.join(","),
                    links.join(",")
                );
                std::fs::write(d.join("many.ron"), text).unwrap();
            },
            "run many.ron --quiet",
            2,
            "sources: 5001 sources; at most 5000",
        ),
        // run's options.
        case(
            "--sample-every below a tick",
            base,
            "run server.ron --quiet --sample-every 1e-9",
            2,
            "--sample-every: shorter than one tick",
        ),
        case(
            "--metrics onto a directory",
            |d: &Path| {
                base(d);
                std::fs::create_dir_all(d.join("out")).unwrap();
            },
            "run server.ron --quiet --metrics out",
            2,
            "--metrics out: is a directory",
        ),
        case(
            "--events through a link",
            |d: &Path| {
                base(d);
                std::os::unix::fs::symlink("server.ron", d.join("e.jsonl")).unwrap();
            },
            "run server.ron --quiet --events e.jsonl",
            2,
            "is a symbolic link",
        ),
    ];
    for (name, args) in [
        ("shot with no display", "shot server.ron --at 1"),
        (
            "record with no display",
            "record server.ron --from 1 --to 2",
        ),
    ] {
        let mut c = case(name, base, args, 2, "no display");
        c.display = false;
        v.push(c);
    }
    v
}

#[test]
fn every_surface_refuses_hostile_input_with_its_reason_and_changes_no_file() {
    let root = std::env::temp_dir().join(format!("flowlab-hostile-{}", std::process::id()));
    let mut failures = vec![];
    for (k, c) in cases().into_iter().enumerate() {
        let dir = root.join(format!("case{k}"));
        std::fs::create_dir_all(&dir).unwrap();
        (c.setup)(&dir);
        let before = snapshot(&dir);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowlab"));
        cmd.current_dir(&dir).args(&c.args);
        if !c.display {
            cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
        }
        let o = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let after = snapshot(&dir);
        let changed: Vec<_> = before
            .iter()
            .filter(|(p, bytes)| after.get(*p) != Some(bytes))
            .map(|(p, _)| p.display().to_string())
            .collect();
        let added: Vec<_> = after
            .keys()
            .filter(|p| !before.contains_key(*p))
            .map(|p| p.display().to_string())
            .collect();
        if o.status.code() != Some(c.code) || !err.contains(c.says) {
            failures.push(format!(
                "{}: exit {:?} (want {}), said: {err}",
                c.name,
                o.status.code(),
                c.code
            ));
        } else if err.contains("panicked") {
            failures.push(format!("{}: panicked: {err}", c.name));
        } else if !changed.is_empty() {
            failures.push(format!("{}: changed {changed:?}", c.name));
        } else if c.code == 2 && !added.is_empty() {
            failures.push(format!("{}: a refusal wrote {added:?}", c.name));
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
