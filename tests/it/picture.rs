//! The view model, without a window: what the app draws follows the simulation's state.

use flowlab::picture::layout::Layout;
use flowlab::picture::particles::{MarkerKind, ParticleSettings, Particles};
use flowlab::picture::style;
use flowlab::picture::{Picture, Rates, picture};
use flowlab::runner::Simulation;
use flowlab::sim::door::command::SimCommand;
use flowlab::sim::flow::link::NodeRef;
use flowlab::sim::schedule::topology::Routes;
use flowlab::testing::{load_shipped, parse, simulation_app};

/// The picture now, with rates over the last second.
fn draw(sim: &mut Simulation, rates: &mut Rates) -> Picture {
    let scenario = sim
        .world()
        .resource::<flowlab::sim::SimConfig>()
        .scenario
        .clone();
    sim.view(|v| {
        rates.update(v, 1.0);
        let layout = Layout::of(v.topology(), &scenario);
        picture(v, &layout, rates)
    })
}

fn node<'a>(p: &'a Picture, name: &str) -> &'a flowlab::picture::NodePic {
    p.nodes.iter().find(|n| n.name == name).expect("node")
}

#[test]
fn components_are_laid_out_left_to_right_from_clients_to_storage() {
    let mut sim = simulation_app(load_shipped("netflix_friday.ron"));
    let p = draw(&mut sim, &mut Rates::default());
    let x = |n: &str| node(&p, n).at.x;
    assert!(x("viewers") < x("lb") && x("lb") < x("web") && x("web") < x("cache"));
    assert!(x("cache") < x("database"), "storage at the right");
    // A scenario's layout field wins.
    let text = std::fs::read_to_string(flowlab::testing::scenario_path("mm1.ron"))
        .unwrap()
        .replace(
            "kind: Service,",
            "kind: Service, layout: Some((-500.0, 123.0)),",
        );
    let mut sim = simulation_app(parse(&text));
    let p = draw(&mut sim, &mut Rates::default());
    assert_eq!(
        (node(&p, "server").at.x, node(&p, "server").at.y),
        (-500.0, 123.0)
    );
}

#[test]
fn an_overloaded_database_has_a_red_border_and_badge_and_a_healthy_one_does_not() {
    let mut sim = simulation_app(load_shipped("no_backpressure.ron"));
    let mut rates = Rates::default();
    sim.run_for(2.0);
    let calm = draw(&mut sim, &mut rates);
    let db = node(&calm, "database");
    assert_ne!(db.border, style::RED, "healthy at first: {:?}", db.badge);
    // Its queue grows until it crashes (about 3-10 s): find a moment it is RED or CRITICAL.
    let mut seen = None;
    for _ in 0..60 {
        sim.run_for(0.25);
        let p = draw(&mut sim, &mut rates);
        let db = node(&p, "database");
        if let Some((band, _)) = db.badge
            && band >= flowlab::sim::schedule::states::HealthBand::Red
        {
            seen = Some((db.border, style::band_colour(band), band));
            break;
        }
    }
    let (border, want, band) = seen.expect("the database turns RED or CRITICAL");
    assert_eq!(border, want, "{band:?}");
    assert!(border == style::RED || border == style::CRITICAL);
}

#[test]
fn a_binding_rate_limit_lights_its_gate() {
    let mut sim = simulation_app(load_shipped("netflix_friday.ron"));
    let mut rates = Rates::default();
    sim.run_for(100.0);
    let p = draw(&mut sim, &mut rates);
    let names = sim
        .world()
        .resource::<flowlab::sim::schedule::topology::Topology>()
        .link_names
        .clone();
    let gate = |name: &str| {
        let i = names.iter().position(|n| n == name).unwrap();
        p.edges[i].gate.clone().unwrap()
    };
    let web_db = gate("web->database");
    assert!(web_db.text.starts_with("max "), "{web_db:?}");
    assert!(web_db.binding, "the limit binds at the peak: {web_db:?}");
    // A client's link has no gate.
    let mut plain = simulation_app(load_shipped("mm1.ron"));
    let p = draw(&mut plain, &mut Rates::default());
    assert!(
        p.edges.iter().all(|e| e.gate.is_none()),
        "a client's link has no gate"
    );
}

fn particles_over(rate: f64, seconds: f64) -> u64 {
    let text = format!(
        r#"(name: "p", sim: (seed: 5),
        sources: [(name: "c", rate: Constant({rate}), flows: [(name: "f", path: [To("s")])])],
        components: [(name: "s", kind: Service, workers: 64, service: (mean_ms: Some(1.0)))],
        links: [(from: "c", to: "s", latency: (mean_ms: 0.5))])"#
    );
    let mut sim = simulation_app(parse(&text));
    let routes = sim.world().resource::<Routes>().clone();
    // The same particle ladder for both rates: one particle per 10 requests.
    let mut model =
        sim.view(|v| Particles::new(v, &routes, 5_000.0 * 2.0, ParticleSettings::default()));
    sim.view(|v| model.set_speed(1.0, v));
    model.per_particle = 10;
    for _ in 0..(seconds * 30.0) as u32 {
        sim.run_for(1.0 / 30.0);
        sim.view(|v| model.update(v));
    }
    model.emitted[0]
}

#[test]
fn particle_density_doubles_when_the_rate_doubles() {
    let (one, two) = (particles_over(1000.0, 10.0), particles_over(2000.0, 10.0));
    let ratio = two as f64 / one as f64;
    assert!(
        (ratio - 2.0).abs() < 0.1,
        "{one} vs {two} particles: {ratio}"
    );
    // One particle stands for 10 requests: about 2,000 for 10,000 requests and their responses.
    assert!((1900..=2100).contains(&one), "{one}");
}

#[test]
fn the_particle_ladder_keeps_the_budget_and_grows_with_the_speed() {
    let mut sim = simulation_app(load_shipped("netflix_friday.ron"));
    let routes = sim.world().resource::<Routes>().clone();
    let mut m = sim.view(|v| Particles::new(v, &routes, 1_000_000.0, ParticleSettings::default()));
    let at = |m: &mut Particles, sim: &mut Simulation, s: f64| {
        sim.view(|v| m.set_speed(s, v));
        m.per_particle
    };
    let (slow, one, fast) = (
        at(&mut m, &mut sim, 0.1),
        at(&mut m, &mut sim, 1.0),
        at(&mut m, &mut sim, 10.0),
    );
    assert!(slow < one && one < fast, "{slow} {one} {fast}");
    for n in [slow, one, fast] {
        let lead = n / 10u64.pow((n as f64).log10().floor() as u32);
        assert!([1, 2, 5].contains(&lead), "{n} is on the 1-2-5 ladder");
        // 1M requests/s for 1.2 s of visible travel at 10x: within 20,000 particles.
    }
    assert!(1_000_000.0 * 10.0 * 1.2 / fast as f64 <= 20_000.0);
}

#[test]
fn lost_requests_leave_markers_where_they_ended() {
    // web#1 taken down: what it held fails there; a full queue drops at its instance.
    let text = r#"(name: "loss", sim: (seed: 2),
        sources: [(name: "c", rate: Constant(3000.0), flows: [(name: "f", path: [To("web")])])],
        components: [(name: "web", kind: Service, instances: 2, workers: 1, queue: Bounded(5), service: (mean_ms: Some(1.0)))],
        links: [(from: "c", to: "web")])"#;
    let mut sim = simulation_app(parse(text));
    let routes = sim.world().resource::<Routes>().clone();
    let mut m = sim.view(|v| Particles::new(v, &routes, 6000.0, ParticleSettings::default()));
    sim.run_for(1.0);
    sim.view(|v| m.update(v));
    sim.command(SimCommand::TakeDown {
        component: "web".into(),
        instance: 1,
        for_s: Some(5.0),
    });
    sim.run_for(0.05);
    sim.view(|v| m.update(v));
    let failed: Vec<_> = m
        .markers
        .iter()
        .filter(|k| k.kind == MarkerKind::Failed)
        .collect();
    assert!(!failed.is_empty(), "{:?}", m.markers);
    assert!(
        failed
            .iter()
            .all(|k| k.at == NodeRef::Component(0) && k.instance == 1),
        "failures at web#1 only: {failed:?}"
    );
    let dropped: Vec<_> = m
        .markers
        .iter()
        .filter(|k| k.kind == MarkerKind::Dropped)
        .collect();
    assert!(
        dropped.iter().any(|k| k.instance == 0),
        "web#0 alone at 3x its capacity drops: {:?}",
        m.markers
    );
}

#[cfg(feature = "desktop")]
#[test]
fn a_comparison_side_by_side_runs_every_variant_in_lockstep_on_the_same_traffic() {
    use flowlab::app::side_by_side::{SideBySide, lockstep};
    use flowlab::testing::scenario_path;
    let (c, base) = flowlab::compare::load(&scenario_path("compare/spike.ron")).unwrap();
    let side = SideBySide::new(c, base, 0.8);
    // The app's own simulation runs variant A (tail drop); B-D are shadows.
    let mut main = Simulation::new(side.scenario(0).expect("a comparison"));
    let world = main.world_mut();
    world.init_resource::<flowlab::app::state::Scene>();
    world.insert_resource(side);
    main.run_for(45.0);
    lockstep(main.world_mut());
    let now = main.now();
    let side = main.world().resource::<SideBySide>();
    assert_eq!(side.shadows.len(), 3);
    assert_eq!(side.names()[1], "drop oldest");
    for s in &side.shadows {
        assert!((s.picture.t - now as f64 / 1e9).abs() < 1e-9, "in lockstep");
        // The same traffic: every variant is offered the same.
        let offered = |p: &Picture| node(p, "clients").lines[0].clone();
        assert_eq!(offered(&s.picture), offered(&side.shadows[0].picture));
    }
    // Inside the spike tail drop serves nothing in time, drop oldest keeps serving.
    let (a, b) = (side.headline.goodput, side.shadows[0].headline.goodput);
    assert!(a < 100.0 && b > 500.0, "tail drop {a}/s, drop oldest {b}/s");
    // A reset of the app's run starts the shadows again with it.
    main.command(SimCommand::Reset);
    main.step();
    lockstep(main.world_mut());
    let side = main.world().resource::<SideBySide>();
    assert!(side.shadows.iter().all(|s| s.picture.t < 1.0));
}

#[cfg(feature = "desktop")]
#[test]
fn a_branch_side_by_side_catches_up_takes_its_what_if_and_parts_where_it_acts() {
    use flowlab::app::side_by_side::{SideBySide, lockstep};
    let mut main = Simulation::new(flowlab::testing::load_shipped("breaker.ron"));
    main.world_mut()
        .init_resource::<flowlab::app::state::Scene>();
    main.run_for(10.0);
    let side = SideBySide::first_branch(main.world_mut());
    assert_eq!(side.names(), ["original", "branch at 10 s"]);
    assert_eq!(side.target, 1, "what-ifs go to the new branch");
    main.world_mut().insert_resource(side);
    // Its past re-simulates in slices while the app waits, paused.
    let mut frames = 0;
    loop {
        lockstep(main.world_mut());
        frames += 1;
        let side = main.world().resource::<SideBySide>();
        if side.catching_up(main.now()).is_none() {
            break;
        }
        assert!(main.world().resource::<flowlab::sim::SimControl>().paused);
        assert!(frames < 10_000);
    }
    assert!(
        !main.world().resource::<flowlab::sim::SimControl>().paused,
        "given back"
    );
    let mut side = main.world_mut().resource_mut::<SideBySide>();
    side.outbox.push((
        1,
        SimCommand::ScaleTraffic {
            source: "shoppers".into(),
            factor: 0.3,
        },
    ));
    for _ in 0..15 {
        lockstep(main.world_mut());
        main.run_for(1.0);
    }
    lockstep(main.world_mut());
    let side = main.world().resource::<SideBySide>();
    let b = &side.shadows[0];
    assert!(
        (b.picture.t - main.now() as f64 / 1e9).abs() < 1e-9,
        "in lockstep"
    );
    let (_, parted) = b.branch.as_ref().expect("a branch");
    assert!(
        parted.iter().any(|d| d.component == "checkout"),
        "{parted:?}"
    );
    assert!(
        b.headline.goodput < 0.5 * side.headline.goodput,
        "a third of the shoppers: {} against {}",
        b.headline.goodput,
        side.headline.goodput
    );
    assert!(
        b.session()
            .commands
            .iter()
            .any(|c| matches!(c.command, SimCommand::ScaleTraffic { .. }))
    );
    // A reset of the app's run ends the branches.
    main.command(SimCommand::Reset);
    main.step();
    lockstep(main.world_mut());
    assert!(main.world().get_resource::<SideBySide>().is_none());
}

use crate::scenarios::shipped;

/// The picture of every shipped scenario at a few moments (up to two minutes in).
fn moments(mut each: impl FnMut(&str, f64, &Picture)) {
    for name in shipped() {
        let s = load_shipped(&name);
        let end = s.sim.duration_s;
        let mut sim = simulation_app(s);
        let mut rates = Rates::default();
        for t in [3.0, 30.0, 100.0] {
            if t > end {
                break;
            }
            let now = sim.now() as f64 / 1e9;
            sim.run_for(t - 1.0 - now);
            draw(&mut sim, &mut rates);
            sim.run_for(1.0);
            let p = draw(&mut sim, &mut rates);
            each(&name, t, &p);
        }
    }
}

#[test]
fn no_label_leaves_its_box_or_lies_on_another_label_or_box() {
    use flowlab::picture::labels::{LabelOf, box_rect, text_area};
    moments(|name, t, p| {
        let boxes: Vec<_> = p.nodes.iter().map(box_rect).collect();
        for (k, a) in p.labels.iter().enumerate() {
            match a.of {
                // Text inside a box stays inside the part above its tiles.
                LabelOf::Name(n) | LabelOf::Lines(n) => assert!(
                    text_area(&p.nodes[n]).contains(&a.rect),
                    "{name} t={t}: {:?} of {} leaves its box: {:?}",
                    a.of,
                    p.nodes[n].name,
                    a.rect
                ),
                // Everything else lies on no box.
                _ => {
                    for (b, r) in boxes.iter().enumerate() {
                        assert_eq!(
                            r.overlap(&a.rect),
                            0.0,
                            "{name} t={t}: {:?} lies on the box of {}",
                            a.of,
                            p.nodes[b].name
                        );
                    }
                }
            }
            for b in &p.labels[k + 1..] {
                assert_eq!(
                    a.rect.overlap(&b.rect),
                    0.0,
                    "{name} t={t}: {:?} {:?} overlaps {:?} {:?}",
                    a.of,
                    a.rect,
                    b.of,
                    b.rect
                );
            }
        }
    });
}

/// The window sizes the issue names, and the area the panels leave at each (as the app lays
/// them out: folded side panels below 1500 px).
const WINDOWS: [(f32, f32); 3] = [(1280.0, 720.0), (1600.0, 900.0), (1920.0, 1080.0)];

fn free_area(w: f32, h: f32, clean: bool) -> [f32; 4] {
    use flowlab::app::state::{BOTTOM, CLEAN_BOTTOM, CLEAN_TOP, LEFT, RIGHT, TOP};
    if clean {
        return [0.0, CLEAN_TOP, w, h - CLEAN_BOTTOM];
    }
    use flowlab::app::ui::{COMPACT_BELOW, LEFT_FOLDS_BELOW};
    let left = if w < LEFT_FOLDS_BELOW { 30.0 } else { LEFT };
    let right = if w < COMPACT_BELOW { 30.0 } else { RIGHT };
    let bottom = if w < COMPACT_BELOW {
        BOTTOM * 0.75
    } else {
        BOTTOM
    };
    [left, TOP, w - right, h - bottom]
}

#[cfg(feature = "desktop")]
#[test]
fn the_system_fills_the_canvas_and_its_text_is_legible_at_1280x720() {
    use flowlab::picture::labels::{bounds, frame, px, to_screen};
    moments(|name, t, p| {
        let b = bounds(&p.nodes, &p.labels).unwrap();
        for (w, h) in WINDOWS {
            for clean in [false, true] {
                let area = free_area(w, h, clean);
                let f = frame(b, area, (w, h));
                let lo = to_screen(&f, b.min, (w, h));
                let hi = to_screen(&f, b.max, (w, h));
                // Inside the free area: no label is cut by its edge.
                assert!(
                    lo.x >= area[0] - 0.5
                        && hi.x <= area[2] + 0.5
                        && hi.y >= area[1] - 0.5
                        && lo.y <= area[3] + 0.5,
                    "{name} t={t} {w}x{h}: {lo:?}-{hi:?} outside {area:?}"
                );
                let fill_w = (hi.x - lo.x) / (area[2] - area[0]);
                let fill_h = (lo.y - hi.y) / (area[3] - area[1]);
                assert!(
                    fill_w >= 0.7 || fill_h >= 0.7,
                    "{name} t={t} {w}x{h}: fills {fill_w:.2} x {fill_h:.2}"
                );
                if w == 1280.0 && !clean {
                    let smallest = px::TILE.min(px::LINES) / f.scale;
                    assert!(
                        smallest >= 12.0,
                        "{name} t={t}: text {smallest:.1} px at 1280x720"
                    );
                }
            }
        }
    });
}
