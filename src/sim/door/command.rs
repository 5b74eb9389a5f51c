//! The command door: every change from outside the schedule (a what-if from the app, a lesson
//! step, a scenario's scheduled `faults`) is a typed `SimCommand`, queued with the time it is
//! due and applied in its own phase at the start of a tick (`SimSystems::Commands`, before the
//! clock moves). A command that acts on an instance (down, back, slow) takes effect at its exact
//! time inside the tick, like any other event of the flow phase. Every applied command is logged
//! with its time, so a run with interventions replays exactly: the same seed and the same
//! command list give byte-identical output.

pub use crate::scenario::command::SimCommand;
use crate::scenario::{FaultSpec, Scenario};
pub use crate::sim::read::events::Origin;
use crate::sim::schedule::dist::Nanos;
use bevy::prelude::*;
use serde::{Deserialize, Serialize};

/// A command waiting for its time.
#[derive(Debug, Clone)]
pub(in crate::sim) struct Scheduled {
    pub(in crate::sim) at: Nanos,
    seq: u64,
    pub(in crate::sim) origin: Origin,
    pub(in crate::sim) cmd: SimCommand,
    /// Queued again from the tape by a rewind (`CommandQueue::rewound_to`).
    replayed: bool,
}

/// A command that was applied: when, what, and what came of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Applied {
    /// Simulation time it took effect (ns).
    pub at: Nanos,
    /// Where it came from.
    pub origin: Origin,
    /// The command.
    pub cmd: SimCommand,
    /// What it did, or why it could not be applied.
    pub result: Result<String, String>,
}

/// Commands waiting to be applied, and the log of those applied in this run.
#[derive(Resource, Debug, Default, Clone)]
pub struct CommandQueue {
    scheduled: Vec<Scheduled>,
    seq: u64,
    /// Applied so far in this run (since the last load or reset), in order.
    pub applied: Vec<Applied>,
    /// Every live command queued in this run (`schedule`), in queueing order: what a rewind
    /// queues again (`sim::timeline`).
    tape: Vec<Scheduled>,
}

impl CommandQueue {
    /// The time of the earliest command queued (`None`: none).
    pub fn next_at(&self) -> Option<Nanos> {
        self.scheduled.iter().map(|s| s.at).min()
    }

    /// Queues `cmd` for time `at` (ns); a time already past applies at the next tick.
    pub fn schedule(&mut self, at: Nanos, cmd: SimCommand) {
        self.push(at, Origin::Live, cmd);
        if let Some(s) = self.scheduled.last() {
            self.tape.push(s.clone());
        }
    }

    /// The tape's length and the last sequence number given.
    pub fn tape_state(&self) -> (usize, u64) {
        (self.tape.len(), self.seq)
    }

    /// This queue put back to `then` (a snapshot's, or a fresh load's), keeping the tape: the
    /// live commands queued after `then` was taken are queued again at their times, with their
    /// sequence numbers, so they apply in the same ticks and the same order as before.
    pub fn rewound_to(self, then: &CommandQueue) -> CommandQueue {
        let mut q = then.clone();
        for s in self.tape.iter().filter(|s| s.seq > then.seq) {
            q.scheduled.push(Scheduled {
                replayed: true,
                ..s.clone()
            });
        }
        q.tape = self.tape;
        q.seq = self.seq;
        q
    }

    /// A live command queued at `now` while looking at the past ends that past's future: the
    /// commands it would have replayed at or after `now` go, from the queue and from the tape
    /// (those queued after sequence number `newer_than` are the new ones and stay).
    pub fn forget_after(&mut self, now: Nanos, newer_than: u64) {
        self.scheduled.retain(|s| !(s.replayed && s.at >= now));
        self.tape.retain(|s| s.at < now || s.seq > newer_than);
    }

    /// A `Load` or `Reset` is waiting: it starts a new run, even after the run stopped.
    pub fn restart_pending(&self) -> bool {
        self.scheduled
            .iter()
            .any(|s| matches!(s.cmd, SimCommand::Load(_) | SimCommand::Reset))
    }

    fn push(&mut self, at: Nanos, origin: Origin, cmd: SimCommand) {
        self.seq += 1;
        self.scheduled.push(Scheduled {
            at,
            seq: self.seq,
            origin,
            cmd,
            replayed: false,
        });
    }

    /// Live commands applied so far, as (time, command): replaying them with `schedule` on the
    /// same scenario and seed gives the same run.
    pub fn replay_list(&self) -> Vec<(Nanos, SimCommand)> {
        self.applied
            .iter()
            .filter(|a| a.origin == Origin::Live)
            .map(|a| (a.at, a.cmd.clone()))
            .collect()
    }

    /// Every live command of this run, applied or still waiting, in time order: with the
    /// scenario as loaded, what replays the run.
    pub fn live_commands(&self) -> Vec<(Nanos, SimCommand)> {
        let mut all = self.replay_list();
        let mut waiting: Vec<&Scheduled> = self
            .scheduled
            .iter()
            .filter(|s| s.origin == Origin::Live)
            .collect();
        waiting.sort_by_key(|s| (s.at, s.seq));
        all.extend(waiting.into_iter().map(|s| (s.at, s.cmd.clone())));
        all
    }

    /// Commands still waiting.
    pub fn pending(&self) -> usize {
        self.scheduled.len()
    }

    /// Commands still waiting that were queued for the first time (not replayed by a rewind).
    pub fn pending_first_time(&self) -> usize {
        self.scheduled.iter().filter(|s| !s.replayed).count()
    }

    /// Takes the commands due before `until`, in time order (ties in order of queueing).
    pub(in crate::sim) fn take_due(&mut self, until: Nanos) -> Vec<Scheduled> {
        let (mut due, waiting): (Vec<Scheduled>, Vec<Scheduled>) =
            std::mem::take(&mut self.scheduled)
                .into_iter()
                .partition(|s| s.at < until);
        self.scheduled = waiting;
        due.sort_by_key(|s| (s.at, s.seq));
        due
    }
}

/// Run condition: a command is due in the coming tick (the commands phase takes the whole
/// world, so it runs only then, not every tick).
pub fn commands_due(queue: Res<CommandQueue>, clock: Res<crate::sim::SimClock>) -> bool {
    queue
        .scheduled
        .iter()
        .any(|s| s.at < clock.now + clock.tick)
}

/// Queues a scenario's `faults` as commands at their times.
pub fn queue_faults(queue: &mut CommandQueue, s: &Scenario) {
    for f in &s.faults {
        let at = (f.at_s * 1e9) as Nanos;
        for cmd in fault_commands(f, s) {
            queue.push(at, Origin::Scenario, cmd);
        }
    }
    // Commands saved from a session replay as the live commands they were.
    for tc in &s.commands {
        let at = (tc.at_s * 1e9).round() as Nanos;
        queue.push(at, Origin::Live, tc.command.clone());
    }
}

/// The commands a scenario fault stands for: one per instance it touches (a whole component
/// down is one command).
fn fault_commands(f: &FaultSpec, s: &Scenario) -> Vec<SimCommand> {
    if let Some(link) = &f.link {
        return vec![SimCommand::DegradeLink {
            link: link.clone(),
            added_latency_ms: f.added_latency_ms.unwrap_or(0.0),
            loss: f.loss.unwrap_or(0.0),
            lost_after_ms: f.lost_after_ms.unwrap_or(FaultSpec::LOST_AFTER_MS),
            for_s: f.for_s,
        }];
    }
    let component = f.component.clone();
    if f.all_instances && f.slowdown.is_none() && f.errors.is_none() {
        return vec![SimCommand::TakeDownComponent {
            component,
            for_s: Some(f.for_s),
        }];
    }
    let instances = if f.all_instances {
        let n = s
            .components
            .iter()
            .find(|c| c.name == f.component)
            .map_or(0, |c| c.instances);
        (0..n).collect()
    } else {
        vec![f.instance]
    };
    instances
        .into_iter()
        .map(|instance| match (f.slowdown, f.errors) {
            (Some(factor), _) => SimCommand::SlowDown {
                component: component.clone(),
                instance,
                factor,
                for_s: f.for_s,
            },
            (None, Some(share)) => SimCommand::InjectErrors {
                component: component.clone(),
                instance,
                share,
                for_s: f.for_s,
            },
            (None, None) => SimCommand::TakeDown {
                component: component.clone(),
                instance,
                for_s: Some(f.for_s),
            },
        })
        .collect()
}

/// The scenario as loaded with every live command of the run as its `commands`: written as a
/// file and run headless, it replays the session (the app's "save session as scenario").
pub fn session_scenario(loaded: &Scenario, queue: &CommandQueue) -> Scenario {
    let mut s = loaded.clone();
    s.commands = queue
        .live_commands()
        .into_iter()
        .map(|(at, command)| crate::scenario::TimedCommand {
            at_s: at as f64 / 1e9,
            command,
        })
        .collect();
    s
}
