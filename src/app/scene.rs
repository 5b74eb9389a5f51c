//! Draws the picture: a box per component (lyon, restyled only when its status changes) with
//! its instances as tiles and gauges (sprites, resized every frame at no tessellation cost),
//! labels (text), and a curve per link with its gate and breaker badge.

use super::state::{Scene, Selection};
use crate::picture::labels::{self, STRIP_H, px};
use crate::picture::layout::{self, TILE_H, TILE_W, tile_centre};
use crate::picture::style::{self, Glyph, Rgba};
use crate::picture::{EdgePic, GATE_AT, NodePic, TilePic, bezier};
use crate::sim::flow::link::NodeRef;
use crate::sim::read::view::InstanceState;
use bevy::prelude::*;
use bevy::sprite::Anchor;
use bevy::sprite_render::{ColorMaterial, MeshMaterial2d};
use bevy::text::{FontSize, TextColor, TextFont};
use bevy_prototype_lyon::prelude::*;

/// Entities of the drawn scene, by picture index.
#[derive(Resource, Default)]
pub struct Drawn {
    nodes: Vec<NodeParts>,
    edges: Vec<EdgeParts>,
    generation: u64,
}

struct NodeParts {
    root: Entity,
    border: Entity,
    border_mat: Handle<ColorMaterial>,
    width: f32,
    lines: Entity,
    badge: Entity,
    badge_text: Entity,
    mark: Entity,
    mark_text: Entity,
    tiles: Vec<TileParts>,
}

struct TileParts {
    bg: Entity,
    fill: Entity,
    mark: Entity,
    cross: Entity,
    label: Entity,
}

struct EdgeParts {
    curve: Entity,
    curve_mat: Handle<ColorMaterial>,
    width: f32,
    label: Entity,
    gate: Entity,
    gate_text: Entity,
    drawn_from: layout::Point,
    drawn_to: layout::Point,
}

/// Marks every entity of the drawn scene (despawned on a new run).
#[derive(Component)]
pub struct SceneItem;

pub(super) fn colour(c: Rgba) -> Color {
    Color::srgba(c.0, c.1, c.2, c.3)
}

fn text(s: &str, size: f32, c: Rgba) -> impl Bundle {
    (
        Text2d::new(s),
        TextFont {
            font_size: FontSize::Px(size),
            ..default()
        },
        TextColor(colour(c)),
    )
}

fn rect(w: f32, h: f32, c: Rgba) -> Sprite {
    Sprite {
        color: colour(c),
        custom_size: Some(Vec2::new(w, h)),
        ..default()
    }
}

fn rounded(size: (f32, f32)) -> shapes::Rectangle {
    shapes::Rectangle {
        extents: Vec2::new(size.0, size.1),
        origin: shapes::RectangleOrigin::Center,
        radii: Some(shapes::BorderRadii::single(10.0)),
    }
}

/// The box's outline, tessellated white: its colour is its material's, so a change of status
/// recolours it without tessellating again.
fn border_shape(size: (f32, f32), width: f32) -> Shape {
    ShapeBuilder::with(&rounded(size))
        .stroke((Color::WHITE, width))
        .build()
}

/// A link's curve, tessellated white (coloured by its material, like a border).
fn curve_shape(e: &EdgePic, width: f32) -> Shape {
    let v = |p: layout::Point| Vec2::new(p.x, p.y);
    let path = ShapePath::new().move_to(v(e.curve[0])).cubic_bezier_to(
        v(e.curve[1]),
        v(e.curve[2]),
        v(e.curve[3]),
    );
    ShapeBuilder::with(&path)
        .stroke((Color::WHITE, width))
        .build()
}

/// A small drawing of a kind of component, about 22 units across, centred on the origin.
fn glyph_shape(g: Glyph) -> Shape {
    use std::f32::consts::{PI, TAU};
    let v = Vec2::new;
    let circle = |p: ShapePath, c: Vec2, r: f32| p.move_to(c + v(r, 0.0)).arc(c, v(r, r), TAU, 0.0);
    let mut p = ShapePath::new();
    match g {
        Glyph::LoadBalancer => {
            p = circle(p, v(-7.0, 0.0), 3.0);
            for y in [-8.0, 0.0, 8.0] {
                p = p.move_to(v(-4.0, 0.0)).line_to(v(6.0, y));
                p = circle(p, v(8.0, y), 2.0);
            }
        }
        Glyph::Service => {
            p = p.move_to(v(9.0, 0.0));
            for k in 1..=6 {
                let a = k as f32 * TAU / 6.0;
                p = p.line_to(v(9.0 * a.cos(), 9.0 * a.sin()));
            }
            p = circle(p, v(0.0, 0.0), 3.0);
        }
        Glyph::Cache => {
            p = p
                .move_to(v(2.0, 10.0))
                .line_to(v(-5.0, -1.0))
                .line_to(v(0.0, -1.0))
                .line_to(v(-2.0, -10.0))
                .line_to(v(6.0, 2.0))
                .line_to(v(1.0, 2.0))
                .close();
        }
        Glyph::Database => {
            p = p
                .move_to(v(8.0, 6.0))
                .arc(v(0.0, 6.0), v(8.0, 3.0), TAU, 0.0);
            p = p.move_to(v(-8.0, 6.0)).line_to(v(-8.0, -6.0));
            p = p.move_to(v(8.0, 6.0)).line_to(v(8.0, -6.0));
            p = p
                .move_to(v(-8.0, -6.0))
                .arc(v(0.0, -6.0), v(8.0, 3.0), PI, 0.0);
        }
        Glyph::Queue => {
            for y in [-7.0, 0.0, 7.0] {
                p = p
                    .move_to(v(-9.0, y - 2.5))
                    .line_to(v(9.0, y - 2.5))
                    .line_to(v(9.0, y + 2.5))
                    .line_to(v(-9.0, y + 2.5))
                    .close();
            }
        }
        Glyph::ExternalApi => {
            p = circle(p, v(-5.0, -1.0), 4.5);
            p = circle(p, v(1.0, 3.0), 5.5);
            p = circle(p, v(6.0, -1.0), 4.5);
        }
        Glyph::Clients => {
            for x in [-5.0, 5.0] {
                p = circle(p, v(x, 5.0), 3.0);
                p = p
                    .move_to(v(x - 5.0, -8.0))
                    .arc(v(x, -8.0), v(5.0, 6.0), -PI, 0.0);
            }
        }
    }
    ShapeBuilder::with(&p)
        .stroke((colour(style::MUTED.mix(style::INK, 0.4)), 1.8))
        .build()
}

/// Despawns the old scene and spawns the entities of the current picture.
pub fn spawn_scene(
    mut commands: Commands,
    scene: Res<Scene>,
    mut drawn: ResMut<Drawn>,
    mut materials: ResMut<Assets<ColorMaterial>>,
    old: Query<Entity, (With<SceneItem>, Without<ChildOf>)>,
) {
    if drawn.generation == scene.generation && !drawn.nodes.is_empty() {
        return;
    }
    for e in &old {
        commands.entity(e).despawn();
    }
    drawn.nodes = scene
        .picture
        .nodes
        .iter()
        .map(|n| spawn_node(&mut commands, &mut materials, n))
        .collect();
    drawn.edges = scene
        .picture
        .edges
        .iter()
        .map(|e| spawn_edge(&mut commands, &mut materials, e))
        .collect();
    drawn.generation = scene.generation;
}

fn spawn_node(
    commands: &mut Commands,
    materials: &mut Assets<ColorMaterial>,
    n: &NodePic,
) -> NodeParts {
    let (w, h) = n.size;
    let fill = match n.node {
        NodeRef::Source(_) => style::BODY.mix(style::INK, 0.08),
        NodeRef::Component(_) => style::BODY,
    };
    let root = commands
        .spawn((
            SceneItem,
            Transform::from_xyz(n.at.x, n.at.y, 3.0),
            Visibility::default(),
        ))
        .id();
    commands.spawn((
        ShapeBuilder::with(&rounded(n.size))
            .fill(colour(fill))
            .build(),
        ChildOf(root),
    ));
    let border_mat = materials.add(ColorMaterial::from_color(colour(n.border)));
    let border = commands
        .spawn((
            border_shape(n.size, 3.0),
            MeshMaterial2d(border_mat.clone()),
            Transform::from_xyz(0.0, 0.0, 0.05),
            ChildOf(root),
        ))
        .id();
    let top = h / 2.0 - 16.0;
    commands.spawn((
        glyph_shape(n.glyph),
        Transform::from_xyz(-w / 2.0 + 19.0, top, 0.2),
        ChildOf(root),
    ));
    commands.spawn((
        text(&n.name, px::NAME, style::INK),
        Anchor::CENTER_LEFT,
        Transform::from_xyz(-w / 2.0 + labels::NAME_INDENT, top, 0.2),
        ChildOf(root),
    ));
    let lines = commands
        .spawn((
            text("", px::LINES, style::INK),
            Anchor::TOP_LEFT,
            Transform::from_xyz(-w / 2.0 + labels::PAD, h / 2.0 - 30.0, 0.2),
            ChildOf(root),
        ))
        .id();
    // The status badge: a strip as wide as the box, just above it; the bottleneck mark just
    // below it.
    let (badge, badge_text) = spawn_strip(
        commands,
        root,
        h / 2.0 + 2.0 + STRIP_H / 2.0,
        (w, style::GREEN, px::BADGE),
        Visibility::Inherited,
    );
    let (mark, mark_text) = spawn_strip(
        commands,
        root,
        -h / 2.0 - 2.0 - STRIP_H / 2.0,
        (w, style::BOTTLENECK, px::MARK),
        Visibility::Hidden,
    );
    let tiles = (0..n.tiles.len())
        .map(|k| spawn_tile(commands, root, tile_centre(k, h)))
        .collect();
    NodeParts {
        root,
        border,
        border_mat,
        width: 3.0,
        lines,
        badge,
        badge_text,
        mark,
        mark_text,
        tiles,
    }
}

/// A strip of `width` and colour at height `y` of a box, with its text (font size `px`).
fn spawn_strip(
    commands: &mut Commands,
    root: Entity,
    y: f32,
    (width, c, px): (f32, Rgba, f32),
    visible: Visibility,
) -> (Entity, Entity) {
    let strip = commands
        .spawn((
            rect(width, STRIP_H, c),
            Transform::from_xyz(0.0, y, 0.1),
            visible,
            ChildOf(root),
        ))
        .id();
    let label = commands
        .spawn((
            text("", px, style::BACKGROUND),
            Transform::from_xyz(0.0, y, 0.2),
            ChildOf(root),
        ))
        .id();
    (strip, label)
}

fn spawn_tile(commands: &mut Commands, root: Entity, c: layout::Point) -> TileParts {
    let bg = commands
        .spawn((
            rect(TILE_W, TILE_H, style::DOWN),
            Transform::from_xyz(c.x, c.y, 0.1),
            ChildOf(root),
        ))
        .id();
    let fill = commands
        .spawn((
            rect(TILE_W - 4.0, 6.0, style::INK),
            Anchor::CENTER_LEFT,
            Transform::from_xyz(c.x - TILE_W / 2.0 + 2.0, c.y - TILE_H / 2.0 + 5.0, 0.2),
            ChildOf(root),
        ))
        .id();
    let mark = commands
        .spawn((
            rect(2.0, 10.0, style::INK),
            Transform::from_xyz(c.x + TILE_W / 2.0 - 2.0, c.y - TILE_H / 2.0 + 5.0, 0.25),
            ChildOf(root),
        ))
        .id();
    let cross = commands
        .spawn((
            // Behind the countdown, faded, so both read.
            text("X", 30.0, style::RED.alpha(0.5)),
            Transform::from_xyz(c.x, c.y + 2.0, 0.25),
            Visibility::Hidden,
            ChildOf(root),
        ))
        .id();
    let label = commands
        .spawn((
            text("", px::TILE, style::BACKGROUND),
            Transform::from_xyz(c.x, c.y + 5.0, 0.3),
            ChildOf(root),
        ))
        .id();
    TileParts {
        bg,
        fill,
        mark,
        cross,
        label,
    }
}

fn spawn_edge(
    commands: &mut Commands,
    materials: &mut Assets<ColorMaterial>,
    e: &EdgePic,
) -> EdgeParts {
    let curve_mat = materials.add(ColorMaterial::from_color(colour(e.colour)));
    let curve = commands
        .spawn((
            SceneItem,
            curve_shape(e, e.width),
            MeshMaterial2d(curve_mat.clone()),
            Transform::from_xyz(0.0, 0.0, 0.0),
        ))
        .id();
    let mid = bezier(&e.curve, 0.5);
    let label = commands
        .spawn((
            SceneItem,
            text("", px::EDGE, style::INK),
            Transform::from_xyz(mid.x, mid.y + 14.0, 5.0),
        ))
        .id();
    let g = bezier(&e.curve, GATE_AT);
    let gate = commands
        .spawn((
            SceneItem,
            rect(6.0, 34.0, style::YELLOW),
            Transform::from_xyz(g.x, g.y, 1.0),
        ))
        .id();
    let gate_text = commands
        .spawn((
            SceneItem,
            text("", px::GATE, style::YELLOW),
            Transform::from_xyz(g.x, g.y + 30.0, 5.0),
        ))
        .id();
    EdgeParts {
        curve,
        curve_mat,
        width: e.width,
        label,
        gate,
        gate_text,
        drawn_from: e.curve[0],
        drawn_to: e.curve[3],
    }
}

/// Brings the drawn scene to the current picture.
#[allow(clippy::type_complexity)]
pub fn update_scene(
    scene: Res<Scene>,
    selection: Res<Selection>,
    mut drawn: ResMut<Drawn>,
    mut materials: ResMut<Assets<ColorMaterial>>,
    mut transforms: Query<&mut Transform>,
    mut shapes: Query<&mut Shape>,
    mut sprites: Query<(&mut Sprite, &mut Visibility), Without<Text2d>>,
    mut texts: Query<(&mut Text2d, &mut TextColor, &mut Visibility), Without<Sprite>>,
) {
    if drawn.generation != scene.generation {
        return;
    }
    let pic = &scene.picture;
    let drawn = &mut *drawn;
    for (n, parts) in pic.nodes.iter().zip(drawn.nodes.iter_mut()) {
        let selected = *selection == Selection::Node(n.node);
        if let Ok(mut t) = transforms.get_mut(parts.root) {
            t.translation.x = n.at.x;
            t.translation.y = n.at.y;
        }
        let width = if selected { 6.0 } else { 3.0 };
        if parts.width != width
            && let Ok(mut s) = shapes.get_mut(parts.border)
        {
            *s = border_shape(n.size, width);
            parts.width = width;
        }
        recolour(&mut materials, &parts.border_mat, n.border);
        set_text(&mut texts, parts.lines, &n.lines.join("\n"), None);
        match n.badge {
            Some((band, _)) => {
                if let Ok((mut s, mut v)) = sprites.get_mut(parts.badge) {
                    s.color = colour(style::band_colour(band));
                    *v = Visibility::Inherited;
                }
                set_text(
                    &mut texts,
                    parts.badge_text,
                    &n.badge_text,
                    Some(style::BACKGROUND),
                );
            }
            None => {
                if let Ok((_, mut v)) = sprites.get_mut(parts.badge) {
                    *v = Visibility::Hidden;
                }
            }
        }
        if let Ok((_, mut v)) = sprites.get_mut(parts.mark) {
            show(&mut v, n.bottleneck.is_some());
        }
        set_text(
            &mut texts,
            parts.mark_text,
            n.bottleneck.as_deref().unwrap_or(""),
            None,
        );
        for (tile, tp) in n.tiles.iter().zip(&parts.tiles) {
            update_tile(tile, tp, &mut sprites, &mut texts, *selection);
        }
    }
    for (e, parts) in pic.edges.iter().zip(drawn.edges.iter_mut()) {
        recolour(&mut materials, &parts.curve_mat, edge_colour(e, *selection));
        update_edge(
            e,
            parts,
            *selection,
            &mut shapes,
            &mut sprites,
            &mut texts,
            &mut transforms,
        );
    }
}

/// Sets a material's colour if it differs (a material marked changed is uploaded again).
fn recolour(materials: &mut Assets<ColorMaterial>, h: &Handle<ColorMaterial>, c: Rgba) {
    let c = colour(c);
    if materials.get(h).is_some_and(|m| m.color != c)
        && let Some(mut m) = materials.get_mut(h)
    {
        m.color = c;
    }
}

fn edge_colour(e: &EdgePic, selection: Selection) -> Rgba {
    if selection == Selection::Link(e.link) {
        e.colour.mix(style::INK, 0.6)
    } else {
        e.colour
    }
}

fn set_text(
    texts: &mut Query<(&mut Text2d, &mut TextColor, &mut Visibility), Without<Sprite>>,
    e: Entity,
    s: &str,
    c: Option<Rgba>,
) {
    if let Ok((mut t, mut tc, _)) = texts.get_mut(e) {
        if t.0 != s {
            t.0 = s.to_string();
        }
        if let Some(c) = c {
            let c = colour(c);
            if tc.0 != c {
                tc.0 = c;
            }
        }
    }
}

fn show(v: &mut Visibility, on: bool) {
    let want = if on {
        Visibility::Inherited
    } else {
        Visibility::Hidden
    };
    if *v != want {
        *v = want;
    }
}

fn update_tile(
    tile: &TilePic,
    tp: &TileParts,
    sprites: &mut Query<(&mut Sprite, &mut Visibility), Without<Text2d>>,
    texts: &mut Query<(&mut Text2d, &mut TextColor, &mut Visibility), Without<Sprite>>,
    selection: Selection,
) {
    let selected = selection == Selection::Instance(tile.index);
    if let Ok((mut s, _)) = sprites.get_mut(tp.bg) {
        let c = if selected {
            tile.colour.mix(style::INK, 0.45)
        } else {
            tile.colour
        };
        s.color = colour(c);
    }
    let down = matches!(tile.state, InstanceState::Down | InstanceState::Spare);
    // The queue gauge: length against capacity; an unbounded queue grows without a mark
    // (its bar reads the length on a log scale).
    let fill = match tile.queue_fill {
        Some(f) => f.clamp(0.0, 1.0),
        None => ((1.0 + tile.queued as f32).log10() / 6.0).min(1.0),
    };
    if let Ok((mut s, mut v)) = sprites.get_mut(tp.fill) {
        s.custom_size = Some(Vec2::new((TILE_W - 4.0) * fill.max(0.02), 6.0));
        let c = if fill >= 0.9 {
            style::RED
        } else if fill >= 0.5 {
            style::YELLOW
        } else {
            style::INK
        };
        s.color = colour(c);
        show(&mut v, !down);
    }
    if let Ok((_, mut v)) = sprites.get_mut(tp.mark) {
        show(&mut v, tile.queue_fill.is_some() && !down);
    }
    if let Ok((_, _, mut v)) = texts.get_mut(tp.cross) {
        show(&mut v, tile.state == InstanceState::Down);
    }
    // On a down tile's grey the countdown is light, over the faded X.
    let ink = if down { style::INK } else { style::BACKGROUND };
    set_text(texts, tp.label, &tile.label, Some(ink));
}

fn update_edge(
    e: &EdgePic,
    parts: &mut EdgeParts,
    selection: Selection,
    shapes: &mut Query<&mut Shape>,
    sprites: &mut Query<(&mut Sprite, &mut Visibility), Without<Text2d>>,
    texts: &mut Query<(&mut Text2d, &mut TextColor, &mut Visibility), Without<Sprite>>,
    transforms: &mut Query<&mut Transform>,
) {
    let selected = selection == Selection::Link(e.link);
    // Widths in whole-pixel steps, so a rate that wobbles does not re-tessellate every frame.
    // A width that wobbles with the measured rate re-tessellates only when it has moved by a
    // whole pixel or more (hysteresis), or when the link is selected or moved.
    let want = e.width + if selected { 3.0 } else { 0.0 };
    let width = if (want - parts.width).abs() >= 1.0 {
        want.round()
    } else {
        parts.width
    };
    // The curve moved (a box was dragged): its ends are no longer where they were drawn.
    let moved = transforms
        .get(parts.curve)
        .is_ok_and(|_| parts.drawn_from != e.curve[0] || parts.drawn_to != e.curve[3]);
    if (parts.width != width || moved)
        && let Ok(mut s) = shapes.get_mut(parts.curve)
    {
        *s = curve_shape(e, width);
        parts.width = width;
        (parts.drawn_from, parts.drawn_to) = (e.curve[0], e.curve[3]);
    }
    let gate_at = bezier(&e.curve, GATE_AT);
    let gate = e.gate.as_ref();
    let text_at = gate.map_or(gate_at, |g| g.text_at);
    for (ent, at, z) in [
        (parts.label, e.label_at, 5.0),
        (parts.gate, gate_at, 1.0),
        (parts.gate_text, text_at, 5.0),
    ] {
        if let Ok(mut t) = transforms.get_mut(ent) {
            t.translation = Vec3::new(at.x, at.y, z);
        }
    }
    set_text(texts, parts.label, &e.label, None);
    let limited = gate.is_some_and(|g| !g.text.is_empty());
    if let Ok((mut s, mut v)) = sprites.get_mut(parts.gate) {
        let binding = gate.is_some_and(|g| g.binding);
        let strongest = gate.is_some_and(|g| g.strongest);
        s.color = colour(if binding {
            style::BINDING
        } else {
            style::YELLOW
        });
        let w = match (binding, strongest) {
            (_, true) => 14.0,
            (true, _) => 9.0,
            _ => 5.0,
        };
        s.custom_size = Some(Vec2::new(w, if strongest { 44.0 } else { 34.0 }));
        show(&mut v, limited);
    }
    let (label, c) = gate.map_or((String::new(), style::YELLOW), |g| (g.label(), g.colour()));
    set_text(texts, parts.gate_text, &label, Some(c));
}

/// The veil a lesson's spotlight draws over what it does not emphasise.
#[derive(Component)]
pub struct Veil;

/// Spawns the veil, hidden: a sheet of the background colour between the scene and what is
/// lifted above it.
pub fn spawn_veil(mut commands: Commands) {
    commands.spawn((
        Veil,
        rect(1.0e6, 1.0e6, style::BACKGROUND.alpha(0.78)),
        Transform::from_xyz(0.0, 0.0, 6.0),
        Visibility::Hidden,
    ));
}

/// A lesson's spotlight: the boxes and links it names are lifted above the veil, the rest stay
/// under it, dimmed. With nothing named the veil is hidden and every depth is as drawn.
pub fn spotlight(
    light: Res<super::state::Spotlight>,
    scene: Res<Scene>,
    drawn: Res<Drawn>,
    mut veil: Query<&mut Visibility, With<Veil>>,
    mut transforms: Query<&mut Transform, Without<Veil>>,
    children: Query<&Children>,
    mut shapes: Query<&mut Shape>,
) {
    let on = !light.nodes.is_empty() || !light.links.is_empty();
    for mut v in &mut veil {
        show(&mut v, on);
    }
    if drawn.generation != scene.generation {
        return;
    }
    let mut set_z = |e: Entity, z: f32| {
        if let Ok(mut t) = transforms.get_mut(e)
            && t.translation.z != z
        {
            t.translation.z = z;
            // Its shapes are drawn again at the new depth: left alone, a box's fill and glyph
            // kept the old one, and the fill hid its texts when it went back under the veil.
            for c in std::iter::once(e).chain(children.iter_descendants(e)) {
                if let Ok(mut s) = shapes.get_mut(c) {
                    s.set_changed();
                }
            }
        }
    };
    for (n, parts) in scene.picture.nodes.iter().zip(&drawn.nodes) {
        let lifted = on && light.nodes.contains(&n.node);
        set_z(parts.root, if lifted { 7.0 } else { 3.0 });
    }
    for (e, parts) in scene.picture.edges.iter().zip(&drawn.edges) {
        let up = if on && light.links.contains(&e.link) {
            6.2
        } else {
            0.0
        };
        set_z(parts.curve, up);
        set_z(parts.gate, 1.0 + up);
        set_z(parts.label, 5.0 + up.min(2.5));
        set_z(parts.gate_text, 5.0 + up.min(2.5));
    }
}
