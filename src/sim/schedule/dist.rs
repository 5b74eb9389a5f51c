//! Seeded random streams and the duration distributions of the scenario format.

use crate::scenario::{Shape, Timing};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, LogNormal};

/// Simulation time: integer nanoseconds since the start of the run.
pub type Nanos = u64;

/// Nanoseconds per millisecond.
pub const MS: f64 = 1e6;
/// Nanoseconds per second.
pub const SEC: f64 = 1e9;

/// Rounds a non-negative duration in ns to whole ns (`f64::round` is a library call; this is
/// the hot path). Negative or NaN inputs give 0.
#[inline]
pub fn to_ns(x: f64) -> Nanos {
    (x + 0.5) as Nanos
}

/// What a random stream is used for, so two entities with the same key never share a stream
/// and a what-if that changes one kind of draw (routing, retries, a cache's hits) leaves every
/// other kind of draw where it was.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Stream {
    /// A source's arrival gaps and burst switches.
    Arrivals = 1,
    /// An instance's service times.
    Service = 2,
    /// A link's network latency.
    Latency = 3,
    /// A source's choice of flow and priority class.
    Mix = 4,
    /// Routing: a source's first hop, an instance's next hop, a link's pick of instance.
    Route = 5,
    /// A source's retry jitter.
    Retry = 6,
    /// A link breaker's probabilistic blocking.
    Breaker = 7,
    /// An instance's cache hits and stale answers.
    Cache = 8,
    /// Injected errors (a share of requests failed by a fault).
    Errors = 9,
    /// A queue strategy's chance (random drops, early drops).
    Queue = 10,
}

/// A ChaCha8 stream split off the root seed for one use of one entity: the same seed, use and
/// key always give the same numbers, on every machine. Keys: a source's or link's index; an
/// instance's `instance_key`.
pub fn stream(root: u64, domain: Stream, key: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(root);
    rng.set_stream(((domain as u64) << 48) | (key & ((1 << 48) - 1)));
    rng
}

/// A stream made on first use: a draw-free entity carries 32 bytes instead of a generator, and
/// since a stream always starts from its beginning, when it is made changes no number.
#[derive(Debug, Clone)]
pub struct LazyStream {
    root: u64,
    domain: Stream,
    key: u64,
    rng: Option<Box<ChaCha8Rng>>,
}

impl LazyStream {
    /// The stream of (`root`, `domain`, `key`), not made yet.
    pub fn new(root: u64, domain: Stream, key: u64) -> Self {
        Self {
            root,
            domain,
            key,
            rng: None,
        }
    }

    /// The generator, made now if it was not.
    #[inline]
    pub fn get(&mut self) -> &mut ChaCha8Rng {
        let (root, domain, key) = (self.root, self.domain, self.key);
        self.rng
            .get_or_insert_with(|| Box::new(stream(root, domain, key)))
    }
}

/// The stream key of instance `k` of component `ci`: adding an instance to one component leaves
/// the streams of every other instance as they were.
pub fn instance_key(ci: u32, k: u32) -> u64 {
    ((ci as u64) << 16) | k as u64
}

/// A random duration with a given mean.
#[derive(Debug, Clone)]
pub enum Duration {
    /// Always this many ns.
    Fixed(f64),
    /// Exponential with this mean (ns).
    Exp(f64),
    /// Uniform in [lo, hi) ns.
    Uniform(f64, f64),
    /// Log-normal, already scaled.
    LogNormal(LogNormal<f64>),
}

impl Duration {
    /// Builds the distribution for a mean in ns and a shape.
    pub fn new(mean_ns: f64, shape: Shape) -> Self {
        match shape {
            _ if mean_ns <= 0.0 => Duration::Fixed(0.0),
            Shape::Exponential => Duration::Exp(mean_ns),
            Shape::Deterministic => Duration::Fixed(mean_ns),
            Shape::Uniform { spread } => {
                Duration::Uniform(mean_ns * (1.0 - spread), mean_ns * (1.0 + spread))
            }
            Shape::LogNormal { sigma } => {
                let mu = mean_ns.ln() - sigma * sigma / 2.0;
                match LogNormal::new(mu, sigma) {
                    Ok(d) => Duration::LogNormal(d),
                    Err(_) => Duration::Fixed(mean_ns),
                }
            }
        }
    }

    /// Builds the distribution of a scenario `Timing` (mean in ms).
    pub fn from_timing(t: &Timing) -> Self {
        Self::new(t.mean_ms * MS, t.shape)
    }

    /// Draws one duration in whole nanoseconds.
    #[inline]
    pub fn sample(&self, rng: &mut impl Rng) -> Nanos {
        let x = match self {
            Duration::Fixed(v) => *v,
            Duration::Exp(m) => {
                let e: f64 = Exp1.sample(rng);
                e * m
            }
            Duration::Uniform(lo, hi) => {
                if hi > lo {
                    rng.random_range(*lo..*hi)
                } else {
                    *lo
                }
            }
            Duration::LogNormal(d) => d.sample(rng),
        };
        to_ns(x)
    }

    /// True when every draw is zero.
    pub fn is_zero(&self) -> bool {
        matches!(self, Duration::Fixed(v) if *v <= 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_keeps_its_mean() {
        let shapes = [
            Shape::Exponential,
            Shape::Deterministic,
            Shape::Uniform { spread: 0.5 },
            Shape::LogNormal { sigma: 0.8 },
        ];
        for shape in shapes {
            let d = Duration::new(10.0 * MS, shape);
            let mut rng = stream(7, Stream::Service, 0);
            let n = 200_000;
            let mean = (0..n).map(|_| d.sample(&mut rng) as f64).sum::<f64>() / n as f64;
            assert!(
                (mean / (10.0 * MS) - 1.0).abs() < 0.01,
                "{shape:?}: mean {mean}"
            );
        }
    }

    #[test]
    fn streams_differ_by_entity_and_repeat_by_seed() {
        let a: u64 = stream(1, Stream::Service, 0).random();
        let b: u64 = stream(1, Stream::Service, 1).random();
        let c: u64 = stream(1, Stream::Latency, 0).random();
        let a2: u64 = stream(1, Stream::Service, 0).random();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, a2);
    }
}
