//! Colours, glyphs and number formats of the picture: one place, so the app, the screenshots
//! and the tests agree on what a RED database or a binding limit looks like.

use crate::scenario::Kind;
use crate::sim::schedule::states::{BreakerState, HealthBand};

/// A colour in sRGB, 0-1 per channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgba(pub f32, pub f32, pub f32, pub f32);

impl Rgba {
    /// From 8-bit channels.
    pub const fn rgb8(r: u8, g: u8, b: u8) -> Self {
        Rgba(r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0, 1.0)
    }

    /// The same colour with alpha `a`.
    pub const fn alpha(self, a: f32) -> Self {
        Rgba(self.0, self.1, self.2, a)
    }

    /// Linear mix toward `other` by `t` (0: self, 1: other).
    pub fn mix(self, other: Rgba, t: f32) -> Self {
        let t = t.clamp(0.0, 1.0);
        let m = |a: f32, b: f32| a + (b - a) * t;
        Rgba(
            m(self.0, other.0),
            m(self.1, other.1),
            m(self.2, other.2),
            m(self.3, other.3),
        )
    }
}

/// The picture's background.
pub const BACKGROUND: Rgba = Rgba::rgb8(18, 22, 30);
/// Neutral text and outlines.
pub const INK: Rgba = Rgba::rgb8(225, 230, 238);
/// Secondary text.
pub const MUTED: Rgba = Rgba::rgb8(140, 150, 165);
/// A component's body.
pub const BODY: Rgba = Rgba::rgb8(34, 41, 54);
/// A healthy component's border: neutral, so attention goes to what is not healthy.
pub const GREEN: Rgba = Rgba::rgb8(76, 175, 110);
/// YELLOW: stressed.
pub const YELLOW: Rgba = Rgba::rgb8(232, 190, 60);
/// RED: overloaded.
pub const RED: Rgba = Rgba::rgb8(235, 87, 70);
/// CRITICAL: failing.
pub const CRITICAL: Rgba = Rgba::rgb8(200, 40, 160);
/// A crashed or down instance.
pub const DOWN: Rgba = Rgba::rgb8(85, 88, 95);
/// Requests refused at a gate (429/503): magenta, bouncing back.
pub const REFUSED: Rgba = Rgba::rgb8(230, 70, 230);
/// Requests dropped at a full queue.
pub const DROPPED: Rgba = Rgba::rgb8(170, 170, 170);
/// Requests failed (a crash, an instance down).
pub const FAILED: Rgba = Rgba::rgb8(240, 60, 50);
/// Requests the client gave up on.
pub const TIMED_OUT: Rgba = Rgba::rgb8(250, 160, 40);
/// A gate whose limit binds.
pub const BINDING: Rgba = Rgba::rgb8(255, 120, 40);
/// The bottleneck mark under the component the summary names.
pub const BOTTLENECK: Rgba = Rgba::rgb8(196, 110, 255);

/// The colour of a seed 000 status band.
pub fn band_colour(band: HealthBand) -> Rgba {
    match band {
        HealthBand::Green => GREEN,
        HealthBand::Yellow => YELLOW,
        HealthBand::Red => RED,
        HealthBand::Critical => CRITICAL,
    }
}

/// The colour of an aggregated health 0-1 (seed 000's bands 0.8 / 0.5 / 0.3).
pub fn health_colour(h: f64) -> Rgba {
    if h >= 0.8 {
        GREEN
    } else if h >= 0.5 {
        YELLOW
    } else if h >= 0.3 {
        RED
    } else {
        CRITICAL
    }
}

/// The colour of a breaker state (`None` while CLOSED: nothing to draw).
pub fn breaker_colour(state: BreakerState) -> Option<Rgba> {
    match state {
        BreakerState::Closed => None,
        BreakerState::Open => Some(RED),
        BreakerState::HalfOpen => Some(YELLOW),
    }
}

/// Flow colours, by flow index modulo the palette (colour-blind friendly, Okabe-Ito).
pub const FLOWS: [Rgba; 7] = [
    Rgba::rgb8(86, 180, 233),
    Rgba::rgb8(0, 158, 115),
    Rgba::rgb8(240, 228, 66),
    Rgba::rgb8(204, 121, 167),
    Rgba::rgb8(230, 159, 0),
    Rgba::rgb8(0, 114, 178),
    Rgba::rgb8(213, 94, 0),
];

/// Priority colours: CRITICAL, HIGH, MEDIUM, LOW.
pub const PRIORITIES: [Rgba; 4] = [
    Rgba::rgb8(255, 80, 80),
    Rgba::rgb8(255, 180, 60),
    Rgba::rgb8(120, 200, 255),
    Rgba::rgb8(150, 150, 160),
];

/// The glyph drawn for a kind of component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyph {
    /// A fan: one in, many out.
    LoadBalancer,
    /// A box.
    Service,
    /// A box with a lightning mark.
    Cache,
    /// A cylinder.
    Database,
    /// A pipe.
    Queue,
    /// A cloud.
    ExternalApi,
    /// People.
    Clients,
}

impl Glyph {
    /// The glyph of a component kind.
    pub fn of(kind: Kind) -> Self {
        match kind {
            Kind::LoadBalancer => Glyph::LoadBalancer,
            Kind::Service => Glyph::Service,
            Kind::Cache => Glyph::Cache,
            Kind::Database => Glyph::Database,
            Kind::Queue => Glyph::Queue,
            Kind::ExternalApi => Glyph::ExternalApi,
        }
    }

    /// A short tag drawn in the corner.
    pub fn tag(self) -> &'static str {
        match self {
            Glyph::LoadBalancer => "LB",
            Glyph::Service => "SVC",
            Glyph::Cache => "CACHE",
            Glyph::Database => "DB",
            Glyph::Queue => "QUEUE",
            Glyph::ExternalApi => "API",
            Glyph::Clients => "CLIENTS",
        }
    }
}

/// A count or rate in short form: 950, 28.4K, 1.25M.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "-".to_string()
    } else if a >= 9_995_000.0 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 999_500.0 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 99_950.0 {
        format!("{:.0}K", v / 1e3)
    } else if a >= 9_995.0 {
        format!("{:.1}K", v / 1e3)
    } else if a >= 1_000.0 {
        format!("{:.2}K", v / 1e3)
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A count in at most four characters, for small tiles: 950, 3.9K, 39K, 396K, 1.2M.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "-".to_string()
    } else if a < 999.5 {
        format!("{v:.0}")
    } else if a < 9_950.0 {
        format!("{:.1}K", v / 1e3)
    } else if a < 999_500.0 {
        format!("{:.0}K", v / 1e3)
    } else if a < 9_950_000.0 {
        format!("{:.1}M", v / 1e6)
    } else {
        format!("{:.0}M", v / 1e6)
    }
}

/// A rate: "28.4K/s".
pub fn rate(v: f64) -> String {
    format!("{}/s", short(v))
}

/// A duration in ms, with a sensible precision: "0.42 ms", "12 ms", "1.3 s".
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() {
        "-".to_string()
    } else if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_at_a_glance() {
        assert_eq!(rate(28_457.0), "28.5K/s");
        assert_eq!(rate(150_000.0), "150K/s");
        assert_eq!(rate(950.0), "950/s");
        assert_eq!(rate(1_250_000.0), "1.25M/s");
        assert_eq!(short(0.0), "0");
        for (v, want) in [
            (950.0, "950"),
            (3_960.0, "4.0K"),
            (39_600.0, "40K"),
            (1_234_567.0, "1.2M"),
        ] {
            assert_eq!(compact(v), want);
            assert!(compact(v).len() <= 4);
        }
        assert_eq!(millis(0.4234), "0.42 ms");
        assert_eq!(millis(1300.0), "1.3 s");
    }

    #[test]
    fn a_red_component_is_red_and_a_healthy_one_is_not() {
        assert_eq!(band_colour(HealthBand::Red), RED);
        assert_ne!(band_colour(HealthBand::Green), RED);
        assert_eq!(health_colour(0.33), RED);
        assert_eq!(breaker_colour(BreakerState::Closed), None);
        assert_eq!(breaker_colour(BreakerState::Open), Some(RED));
    }
}
