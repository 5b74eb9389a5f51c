//! Camera, selection, dragging and the keyboard. The mouse: left click selects (a tile, a
//! box, a link), left drag on a box moves it, right or middle drag pans, the wheel zooms
//! around the cursor. Keys are listed in the help overlay (`ui::SHORTCUTS`).

use super::AppSystems;
use super::state::{Hover, Panels, Scene, Selection, next_speed};
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
}

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
) {
    if hover.keyboard || panels.presenting {
        return;
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
    if pressed(KeyCode::Escape) {
        *selection = Selection::System;
        panels.help = false;
        panels.picker = false;
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
    buttons: Res<ButtonInput<MouseButton>>,
    scroll: Res<AccumulatedMouseScroll>,
    hover: Res<Hover>,
    mut scene: ResMut<Scene>,
    mut selection: ResMut<Selection>,
    mut panels: ResMut<Panels>,
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
    // Zoom around the cursor.
    let mut dy = scroll.delta.y;
    if scroll.unit == MouseScrollUnit::Pixel {
        dy /= MouseScrollUnit::SCROLL_UNIT_CONVERSION_FACTOR;
    }
    if dy != 0.0 && free {
        let old = ortho.scale;
        let new = (old * (1.0 - 0.1 * dy)).clamp(0.05, 20.0);
        ortho.scale = new;
        panels.user_framed = true;
        if let Some(p) = world {
            let c = tf.translation.truncate();
            tf.translation = (p + (c - p) * (new / old)).extend(tf.translation.z);
        }
    }
    let Some(w) = world else { return };
    let p = Point::new(w.x, w.y);
    if buttons.just_pressed(MouseButton::Left) && free {
        let target = hit(&scene.picture, p);
        *selection = target.unwrap_or(Selection::System);
        drag.node = match target {
            Some(Selection::Node(n)) => Some(n),
            Some(Selection::Instance(i)) => scene
                .picture
                .nodes
                .iter()
                .find(|n| n.tiles.iter().any(|t| t.index == i))
                .map(|n| n.node),
            _ => None,
        };
        if let Some(n) = drag.node {
            let at = scene.layout.at(n);
            drag.grab = Vec2::new(p.x - at.x, p.y - at.y);
            drag.moved = false;
        }
    }
    if buttons.pressed(MouseButton::Left)
        && let Some(n) = drag.node
    {
        let to = Point::new(p.x - drag.grab.x, p.y - drag.grab.y);
        if to != scene.layout.at(n) {
            scene.layout.set(n, to);
            drag.moved = true;
        }
    }
    if buttons.just_released(MouseButton::Left) {
        drag.node = None;
    }
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
    if new_run || panels.fit_requested {
        panels.user_framed = false;
    }
    if !new_run && !panels.fit_requested && (area == framed.area || panels.user_framed) {
        return;
    }
    panels.fit_requested = false;
    let Some(b) = crate::picture::labels::bounds(&scene.picture.nodes, &scene.picture.labels)
    else {
        return;
    };
    *framed = Framed {
        generation: scene.generation,
        area,
    };
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
