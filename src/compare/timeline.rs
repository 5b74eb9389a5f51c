//! The time-line plot: at the comparison's highest load, goodput (top; the work done after
//! asynchronous hand-offs when the runs had some) and requests held (bottom) over the whole run, warm-up included, one line per variant (the mean over the
//! seeds), with the spike's span shaded when there is one.

use super::plot::COLOURS;
use super::{Figures, Report, SLICES};
use crate::files;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Writes timeline.{svg,png} into `dir` (after `plot::plots`, which registers the font).
pub(super) fn plots(r: &Report, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let svg = dir.join("timeline.svg");
    let png = dir.join("timeline.png");
    let (svg_t, png_t) = (files::temporary(&svg), files::temporary(&png));
    {
        let area = SVGBackend::new(&svg_t, (960, 760)).into_drawing_area();
        draw(r, &area).map_err(|e| e.to_string())?;
        area.present().map_err(|e| e.to_string())?;
    }
    {
        let area = BitMapBackend::new(&png_t, (960, 760)).into_drawing_area();
        draw(r, &area).map_err(|e| e.to_string())?;
        area.present().map_err(|e| e.to_string())?;
    }
    files::rename_into_place(&svg_t, &svg)?;
    files::rename_into_place(&png_t, &png)?;
    Ok(vec![svg, png])
}

type Slices = fn(&Figures) -> [f64; SLICES];

fn draw<DB: DrawingBackend>(
    r: &Report,
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    area.fill(&WHITE)?;
    let load = r.c.highest_load();
    let title = format!("{} (at {}x)", r.c.question, r.c.loads[load]);
    let area = area.titled(&title, ("sans-serif", 22))?;
    let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 / 2);
    // A comparison of work handed off shows the work done; its clients were all answered.
    let work = r.figures.iter().any(|f| f.work_lost.is_finite());
    let panels: [(_, &str, Slices); 2] = [
        if work {
            (top, "work done after the hand-off (per s)", |f| f.work_t)
        } else {
            (top, "goodput (requests/s)", |f| f.goodput_t)
        },
        (bottom, "requests held", |f| f.held_t),
    ];
    for (i, (panel, y_label, slices)) in panels.into_iter().enumerate() {
        panel_draw(r, &panel, load, y_label, slices, i == 0)?;
    }
    area.present()
}

fn panel_draw<DB: DrawingBackend>(
    r: &Report,
    area: &DrawingArea<DB, plotters::coord::Shift>,
    load: usize,
    y_label: &str,
    slices: Slices,
    legend: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let step = r.c.run_s() / SLICES as f64;
    let lines: Vec<Vec<(f64, f64)>> = (0..r.c.variants.len())
        .map(|v| {
            (0..SLICES)
                .map(|k| {
                    let (m, _) = r.points(v, load, |f| slices(f)[k]);
                    ((k as f64 + 1.0) * step, if m.is_finite() { m } else { 0.0 })
                })
                .collect()
        })
        .collect();
    let y_max = lines.iter().flatten().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..r.c.run_s(), 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc(y_label)
        .label_style(("sans-serif", 15))
        .draw()?;
    if let Some(sp) = r.c.spike {
        chart.draw_series([Rectangle::new(
            [(sp.at_s, 0.0), (sp.at_s + sp.for_s, y_max)],
            BLACK.mix(0.08).filled(),
        )])?;
    }
    for (v, points) in lines.iter().enumerate() {
        let colour = COLOURS[v % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))?
            .label(&r.c.variants[v].name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(3)));
    }
    if legend {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 14))
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
    }
    Ok(())
}
