//! Training curves: loss and accuracy per epoch, training beside validation, the picture a
//! person checks first for over- or under-fitting.

use std::path::Path;

use plotters::prelude::*;

use super::canvas::{Canvas, draw_error, font};
use crate::train::trainer::EpochRecord;

/// Picture size, in pixels: two square-ish panels side by side.
pub const HISTORY_WIDTH: u32 = 1200;
pub const HISTORY_HEIGHT: u32 = 500;

const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);

/// One curve: its name, colour and (epoch, value) points.
struct Series {
    name: &'static str,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// Draws the loss panel (loss, val loss) and the accuracy panel (accuracy, val accuracy, in %)
/// for `records` and writes the PNG (1200×500) to `path`. Validation curves appear only for
/// epochs that have them; non-finite values (a diverged epoch) are left out rather than
/// stretching the axes to infinity.
pub fn history_png(path: &Path, records: &[EpochRecord]) -> Result<(), String> {
    if records.is_empty() {
        return Err(format!("{}: no epochs to plot", path.display()));
    }
    let series = |name, color, value: &dyn Fn(&EpochRecord) -> Option<f64>| Series {
        name,
        color,
        points: records
            .iter()
            .filter_map(|r| value(r).filter(|v| v.is_finite()).map(|v| (r.epoch as f64, v)))
            .collect(),
    };
    let loss = [series("loss", TRAIN_COLOR, &|r| Some(r.loss)), series("val loss", VAL_COLOR, &|r| r.val_loss)];
    let accuracy = [
        series("accuracy", TRAIN_COLOR, &|r| Some(100.0 * r.accuracy)),
        series("val accuracy", VAL_COLOR, &|r| r.val_accuracy.map(|a| 100.0 * a)),
    ];
    let mut canvas = Canvas::new(HISTORY_WIDTH, HISTORY_HEIGHT).map_err(|e| format!("{}: {e}", path.display()))?;
    let area = canvas.area();
    let panels = area.split_evenly((1, 2));
    let last_epoch = records.iter().map(|r| r.epoch).max().unwrap_or(1);
    let first_epoch = records.iter().map(|r| r.epoch).min().unwrap_or(1);
    panel(&panels[0], "Loss", "loss", &loss, first_epoch, last_epoch, false).map_err(|e| draw_error(path, e))?;
    panel(&panels[1], "Accuracy", "accuracy (%)", &accuracy, first_epoch, last_epoch, true)
        .map_err(|e| draw_error(path, e))?;
    area.present().map_err(|e| draw_error(path, e))?;
    drop(panels);
    drop(area);
    canvas.save(path)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type DrawResult<'a> = Result<(), DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>>;

/// One panel: the curves in `series` over epochs `first..=last`. Accuracy is capped at 100 %.
fn panel<'a>(
    area: &Area<'a>,
    title: &str,
    y_label: &str,
    series: &[Series],
    first: usize,
    last: usize,
    percent: bool,
) -> DrawResult<'a> {
    let values = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (low, high) = if low.is_finite() { (low, high) } else { (0.0, 1.0) };
    // A flat curve (or a single epoch) still gets a visible band around it.
    let pad = ((high - low) * 0.08).max(if percent { 1.0 } else { 0.05 * high.abs().max(0.01) });
    let (mut y_low, mut y_high) = (low - pad, high + pad);
    if percent {
        (y_low, y_high) = (y_low.max(0.0), y_high.min(100.0));
    } else {
        y_low = y_low.max(0.0);
    }
    // Half an epoch of air on each side keeps the first and last points off the axes.
    let x_range = (first as f64 - 0.5)..(last as f64 + 0.5);
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(22.0))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, y_low..y_high)?;
    let epochs = last - first + 1;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .axis_desc_style(font(16.0))
        .label_style(font(14.0))
        .x_labels(epochs.min(12) + 1)
        // Epochs are whole numbers; the ticks plotters puts between them get no label.
        .x_label_formatter(&|x| if (x - x.round()).abs() < 1e-6 { format!("{}", x.round()) } else { String::new() })
        .y_label_formatter(&|y| if percent { format!("{y:.1}") } else { format!("{y:.3}") })
        .light_line_style(RGBColor(238, 238, 238))
        // Lines between whole epochs mean nothing; a few between the value ticks help reading.
        .x_max_light_lines(0)
        .y_max_light_lines(4)
        .draw()?;
    for s in series.iter().filter(|s| !s.points.is_empty()) {
        let color = s.color;
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2)));
        chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(if percent { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight })
        .label_font(font(15.0))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    Ok(())
}
