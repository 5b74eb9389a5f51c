//! Particles and loss markers, drawn as one mesh of coloured quads rewritten every frame (one
//! draw call, no entity per particle). Requests are squares, responses diamonds, errors larger
//! red diamonds, retries outlined squares, refusals magenta squares bouncing back from the
//! gate; a drop is a grey burst at the instance, a failure a red cross, a time-out an amber
//! ring at the client.

use super::scene::colour;
use super::state::Scene;
use crate::picture::layout::{Point, node_size, tile_centre};
use crate::picture::particles::{Kind, MarkerKind};
use crate::picture::style::{self, Rgba};
use crate::picture::{GATE_AT, bezier};
use crate::sim::flow::link::NodeRef;
use crate::sim::read::view::SimView;
use crate::sim::schedule::dist::Nanos;
use bevy::asset::RenderAssetUsages;
use bevy::camera::visibility::NoFrustumCulling;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::sprite_render::{ColorMaterial, MeshMaterial2d};

/// Most quads drawn (particles and marker parts).
pub const MAX_QUADS: usize = 60_000;

/// The particle mesh, and how many particles the last frame drew.
#[derive(Resource)]
pub struct ParticleMesh {
    handle: Handle<Mesh>,
    /// Particles drawn in the last frame.
    pub drawn: usize,
    /// Quads the buffers hold.
    capacity: usize,
}

fn empty_mesh() -> Mesh {
    let mut mesh = Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    );
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, Vec::<[f32; 3]>::new());
    mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, Vec::<[f32; 4]>::new());
    mesh.insert_indices(Indices::U32(vec![]));
    mesh
}

/// Spawns the particle layer (once).
pub fn setup_particles(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
) {
    let handle = meshes.add(empty_mesh());
    commands.spawn((
        Mesh2d(handle.clone()),
        MeshMaterial2d(materials.add(ColorMaterial::default())),
        Transform::from_xyz(0.0, 0.0, 2.0),
        NoFrustumCulling,
    ));
    commands.insert_resource(ParticleMesh {
        handle,
        drawn: 0,
        capacity: 0,
    });
}

/// Quads being collected for this frame.
#[derive(Default)]
struct Quads {
    pos: Vec<[f32; 3]>,
    col: Vec<[f32; 4]>,
}

impl Quads {
    fn full(&self) -> bool {
        self.pos.len() / 4 >= MAX_QUADS
    }

    /// A `w` x `h` quad at `c`, turned by `angle` radians.
    fn quad(&mut self, c: Point, w: f32, h: f32, angle: f32, rgba: Rgba) {
        if self.full() {
            return;
        }
        let (s, co) = angle.sin_cos();
        let (hw, hh) = (w / 2.0, h / 2.0);
        for (x, y) in [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)] {
            self.pos
                .push([c.x + x * co - y * s, c.y + x * s + y * co, 0.0]);
        }
        let lin = colour(rgba).to_linear().to_f32_array();
        self.col.extend([lin; 4]);
    }
}

fn kind_style(kind: Kind, base: Rgba) -> (f32, f32, Rgba) {
    // (size, angle, colour)
    let diamond = std::f32::consts::FRAC_PI_4;
    match kind {
        Kind::Request => (7.0, 0.0, base),
        Kind::Retry => (8.0, 0.0, base.mix(style::INK, 0.5)),
        Kind::Response => (7.0, diamond, base.mix(style::BACKGROUND, 0.35)),
        Kind::Error => (12.0, diamond, style::FAILED),
        Kind::Refused => (9.0, 0.0, style::REFUSED),
    }
}

/// Where along its link's curve a particle is drawn at `now` (0 at the sender, 1 at the
/// receiver): requests run forward, responses back, a refusal turns back at the gate.
pub fn along(p: &crate::picture::particles::Particle, now: Nanos) -> f32 {
    let t = p.progress(now);
    match p.kind {
        Kind::Request | Kind::Retry => t,
        Kind::Response | Kind::Error => 1.0 - t,
        Kind::Refused => GATE_AT * (1.0 - t),
    }
}

/// Rewrites the particle mesh from the particle model at the simulation's time.
pub fn draw_particles(
    view: SimView,
    scene: Res<Scene>,
    mut pm: ResMut<ParticleMesh>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let now = view.now();
    let mut q = Quads::default();
    let edges = &scene.picture.edges;
    let particles = scene.particles.visible(&view);
    let mut drawn = 0;
    for p in &particles {
        let Some(e) = edges.get(p.link as usize) else {
            continue;
        };
        let at = along(p, now);
        let base = if scene.by_flow {
            style::FLOWS[p.flow as usize % style::FLOWS.len()]
        } else {
            style::PRIORITIES[(p.priority as usize).min(3)]
        };
        let (size, angle, c) = kind_style(p.kind, base);
        let pos = bezier(&e.curve, at);
        if p.kind == Kind::Retry {
            q.quad(pos, size + 4.0, size + 4.0, angle, style::INK);
        }
        q.quad(pos, size, size, angle, c);
        drawn += 1;
    }
    draw_markers(&scene, now, &mut q);
    pm.drawn = drawn;
    let Some(mut mesh) = meshes.get_mut(&pm.handle) else {
        return;
    };
    // The buffers only grow, in powers of two, so their size rarely changes; unused quads
    // collapse to a point.
    let n = q.pos.len() / 4;
    let capacity = n.next_power_of_two().max(1024);
    if capacity > pm.capacity {
        pm.capacity = capacity;
        let indices: Vec<u32> = (0..capacity as u32)
            .flat_map(|i| {
                let b = i * 4;
                [b, b + 1, b + 2, b, b + 2, b + 3]
            })
            .collect();
        mesh.insert_indices(Indices::U32(indices));
    }
    let (mut pos, mut col) = (q.pos, q.col);
    pos.resize(pm.capacity * 4, [0.0; 3]);
    col.resize(pm.capacity * 4, [0.0; 4]);
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, pos);
    mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, col);
}

/// Where a marker sits: an instance's tile, or a client's right edge.
fn marker_at(scene: &Scene, at: NodeRef, instance: u32) -> Option<Point> {
    let node = scene.picture.nodes.iter().find(|n| n.node == at)?;
    Some(match at {
        NodeRef::Component(_) => {
            let t = tile_centre(instance as usize, node.size.1);
            Point::new(node.at.x + t.x, node.at.y + t.y)
        }
        NodeRef::Source(_) => Point::new(node.at.x + node_size(0).0 / 2.0, node.at.y),
    })
}

fn draw_markers(scene: &Scene, now: Nanos, q: &mut Quads) {
    for m in &scene.particles.markers {
        let Some(c) = marker_at(scene, m.at, m.instance) else {
            continue;
        };
        let age = (now.saturating_sub(m.born) as f32 / m.life.max(1) as f32).clamp(0.0, 1.0);
        let fade = 1.0 - age;
        // Bigger for more requests lost at once.
        let size = 10.0 + 4.0 * (m.count as f32).log10().max(0.0);
        match m.kind {
            MarkerKind::Failed => {
                let c2 = style::FAILED.alpha(fade);
                q.quad(c, size * 1.6, 3.0, 0.785, c2);
                q.quad(c, size * 1.6, 3.0, -0.785, c2);
            }
            MarkerKind::Dropped => {
                // A burst: eight fragments flying apart from the tile, past its edges.
                let r = 8.0 + 28.0 * age;
                for k in 0..8 {
                    let a = k as f32 * std::f32::consts::FRAC_PI_4 + 0.4;
                    let p = Point::new(c.x + r * a.cos(), c.y + r * a.sin());
                    q.quad(p, 7.0, 7.0, a, style::DROPPED.alpha(fade));
                }
            }
            MarkerKind::TimedOut => {
                // An amber ring, at least 12 across, widening at the client.
                let r = (size * (0.8 + age)).max(12.0);
                for k in 0..16 {
                    let a = k as f32 * std::f32::consts::FRAC_PI_8;
                    let p = Point::new(c.x + r * a.cos(), c.y + r * a.sin());
                    q.quad(
                        p,
                        5.0,
                        3.0,
                        a + std::f32::consts::FRAC_PI_2,
                        style::TIMED_OUT.alpha(fade),
                    );
                }
            }
        }
    }
}
