// One place for what every chart shares: colours (categorical palette, colour by a numeric
// parameter), EMA smoothing of noisy curves, the common plot look, and saving a chart as PNG,
// PDF or SVG. Views never pick colours or fonts on their own.
#pragma once
#include <QColor>
#include <QPen>
#include <QString>
#include <QVector>

class QCustomPlot;
class QCPAxis;
class QCPAxisRect;
class QCPColorGradient;
class QWidget;

namespace rilq::widgets {

// ---- colours -----------------------------------------------------------------------------------

// Okabe-Ito-like categorical palette (colour-blind safe, readable on white); wraps around.
QColor categorical_color(int index);
int categorical_palette_size();
// Viridis sampled at t in [0, 1] (clamped): perceptually uniform, dark = low, yellow = high.
QColor sequential_color(double t);
// The same viridis as a QCustomPlot gradient (heat maps); NaN cells are drawn transparent.
QCPColorGradient viridis_gradient();
// Curves with more points than this are drawn with 1 px pens. Measured (offscreen raster, 18
// curves x 20,000 noisy points, adaptive sampling on): 1 px pens replot in ~25 ms, 1.8 px
// antialiased pens in ~3.5 s - Qt strokes wide lines segment by segment.
constexpr int kDenseCurvePoints = 1000;
// A pen for a curve of `point_count` points: `width_px` while sparse, 1 px once dense.
QPen curve_pen(const QColor& color, double width_px, Qt::PenStyle style, int point_count);
// `color` with alpha (0..255): the faint raw curve behind its smoothed version.
QColor with_alpha(const QColor& color, int alpha);

// How a swept numeric parameter's values are placed along the gradient.
enum class ColorScale {
    Linear,  // by value between min and max
    Log2,    // by log2(value): 16 -> 32 as far as 32 -> 64 (ranks, learning rates); <= 0 -> low end
    Ordinal, // by rank among the distinct values: evenly spaced colours, 0 included (sweeps)
};

// Maps the values of a swept numeric parameter (e.g. lora_r = 0, 16, 32, 64) to viridis colours:
// lowest -> dark purple, highest -> green-yellow (the last 10% of viridis, too light for lines on
// white, is not used).
class ParameterColorMap {
  public:
    ParameterColorMap() = default;
    ParameterColorMap(const QVector<double>& values, ColorScale scale);
    QColor color_for(double value) const;
    double position(double value) const; // 0..1 along the gradient
    ColorScale scale() const { return scale_; }

  private:
    double transform(double value) const;
    ColorScale scale_ = ColorScale::Linear;
    QVector<double> distinct_; // sorted finite values (Ordinal)
    double lo_ = 0.0;
    double hi_ = 1.0;
};

// ---- smoothing ---------------------------------------------------------------------------------

// TensorBoard's debiased exponential moving average, pushed one point at a time so live
// curves smooth only what was appended. weight = 0 -> raw; 0.99 -> very smooth.
// Debiased means the first points are not pulled towards 0. The smoothed value is a weighted
// mean of the finite values seen so far, so it lies within their running [min, max]; we clamp to
// that range so rounding can never create a value outside it (a constant series stays bit-for-bit
// constant, a flat tail never shows a spike). NaN / Inf inputs are skipped: they return NaN (a
// gap) and do not disturb the average.
class EmaSmoother {
  public:
    explicit EmaSmoother(double weight = 0.0);
    void reset(double weight);
    double push(double value);
    double weight() const { return weight_; }

  private:
    double weight_ = 0.0;
    double numerator_ = 0.0;   // sum_i w^(n-i) x_i
    double denominator_ = 0.0; // sum_i w^(n-i)
    double min_seen_ = 0.0;
    double max_seen_ = 0.0;
    bool any_finite_ = false;
};

// Whole-series convenience: same length as `values`, NaN where the input was not finite.
QVector<double> ema_smooth(const QVector<double>& values, double weight);

// How many times larger the largest series' typical value (the median of its finite, non-zero
// magnitudes) is than the smallest's; 1 with fewer than two such series. Past
// kScaleRatioForLog one linear axis flattens the small series into a line (model-scope losses ~5
// beside linear-scope ones ~0.25), so charts that draw several runs switch to a log axis.
double series_scale_ratio(const QVector<QVector<double>>& series);
constexpr double kScaleRatioForLog = 10.0;
// Split charts: series whose typical values (as above) lie within `max_ratio` of the group's
// smallest share a chart. Returns each series' chart, 0 = the largest scale (drawn on top);
// series without a finite non-zero value (a rank-0 linear-scope loss of exactly 0) join the
// smallest scale's chart, the bottom one.
QVector<int> scale_groups(const QVector<QVector<double>>& series, double max_ratio);

// ---- look --------------------------------------------------------------------------------------

// Fonts, grid, margins, legend frame and interactions shared by every chart.
void apply_plot_style(QCustomPlot* plot);
// The axes' part of it, for a chart's further axis rects (split charts).
void style_axis_rect(QCPAxisRect* rect);
// Moves the legend out of the data area into a column right of the axis rect (top aligned), so
// it never hides curves whose shape nobody can predict (live loss curves).
void place_legend_outside(QCustomPlot* plot);
// Switches an axis between linear and log10 scale with the matching ticker.
void set_log_axis(QCPAxis* axis, bool log_scale);
// After a rescale: a log axis whose lower end lies less than a factor 2 above a power of ten
// (0.15, 12) starts at that power (0.1, 10), so the lowest curves sit above a labelled decade
// line instead of below the last label.
void include_decade_below(QCPAxis* axis);

// ---- saving ------------------------------------------------------------------------------------

enum class ImageFormat { Png, Pdf, Svg };
// From the file suffix (case-insensitive): .png, .pdf or .svg; anything else is an error.
bool image_format_for_path(const QString& path, ImageFormat* format, QString* error);
// Saves a chart - the plot alone, never the view's controls - at the given size in pixels (0 =
// current size) as PNG (2x scale for sharp text), vector PDF, or vector SVG (QSvgGenerator:
// every curve a <path>, editable in Inkscape). Returns false with a message naming the file.
bool save_plot(QCustomPlot* plot, const QString& path, QString* error, int width_px = 0, int height_px = 0);

} // namespace rilq::widgets
