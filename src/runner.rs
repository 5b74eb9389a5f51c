//! Headless runs: build the simulation of a scenario without any window, step it as fast as the
//! machine allows, and summarise. The CLI, the tests and the benchmarks all go through here, so
//! they exercise the same code path as the app.

use crate::scenario::Scenario;
use crate::sim::door::command::{CommandQueue, SimCommand};
use crate::sim::read::decisions::DecisionLog;
use crate::sim::read::events::Journal;
use crate::sim::read::metrics::{Recorder, Sink};
use crate::sim::read::view::SimView;
use crate::sim::schedule::dist::{Nanos, SEC};
use crate::sim::schedule::topology::Topology;
use crate::sim::schedule::verify::Conservation;
use crate::sim::{SimClock, SimPlugin};
use bevy::ecs::system::SystemState;
use bevy::prelude::*;

use crate::summary::summary_of;
pub use crate::summary::{ComponentSummary, Summary, SystemSummary};

/// Every command of the scenario applied in time order to its simulation at t = 0, which is
/// not run: what the run's command door would refuse (a factor out of range, an instance that
/// does not exist, a strategy the scenario's checks refuse), as problems at `commands[i]`.
pub fn rehearse_commands(s: &Scenario) -> Vec<crate::scenario::Problem> {
    if s.commands.is_empty() {
        return vec![];
    }
    let mut bare = s.clone();
    bare.commands.clear();
    bare.faults.clear();
    let mut sim = Simulation::new(bare);
    let mut order: Vec<usize> = (0..s.commands.len()).collect();
    order.sort_by(|a, b| s.commands[*a].at_s.total_cmp(&s.commands[*b].at_s));
    let cmds: Vec<(Nanos, &SimCommand)> = order
        .iter()
        .map(|&i| {
            let c = &s.commands[i];
            ((c.at_s.max(0.0) * SEC) as Nanos, &c.command)
        })
        .collect();
    crate::sim::door::phase::rehearse(sim.world_mut(), &cmds)
        .into_iter()
        .map(|(k, why)| crate::scenario::Problem {
            field: format!("commands[{}].command", order[k]),
            message: why,
            hint: "a run refuses this command: change it or take it out".into(),
        })
        .collect()
}

/// Reads, parses and validates a scenario file (`-`: standard input), its commands rehearsed
/// (`rehearse_commands`): what `check`, `run` and the app load.
pub fn load_checked(path: &std::path::Path) -> Result<Scenario, crate::scenario::ScenarioError> {
    let s = crate::scenario::load(path)?;
    let problems = rehearse_commands(&s);
    if problems.is_empty() {
        Ok(s)
    } else {
        Err(crate::scenario::ScenarioError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }
}

/// A simulation of one scenario, stepped by hand.
pub struct Simulation {
    /// The Bevy app holding the world.
    pub app: App,
}

impl Simulation {
    /// Spawns the scenario (already validated).
    pub fn new(scenario: Scenario) -> Self {
        let mut app = App::new();
        app.add_plugins(SimPlugin { scenario: None });
        // Loaded here rather than by the plugin, which would keep a copy for as long as the app.
        crate::sim::schedule::load::load_scenario(app.world_mut(), scenario);
        Self { app }
    }

    /// The simulation as a bare world, which can be kept in another app's resources: its
    /// schedules travel with it (`sim::schedule::idle::tick` runs a tick).
    pub fn into_world(mut self) -> World {
        std::mem::take(self.app.world_mut())
    }

    /// The world, to read state.
    pub fn world(&self) -> &World {
        self.app.world()
    }

    /// The world, to change settings (sinks, conservation checks, what-if edits).
    pub fn world_mut(&mut self) -> &mut World {
        self.app.world_mut()
    }

    /// Current simulation time (ns).
    pub fn now(&self) -> Nanos {
        self.world().resource::<SimClock>().now
    }

    /// Runs one tick.
    pub fn step(&mut self) {
        crate::sim::schedule::idle::tick(self.app.world_mut());
    }

    /// Runs whole ticks until the clock reaches `t` (ns), calling `each` after every tick.
    /// Stops early if the run halts (`halted`).
    /// Idle stretches (ticks in which nothing is due) are skipped in one step
    /// (`sim::schedule::idle`), and `each` is called once for the stretch.
    pub fn run_until(&mut self, t: Nanos, each: impl FnMut(&World)) {
        crate::sim::schedule::idle::run_until(self.app.world_mut(), t, each);
    }

    /// Skips idle ticks or not (on by default): the outputs are the same either way.
    pub fn skip_idle(&mut self, on: bool) {
        self.world_mut()
            .resource_mut::<crate::sim::schedule::idle::SkipIdle>()
            .on = on;
    }

    /// Why the run stopped before its end (the host's memory guard), if it did.
    pub fn halted(&self) -> Option<String> {
        self.world()
            .get_resource::<crate::sim::schedule::guard::Halt>()
            .and_then(|h| h.reason.clone())
    }

    /// Runs for `seconds` of simulated time.
    pub fn run_for(&mut self, seconds: f64) {
        let t = self.now() + (seconds * SEC).round() as Nanos;
        self.run_until(t, |_| {});
    }

    /// Sends a command through the command door: applied at the start of the next tick.
    pub fn command(&mut self, cmd: SimCommand) {
        let now = self.now();
        self.command_at(now, cmd);
    }

    /// Queues a command for simulation time `at` (ns): applied at the start of the tick that
    /// contains it (an instance action at its exact time).
    pub fn command_at(&mut self, at: Nanos, cmd: SimCommand) {
        self.world_mut()
            .resource_mut::<CommandQueue>()
            .schedule(at, cmd);
    }

    /// Replaces the scenario at once (the same as a `Load` command applied now).
    pub fn load(&mut self, scenario: Scenario) {
        crate::sim::schedule::load::load_scenario(self.world_mut(), scenario);
    }

    /// Everything that happened so far, as typed events.
    pub fn journal(&self) -> &Journal {
        self.world().resource::<Journal>()
    }

    /// The decision log as JSON Lines (what `--events` writes).
    pub fn decisions_jsonl(&self) -> String {
        self.world().resource::<DecisionLog>().to_jsonl()
    }

    /// The live commands applied so far with their times: replaying them on the same scenario
    /// and seed gives the same run.
    pub fn command_log(&self) -> Vec<(Nanos, SimCommand)> {
        self.world().resource::<CommandQueue>().replay_list()
    }

    /// The scenario as loaded with this run's live commands: it replays the run.
    pub fn session(&self) -> Scenario {
        let loaded = &self.world().resource::<crate::sim::SimConfig>().loaded;
        crate::sim::door::command::session_scenario(loaded, self.world().resource::<CommandQueue>())
    }

    /// Turns the per-tick conservation check on or off.
    pub fn check_conservation(&mut self, on: bool) {
        self.world_mut().resource_mut::<Conservation>().enabled = on;
    }

    /// Conservation violations found so far.
    pub fn violations(&self) -> Vec<String> {
        self.world().resource::<Conservation>().violations.clone()
    }

    /// Keeps the metrics CSV in memory (see `metrics_csv`).
    pub fn keep_metrics(&mut self) {
        self.world_mut()
            .resource_mut::<Recorder>()
            .set_sink(Sink::Memory(String::new()));
    }

    /// The metrics CSV with its header, if kept in memory.
    pub fn metrics_csv(&self) -> Option<String> {
        self.world()
            .resource::<Recorder>()
            .csv()
            .map(|s| format!("{}{s}", crate::sim::read::metrics::HEADER))
    }

    /// SHA-256 of the metrics CSV so far.
    ///
    /// # Panics
    /// If rows were sampled while nobody read them: call `keep_metrics` (or set a sink) before
    /// running, so that two runs are never compared by a digest neither of them has.
    pub fn metrics_digest(&self) -> String {
        self.world()
            .resource::<Recorder>()
            .digest()
            .expect("metrics_digest: call keep_metrics() before running")
    }

    /// Reads the simulation through its read seam, `SimView`.
    pub fn view<R>(&mut self, read: impl FnOnce(&SimView) -> R) -> R {
        let world = self.app.world_mut();
        let mut state = SystemState::<SimView>::new(world);
        let view = state
            .get(world)
            .expect("a simulation holds every resource SimView reads");
        read(&view)
    }

    /// The recent samples of one metric of one entity, by their names as in the CSV (`system`,
    /// a source, component, instance `web#0` or link `web->db`; `queue_len`, `health`, ...),
    /// read from the typed series store: (t in s, value).
    pub fn series(&self, entity: &str, metric: &str) -> Vec<(f64, f64)> {
        use crate::sim::read::series::{Metric, Series, SeriesEntity};
        let Some(metric) = Metric::ALL.iter().copied().find(|m| m.name() == metric) else {
            return vec![];
        };
        {
            let topo = self.world().resource::<Topology>();
            let find = |names: &[String]| names.iter().position(|n| n == entity).map(|i| i as u32);
            let key = if entity == "system" {
                Some(SeriesEntity::System)
            } else if let Some(i) = find(&topo.source_names) {
                Some(SeriesEntity::Source(i))
            } else if let Some(c) = topo.component(entity) {
                Some(SeriesEntity::Component(c.index))
            } else if let Some(i) = find(&topo.instance_names) {
                Some(SeriesEntity::Instance(i))
            } else if let Some(class) = entity.strip_prefix("priority:") {
                use crate::sim::flow::request::Priority;
                (Priority::ALL.iter())
                    .find(|p| p.name() == class)
                    .map(|p| SeriesEntity::Priority(*p as u8))
            } else if let Some(rest) = entity.strip_prefix("bulkhead:") {
                // `bulkhead:COMPONENT/FLOWS`, its flows joined by `+`.
                let s = &self.world().resource::<crate::sim::SimConfig>().scenario;
                rest.split_once('/').and_then(|(comp, flows)| {
                    let ci = s.components.iter().position(|c| c.name == comp)?;
                    let bulkheads = &s.components[ci].bulkheads;
                    let k = bulkheads.iter().position(|b| b.flows.join("+") == flows)?;
                    Some(SeriesEntity::Bulkhead(ci as u32, k as u16))
                })
            } else {
                find(&topo.link_names).map(SeriesEntity::Link)
            };
            let series = self.world().resource::<Series>();
            key.map_or(vec![], |k| series.get(k, metric).collect())
        }
    }

    /// Queueing theory's verdict on every component now, in scenario order (docs/THEORY.md);
    /// a source counts as retrying when its last sample had retries.
    pub fn theory(&mut self) -> Vec<crate::sim::read::theory::assess::Assessment> {
        let live = self.view(|v| {
            let sources = v.sources().count();
            let retrying = (0..sources as u32)
                .map(|i| {
                    let e = crate::sim::read::series::SeriesEntity::Source(i);
                    let m = crate::sim::read::series::Metric::Retries;
                    v.series(e, m).next_back().is_some_and(|x| x.1 > 0.0)
                })
                .collect();
            crate::sim::read::theory::live(v, retrying)
        });
        let s = &self.world().resource::<crate::sim::SimConfig>().scenario;
        crate::sim::read::theory::assess::assess(s, &live)
    }

    /// The table of `flowlab run --theory`: predicted against observed per component, observed
    /// after the scenario's warm-up.
    pub fn theory_table(&mut self) -> String {
        let assessed = self.theory();
        let world = self.world();
        let s = &world.resource::<crate::sim::SimConfig>().scenario;
        let names: Vec<String> = s.components.iter().map(|c| c.name.clone()).collect();
        let (from, unit) = (s.sim.warmup_s, s.sim.request_unit.max(1) as u64);
        let series = world.resource::<crate::sim::read::series::Series>();
        crate::sim::read::theory::observe::table(&names, &assessed, series, from, unit)
    }

    /// Totals so far.
    pub fn summary(&mut self) -> Summary {
        self.view(summary_of)
    }
}

/// Exact running totals at one moment, for measurements between two moments (warm-up removed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Simulation time (ns).
    pub at: Nanos,
    /// Logical requests created.
    pub generated: u64,
    /// Logical requests ended, by outcome.
    pub ended: [u64; 5],
    /// Work left behind at asynchronous hand-offs that completed, and the sum of its
    /// creation-to-end times (ns).
    pub background_done: (u64, f64),
    /// Sum of end-to-end latencies of completed requests (ns).
    pub latency_ns: f64,
    /// Per component, in scenario order.
    pub components: Vec<ComponentSnapshot>,
}

/// Exact totals of one component (simulated units times the request unit).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComponentSnapshot {
    /// Name.
    pub name: String,
    /// Arrivals.
    pub arrivals: f64,
    /// Successful departures.
    pub ok: f64,
    /// Dropped (queue full).
    pub dropped: f64,
    /// Local services completed.
    pub served: f64,
    /// Sum of time in the component of successful departures (ns).
    pub sojourn_ns: f64,
    /// Integral of requests held over time (request·ns).
    pub area: f64,
}

/// What happened between two snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct Between {
    /// Seconds between them.
    pub seconds: f64,
    /// Logical requests created per second.
    pub generated_rate: f64,
    /// Mean end-to-end latency of requests completed in between (s).
    pub latency_s: f64,
    /// Mean creation-to-end time of work left behind at asynchronous hand-offs that completed
    /// in between (s): the time through a network of asynchronous hops.
    pub background_latency_s: f64,
    /// Logical requests that ended in between, by outcome.
    pub ended: [u64; 5],
}

/// One component between two snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentBetween {
    /// Arrival rate (per s).
    pub arrival_rate: f64,
    /// Successful departures per second.
    pub ok_rate: f64,
    /// Share of arrivals dropped.
    pub drop_ratio: f64,
    /// Mean time in the component (s).
    pub sojourn_s: f64,
    /// Time-average number held (queued + in service + waiting downstream).
    pub occupancy: f64,
}

impl Snapshot {
    /// Totals between `earlier` and `self`.
    pub fn since(&self, earlier: &Snapshot) -> Between {
        let seconds = (self.at - earlier.at) as f64 / SEC;
        let completed = self.ended[0] - earlier.ended[0];
        Between {
            seconds,
            generated_rate: (self.generated - earlier.generated) as f64 / seconds,
            latency_s: (self.latency_ns - earlier.latency_ns) / completed.max(1) as f64 / SEC,
            background_latency_s: (self.background_done.1 - earlier.background_done.1)
                / (self.background_done.0 - earlier.background_done.0).max(1) as f64
                / SEC,
            ended: std::array::from_fn(|i| self.ended[i] - earlier.ended[i]),
        }
    }

    /// Component `name` between `earlier` and `self`.
    pub fn component_since(&self, earlier: &Snapshot, name: &str) -> Option<ComponentBetween> {
        let a = self.components.iter().find(|c| c.name == name)?;
        let b = earlier.components.iter().find(|c| c.name == name)?;
        let seconds = (self.at - earlier.at) as f64 / SEC;
        let ok = a.ok - b.ok;
        let arrivals = a.arrivals - b.arrivals;
        Some(ComponentBetween {
            arrival_rate: arrivals / seconds,
            ok_rate: ok / seconds,
            drop_ratio: (a.dropped - b.dropped) / arrivals.max(1.0),
            sojourn_s: (a.sojourn_ns - b.sojourn_ns) / ok.max(1.0) / SEC,
            occupancy: (a.area - b.area) / (self.at - earlier.at) as f64,
        })
    }
}

impl Simulation {
    /// Exact totals now.
    pub fn snapshot(&mut self) -> Snapshot {
        self.view(snapshot_of)
    }
}

/// Exact totals now, from the read seam.
fn snapshot_of(v: &SimView) -> Snapshot {
    let unit = v.unit();
    let unit_f = unit as f64;
    let mut snap = Snapshot {
        at: v.now(),
        ..default()
    };
    for s in v.sources() {
        snap.generated += s.counters.generated * unit;
        for i in 0..5 {
            snap.ended[i] += s.counters.ended[i] * unit;
        }
        snap.latency_ns += s.counters.latency_ns * unit_f;
        snap.background_done.0 += s.counters.background[0] * unit;
        snap.background_done.1 += s.counters.background_latency_ns * unit_f;
    }
    for c in v.components() {
        let mut cs = ComponentSnapshot {
            name: c.name.to_string(),
            ..default()
        };
        for i in v.instances_of(c.index) {
            let k = &i.counters;
            cs.arrivals += k.arrivals as f64 * unit_f;
            cs.ok += k.ok as f64 * unit_f;
            cs.dropped += k.dropped as f64 * unit_f;
            cs.served += k.served as f64 * unit_f;
            cs.sojourn_ns += k.sojourn_ns * unit_f;
            cs.area += i.occupancy_area * unit_f;
        }
        snap.components.push(cs);
    }
    snap
}
