//! The UI probe, for tests that drive the app with real input (xdotool under the virtual
//! display): with `FLOWLAB_UI_PROBE=FILE` set, the app writes to FILE, every few frames, where
//! each inspector button and each instance tile is on the screen (logical pixels) and what
//! every instance is doing, so a script can click a tile, then a button, and see the result.

use super::state::{Scene, Selection};
use crate::picture::layout::{TILE_H, TILE_W, tile_centre};
use crate::sim::read::view::SimView;
use bevy::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the probe writes, and the buttons the panels drew this frame.
#[derive(Resource, Debug, Default)]
pub struct UiProbe {
    path: PathBuf,
    /// Button text -> screen rectangle (min x, min y, max x, max y).
    pub buttons: BTreeMap<String, [f32; 4]>,
    frame: u64,
}

pub(super) fn plugin(app: &mut App) {
    if let Some(path) = std::env::var_os("FLOWLAB_UI_PROBE") {
        app.insert_resource(UiProbe {
            path: path.into(),
            ..default()
        })
        .add_systems(Last, write_probe);
    }
}

fn write_probe(
    mut probe: ResMut<UiProbe>,
    scene: Res<Scene>,
    selection: Res<Selection>,
    view: SimView,
    camera: Single<(&Camera, &GlobalTransform)>,
    lesson: Option<Res<super::lesson::Presenter>>,
    panels: Res<super::state::Panels>,
    control: Res<crate::sim::SimControl>,
    edits: Res<super::state::Edits>,
    side: Option<Res<super::side_by_side::SideBySide>>,
) {
    probe.frame += 1;
    if !probe.frame.is_multiple_of(5) {
        return;
    }
    let (cam, gt) = *camera;
    let mut tiles = BTreeMap::new();
    let mut states = BTreeMap::new();
    let mut boxes = BTreeMap::new();
    for n in &scene.picture.nodes {
        let (w, h) = (n.size.0 / 2.0, n.size.1 / 2.0);
        let a = cam.world_to_viewport(gt, Vec3::new(n.at.x - w, n.at.y + h, 0.0));
        let b = cam.world_to_viewport(gt, Vec3::new(n.at.x + w, n.at.y - h, 0.0));
        if let (Ok(a), Ok(b)) = (a, b) {
            boxes.insert(n.name.clone(), [a.x, a.y, b.x, b.y]);
        }
        for (k, t) in n.tiles.iter().enumerate() {
            let c = tile_centre(k, n.size.1);
            let (x, y) = (n.at.x + c.x, n.at.y + c.y);
            let a = cam.world_to_viewport(gt, Vec3::new(x - TILE_W / 2.0, y + TILE_H / 2.0, 0.0));
            let b = cam.world_to_viewport(gt, Vec3::new(x + TILE_W / 2.0, y - TILE_H / 2.0, 0.0));
            let name = view
                .instance(t.index)
                .map(|i| i.name.to_string())
                .unwrap_or_default();
            if let (Ok(a), Ok(b)) = (a, b) {
                tiles.insert(name.clone(), [a.x, a.y, b.x, b.y]);
            }
            states.insert(name, format!("{:?}", t.state));
        }
    }
    let json = serde_json::json!({
        "frame": probe.frame,
        "t": view.seconds(),
        "selection": format!("{:?}", *selection),
        "buttons": probe.buttons,
        "tiles": tiles,
        "boxes": boxes,
        "feedback": edits.feedback.as_ref().map(|f| f.1.clone()),
        "draft": edits.draft.is_some(),
        "instances": states,
        "now_ns": view.now(),
        "paused": control.paused,
        "clean": panels.clean,
        "branches": side.filter(|s| s.branches()).map(|s| {
            (s.shadows.iter()).map(|b| serde_json::json!({
                "name": b.name,
                "t": b.now() as f64 / 1e9,
                "in_step": b.in_step,
                "took": b.what_ifs(),
                "parts": b.branch.as_ref().map(|(_, d)| {
                    d.iter().map(|d| format!("{} {}", d.component, d.what)).collect::<Vec<_>>()
                }),
            })).collect::<Vec<_>>()
        }),
        "lesson": lesson.map(|p| serde_json::json!({
            "phase": format!("{:?}", p.phase),
            "step": p.step(),
            "blank": p.blank,
            "goals_done": p.goals.as_ref().map(|g| g.done()),
        })),
    });
    // Written whole under a temporary name, then renamed: a reader never sees half a file.
    let tmp = probe.path.with_extension("tmp");
    if std::fs::write(&tmp, json.to_string()).is_ok() {
        let _ = std::fs::rename(&tmp, &probe.path);
    }
    probe.buttons.clear();
}
