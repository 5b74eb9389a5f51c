//! What happened, in the theory's terms: a component's observed figures over a window of
//! metric samples, each with a 95% confidence interval from batch means (the window cut into at
//! most 20 consecutive batches, so the correlation between neighbouring seconds does not make
//! the interval too narrow), and Little's law checked on them.

use super::assess::{Assessment, Verdict};
use crate::sim::read::series::{Metric, Series, SeriesEntity};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

/// Most batches a window is cut into.
const BATCHES: usize = 20;

/// Student's t, 97.5% quantile, for 1 to 19 degrees of freedom.
const T975: [f64; 19] = [
    12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
];

/// A mean and the half-width of its 95% confidence interval (0 with fewer than 2 batches).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// The estimate over the whole window.
    pub mean: f64,
    /// Half-width of the 95% confidence interval.
    pub half: f64,
}

impl Estimate {
    /// True when `x` lies inside the interval.
    pub fn covers(&self, x: f64) -> bool {
        (x - self.mean).abs() <= self.half
    }
}

/// A component's observed figures over a window, in the prediction's terms.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Observed {
    /// Samples in the window.
    pub samples: usize,
    /// Arrivals per second (real).
    pub lambda: Estimate,
    /// Busy workers over the servers.
    pub rho: Estimate,
    /// Share of admitted arrivals that waited.
    pub p_wait: Estimate,
    /// Time-average number waiting.
    pub lq: Estimate,
    /// Time-average number in the component.
    pub l: Estimate,
    /// Mean time in the component of successful departures (ms).
    pub w_ms: Estimate,
    /// Share of arrivals dropped by a full queue.
    pub p_drop: Estimate,
    /// Admitted arrivals per second (real): Little's λ.
    pub admitted: f64,
}

impl Observed {
    /// Little's law: λW (admitted rate × mean time) against the time-average L, as
    /// (λW, relative gap).
    pub fn little(&self) -> (f64, f64) {
        let lw = self.admitted * self.w_ms.mean / 1000.0;
        (lw, (lw - self.l.mean).abs() / self.l.mean.max(1e-12))
    }
}

/// One sample's values of the metrics a window needs.
#[derive(Clone, Copy, Default)]
struct Sample {
    dt: f64,
    arrivals: f64,
    dropped: f64,
    waited: f64,
    served: f64,
    queue: f64,
    busy: f64,
    occupancy: f64,
    latency: f64,
}

impl Sample {
    fn add(&mut self, o: &Sample) {
        self.dt += o.dt;
        self.arrivals += o.arrivals;
        self.dropped += o.dropped;
        self.waited += o.waited;
        self.served += o.served;
        self.queue += o.queue * o.dt;
        self.busy += o.busy * o.dt;
        self.occupancy += o.occupancy * o.dt;
        self.latency += o.latency * o.served;
    }
}

/// Figures of a sum of samples: (λ, ρ, P(wait), Lq, L, W ms, P(drop)).
fn figures(s: &Sample, servers: f64) -> [f64; 7] {
    let per = |x: f64, d: f64| if d > 0.0 { x / d } else { 0.0 };
    let admitted = s.arrivals - s.dropped;
    [
        per(s.arrivals, s.dt),
        per(s.busy, s.dt) / servers.max(1.0),
        per(s.waited, admitted),
        per(s.queue, s.dt),
        per(s.occupancy, s.dt),
        per(s.latency, s.served),
        per(s.dropped, s.arrivals),
    ]
}

/// The samples of component `c` taken at `from_s` or later for which `keep` holds (each one's
/// interval starts at the sample before it).
fn samples(series: &Series, c: u32, from_s: f64, keep: &dyn Fn(f64) -> bool) -> Vec<(f64, Sample)> {
    let e = SeriesEntity::Component(c);
    let get = |m: Metric| -> Vec<(f64, f64)> { series.get(e, m).collect() };
    let cols = [
        Metric::Arrivals,
        Metric::Dropped,
        Metric::Waited,
        Metric::Served,
        Metric::QueueMean,
        Metric::BusyMean,
        Metric::OccupancyMean,
        Metric::LatencyMean,
    ]
    .map(get);
    let n = cols.iter().map(Vec::len).min().unwrap_or(0);
    let mut out = vec![];
    for i in 0..n {
        let t = cols[0][i].0;
        let prev = if i > 0 { cols[0][i - 1].0 } else { 0.0 };
        if t < from_s || i == 0 && from_s > 0.0 || !keep(t) {
            continue;
        }
        let v = |k: usize| cols[k][i].1;
        out.push((
            t,
            Sample {
                dt: t - prev,
                arrivals: v(0),
                dropped: v(1),
                waited: v(2),
                served: v(3),
                queue: v(4),
                busy: v(5),
                occupancy: v(6),
                latency: v(7),
            },
        ));
    }
    out
}

/// Component `c`'s observed figures over its samples from `from_s` on for which `keep` holds,
/// `servers` real workers; `None` with no such sample.
pub fn observe(
    series: &Series,
    c: u32,
    from_s: f64,
    servers: f64,
    keep: &dyn Fn(f64) -> bool,
) -> Option<Observed> {
    let all = samples(series, c, from_s, keep);
    if all.is_empty() {
        return None;
    }
    let mut total = Sample::default();
    for (_, s) in &all {
        total.add(s);
    }
    let whole = figures(&total, servers);
    let b = all.len().min(BATCHES);
    let batches: Vec<[f64; 7]> = (0..b)
        .map(|k| {
            let (lo, hi) = (k * all.len() / b, (k + 1) * all.len() / b);
            let mut sum = Sample::default();
            for (_, s) in &all[lo..hi] {
                sum.add(s);
            }
            figures(&sum, servers)
        })
        .collect();
    let est = |k: usize| {
        let mean = whole[k];
        if b < 2 {
            return Estimate { mean, half: 0.0 };
        }
        let m = batches.iter().map(|x| x[k]).sum::<f64>() / b as f64;
        let var = batches.iter().map(|x| (x[k] - m).powi(2)).sum::<f64>() / (b - 1) as f64;
        Estimate {
            mean,
            half: T975[b - 2] * (var / b as f64).sqrt(),
        }
    };
    Some(Observed {
        samples: all.len(),
        lambda: est(0),
        rho: est(1),
        p_wait: est(2),
        lq: est(3),
        l: est(4),
        w_ms: est(5),
        p_drop: est(6),
        admitted: if total.dt > 0.0 {
            (total.arrivals - total.dropped) / total.dt
        } else {
            0.0
        },
    })
}

/// The system's Little's law over samples from `from_s`: (L, λ generated/s, W ms of completed
/// requests). L is the mean of `in_system` at the sample times, with its batch-means interval.
pub fn system_little(series: &Series, from_s: f64) -> Option<(Estimate, f64, f64)> {
    let e = SeriesEntity::System;
    let pick =
        |m: Metric| -> Vec<(f64, f64)> { series.get(e, m).filter(|x| x.0 >= from_s).collect() };
    let (held, generated, done, lat) = (
        pick(Metric::InSystem),
        pick(Metric::Generated),
        pick(Metric::Completed),
        pick(Metric::LatencyMean),
    );
    let (first, last) = (generated.first()?.0, generated.last()?.0);
    let span = (last - first).max(0.0) + series_step(series);
    let values: Vec<f64> = held.iter().map(|x| x.1).collect();
    let l = batch_mean(&values);
    let lambda = generated.iter().map(|x| x.1).sum::<f64>() / span;
    let served: f64 = done.iter().map(|x| x.1).sum();
    let w = done.iter().zip(&lat).map(|(d, w)| d.1 * w.1).sum::<f64>() / served.max(1.0);
    Some((l, lambda, w))
}

/// The mean of `xs` and its 95% interval from at most `BATCHES` batch means.
pub fn batch_mean(xs: &[f64]) -> Estimate {
    let n = xs.len();
    let mean = xs.iter().sum::<f64>() / n.max(1) as f64;
    let b = n.min(BATCHES);
    if b < 2 {
        return Estimate { mean, half: 0.0 };
    }
    let means: Vec<f64> = (0..b)
        .map(|k| {
            let part = &xs[k * n / b..(k + 1) * n / b];
            part.iter().sum::<f64>() / part.len() as f64
        })
        .collect();
    let m = means.iter().sum::<f64>() / b as f64;
    let var = means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (b - 1) as f64;
    Estimate {
        mean,
        half: T975[b - 2] * (var / b as f64).sqrt(),
    }
}

/// The interval between the system's last two samples (s).
fn series_step(series: &Series) -> f64 {
    let mut t = series
        .get(SeriesEntity::System, Metric::Generated)
        .rev()
        .map(|x| x.0);
    match (t.next(), t.next()) {
        (Some(a), Some(b)) => a - b,
        (Some(a), None) => a,
        _ => 1.0,
    }
}

/// `x ± h`, to three significant figures.
pub fn pm(e: &Estimate) -> String {
    format!("{} ± {}", sig(e.mean), sig(e.half))
}

/// A number to three significant figures, without exponent for everyday sizes.
pub fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    if x.abs() < 1e-3 {
        return format!("{x:.2e}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.digits$}")
}

/// The predicted figures, as the `theory_*` rows of component `c` hold them from `from_s` on:
/// (time, [λ, ρ, P(wait), Lq, L, W ms, P(drop)]) per sample in which the theory applied.
pub fn predicted(series: &Series, c: u32, from_s: f64) -> Vec<(f64, [f64; 7])> {
    let e = SeriesEntity::Component(c);
    let cols = [
        Metric::TheoryLambda,
        Metric::TheoryRho,
        Metric::TheoryPWait,
        Metric::TheoryLq,
        Metric::TheoryL,
        Metric::TheoryWMs,
        Metric::TheoryPDrop,
    ]
    .map(|m| series.get(e, m).collect::<Vec<_>>());
    let n = cols.iter().map(Vec::len).min().unwrap_or(0);
    (0..n)
        .filter(|&i| cols[0][i].0 >= from_s)
        .map(|i| (cols[0][i].0, std::array::from_fn(|k| cols[k][i].1)))
        .collect()
}

/// One component's lines of the table: predicted (the mean of its `theory_*` rows) against
/// observed over the same samples, and Little's law.
fn station_lines(out: &mut String, a: &Assessment, series: &Series, from_s: f64, unit: u64) {
    let c = a.component as u32;
    let rows = predicted(series, c, from_s);
    let times: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let keep = |t: f64| times.binary_search_by(|x| x.total_cmp(&t)).is_ok();
    let servers = (a.servers as u64 * unit) as f64;
    let Some(o) = observe(series, c, from_s, servers, &keep) else {
        return;
    };
    let mean = |k: usize| rows.iter().map(|r| r.1[k]).sum::<f64>() / rows.len() as f64;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec!["", "predicted", "observed"]);
    let obs = [o.lambda, o.rho, o.p_wait, o.lq, o.l, o.w_ms, o.p_drop];
    let labels = [
        "arrivals/s",
        "utilisation ρ",
        "P(wait)",
        "Lq waiting",
        "L in component",
        "W ms",
        "P(drop)",
    ];
    for (k, label) in labels.iter().enumerate() {
        t.add_row(vec![label.to_string(), sig(mean(k)), pm(&obs[k])]);
    }
    out.push_str(&format!(
        "applied in {} samples from t = {} s to {} s\n{t}\n",
        rows.len(),
        sig(times[0]),
        sig(times[times.len() - 1]),
    ));
    let (lw, gap) = o.little();
    out.push_str(&format!(
        "Little's law: L = {}, λW = {}/s × {} ms = {} ({:.1}% apart)\n",
        sig(o.l.mean),
        sig(o.admitted),
        sig(o.w_ms.mean),
        sig(lw),
        gap * 100.0
    ));
}

/// The table `flowlab run --theory` prints: per component, what the theory predicted (while it
/// applied, from `from_s` on) against what was observed over the same samples, and where it
/// does not apply now, why.
pub fn table(
    names: &[String],
    assessed: &[Assessment],
    series: &Series,
    from_s: f64,
    unit: u64,
) -> String {
    let mut out = format!(
        "queueing theory against the run from t = {from_s:.0} s (± a 95% confidence interval, batch means)\n"
    );
    for a in assessed {
        out.push_str(&format!("\n{}: {}", names[a.component], a.model));
        if a.prediction().is_some() {
            let s = if a.servers == 1 { "" } else { "s" };
            out.push_str(&format!(
                " (λ = {}/s, {} server{s}, mean service {} ms)",
                sig(a.lambda),
                a.servers,
                sig(a.service_s * 1000.0)
            ));
        }
        out.push('\n');
        station_lines(&mut out, a, series, from_s, unit);
        match &a.verdict {
            Verdict::Predicts(_) => {}
            Verdict::Unstable { rho } => out.push_str(&format!(
                "now: offered load ρ = {} ≥ 1: no steady state, the queue grows without bound\n",
                sig(*rho)
            )),
            Verdict::Broken(why) => {
                out.push_str("now: the theory does not apply:\n");
                for w in why {
                    out.push_str(&format!("  - {w}\n"));
                }
            }
        }
        for n in &a.notes {
            out.push_str(&format!("note: {n}\n"));
        }
    }
    if let Some((l, lambda, w)) = system_little(series, from_s) {
        out.push_str(&format!(
            "\nsystem: Little's law: L = {} in system (mean of the samples), λW = {}/s × {} ms = {}\n",
            pm(&l),
            sig(lambda),
            sig(w),
            sig(lambda * w / 1000.0)
        ));
    }
    out
}
