//! Where things are drawn: components left to right by depth (sources in the left column,
//! storage at the right), each column centred; a scenario's `layout` fields override, and the
//! app's dragging moves a node. Picture units: about one pixel at zoom 1.

use crate::scenario::Scenario;
use crate::sim::flow::link::NodeRef;
use crate::sim::schedule::topology::Topology;

/// A point in picture units (x right, y up).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    /// Horizontal.
    pub x: f32,
    /// Vertical.
    pub y: f32,
}

impl Point {
    /// A point.
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }
}

/// Horizontal distance between columns.
pub const COLUMN: f32 = 320.0;
/// Width of a component's box.
pub const NODE_W: f32 = 178.0;
/// Height of a component's box without its instance tiles.
pub const NODE_BASE_H: f32 = 92.0;
/// Height of one row of instance tiles.
pub const TILE_ROW_H: f32 = 38.0;
/// Instance tiles per row.
pub const TILES_PER_ROW: usize = 4;
/// Most boxes stacked in one column before it splits into sub-columns.
pub const MAX_PER_COLUMN: usize = 3;
/// Distance between the sub-columns of a split column.
pub const SUB_COLUMN: f32 = NODE_W + 90.0;
/// Gap between boxes in a column.
const GAP: f32 = 60.0;

/// Size of a node's box (w, h) for `instances` instances (0 for a source).
pub fn node_size(instances: usize) -> (f32, f32) {
    let rows = instances.div_ceil(TILES_PER_ROW) as f32;
    (NODE_W, NODE_BASE_H + rows * TILE_ROW_H)
}

/// Node centres.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// Per source, its centre.
    pub sources: Vec<Point>,
    /// Per component, its centre.
    pub components: Vec<Point>,
}

impl Layout {
    /// Left to right by depth, with the scenario's `layout` fields where given.
    pub fn of(topo: &Topology, s: &Scenario) -> Self {
        let depth = depths(topo);
        let columns = depth.iter().copied().max().unwrap_or(0) + 1;
        // Each column's members, top to bottom in scenario order (sources first).
        let mut members: Vec<Vec<(NodeRef, f32)>> = vec![vec![]; columns + 1];
        for i in 0..topo.sources.len() {
            members[0].push((NodeRef::Source(i as u32), node_size(0).1));
        }
        for c in &topo.components {
            let h = node_size(c.instances.len()).1;
            members[depth[c.index as usize] + 1].push((NodeRef::Component(c.index), h));
        }
        let mut out = Layout {
            sources: vec![Point::default(); topo.sources.len()],
            components: vec![Point::default(); topo.components.len()],
        };
        // A column of more than `MAX_PER_COLUMN` boxes is laid out as several sub-columns side
        // by side (members dealt round-robin), and the columns after it move right: a tall
        // column would otherwise shrink the whole picture to fit the window's height.
        let mut x = 0.0;
        for nodes in &members {
            let subs = nodes.len().div_ceil(MAX_PER_COLUMN).max(1);
            for j in 0..subs {
                let sub: Vec<(NodeRef, f32)> =
                    nodes.iter().copied().skip(j).step_by(subs).collect();
                let total: f32 =
                    sub.iter().map(|n| n.1).sum::<f32>() + GAP * sub.len().saturating_sub(1) as f32;
                let mut top = total / 2.0;
                for (node, h) in sub {
                    let p = Point::new(x + j as f32 * SUB_COLUMN, top - h / 2.0);
                    top -= h + GAP;
                    out.set(node, p);
                }
            }
            x += COLUMN + (subs - 1) as f32 * SUB_COLUMN;
        }
        for (i, src) in s.sources.iter().enumerate() {
            if let (Some((x, y)), Some(p)) = (src.layout, out.sources.get_mut(i)) {
                *p = Point::new(x, y);
            }
        }
        for (i, c) in s.components.iter().enumerate() {
            if let (Some((x, y)), Some(p)) = (c.layout, out.components.get_mut(i)) {
                *p = Point::new(x, y);
            }
        }
        out
    }

    /// The centre of `node`.
    pub fn at(&self, node: NodeRef) -> Point {
        match node {
            NodeRef::Source(i) => self.sources.get(i as usize).copied(),
            NodeRef::Component(i) => self.components.get(i as usize).copied(),
        }
        .unwrap_or_default()
    }

    /// Moves `node` to `p` (dragging).
    pub fn set(&mut self, node: NodeRef, p: Point) {
        let slot = match node {
            NodeRef::Source(i) => self.sources.get_mut(i as usize),
            NodeRef::Component(i) => self.components.get_mut(i as usize),
        };
        if let Some(s) = slot {
            *s = p;
        }
    }
}

/// Per component, its depth: 0 for a component fed by a source, else one more than the
/// deepest component that sends to it; a link back (feedback) does not count.
fn depths(topo: &Topology) -> Vec<usize> {
    let mut depth = vec![0usize; topo.components.len()];
    let mut place = vec![0usize; topo.components.len()];
    for (k, &c) in topo.order.iter().enumerate() {
        place[c as usize] = k;
    }
    for &c in &topo.order {
        for &(to, _, _) in &topo.components[c as usize].out {
            if place[to as usize] > place[c as usize] {
                depth[to as usize] = depth[to as usize].max(depth[c as usize] + 1);
            }
        }
    }
    depth
}

/// Width of an instance tile.
pub const TILE_W: f32 = 38.0;
/// Height of an instance tile.
pub const TILE_H: f32 = 32.0;

/// Centre of instance tile `k` relative to the centre of a node box of height `node_h`.
pub fn tile_centre(k: usize, node_h: f32) -> Point {
    let (col, row) = ((k % TILES_PER_ROW) as f32, (k / TILES_PER_ROW) as f32);
    Point::new(
        -NODE_W / 2.0 + 8.0 + TILE_W / 2.0 + col * (TILE_W + 3.0),
        node_h / 2.0 - NODE_BASE_H - TILE_H / 2.0 - row * TILE_ROW_H + 2.0,
    )
}

/// True if `p` (relative to a box's centre) is inside a box of size `(w, h)`.
pub fn inside(p: Point, (w, h): (f32, f32)) -> bool {
    p.x.abs() <= w / 2.0 && p.y.abs() <= h / 2.0
}
