//! Frame statistics: the CPU time of the app's own systems per frame (input, picture, drawing,
//! panels), apart from the simulation's ticks; particles drawn; frames in which a lyon shape
//! was tessellated again; resident memory. Printed when a shot, a recording or a timed session
//! ends (the frame benchmark in docs/PERFORMANCE.md reads them).

use super::AppSystems;
use super::particles::ParticleMesh;
use bevy::prelude::*;
use bevy_prototype_lyon::prelude::Shape;
use std::time::Instant;

/// Per-frame measurements.
#[derive(Resource, Default)]
pub struct FrameStats {
    input_from: Option<Instant>,
    app_ms: f64,
    sim_from: Option<Instant>,
    /// Per frame: the app's own systems (ms).
    pub app: Vec<f64>,
    /// Per frame: the simulation's ticks (ms).
    pub sim: Vec<f64>,
    /// Per frame: the panels (ms).
    pub panels: Vec<f64>,
    /// Per frame: particles drawn.
    pub particles: Vec<usize>,
    /// Frames in which a shape was tessellated again, after the first second.
    pub retessellated: u64,
    /// Highest resident memory seen (MB).
    pub peak_rss_mb: f64,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<FrameStats>()
        .add_systems(
            Update,
            input_begin
                .in_set(AppSystems::Input)
                .before(super::input::InputSystems),
        )
        .add_systems(
            Update,
            input_end
                .after(AppSystems::Input)
                .before(crate::sim::SimDriveSystems),
        )
        .add_systems(
            Update,
            picture_begin
                .after(crate::sim::SimDriveSystems)
                .before(AppSystems::Picture),
        )
        .add_systems(Update, draw_end.after(AppSystems::Draw))
        .add_systems(Last, count_shapes);
}

fn input_begin(mut s: ResMut<FrameStats>) {
    s.input_from = Some(Instant::now());
}

fn input_end(mut s: ResMut<FrameStats>) {
    let t = s
        .input_from
        .take()
        .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3);
    s.app_ms = t;
    s.sim_from = Some(Instant::now());
}

fn picture_begin(mut s: ResMut<FrameStats>) {
    let sim = s
        .sim_from
        .take()
        .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3);
    s.sim.push(sim);
    s.input_from = Some(Instant::now());
}

fn draw_end(mut s: ResMut<FrameStats>, pm: Res<ParticleMesh>) {
    let t = s
        .input_from
        .take()
        .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3);
    let app = s.app_ms + t;
    s.app.push(app);
    s.particles.push(pm.drawn);
}

/// Records the panels' time of this frame.
pub fn panels_took(s: &mut FrameStats, ms: f64) {
    s.panels.push(ms);
}

fn count_shapes(
    changed: Query<(), Changed<Shape>>,
    mut s: ResMut<FrameStats>,
    time: Res<Time<Real>>,
) {
    if time.elapsed_secs() > 1.0 && !changed.is_empty() {
        s.retessellated += 1;
    }
    if s.app.len().is_multiple_of(60) {
        s.peak_rss_mb = s.peak_rss_mb.max(rss_mb());
    }
}

/// Resident memory now (MB), from /proc.
pub fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_string();
            l.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn mean_p99(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let p99 = s[((s.len() as f64 * 0.99) as usize).min(s.len() - 1)];
    (v.iter().sum::<f64>() / v.len() as f64, p99)
}

impl FrameStats {
    /// The summary, in one paragraph.
    pub fn report(&self) -> String {
        let skip = self.app.len().min(10);
        let (app, app99) = mean_p99(&self.app[skip..]);
        let (ui, ui99) = mean_p99(&self.panels[self.panels.len().min(10)..]);
        let (sim, sim99) = mean_p99(&self.sim[self.sim.len().min(10)..]);
        let n = &self.particles[skip..];
        let parts = n.iter().sum::<usize>() as f64 / n.len().max(1) as f64;
        let most = n.iter().copied().max().unwrap_or(0);
        format!(
            "frames: {} | app systems per frame: mean {app:.2} ms, p99 {app99:.2} ms | panels: mean {ui:.2} ms, p99 {ui99:.2} ms | simulation: mean {sim:.2} ms, p99 {sim99:.2} ms | particles: mean {parts:.0}, most {most} | frames re-tessellating after the first second: {} | peak RSS {:.0} MB",
            self.app.len(),
            self.retessellated,
            self.peak_rss_mb.max(rss_mb())
        )
    }
}
