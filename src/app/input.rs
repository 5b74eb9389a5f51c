//! Camera, selection, dragging and the keyboard. The mouse: left click selects (a tile, a
//! box, a link), left drag on a box moves it, Shift+left drag from a box to another (or, while
//! building, a drag from a box's handle on its right edge) connects them, right or middle drag
//! pans, the wheel zooms around the cursor. Keys are listed in the help overlay
//! (`ui::SHORTCUTS`). The gestures that edit the system are left in `Edits` for the panels.

use super::AppSystems;
use super::state::{Edits, Hover, Panels, Scene, Selection, next_speed};
use crate::picture::layout::{Point, TILE_H, TILE_W, inside, tile_centre};
use crate::picture::{Picture, bezier};
use crate::sim::door::command::{CommandQueue, SimCommand};
use crate::sim::flow::link::NodeRef;
use crate::sim::{SimClock, SimControl};
use bevy::input::mouse::{AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;

/// The node being dragged, and where the cursor grabbed it.
#[derive(Default)]
pub struct Drag {
    node: Option<NodeRef>,
    grab: Vec2,
    moved: bool,
    /// A connecting drag: from this box, started at this window point.
    band: Option<(NodeRef, Vec2)>,
}

/// Width of the connecting handle on a box's right edge while building (picture units).
const HANDLE: f32 = 18.0;

/// The keyboard, the pointer and the camera, in that order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InputSystems;

pub(super) fn plugin(app: &mut App) {
    // The edit box's state: its undo and redo keys are read here.
    app.init_resource::<crate::app::state::Edits>();
    app.add_systems(
        Update,
        (keyboard, pointer, fit_on_new_run)
            .chain()
            .in_set(AppSystems::Input)
            .in_set(InputSystems),
    );
}

/// The 2D camera.
pub fn spawn_camera(mut commands: Commands) {
    commands.spawn(Camera2d);
}

fn keyboard(
    keys: Res<ButtonInput<KeyCode>>,
    hover: Res<Hover>,
    mut control: ResMut<SimControl>,
    mut queue: ResMut<CommandQueue>,
    clock: Res<SimClock>,
    mut scene: ResMut<Scene>,
    mut selection: ResMut<Selection>,
    mut panels: ResMut<Panels>,
    mut edits: ResMut<crate::app::state::Edits>,
    timeline: Option<ResMut<crate::sim::timeline::Timeline>>,
    side: Option<Res<crate::app::side_by_side::SideBySide>>,
) {
    if hover.keyboard || panels.presenting {
        return;
    }
    // A comparison's cells are runs of their own: the timeline is for one run.
    if let Some(mut tl) = timeline.filter(|_| side.is_none()) {
        timeline_keys(&keys, clock.now, &mut tl);
    }
    let pressed = |k: KeyCode| keys.just_pressed(k);
    // Held, or let go in the same frame as the Z (a quick chord on a slow frame).
    let held = |a: KeyCode, b: KeyCode| keys.any_pressed([a, b]) || keys.any_just_released([a, b]);
    if held(KeyCode::ControlLeft, KeyCode::ControlRight) && pressed(KeyCode::KeyZ) {
        let shift = held(KeyCode::ShiftLeft, KeyCode::ShiftRight);
        if shift {
            edits.redo = true;
        } else {
            edits.undo = true;
        }
        return;
    }
    if pressed(KeyCode::Space) {
        control.paused = !control.paused;
    }
    if pressed(KeyCode::Period) {
        control.paused = true;
        control.pending_steps += 1;
    }
    if pressed(KeyCode::BracketRight) || pressed(KeyCode::Equal) {
        control.speed = next_speed(control.speed, true);
    }
    if pressed(KeyCode::BracketLeft) || pressed(KeyCode::Minus) {
        control.speed = next_speed(control.speed, false);
    }
    if pressed(KeyCode::KeyR) {
        queue.schedule(clock.now, SimCommand::Reset);
    }
    if pressed(KeyCode::KeyL) {
        panels.reload_requested = true;
    }
    if pressed(KeyCode::KeyC) {
        scene.by_flow = !scene.by_flow;
    }
    if pressed(KeyCode::KeyF) {
        panels.fit_requested = true;
    }
    if pressed(KeyCode::KeyP) {
        panels.screenshot_requested = true;
    }
    if pressed(KeyCode::KeyO) {
        panels.picker = !panels.picker;
    }
    if pressed(KeyCode::KeyH) || pressed(KeyCode::F1) {
        panels.help = !panels.help;
    }
    if pressed(KeyCode::KeyB) {
        edits.building = !edits.building;
    }
    // "What if, from here?": a branch beside the run (refused beside a comparison).
    if pressed(KeyCode::KeyW) && side.as_ref().is_none_or(|s| s.branches()) {
        panels.branch_requested = true;
    }
    if (pressed(KeyCode::Delete) || pressed(KeyCode::Backspace)) && *selection != Selection::System
    {
        edits.delete = Some(*selection);
    }
    if pressed(KeyCode::Escape) {
        *selection = Selection::System;
        panels.help = false;
        panels.picker = false;
    }
}

/// M marks the moment shown; Left and Right show the moment 5 s before or after it (Shift:
/// 30 s), rewinding through the timeline.
fn timeline_keys(
    keys: &ButtonInput<KeyCode>,
    now: crate::sim::schedule::dist::Nanos,
    tl: &mut crate::sim::timeline::Timeline,
) {
    const SEC: u64 = 1_000_000_000;
    if keys.just_pressed(KeyCode::KeyM) {
        tl.bookmark(now);
    }
    // Held, or let go in the same frame as the arrow (a quick chord on a slow frame).
    let shift = [KeyCode::ShiftLeft, KeyCode::ShiftRight];
    let step = if keys.any_pressed(shift) || keys.any_just_released(shift) {
        30 * SEC
    } else {
        5 * SEC
    };
    let from = tl.request.unwrap_or(now);
    let to = if keys.just_pressed(KeyCode::ArrowLeft) {
        Some(from.saturating_sub(step))
    } else if keys.just_pressed(KeyCode::ArrowRight) {
        Some(from + step)
    } else {
        None
    };
    if let Some(t) = to {
        tl.request = Some(t);
    }
}

/// What is under a world point: a tile, a box, a link.
pub fn hit(pic: &Picture, p: Point) -> Option<Selection> {
    for n in pic.nodes.iter().rev() {
        let rel = Point::new(p.x - n.at.x, p.y - n.at.y);
        if !inside(rel, n.size) {
            continue;
        }
        for (k, t) in n.tiles.iter().enumerate() {
            let c = tile_centre(k, n.size.1);
            if inside(Point::new(rel.x - c.x, rel.y - c.y), (TILE_W, TILE_H)) {
                return Some(Selection::Instance(t.index));
            }
        }
        return Some(Selection::Node(n.node));
    }
    let mut best: Option<(f32, u32)> = None;
    for e in &pic.edges {
        for k in 0..=40 {
            let q = bezier(&e.curve, k as f32 / 40.0);
            let d = ((q.x - p.x).powi(2) + (q.y - p.y).powi(2)).sqrt();
            if d < 10.0 + e.width && best.is_none_or(|b| d < b.0) {
                best = Some((d, e.link));
            }
        }
    }
    best.map(|b| Selection::Link(b.1))
}

#[allow(clippy::too_many_arguments)]
fn pointer(
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&Camera, &GlobalTransform, &mut Transform, &mut Projection)>,
    (buttons, keys): (Res<ButtonInput<MouseButton>>, Res<ButtonInput<KeyCode>>),
    scroll: Res<AccumulatedMouseScroll>,
    hover: Res<Hover>,
    mut scene: ResMut<Scene>,
    mut selection: ResMut<Selection>,
    mut panels: ResMut<Panels>,
    mut edits: ResMut<Edits>,
    mut drag: Local<Drag>,
    mut last: Local<Option<Vec2>>,
) {
    if panels.presenting {
        return;
    }
    let (cam, gt, mut tf, mut proj) = camera.into_inner();
    let Projection::Orthographic(ortho) = &mut *proj else {
        return;
    };
    let cursor = window.cursor_position();
    let world = cursor.and_then(|c| cam.viewport_to_world_2d(gt, c).ok());
    // Tested against where the cursor is now, so a click on a panel never reaches the picture.
    let free = hover.picture_has(cursor);
    // Pan with the right or middle button.
    if let (Some(c), Some(prev)) = (cursor, *last)
        && free
        && (buttons.pressed(MouseButton::Right) || buttons.pressed(MouseButton::Middle))
    {
        let d = c - prev;
        tf.translation.x -= d.x * ortho.scale;
        tf.translation.y += d.y * ortho.scale;
        panels.user_framed |= d != Vec2::ZERO;
    }
    *last = cursor;
    if free {
        zoom(&scroll, ortho, &mut tf, world, &mut panels);
    }
    // A palette entry let go over the picture: where it fell, in picture units.
    if let Some((what, at)) = edits.released.take()
        && let Ok(w) = cam.viewport_to_world_2d(gt, at)
    {
        edits.drop = Some((what, (w.x, w.y)));
    }
    edits.ports = if edits.building {
        handles(&scene.picture, |q| {
            cam.world_to_viewport(gt, q.extend(0.0)).ok()
        })
    } else {
        vec![]
    };
    let (Some(w), Some(c)) = (world, cursor) else {
        return;
    };
    let p = Point::new(w.x, w.y);
    let shift = keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]);
    if buttons.just_pressed(MouseButton::Left) && free {
        press(
            &scene,
            &mut selection,
            &mut drag,
            p,
            c,
            (shift, edits.building),
        );
    }
    if buttons.pressed(MouseButton::Left) {
        if let Some((from, start)) = drag.band {
            let over = box_at(&scene.picture, p).filter(|n| *n != from);
            edits.band = Some((start, c, over));
        } else if let Some(n) = drag.node {
            let to = Point::new(p.x - drag.grab.x, p.y - drag.grab.y);
            if to != scene.layout.at(n) {
                scene.layout.set(n, to);
                drag.moved = true;
            }
        }
    }
    if buttons.just_released(MouseButton::Left) {
        if let Some((from, _)) = drag.band.take()
            && let Some(to) = box_at(&scene.picture, p).filter(|n| *n != from)
        {
            edits.connect = Some((from, to));
        }
        edits.band = None;
        if let Some(n) = drag.node.take()
            && drag.moved
        {
            moved(&scene, &mut edits, n);
        }
    }
}

/// The wheel zooms around the cursor (`at`, a picture point).
fn zoom(
    scroll: &AccumulatedMouseScroll,
    ortho: &mut OrthographicProjection,
    tf: &mut Transform,
    at: Option<Vec2>,
    panels: &mut Panels,
) {
    let mut dy = scroll.delta.y;
    if scroll.unit == MouseScrollUnit::Pixel {
        dy /= MouseScrollUnit::SCROLL_UNIT_CONVERSION_FACTOR;
    }
    if dy == 0.0 {
        return;
    }
    let old = ortho.scale;
    let new = (old * (1.0 - 0.1 * dy)).clamp(0.05, 20.0);
    ortho.scale = new;
    panels.user_framed = true;
    if let Some(p) = at {
        let c = tf.translation.truncate();
        tf.translation = (p + (c - p) * (new / old)).extend(tf.translation.z);
    }
}

/// A left press on the picture: select what is under it; on a box, start moving it, or start
/// a connecting drag from it (with Shift anywhere on it; while building, on its handle).
fn press(
    scene: &Scene,
    selection: &mut Selection,
    drag: &mut Drag,
    p: Point,
    cursor: Vec2,
    (shift, building): (bool, bool),
) {
    let target = hit(&scene.picture, p);
    *selection = target.unwrap_or(Selection::System);
    drag.band = None;
    drag.node = match target {
        Some(Selection::Node(_) | Selection::Instance(_)) => box_at(&scene.picture, p),
        _ => None,
    };
    let Some(n) = drag.node else { return };
    let on_handle =
        (scene.picture.nodes.iter()).any(|x| x.node == n && p.x > x.at.x + x.size.0 / 2.0 - HANDLE);
    if shift || (building && on_handle) {
        drag.band = Some((n, cursor));
        drag.node = None;
        return;
    }
    let at = scene.layout.at(n);
    drag.grab = Vec2::new(p.x - at.x, p.y - at.y);
    drag.moved = false;
}

/// The box under a picture point.
fn box_at(pic: &Picture, p: Point) -> Option<NodeRef> {
    (pic.nodes.iter().rev())
        .find(|n| inside(Point::new(p.x - n.at.x, p.y - n.at.y), n.size))
        .map(|n| n.node)
}

/// Where each box's connecting handle sits on the window: the middle of its right edge.
fn handles(pic: &Picture, to_window: impl Fn(Vec2) -> Option<Vec2>) -> Vec<Vec2> {
    (pic.nodes.iter())
        .filter_map(|n| to_window(Vec2::new(n.at.x + n.size.0 / 2.0, n.at.y)))
        .collect()
}

/// A box let go after a move: its new place, kept for the next edit and the saved file.
fn moved(scene: &Scene, edits: &mut Edits, n: NodeRef) {
    let Some(name) = scene
        .picture
        .nodes
        .iter()
        .find(|x| x.node == n)
        .map(|x| x.name.clone())
    else {
        return;
    };
    let at = scene.layout.at(n);
    edits.moved.retain(|m| m.0 != name);
    edits.moved.push((name, (at.x.round(), at.y.round())));
}

/// What the system was last framed for.
#[derive(Default)]
pub struct Framed {
    generation: u64,
    area: [f32; 4],
}

/// Frames the whole system (boxes and every label) in the area the panels leave when a run
/// starts, when `F` is pressed, and when that area changes (the window is resized, a panel
/// folds) until the user pans or zooms.
fn fit_on_new_run(
    scene: Res<Scene>,
    selection: Res<Selection>,
    hover: Res<Hover>,
    mut panels: ResMut<Panels>,
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&mut Transform, &mut Projection), With<Camera2d>>,
    mut framed: Local<Framed>,
) {
    if panels.presenting {
        // The lesson moves the camera (`lesson::stage`).
        framed.generation = scene.generation;
        return;
    }
    if panels.centre_requested {
        // A click in the decision feed: bring what it concerns to the middle.
        panels.centre_requested = false;
        if let Some(p) = centre_of(&scene, *selection) {
            let (mut tf, _) = camera.into_inner();
            tf.translation.x = p.x;
            tf.translation.y = p.y;
        }
        return;
    }
    let (w, h) = (window.width(), window.height());
    let area = if panels.clean {
        use super::state::{CLEAN_BOTTOM, CLEAN_TOP};
        [0.0, CLEAN_TOP, w, h - CLEAN_BOTTOM]
    } else {
        use super::state::{BOTTOM, LEFT, RIGHT, TOP};
        hover.free.unwrap_or([LEFT, TOP, w - RIGHT, h - BOTTOM])
    };
    let new_run = framed.generation != scene.generation;
    if new_run && panels.keep_frame && !panels.fit_requested {
        // The frame is the user's while they build: a panel changing width does not move it.
        panels.keep_frame = false;
        panels.user_framed = true;
        framed.generation = scene.generation;
        return;
    }
    if new_run || panels.fit_requested {
        panels.user_framed = false;
    }
    if !new_run && !panels.fit_requested && (area == framed.area || panels.user_framed) {
        return;
    }
    panels.fit_requested = false;
    // Seen, even when there is nothing to frame (a blank system).
    *framed = Framed {
        generation: scene.generation,
        area,
    };
    use crate::picture::labels::{Rect, bounds};
    // A blank system: room for a few columns of boxes around the origin, where the palette's
    // drops begin.
    let blank = Rect::centred(Point::new(0.0, 0.0), (1100.0, 500.0));
    let b = bounds(&scene.picture.nodes, &scene.picture.labels).unwrap_or(blank);
    let (mut tf, mut proj) = camera.into_inner();
    let Projection::Orthographic(ortho) = &mut *proj else {
        return;
    };
    let f = crate::picture::labels::frame(b, area, (w, h));
    ortho.scale = f.scale;
    tf.translation = Vec3::new(f.centre.x, f.centre.y, tf.translation.z);
}

/// Where the selection is drawn.
fn centre_of(scene: &Scene, selection: Selection) -> Option<Point> {
    let pic = &scene.picture;
    match selection {
        Selection::System => None,
        Selection::Node(n) => pic.nodes.iter().find(|x| x.node == n).map(|x| x.at),
        Selection::Instance(i) => pic
            .nodes
            .iter()
            .find(|x| x.tiles.iter().any(|t| t.index == i))
            .map(|x| x.at),
        Selection::Link(l) => pic.edges.get(l as usize).map(|e| bezier(&e.curve, 0.5)),
    }
}
