//! The read seam as a user of it would check it: a shipped scenario read tick by tick through
//! `SimView` never shows a queue above its capacity or more work than workers, what is on a link
//! is between its departure and its arrival, each series grows by one value per sample, and the
//! series hold exactly the values of the metrics CSV.

use bevy::ecs::system::SystemState;
use flowlab::sim::read::series::{Metric, SeriesEntity};
use flowlab::sim::read::view::{InstanceState, SimView, TransitKind};
use flowlab::sim::schedule::dist::{Nanos, SEC};
use flowlab::testing::{load_shipped, simulation_app};
use std::collections::HashMap;

const S: Nanos = SEC as Nanos;

#[test]
fn queues_links_and_series_read_through_the_view_stay_consistent() {
    let mut sim = simulation_app(load_shipped("failover.ron"));
    let mut state = SystemState::<SimView>::new(sim.world_mut());
    let (mut requests, mut responses) = (0, 0);
    while sim.now() < 5 * S {
        sim.step();
        let view = state.get(sim.world()).expect("view");
        let now = view.now();
        for c in view.components() {
            let cap = c.queue_capacity.expect("failover's queues are bounded");
            assert!(c.queued <= cap, "{}: {} queued of {cap}", c.name, c.queued);
            assert!(c.busy + c.waiting <= c.workers, "{}", c.name);
            assert_eq!(view.instances_of(c.index).count() as u32, c.instance_count);
        }
        for i in view.instances() {
            let cap = i.queue_capacity.expect("bounded");
            assert!(i.queued <= cap, "{}: {} queued of {cap}", i.name, i.queued);
            assert!(i.busy + i.waiting <= i.workers, "{}", i.name);
            assert_eq!(i.state, InstanceState::Up, "{} before the outage", i.name);
            assert!(i.engines.iter().all(|e| e.utilization >= 0.0));
        }
        for l in view.links() {
            let mut n = 0;
            for item in view.in_transit(l.index) {
                assert!(
                    item.depart <= now && now <= item.arrive,
                    "{}: {item:?} at {now}",
                    l.name
                );
                match item.kind {
                    TransitKind::Request => requests += 1,
                    TransitKind::Response { .. } => responses += 1,
                }
                n += 1;
            }
            assert_eq!(n * view.unit(), l.in_transit, "{}", l.name);
        }
        // One sample a second, at the end of the tick that reaches it.
        let samples = (now / S) as usize;
        let goodput = view.series(SeriesEntity::System, Metric::Goodput);
        assert_eq!(goodput.count(), samples, "at {now} ns");
        let api = view.component_named("api").expect("api").index;
        let queue = view.series(SeriesEntity::Component(api), Metric::QueueLen);
        assert_eq!(queue.count(), samples);
    }
    assert!(requests > 0 && responses > 0, "{requests} {responses}");

    // Every CSV row is in the series store, with the same value, in the same order.
    let csv = sim.metrics_csv().expect("kept in memory");
    let view = state.get(sim.world()).expect("view");
    let mut entities = HashMap::from([("system", SeriesEntity::System)]);
    entities.extend(
        view.sources()
            .map(|s| (s.name, SeriesEntity::Source(s.index))),
    );
    entities.extend(
        view.components()
            .map(|c| (c.name, SeriesEntity::Component(c.index))),
    );
    entities.extend(
        view.instances()
            .map(|i| (i.name, SeriesEntity::Instance(i.index))),
    );
    entities.extend(view.links().map(|l| (l.name, SeriesEntity::Link(l.index))));
    let flows: Vec<String> = view
        .classes()
        .flows
        .iter()
        .map(|f| format!("flow:{}", f.0))
        .collect();
    let classes: Vec<String> = flowlab::sim::flow::request::Priority::ALL
        .iter()
        .map(|p| format!("priority:{}", p.name()))
        .collect();
    for (i, f) in flows.iter().enumerate() {
        entities.insert(f, SeriesEntity::Flow(i as u16));
    }
    for (k, c) in classes.iter().enumerate() {
        entities.insert(c, SeriesEntity::Priority(k as u8));
    }
    let mut rows: HashMap<(SeriesEntity, Metric), Vec<(String, f64)>> = HashMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let entity = entities[f[1]];
        let metric = *Metric::ALL
            .iter()
            .find(|m| m.name() == f[2])
            .unwrap_or_else(|| panic!("unknown metric {}", f[2]));
        let value: f64 = f[3].parse().expect("number");
        rows.entry((entity, metric))
            .or_default()
            .push((f[0].to_string(), value));
    }
    assert_eq!(rows.len(), view.all_series().keys().count());
    for ((entity, metric), written) in &rows {
        let kept: Vec<(String, f64)> = view
            .series(*entity, *metric)
            .map(|(t, v)| (format!("{t:.3}"), v))
            .collect();
        assert_eq!(&kept, written, "{entity:?} {}", metric.name());
    }
}

#[test]
fn an_outage_shows_on_the_instance_the_component_and_the_series() {
    let mut sim = simulation_app(load_shipped("failover.ron"));
    sim.run_for(34.0);
    let summary = sim.summary();
    sim.view(|view| {
        let primary = view.component_named("primary").expect("primary");
        assert_eq!(primary.instances_up, 0);
        let inst = view.instance(primary.instance_ids[0]).expect("primary#0");
        assert_eq!(inst.name, "primary#0");
        assert_eq!(inst.state, InstanceState::Down);
        assert_eq!(inst.down_until, Some(70 * S));
        let up = view.series(SeriesEntity::Instance(inst.index), Metric::Up);
        let ups: Vec<f64> = up.map(|(_, v)| v).collect();
        assert_eq!(ups.len(), 34);
        assert_eq!(&ups[..30], &[1.0; 30][..], "up until the outage at 30 s");
        assert_eq!(&ups[30..], &[0.0; 4]);
        // After three failed health checks the api sends its reads to the replica instead.
        let api = view.component_named("api").expect("api");
        let to_replica = view
            .links()
            .find(|l| l.name == "api->replica")
            .expect("link");
        assert!(to_replica.flow_controlled);
        let sent: Vec<f64> = view
            .series(SeriesEntity::Link(to_replica.index), Metric::Sent)
            .map(|(_, v)| v)
            .collect();
        assert!(sent[..30].iter().all(|v| *v == 0.0), "{sent:?}");
        assert!(sent[33] > 1000.0, "{sent:?}");
        assert!(view.in_transit(to_replica.index).count() > 0);
        // The summary reads the same state.
        let row = summary.component("api").expect("api");
        assert_eq!(row.arrivals, api.arrivals);
        assert_eq!(row.dropped, api.dropped);
        assert_eq!(row.peak_queue, api.peak_queue);
        assert_eq!(summary.system.seconds, view.seconds());
    });
}
