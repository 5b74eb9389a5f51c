//! The comparison's plots, each as SVG and PNG: goodput against offered load (the congestion
//! collapse curve, with the ideal y = x) and p99 latency against offered load, one line per
//! variant with its 95% confidence interval as whiskers; and the time line at the highest load:
//! goodput and requests held over the run, one line per variant (the mean over the seeds).

use super::{Figures, Report};
use crate::files;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The bundled font (Hack, MIT and Bitstream Vera licences), so no system font is needed.
const FONT: &[u8] = include_bytes!("../../assets/fonts/Hack-Regular.ttf");

/// Colours of up to 8 variants (then they repeat).
pub(super) const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

type Measure = fn(&Figures) -> f64;

/// Writes goodput.{svg,png} and p99.{svg,png} into `dir`.
pub(super) fn plots(r: &Report, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let charts: [(&str, &str, Measure); 2] = [
        ("goodput", "goodput (requests/s)", |f| f.goodput),
        ("p99", "p99 latency (ms)", |f| f.latency_ms[1]),
    ];
    let mut out = vec![];
    for (name, y_label, measure) in charts {
        let svg = dir.join(format!("{name}.svg"));
        let png = dir.join(format!("{name}.png"));
        let (svg_t, png_t) = (files::temporary(&svg), files::temporary(&png));
        {
            let area = SVGBackend::new(&svg_t, (960, 600)).into_drawing_area();
            draw(r, &area, y_label, measure, name == "goodput").map_err(|e| e.to_string())?;
            area.present().map_err(|e| e.to_string())?;
        }
        {
            let area = BitMapBackend::new(&png_t, (960, 600)).into_drawing_area();
            draw(r, &area, y_label, measure, name == "goodput").map_err(|e| e.to_string())?;
            area.present().map_err(|e| e.to_string())?;
        }
        files::rename_into_place(&svg_t, &svg)?;
        files::rename_into_place(&png_t, &png)?;
        out.push(svg);
        out.push(png);
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    r: &Report,
    area: &DrawingArea<DB, plotters::coord::Shift>,
    y_label: &str,
    measure: Measure,
    ideal: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    area.fill(&WHITE)?;
    // x: offered requests/s at each load (mean over every variant's runs at that load).
    let offered: Vec<f64> = (0..r.c.loads.len())
        .map(|l| {
            let xs: Vec<f64> = (0..r.c.variants.len())
                .map(|v| r.points(v, l, |f| f.offered).0)
                .collect();
            xs.iter().sum::<f64>() / xs.len() as f64
        })
        .collect();
    let series: Vec<Vec<(f64, f64, f64)>> = (0..r.c.variants.len())
        .map(|v| {
            (0..r.c.loads.len())
                .map(|l| {
                    let (m, h) = r.points(v, l, measure);
                    (offered[l], if m.is_finite() { m } else { 0.0 }, h)
                })
                .collect()
        })
        .collect();
    let x_max = offered.iter().copied().fold(1.0, f64::max) * 1.05;
    let y_max = series
        .iter()
        .flatten()
        .map(|p| p.1 + p.2)
        .fold(if ideal { x_max } else { 1.0 }, f64::max)
        * 1.08;
    let mut chart = ChartBuilder::on(area)
        .caption(&r.c.question, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("offered load (requests/s)")
        .y_desc(y_label)
        .label_style(("sans-serif", 15))
        .draw()?;
    if ideal {
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (x_max, x_max)],
                BLACK.mix(0.3),
            ))?
            .label("everything offered served")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.3)));
    }
    for (v, points) in series.iter().enumerate() {
        let colour = COLOURS[v % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.0, p.1)),
                colour.stroke_width(3),
            ))?
            .label(&r.c.variants[v].name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(3)));
        chart.draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.0, p.1), 4, colour.filled())),
        )?;
        chart.draw_series(points.iter().filter(|p| p.2 > 0.0).map(|p| {
            PathElement::new([(p.0, p.1 - p.2), (p.0, p.1 + p.2)], colour.stroke_width(2))
        }))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 16))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    area.present()?;
    Ok(())
}
