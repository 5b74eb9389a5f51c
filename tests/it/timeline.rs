//! Rewind: a seek to a moment shows what a straight run to that moment shows, forwards and
//! backwards, with and without what-ifs; memory stays bounded; a what-if made in the past ends
//! that past's future.

use flowlab::picture::layout::Layout;
use flowlab::picture::{Picture, Rates, picture};
use flowlab::runner::Simulation;
use flowlab::scenario::Scenario;
use flowlab::sim::door::command::SimCommand;
use flowlab::sim::schedule::dist::Nanos;

const SEC: Nanos = 1_000_000_000;
use flowlab::sim::timeline::snapshot::{LEFT_OUT, fingerprint, parts};
use flowlab::sim::timeline::{self, MOST_SNAPSHOTS, Timeline};
use flowlab::testing::{load_shipped, simulation_app};

/// The state in words, the picture and the summary at the moment the clock is at.
fn moment(sim: &mut Simulation) -> (Vec<(&'static str, String)>, Picture, String) {
    let scenario = (sim.world().resource::<flowlab::sim::SimConfig>().scenario).clone();
    let p = sim.view(|v| {
        let mut rates = Rates::default();
        rates.update(v, 1.0);
        picture(v, &Layout::of(v.topology(), &scenario), &rates)
    });
    let summary = format!("{:?}", sim.summary());
    (fingerprint(sim.world_mut()), p, summary)
}

/// Runs to `t` as the app does: each command made when the clock reaches its time, and (with
/// `keep`) the timeline kept after every quarter of a simulated second.
fn drive(s: &Scenario, t: Nanos, commands: &[(Nanos, SimCommand)], keep: bool) -> Simulation {
    let mut sim = simulation_app(s.clone());
    // Both runs hold the timeline (a resource is an entity: the ids stay in step).
    sim.world_mut().init_resource::<Timeline>();
    let mut next = 0;
    loop {
        while next < commands.len() && commands[next].0 <= sim.now() {
            sim.command_at(commands[next].0, commands[next].1.clone());
            next += 1;
        }
        if keep {
            timeline::keep(sim.world_mut());
        }
        if sim.now() >= t {
            return sim;
        }
        let mut to = (sim.now() + SEC / 4).min(t);
        if let Some((at, _)) = commands.get(next) {
            to = to.min(*at);
        }
        sim.run_until(to, |_| {});
    }
}

fn straight(s: &Scenario, t: Nanos, commands: &[(Nanos, SimCommand)]) -> Simulation {
    drive(s, t, commands, false)
}

fn kept(s: &Scenario, t: Nanos, commands: &[(Nanos, SimCommand)]) -> Simulation {
    drive(s, t, commands, true)
}

/// Entity ids (`12v0`) renamed by order of first appearance: a command replayed after a
/// rewind spawns its instance under a new id; what it holds and does is the same.
fn canonical(parts: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    let mut names: std::collections::HashMap<String, usize> = Default::default();
    let mut rename = |s: &str| -> String {
        let mut out = String::with_capacity(s.len());
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = i > start && (start == 0 || !b[start - 1].is_ascii_alphanumeric());
            if digits && i < b.len() && b[i] == b'v' {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j > i + 1 && (j == b.len() || !b[j].is_ascii_alphanumeric()) {
                    let n = names.len();
                    let k = *names.entry(s[start..j].to_string()).or_insert(n);
                    out.push_str(&format!("E{k}"));
                    i = j;
                    continue;
                }
            }
            if i == start {
                out.push(b[i] as char);
                i += 1;
            } else {
                out.push_str(&s[start..i]);
            }
        }
        out
    };
    parts.into_iter().map(|(n, s)| (n, rename(&s))).collect()
}

fn assert_same(a: &mut Simulation, b: &mut Simulation, what: &str) {
    let (fa, pa, sa) = moment(a);
    let (fb, pb, sb) = moment(b);
    let (fa, fb) = (canonical(fa), canonical(fb));
    assert_eq!(a.now(), b.now(), "{what}: the clock");
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        if x != y {
            let at = x.bytes().zip(y.bytes()).take_while(|(a, b)| a == b).count();
            let near = |s: &str| s[at.saturating_sub(300)..(at + 200).min(s.len())].to_string();
            panic!(
                "{what}: {name} differs at byte {at}:\n{}\n---\n{}",
                near(x),
                near(y)
            );
        }
    }
    assert!(pa == pb, "{what}: the picture differs");
    assert_eq!(sa, sb, "{what}: the summary");
}

fn seek_matches(file: &str, end_s: u64, at_s: &[f64], commands: &[(Nanos, SimCommand)]) {
    let s = load_shipped(file);
    let mut sim = kept(&s, end_s * SEC, commands);
    for &t in at_s {
        let t = (t * 1e9) as Nanos;
        timeline::seek(sim.world_mut(), t);
        let mut reference = straight(&s, t, commands);
        assert_same(
            &mut sim,
            &mut reference,
            &format!("{file} at {} s", t / SEC),
        );
    }
}

#[test]
fn a_seek_in_netflix_friday_shows_what_a_straight_run_shows() {
    // Backwards (past snapshots, between them, before the first), then forwards past the end.
    seek_matches(
        "netflix_friday.ron",
        200,
        &[150.5, 97.25, 3.0, 0.5, 120.0, 199.0, 230.0],
        &[],
    );
}

#[test]
fn a_seek_in_breaker_ron_with_what_ifs_replays_them() {
    let s = load_shipped("breaker.ron");
    let component = s.components[s.components.len() - 1].name.clone();
    let commands = vec![
        (
            20 * SEC,
            SimCommand::SlowDown {
                component: component.clone(),
                instance: 0,
                factor: 4.0,
                for_s: 30.0,
            },
        ),
        (
            50 * SEC,
            SimCommand::SetInstances {
                component: "payments".into(),
                instances: 3,
            },
        ),
        (
            70 * SEC,
            SimCommand::SetWorkers {
                component,
                workers: 2,
            },
        ),
    ];
    seek_matches(
        "breaker.ron",
        120,
        &[90.0, 10.0, 45.0, 75.0, 119.0],
        &commands,
    );
}

#[test]
fn snapshots_stay_bounded_and_spread_over_the_run() {
    let s = load_shipped("netflix_friday.ron");
    let sim = kept(&s, 300 * SEC, &[]);
    let tl = sim.world().resource::<Timeline>();
    let times = tl.snapshot_times();
    assert!(times.len() <= MOST_SNAPSHOTS, "{} snapshots", times.len());
    assert!(
        times.len() >= MOST_SNAPSHOTS / 2,
        "{} snapshots",
        times.len()
    );
    assert_eq!(times[0], 0, "the start is kept");
    let gaps: Vec<Nanos> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| *g <= tl.every() + SEC), "{gaps:?}");
    assert!(tl.reached >= 300 * SEC);
    assert!(!tl.marks.is_empty(), "the spike's decisions are marked");
}

#[test]
fn a_what_if_made_in_the_past_ends_that_past_future() {
    let s = load_shipped("breaker.ron");
    let component = s.components[s.components.len() - 1].name.clone();
    let later = (
        60 * SEC,
        SimCommand::SetWorkers {
            component: component.clone(),
            workers: 2,
        },
    );
    let mut sim = kept(&s, 90 * SEC, std::slice::from_ref(&later));
    timeline::seek(sim.world_mut(), 30 * SEC);
    let now_cmd = SimCommand::SetWorkers {
        component,
        workers: 8,
    };
    sim.command_at(30 * SEC, now_cmd.clone());
    timeline::keep(sim.world_mut());
    {
        let tl = sim.world().resource::<Timeline>();
        assert_eq!(tl.reached, 30 * SEC, "the old future is gone");
        assert!(tl.snapshot_times().iter().all(|t| *t <= 30 * SEC));
    }
    sim.run_until(90 * SEC, |_| {});
    // Only the new what-if happened: as a straight run with it alone.
    let mut reference = straight(&s, 90 * SEC, &[(30 * SEC, now_cmd)]);
    assert_same(&mut sim, &mut reference, "after a what-if in the past");
}

#[test]
fn every_simulation_type_is_in_the_snapshot_or_named_as_left_out() {
    let mut sim = simulation_app(load_shipped("netflix_friday.ron"));
    sim.run_for(1.0);
    let named: Vec<&str> = parts().iter().map(|p| p.name).collect();
    let world = sim.world();
    let mut missing = vec![];
    for info in world.components().iter_registered() {
        let name = info.name().to_string();
        let ours = name.starts_with("flowlab::sim::")
            || name.contains("Messages<flowlab::sim::read::events::SimEvent>");
        if ours
            && !named.contains(&name.as_str())
            && !LEFT_OUT.contains(&name.as_str())
            && !name.contains("Messages<")
        {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "not in the snapshot: {missing:?}");
}

/// A branch of `sim` at its moment, re-simulated to it in slices of a millisecond of wall time
/// as the app does; returns it and how many slices it took.
fn branch(sim: &Simulation) -> (Simulation, usize) {
    use flowlab::compare::branch::{adopt, catch_up, scenario_of};
    let mut b = simulation_app(scenario_of(sim.world()));
    adopt(b.world_mut(), sim.world());
    b.world_mut().init_resource::<Timeline>();
    let mut slices = 1;
    while !catch_up(
        b.world_mut(),
        sim.now(),
        std::time::Duration::from_millis(1),
    ) {
        slices += 1;
    }
    (b, slices)
}

fn standings(sim: &mut Simulation) -> Vec<flowlab::compare::branch::Standing> {
    sim.view(flowlab::compare::branch::standings)
}

/// breaker.ron with a slowdown before the branch and a change of instances queued for after it.
fn breaker_with_what_ifs() -> (Scenario, Vec<(Nanos, SimCommand)>) {
    let s = load_shipped("breaker.ron");
    let commands = vec![
        (
            10 * SEC,
            SimCommand::SlowDown {
                component: "bank".into(),
                instance: 0,
                factor: 4.0,
                for_s: 20.0,
            },
        ),
        (
            60 * SEC,
            SimCommand::SetInstances {
                component: "payments".into(),
                instances: 3,
            },
        ),
    ];
    (s, commands)
}

#[test]
fn a_branch_with_no_what_if_equals_the_original() {
    let (s, commands) = breaker_with_what_ifs();
    let mut original = straight(&s, 40 * SEC, &commands[..1]);
    // The later what-if is already queued when the branch is made: the branch holds it too.
    original.command_at(commands[1].0, commands[1].1.clone());
    let (mut b, slices) = branch(&original);
    assert!(slices > 1, "the past re-simulates in slices ({slices})");
    assert_same(&mut original, &mut b, "a branch at 40 s, at 40 s");
    let from = standings(&mut original);
    original.run_until(90 * SEC, |_| {});
    b.run_until(90 * SEC, |_| {});
    assert_same(&mut original, &mut b, "a branch at 40 s, at 90 s");
    assert_eq!(original.metrics_digest(), b.metrics_digest());
    let (a, bb) = (standings(&mut original), standings(&mut b));
    assert!(
        flowlab::compare::branch::differs(&from, &a, &bb).is_empty(),
        "nothing parts"
    );
}

#[test]
fn a_saved_branch_replays_byte_for_byte_and_parts_where_its_what_if_acts() {
    let (s, commands) = breaker_with_what_ifs();
    let mut original = straight(&s, 40 * SEC, &commands[..1]);
    let (mut b, _) = branch(&original);
    let from = standings(&mut original);
    // The branch's what-if: three times the shoppers from 40 s.
    b.command(SimCommand::ScaleTraffic {
        source: "shoppers".into(),
        factor: 3.0,
    });
    original.run_until(90 * SEC, |_| {});
    b.run_until(90 * SEC, |_| {});
    let parted =
        flowlab::compare::branch::differs(&from, &standings(&mut original), &standings(&mut b));
    let names: Vec<&str> = parted.iter().map(|d| d.component.as_str()).collect();
    assert!(names.contains(&"checkout"), "{parted:?}");
    assert_ne!(original.metrics_digest(), b.metrics_digest());
    // Saved as a scenario file and run as `flowlab run` runs it.
    let text = flowlab::scenario::fmt::canonical(&b.session()).expect("serialises");
    assert!(text.contains("ScaleTraffic"), "{text}");
    let mut replay = simulation_app(flowlab::testing::parse(&text));
    replay.world_mut().init_resource::<Timeline>();
    replay.run_until(90 * SEC, |_| {});
    assert_eq!(replay.metrics_digest(), b.metrics_digest());
    assert_eq!(replay.decisions_jsonl(), b.decisions_jsonl());
    // The same state, but for the file each came from: the replay's lists the commands.
    for sim in [&mut replay, &mut b] {
        let mut config = sim.world_mut().resource_mut::<flowlab::sim::SimConfig>();
        std::sync::Arc::make_mut(&mut config.loaded)
            .commands
            .clear();
        std::sync::Arc::make_mut(&mut config.scenario)
            .commands
            .clear();
    }
    assert_same(&mut replay, &mut b, "the saved branch replayed");
}
