//! Rewind: while the app runs, the simulation keeps snapshots of its whole state every few
//! simulated seconds ([`snapshot`]); seeking to a moment puts back the latest snapshot at or
//! before it and simulates forward to the moment. The simulation is deterministic and every
//! live command is kept on the command queue's tape with its time, so the moment is the one a
//! straight run shows: same clock, same requests in flight, same plots and decisions.
//!
//! Memory is bounded by count: at most [`MOST_SNAPSHOTS`] are held. When one more is due, every
//! other one is dropped and the spacing doubles (2 s, 4 s, 8 s, ...): a 600 s run holds 37
//! snapshots 16 s apart, and a seek re-simulates at most 16 s. One snapshot is the state at its
//! moment: the requests in flight, queues, histograms; the plots' history is shared between
//! snapshots a sample at a time (`read::series::Series` holds each row behind an `Arc`), so it
//! is not copied each time.
//!
//! A what-if made while looking at the past ends that past's future: the snapshots and marks
//! after the moment are dropped, and so are the commands that would have replayed after it.

pub mod snapshot;

use crate::sim::door::command::CommandQueue;
use crate::sim::read::decisions::DecisionLog;
use crate::sim::schedule::dist::Nanos;
use crate::sim::{Runs, SimClock, SimConfig};
use bevy::prelude::*;
use snapshot::{Part, Snapshot};

/// Most snapshots held at once.
pub const MOST_SNAPSHOTS: usize = 64;

/// Spacing of the first snapshots (simulated ns); it doubles each time the store is full.
pub const FIRST_EVERY: Nanos = 2_000_000_000;

/// Most marks kept for the scrub bar (the most important first when there are more).
pub const MOST_MARKS: usize = 400;

/// A notable moment on the scrub bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Simulation time (ns).
    pub at: Nanos,
    /// The decision log's kind (`crash`, `breaker`, `fallback`, `command`, ...), or `bookmark`.
    pub kind: String,
    /// What happened, in words.
    pub label: String,
}

/// Snapshots of this run, the furthest moment reached and the marks up to it.
#[derive(Resource)]
pub struct Timeline {
    snaps: Vec<Snapshot>,
    every: Nanos,
    parts: Vec<Part>,
    /// The furthest simulation time reached in this run (ns): the scrub bar's end.
    pub reached: Nanos,
    /// Notable decisions up to `reached`, in time order.
    pub marks: Vec<Mark>,
    /// Moments the user marked (ns), in time order.
    pub bookmarks: Vec<Nanos>,
    /// Seeks made so far (the picture rebuilds after each).
    pub seeks: u64,
    /// A moment the app asked to see (ns), shown at the start of the next frame.
    pub request: Option<Nanos>,
    /// The seek under way: from the time the clock was put back to, towards the moment asked.
    pub seeking: Option<(Nanos, Nanos)>,
    run: Option<u64>,
    tape: usize,
    seq: u64,
    decisions: usize,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            snaps: vec![],
            every: FIRST_EVERY,
            parts: snapshot::parts(),
            reached: 0,
            marks: vec![],
            bookmarks: vec![],
            seeks: 0,
            request: None,
            seeking: None,
            run: None,
            tape: 0,
            seq: 0,
            decisions: 0,
        }
    }
}

impl Timeline {
    /// Snapshots held, and the times they are at (ns).
    pub fn snapshot_times(&self) -> Vec<Nanos> {
        self.snaps.iter().map(|s| s.at).collect()
    }

    /// Spacing between snapshots now (ns).
    pub fn every(&self) -> Nanos {
        self.every
    }

    /// Adds a bookmark at `at` (none twice at one moment).
    pub fn bookmark(&mut self, at: Nanos) {
        if let Err(i) = self.bookmarks.binary_search(&at) {
            self.bookmarks.insert(i, at);
        }
    }

    fn start_run(&mut self, run: u64) {
        *self = Self {
            parts: std::mem::take(&mut self.parts),
            seeks: self.seeks,
            run: Some(run),
            ..Self::default()
        };
    }

    fn take(&mut self, world: &mut World) {
        let s = Snapshot::take(world, &self.parts);
        match self.snaps.binary_search_by_key(&s.at, |x| x.at) {
            Ok(i) => self.snaps[i] = s,
            Err(i) => self.snaps.insert(i, s),
        }
        if self.snaps.len() > MOST_SNAPSHOTS {
            let mut k = 0;
            self.snaps.retain(|_| {
                k += 1;
                k % 2 == 1
            });
            self.every *= 2;
        }
    }

    fn forget_after(&mut self, now: Nanos) {
        self.snaps.retain(|s| s.at <= now);
        self.marks.retain(|m| m.at <= now);
        self.reached = now;
    }

    fn update_marks(&mut self, log: &DecisionLog) {
        if log.events.len() == self.decisions {
            return;
        }
        self.decisions = log.events.len();
        let notable = |d: &&crate::sim::read::decisions::Decision| {
            d.importance >= 2 && d.kind != "rate_change"
        };
        let mut marks: Vec<&crate::sim::read::decisions::Decision> =
            log.events.iter().filter(notable).collect();
        if marks.len() > MOST_MARKS {
            marks.sort_by_key(|d| std::cmp::Reverse(d.importance));
            marks.truncate(MOST_MARKS);
            marks.sort_by(|a, b| a.t.total_cmp(&b.t));
        }
        self.marks = marks
            .into_iter()
            .map(|d| Mark {
                at: (d.t * 1e9).round() as Nanos,
                kind: d.kind.to_string(),
                label: format!("{} {}: {}", d.kind, d.entity, d.reason),
            })
            .collect();
    }
}

/// After the frame's ticks: a new run starts a new timeline; a live command made while looking
/// at the past ends that past's future; at the furthest moment, the marks follow the decision
/// log and a snapshot is taken when one is due.
pub fn keep(world: &mut World) {
    if !world.contains_resource::<Timeline>() || !world.contains_resource::<CommandQueue>() {
        return;
    }
    let run = world.get_resource::<Runs>().map_or(0, |r| r.0);
    let now = world.resource::<SimClock>().now;
    world.resource_scope(|world, mut tl: Mut<Timeline>| {
        if tl.run != Some(run) {
            tl.start_run(run);
        }
        follow_tape(world, &mut tl, now);
        if now < tl.reached {
            return;
        }
        tl.reached = now;
        tl.update_marks(world.resource::<DecisionLog>());
        let due = tl.snaps.last().is_none_or(|s| now >= s.at + tl.every);
        if due {
            tl.take(world);
        }
    });
}

/// A live command queued since the last look, while the clock is behind the furthest moment,
/// ends that past's future (checked after the frame's ticks and again before the next frame's,
/// so a what-if made in the panels is seen before any tick applies it).
fn follow_tape(world: &mut World, tl: &mut Timeline, now: Nanos) {
    let run = world.get_resource::<Runs>().map_or(0, |r| r.0);
    if tl.run != Some(run) {
        return;
    }
    let (tape, _) = world.resource::<CommandQueue>().tape_state();
    if tape > tl.tape && now < tl.reached {
        let before = tl.seq;
        (world.resource_mut::<CommandQueue>()).forget_after(now, before);
        tl.forget_after(now);
    }
    (tl.tape, tl.seq) = world.resource::<CommandQueue>().tape_state();
}

/// Puts the simulation back to the latest snapshot at or before `t` (ns), or rebuilds the run
/// from t = 0 when there is none (the live commands replayed from the tape); nothing is done
/// when the clock is already at or before `t` and no snapshot lies between. Returns the time
/// the clock is at now; simulating from there to `t` gives the moment `t`.
pub fn rewind(world: &mut World, t: Nanos) -> Nanos {
    if !world.contains_resource::<Timeline>() {
        world.init_resource::<Timeline>();
        keep(world);
    }
    let now = world.resource::<SimClock>().now;
    world.resource_scope(|world, mut tl: Mut<Timeline>| {
        let best = tl.snaps.iter().rposition(|s| s.at <= t);
        if now <= t && best.is_none_or(|i| tl.snaps[i].at <= now) {
            return;
        }
        match best {
            Some(i) => tl.snaps[i].restore(world, &tl.parts),
            None => {
                rebuild(world);
                tl.take(world);
            }
        }
        tl.seeks += 1;
        (tl.tape, tl.seq) = world.resource::<CommandQueue>().tape_state();
    });
    world.resource::<SimClock>().now
}

/// The run again from t = 0 (the scenario as loaded, then the tape's commands at their times),
/// counted as the same run.
fn rebuild(world: &mut World) {
    let loaded = (*world.resource::<SimConfig>().loaded).clone();
    let old = world.remove_resource::<CommandQueue>().unwrap_or_default();
    let runs = world.get_resource::<Runs>().copied();
    crate::sim::schedule::load::load_scenario(world, loaded);
    if let Some(r) = runs {
        world.insert_resource(r);
    }
    let fresh = world.remove_resource::<CommandQueue>().unwrap_or_default();
    world.insert_resource(old.rewound_to(&fresh));
}

/// Shows the moment `t` (ns): rewinds if it lies behind, then simulates to it.
pub fn seek(world: &mut World, t: Nanos) {
    rewind(world, t);
    crate::sim::schedule::idle::run_until(world, t, |_| {});
}

/// The app's seek: the moment asked for is shown by rewinding to the snapshot before it and
/// letting the driver catch up to it (`SimControl::catch_up`, as fast as each frame allows).
fn apply_request(world: &mut World) {
    if world.contains_resource::<Timeline>() && world.contains_resource::<CommandQueue>() {
        let now = world.resource::<SimClock>().now;
        world.resource_scope(|world, mut tl: Mut<Timeline>| follow_tape(world, &mut tl, now));
    }
    let Some(t) = world
        .get_resource_mut::<Timeline>()
        .and_then(|mut tl| tl.request.take())
    else {
        if world
            .resource::<crate::sim::SimControl>()
            .catch_up
            .is_none()
            && let Some(mut tl) = world.get_resource_mut::<Timeline>()
        {
            tl.seeking = None;
        }
        return;
    };
    let from = rewind(world, t);
    let mut control = world.resource_mut::<crate::sim::SimControl>();
    control.catch_up = (from < t).then_some(t);
    control.stop_at = None;
    world.resource_mut::<Timeline>().seeking = (from < t).then_some((from, t));
}

/// Keeps the timeline while the app runs (after the driver's ticks each frame) and applies
/// the app's seeks (before them).
pub struct TimelinePlugin;

impl Plugin for TimelinePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Timeline>().add_systems(
            Update,
            (
                apply_request.before(crate::sim::SimDriveSystems),
                keep.after(crate::sim::SimDriveSystems),
            ),
        );
    }
}
