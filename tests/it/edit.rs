//! Building a system by edits: seed 000's Friday night from a blank scenario, every edit
//! undone leaving the scenario as it was, refusals that change nothing and name the field.

use flowlab::scenario::edit::{Edit, History, apply, blank};
use flowlab::scenario::{CallKind, Kind, Scenario};
use flowlab::testing::load_shipped;

fn set(target: &str, field: &str, value: &str) -> Edit {
    Edit::Set {
        target: target.into(),
        field: field.into(),
        value: value.into(),
    }
}

fn add(name: &str, kind: Kind) -> Edit {
    Edit::AddComponent {
        name: name.into(),
        kind,
    }
}

fn connect(from: &str, to: &str, latency: &str) -> [Edit; 2] {
    [
        Edit::Connect {
            from: from.into(),
            to: to.into(),
            call: CallKind::Sync,
        },
        set(&format!("{from}->{to}"), "latency", latency),
    ]
}

fn flow(name: &str, path: &[&str], weight: &str) -> [Edit; 2] {
    let k = if name == "browse" { 0 } else { 1 };
    [
        Edit::AddFlow {
            source: "viewers".into(),
            name: name.into(),
            path: path.iter().map(|s| s.to_string()).collect(),
        },
        set("viewers", &format!("flows.{k}.weight"), weight),
    ]
}

/// The edits a person makes on the canvas to build netflix_friday.ron.
fn friday_night() -> Vec<Edit> {
    let mut e = vec![
        set("scenario", "name", r#""Netflix Friday night""#),
        set(
            "scenario",
            "description",
            r#""LB, 3 web servers, cache, database; a Friday-night spike pushes the database past capacity.""#,
        ),
        set("sim", "duration_s", "600.0"),
        set("sim", "seed", "2024"),
        set("sim", "request_unit", "10"),
        set("backpressure", "enabled", "true"),
        add("lb", Kind::LoadBalancer),
        set("lb", "instances", "2"),
        set("lb", "workers", "20000"),
        set("lb", "queue", "Bounded(20000)"),
        set(
            "lb",
            "service",
            "(mean_ms: Some(0.05), shape: Deterministic)",
        ),
        set("lb", "strategy", "Healthiest"),
        add("web", Kind::Service),
        set("web", "instances", "3"),
        set("web", "workers", "2000"),
        set("web", "queue", "Bounded(5000)"),
        set(
            "web",
            "service",
            "(shape: LogNormal(sigma: 0.5), demand: (cpu_ms: 0.25, memory_mb: 0.5))",
        ),
        set(
            "web",
            "engines",
            "(cpu_cores: 16.0, memory_mb: 32768.0, base_memory_mb: 2048.0)",
        ),
        add("cache", Kind::Cache),
        set("cache", "instances", "2"),
        set("cache", "workers", "1000"),
        set("cache", "queue", "Bounded(5000)"),
        set("cache", "service.demand.memory_mb", "0.01"),
        set("cache", "hit_ratio", "0.8"),
        add("database", Kind::Database),
        set("database", "workers", "200"),
        set("database", "discipline", "Priority"),
        set(
            "database",
            "service",
            "(shape: LogNormal(sigma: 0.6), demand: (cpu_ms: 0.4, memory_mb: 1.0, storage_ops: 2.0, network_kb: 8.0))",
        ),
        set(
            "database",
            "engines",
            "(cpu_cores: 32.0, memory_mb: 65536.0, base_memory_mb: 8192.0, storage_iops: 100000.0, network_mbps: 10000.0)",
        ),
        set(
            "database",
            "thrashing",
            "Some((above: 0.95, slowdown: 0.15))",
        ),
        Edit::AddSource {
            name: "viewers".into(),
            rate: 100000.0,
        },
        set(
            "viewers",
            "rate",
            "Piecewise([(0.0, 100000.0), (60.0, 100000.0), (120.0, 150000.0), (300.0, 150000.0), (360.0, 100000.0)])",
        ),
        set(
            "viewers",
            "priorities",
            "(critical: 0.05, high: 0.15, medium: 0.6, low: 0.2)",
        ),
        set("viewers", "client.timeout_ms", "1000.0"),
        set(
            "viewers",
            "client.retry",
            "(max_attempts: 3, max_backoff_ms: 2000.0)",
        ),
    ];
    e.extend(connect(
        "viewers",
        "lb",
        "(mean_ms: 20.0, shape: LogNormal(sigma: 0.4))",
    ));
    e.extend(connect("lb", "web", "(mean_ms: 0.5)"));
    e.extend(connect("web", "cache", "(mean_ms: 0.3)"));
    e.extend(connect("web", "database", "(mean_ms: 0.5)"));
    e.extend(connect("cache", "database", "(mean_ms: 0.5)"));
    e.extend(flow("browse", &["lb", "web", "cache", "database"], "0.75"));
    e.extend(flow("play", &["lb", "web", "database"], "0.25"));
    e.push(set(
        "scenario",
        "faults",
        r#"[(component: "web", instance: 2, at_s: 150.0, for_s: 60.0, slowdown: 2.0),
            (component: "database", at_s: 240.0, for_s: 20.0, slowdown: 1.4)]"#,
    ));
    e
}

fn same(a: &Scenario, b: &Scenario) -> bool {
    ron::to_string(a).unwrap() == ron::to_string(b).unwrap()
}

#[test]
fn friday_night_built_from_blank_by_edits_is_the_shipped_scenario() {
    let mut s = blank("new");
    let mut history = History::default();
    for e in friday_night() {
        history
            .apply(&mut s, e.clone())
            .unwrap_or_else(|p| panic!("{e:?} refused: {p:?}"));
    }
    let shipped = load_shipped("netflix_friday.ron");
    assert_eq!(
        ron::to_string(&s).unwrap(),
        ron::to_string(&shipped).unwrap()
    );
    assert!(flowlab::scenario::validate(&s).is_empty());
}

#[test]
fn every_edit_undone_leaves_the_scenario_as_it_was_and_redone_as_after() {
    let mut s = blank("new");
    let mut history = History::default();
    let mut states = vec![s.clone()];
    for e in friday_night() {
        history.apply(&mut s, e).unwrap();
        states.push(s.clone());
    }
    for k in (0..states.len() - 1).rev() {
        assert!(history.undo(&mut s));
        assert!(same(&s, &states[k]), "undo {k}");
    }
    assert!(!history.undo(&mut s));
    for state in &states[1..] {
        assert!(history.redo(&mut s));
        assert!(same(&s, state));
    }
    // A new edit after undoing forgets what was undone.
    history.undo(&mut s);
    history.apply(&mut s, add("extra", Kind::Service)).unwrap();
    assert!(!history.redo(&mut s));
}

#[test]
fn a_refused_edit_changes_nothing_and_names_the_field() {
    let s = load_shipped("netflix_friday.ron");
    let refused =
        |e: Edit, field: &str, text: &str| {
            let problems = apply(&s, &e).expect_err(&format!("{e:?} should be refused"));
            assert!(
                problems.iter().any(|p| p.field.contains(field)
                    && format!("{} {}", p.message, p.hint).contains(text)),
                "{e:?}: {problems:?}"
            );
        };
    refused(set("web", "workers", "-3"), "components[1].workers", "");
    refused(set("web", "workers", "0"), "components[1].workers", "");
    refused(
        set("web", "wrokers", "3"),
        "components[1].wrokers",
        "fields: name, kind",
    );
    refused(
        set("database", "queue", "Bounded(lots)"),
        "components[3].queue",
        "Bounded(1000)",
    );
    refused(add("web", Kind::Cache), "name", "taken");
    refused(
        Edit::Connect {
            from: "web".into(),
            to: "nowhere".into(),
            call: CallKind::Sync,
        },
        "links[5].to",
        "nowhere",
    );
    refused(
        Edit::Remove {
            name: "cache".into(),
        },
        "sources[0].flows[0]",
        "passes `cache`",
    );
    refused(set("nobody", "workers", "3"), "target", "nobody");
    // A removal where nothing passes takes the links with it.
    let mut t = s.clone();
    let mut h = History::default();
    h.apply(&mut t, add("spare", Kind::Service)).unwrap();
    h.apply(
        &mut t,
        Edit::Connect {
            from: "web".into(),
            to: "spare".into(),
            call: CallKind::Async,
        },
    )
    .unwrap();
    h.apply(
        &mut t,
        Edit::Remove {
            name: "spare".into(),
        },
    )
    .unwrap();
    assert!(same(&t, &s));
}

mod canvas {
    //! The canvas's gestures as edits: a drop from the palette, a drag between boxes, the
    //! Delete key; a draft drawn while unfinished; the menus' variants.
    use flowlab::scenario::edit::{
        Edit, History, Palette, apply, blank, connect_edit, delete_edit, drop_edit, preview,
        variant_value, variants,
    };
    use flowlab::scenario::{Hop, Kind, validate};
    use flowlab::testing::{load_shipped, simulation_app};

    #[test]
    fn a_system_built_by_drops_and_drags_runs_and_its_requests_reach_the_end() {
        let mut s = blank("built on the canvas");
        // Blank, the canvas still draws it: nothing to run, nothing goes wrong.
        simulation_app(preview(&s)).run_for(1.0);
        let mut h = History::default();
        for (what, at) in [
            (Palette::Clients, (0.0, 0.0)),
            (Palette::Component(Kind::Service), (200.0, 0.0)),
            (Palette::Component(Kind::Database), (400.0, 0.0)),
        ] {
            let (e, _) = drop_edit(&s, what, at);
            h.apply(&mut s, e).unwrap();
        }
        assert_eq!(s.components[1].name, "db");
        assert_eq!(s.components[1].layout, Some((400.0, 0.0)));
        // Unfinished (the source has no route) but drawable: the preview runs, sending nothing.
        assert!(!validate(&s).is_empty());
        let mut sim = simulation_app(preview(&s));
        sim.run_for(5.0);
        assert!(sim.violations().is_empty());
        let (e, said) = connect_edit(&s, "users", "service");
        h.apply(&mut s, e).unwrap();
        assert_eq!(said, ["the requests of users go to service"]);
        let (e, said) = connect_edit(&s, "service", "db");
        h.apply(&mut s, e).unwrap();
        assert_eq!(said, ["route users.request goes on to db"]);
        assert_eq!(
            s.sources[0].flows[0].path,
            [Hop::To("service".into()), Hop::To("db".into())]
        );
        assert!(validate(&s).is_empty(), "{:?}", validate(&s));
        let mut sim = simulation_app(s.clone());
        sim.run_for(10.0);
        let done = sim.summary().system;
        assert!(done.generated > 500, "{} generated", done.generated);
        assert!(sim.violations().is_empty());
        // Each gesture is one step of undo: three drops and two drags.
        for _ in 0..5 {
            assert!(h.undo(&mut s));
        }
        assert!(super::same(&s, &blank("built on the canvas")));
    }

    #[test]
    fn deleting_a_box_cuts_the_routes_short_where_they_reached_it() {
        let s = load_shipped("netflix_friday.ron");
        let last = s.components.last().unwrap().name.clone();
        let after = apply(&s, &delete_edit(&s, &last)).unwrap();
        assert!(after.components.iter().all(|c| c.name != last));
        assert!(after.links.iter().all(|l| l.to != last && l.from != last));
        assert!(validate(&after).is_empty(), "{:?}", validate(&after));
        // The first hop: its routes go with it, and the source waits for a new one.
        let first = match &s.sources[0].flows[0].path[0] {
            Hop::To(c) => c.clone(),
            other => panic!("{other:?}"),
        };
        let after = apply(&s, &delete_edit(&s, &first)).unwrap();
        assert!(after.sources[0].flows.is_empty());
    }

    #[test]
    fn the_inspector_menus_list_each_enum_fields_variants() {
        let s = load_shipped("netflix_friday.ron");
        let c = &s.components[0].name;
        let policies = variants(&s, c, "queue_policy").unwrap();
        assert!(policies.contains(&"DropOldest".to_string()));
        assert!(policies.contains(&"CoDel".to_string()));
        let kinds = variants(&s, c, "kind").unwrap();
        assert_eq!(kinds.len(), 6);
        assert!(
            variants(&s, c, "strategy")
                .unwrap()
                .contains(&"Healthiest".into())
        );
        assert_eq!(variants(&s, c, "workers"), None);
        let link = format!("{}->{}", s.links[0].from, s.links[0].to);
        assert_eq!(
            variants(&s, &link, "call").unwrap(),
            ["Sync", "Async", "Pull"]
        );
    }

    #[test]
    fn picking_a_variant_in_a_menu_gives_a_value_the_reader_takes() {
        let s = load_shipped("mm1.ron");
        let pick = |field: &str, v: &str| variant_value(&s, "server", field, v);
        assert_eq!(
            pick("queue_policy", "DropOldest").as_deref(),
            Some("DropOldest")
        );
        // A variant that carries a number starts with one to change.
        assert_eq!(pick("queue", "Bounded").as_deref(), Some("Bounded(100)"));
        assert_eq!(pick("queue", "Unbounded").as_deref(), Some("Unbounded"));
        assert_eq!(pick("queue", "NoSuchVariant"), None);
        // Made through the edit door, it is one undoable step like any other.
        let mut after = s.clone();
        let mut h = History::default();
        let e = Edit::Set {
            target: "server".into(),
            field: "queue".into(),
            value: pick("queue", "Bounded").unwrap(),
        };
        h.apply(&mut after, e).unwrap();
        assert_eq!(
            after.components[0].queue,
            flowlab::scenario::QueueSpec::Bounded(100)
        );
        assert!(h.undo(&mut after));
        assert!(super::same(&after, &s));
    }
}
