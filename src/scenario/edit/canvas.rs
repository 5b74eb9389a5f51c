//! What the canvas's gestures mean as edits: a box dropped from the palette (a fresh name,
//! where it fell), a drag from one box to another (the link, and the routes that ended at the
//! first box going on to the second), the Delete key (the box, its links, and the routes cut
//! short where they reached it); and a draft made drawable while it is unfinished.

use super::Edit;
use crate::scenario::{CallKind, Hop, Kind, RateSchedule, Scenario};

/// What the palette offers: a client population (a source) or a component of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    /// A traffic source: a population of clients.
    Clients,
    /// A component of this kind.
    Component(Kind),
}

impl Palette {
    /// Every entry, in the palette's order.
    pub const ALL: [Palette; 7] = [
        Palette::Clients,
        Palette::Component(Kind::LoadBalancer),
        Palette::Component(Kind::Service),
        Palette::Component(Kind::Cache),
        Palette::Component(Kind::Database),
        Palette::Component(Kind::Queue),
        Palette::Component(Kind::ExternalApi),
    ];

    /// Its label in the palette.
    pub fn label(self) -> &'static str {
        match self {
            Palette::Clients => "clients",
            Palette::Component(k) => match k {
                Kind::LoadBalancer => "load balancer",
                Kind::Service => "service",
                Kind::Cache => "cache",
                Kind::Database => "database",
                Kind::Queue => "queue",
                Kind::ExternalApi => "external API",
            },
        }
    }

    /// The stem of the names it gives (`lb`, `lb2`...).
    fn stem(self) -> &'static str {
        match self {
            Palette::Clients => "users",
            Palette::Component(k) => match k {
                Kind::LoadBalancer => "lb",
                Kind::Service => "service",
                Kind::Cache => "cache",
                Kind::Database => "db",
                Kind::Queue => "queue",
                Kind::ExternalApi => "api",
            },
        }
    }
}

/// The first of `stem`, `stem2`, `stem3`... that no component or source has.
pub fn fresh_name(s: &Scenario, stem: &str) -> String {
    let taken =
        |n: &str| s.components.iter().any(|c| c.name == n) || s.sources.iter().any(|c| c.name == n);
    (1..)
        .map(|k| {
            if k == 1 {
                stem.to_string()
            } else {
                format!("{stem}{k}")
            }
        })
        .find(|n| !taken(n))
        .unwrap_or_default()
}

/// Dropping `what` at `at` (picture units): one edit adding it there, and its name. A new
/// source sends 100 requests per second once it has a route.
pub fn drop_edit(s: &Scenario, what: Palette, at: (f32, f32)) -> (Edit, String) {
    let name = fresh_name(s, what.stem());
    let add = match what {
        Palette::Clients => Edit::AddSource {
            name: name.clone(),
            rate: 100.0,
        },
        Palette::Component(kind) => Edit::AddComponent {
            name: name.clone(),
            kind,
        },
    };
    // Whole units: the file reads as a person would write it.
    let place = Edit::Move {
        name: name.clone(),
        to: (at.0.round(), at.1.round()),
    };
    (Edit::Many(vec![add, place]), name)
}

/// A route as a file writes it: `[To("lb"),To("web")]`.
fn path_text(path: &[Hop]) -> String {
    ron::to_string(path).unwrap_or_default()
}

/// A drag from `from` to `to`: the link (a synchronous call), and every route that ended at
/// `from` going on to `to`; from a source with no route yet, its first route. With the words
/// saying what the routes now do.
pub fn connect_edit(s: &Scenario, from: &str, to: &str) -> (Edit, Vec<String>) {
    let mut edits = vec![Edit::Connect {
        from: from.to_string(),
        to: to.to_string(),
        call: CallKind::Sync,
    }];
    let mut said = vec![];
    for src in &s.sources {
        if src.name == from && src.flows.is_empty() {
            edits.push(Edit::AddFlow {
                source: from.to_string(),
                name: "request".into(),
                path: vec![to.to_string()],
            });
            said.push(format!("the requests of {from} go to {to}"));
        }
        for (j, f) in src.flows.iter().enumerate() {
            if matches!(f.path.last(), Some(Hop::To(last)) if last == from) {
                let mut path = f.path.clone();
                path.push(Hop::To(to.to_string()));
                edits.push(Edit::Set {
                    target: src.name.clone(),
                    field: format!("flows.{j}.path"),
                    value: path_text(&path),
                });
                said.push(format!("route {}.{} goes on to {to}", src.name, f.name));
            }
        }
    }
    (Edit::Many(edits), said)
}

/// Deleting `name`: the routes reaching it end just before it (a route it starts is removed),
/// then it goes with its links. A route that reaches it any other way (one of several, a
/// feedback or fan-out hop) is left for the edit's refusal to name.
pub fn delete_edit(s: &Scenario, name: &str) -> Edit {
    let mut edits = vec![];
    for src in &s.sources {
        let reaches = |f: &crate::scenario::FlowSpec| {
            f.path
                .iter()
                .position(|h| matches!(h, Hop::To(c) if c == name))
        };
        if !src.flows.iter().any(|f| reaches(f).is_some()) {
            continue;
        }
        let mut flows = src.flows.clone();
        flows.retain_mut(|f| match reaches(f) {
            Some(0) => false,
            Some(k) => {
                f.path.truncate(k);
                true
            }
            None => true,
        });
        edits.push(Edit::Set {
            target: src.name.clone(),
            field: "flows".into(),
            value: ron::to_string(&flows).unwrap_or_default(),
        });
    }
    edits.push(Edit::Remove {
        name: name.to_string(),
    });
    Edit::Many(edits)
}

/// `s` made drawable while unfinished: a source with no route yet sends nothing (rate 0)
/// instead of being refused, so the canvas shows it and a drag can start from it.
pub fn preview(s: &Scenario) -> Scenario {
    let mut p = s.clone();
    for src in &mut p.sources {
        if src.flows.is_empty() {
            src.rate = RateSchedule::Constant(0.0);
        }
    }
    p
}

/// The variants a field of enum type can take (`queue_policy`: DropNewest, DropOldest...),
/// found by asking the reader, whose refusal of an unknown variant lists them; `None` when the
/// field is not an enum. `target` and `field` as in [`Edit::Set`].
pub fn variants(s: &Scenario, target: &str, field: &str) -> Option<Vec<String>> {
    let root = if ["sim", "health", "backpressure"].contains(&target) {
        target.to_string()
    } else if let Some(i) = s.components.iter().position(|c| c.name == target) {
        format!("components.{i}")
    } else if let Some(i) = s.sources.iter().position(|c| c.name == target) {
        format!("sources.{i}")
    } else {
        let (from, to) = target.split_once("->")?;
        let i = s.links.iter().position(|l| l.from == from && l.to == to)?;
        format!("links.{i}")
    };
    super::enum_variants(s, &format!("{root}.{field}"))
}

/// The value that switches `field` of `target` to `variant`: the variant alone (`DropOldest`),
/// with its fields at their defaults (`Gradient()`), or with a first number to change later
/// (`Bounded(100)`), whichever the reader accepts first; `None` when none is.
pub fn variant_value(s: &Scenario, target: &str, field: &str, variant: &str) -> Option<String> {
    let tries = ["", "()", "(100)", "(1.0)", "(0.5)"].map(|tail| format!("{variant}{tail}"));
    tries.into_iter().find(|value| {
        let mut t = s.clone();
        let e = Edit::Set {
            target: target.to_string(),
            field: field.to_string(),
            value: value.clone(),
        };
        super::change(&mut t, &e).is_ok()
    })
}
