#include "widgets/chart_style.h"

#include "widgets/qcustomplot_include.h"

#include <QFontMetrics>
#include <QFileInfo>
#include <QPixmap>
#include <QSvgGenerator>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace rilq::widgets {

// ---- colours -----------------------------------------------------------------------------------

namespace {
// Okabe & Ito (2008) colour-blind safe set, yellow dropped (unreadable as a thin line on white)
// and black moved last; then a few Tableau tones for longer sweeps.
const QColor kCategorical[] = {
    QColor(0, 114, 178),   // blue
    QColor(213, 94, 0),    // vermillion
    QColor(0, 158, 115),   // bluish green
    QColor(204, 121, 167), // reddish purple
    QColor(230, 159, 0),   // orange
    QColor(86, 180, 233),  // sky blue
    QColor(140, 86, 75),   // brown
    QColor(127, 127, 127), // grey
    QColor(188, 189, 34),  // olive
    QColor(40, 40, 40),    // near black
};

// Viridis (matplotlib) at 9 evenly spaced stops; linear interpolation between them is visually
// indistinguishable from the 256-entry table at chart sizes.
const QColor kViridis[] = {
    QColor(68, 1, 84),    QColor(71, 45, 123),  QColor(59, 82, 139),
    QColor(44, 114, 142), QColor(33, 145, 140), QColor(39, 173, 129),
    QColor(92, 200, 99),  QColor(170, 220, 50), QColor(253, 231, 37),
};
constexpr int kViridisStops = int(sizeof(kViridis) / sizeof(kViridis[0]));
} // namespace

int categorical_palette_size() {
    return int(sizeof(kCategorical) / sizeof(kCategorical[0]));
}

QColor categorical_color(int index) {
    const int n = categorical_palette_size();
    return kCategorical[((index % n) + n) % n];
}

QColor sequential_color(double t) {
    if (!std::isfinite(t)) t = 0.0;
    t = std::clamp(t, 0.0, 1.0);
    const double pos = t * (kViridisStops - 1);
    const int i = std::min(int(pos), kViridisStops - 2);
    const double f = pos - i;
    const QColor& a = kViridis[i];
    const QColor& b = kViridis[i + 1];
    auto mix = [f](int x, int y) { return int(std::lround(x + (y - x) * f)); };
    return QColor(mix(a.red(), b.red()), mix(a.green(), b.green()), mix(a.blue(), b.blue()));
}

QCPColorGradient viridis_gradient() {
    QCPColorGradient gradient;
    gradient.clearColorStops();
    for (int i = 0; i < kViridisStops; ++i)
        gradient.setColorStopAt(double(i) / (kViridisStops - 1), kViridis[i]);
    gradient.setColorInterpolation(QCPColorGradient::ciRGB);
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    return gradient;
}

QPen curve_pen(const QColor& color, double width_px, Qt::PenStyle style, int point_count) {
    return QPen(color, point_count > kDenseCurvePoints ? 1.0 : width_px, style);
}

QColor with_alpha(const QColor& color, int alpha) {
    QColor c = color;
    c.setAlpha(std::clamp(alpha, 0, 255));
    return c;
}

ParameterColorMap::ParameterColorMap(const QVector<double>& values, ColorScale scale) : scale_(scale) {
    for (double v : values)
        if (std::isfinite(v)) distinct_.push_back(v);
    std::sort(distinct_.begin(), distinct_.end());
    distinct_.erase(std::unique(distinct_.begin(), distinct_.end()), distinct_.end());
    bool any = false;
    for (double v : distinct_) {
        if (scale_ == ColorScale::Log2 && v <= 0.0) continue;
        const double x = transform(v);
        lo_ = any ? std::min(lo_, x) : x;
        hi_ = any ? std::max(hi_, x) : x;
        any = true;
    }
    if (!any) {
        lo_ = 0.0;
        hi_ = 1.0;
    }
}

double ParameterColorMap::transform(double value) const {
    switch (scale_) {
    case ColorScale::Linear:
        return value;
    case ColorScale::Log2:
        return std::log2(value);
    case ColorScale::Ordinal: // index of the nearest distinct value at or below `value`
        return double(std::max<qsizetype>(
            0,
            qsizetype(std::upper_bound(distinct_.begin(), distinct_.end(), value) - distinct_.begin()) - 1));
    }
    return value;
}

double ParameterColorMap::position(double value) const {
    if (!std::isfinite(value)) return 0.0;
    if (scale_ == ColorScale::Log2 && value <= 0.0) return 0.0;
    if (hi_ <= lo_) return 0.5; // a single value: middle of the gradient, not an extreme
    return std::clamp((transform(value) - lo_) / (hi_ - lo_), 0.0, 1.0);
}

QColor ParameterColorMap::color_for(double value) const {
    return sequential_color(0.9 * position(value));
}

// ---- smoothing ---------------------------------------------------------------------------------

EmaSmoother::EmaSmoother(double weight) {
    reset(weight);
}

void EmaSmoother::reset(double weight) {
    weight_ = std::isfinite(weight) ? std::clamp(weight, 0.0, 0.999) : 0.0;
    numerator_ = 0.0;
    denominator_ = 0.0;
    min_seen_ = max_seen_ = 0.0;
    any_finite_ = false;
}

double EmaSmoother::push(double value) {
    if (!std::isfinite(value)) return std::numeric_limits<double>::quiet_NaN();
    if (!any_finite_) {
        min_seen_ = max_seen_ = value;
        any_finite_ = true;
    } else {
        min_seen_ = std::min(min_seen_, value);
        max_seen_ = std::max(max_seen_, value);
    }
    // Debiased EMA written as a normalised weighted sum: identical to TensorBoard's
    // last = w*last + (1-w)*x; smoothed = last / (1 - w^n), without the pow().
    numerator_ = weight_ * numerator_ + value;
    denominator_ = weight_ * denominator_ + 1.0;
    return std::clamp(numerator_ / denominator_, min_seen_, max_seen_);
}

QVector<double> ema_smooth(const QVector<double>& values, double weight) {
    EmaSmoother smoother(weight);
    QVector<double> out;
    out.reserve(values.size());
    for (double v : values)
        out.push_back(smoother.push(v));
    return out;
}

namespace {
// The median of a series' finite, non-zero magnitudes; false when it has none.
bool typical_magnitude(const QVector<double>& values, double* median) {
    std::vector<double> magnitudes;
    for (double v : values)
        if (std::isfinite(v) && v != 0.0) magnitudes.push_back(std::abs(v));
    if (magnitudes.empty()) return false;
    const auto middle = magnitudes.begin() + std::ptrdiff_t(magnitudes.size() / 2);
    std::nth_element(magnitudes.begin(), middle, magnitudes.end());
    *median = *middle;
    return true;
}
} // namespace

double series_scale_ratio(const QVector<QVector<double>>& series) {
    double smallest = 0.0, largest = 0.0;
    bool any = false;
    for (const QVector<double>& values : series) {
        double median = 0.0;
        if (!typical_magnitude(values, &median)) continue;
        smallest = any ? std::min(smallest, median) : median;
        largest = any ? std::max(largest, median) : median;
        any = true;
    }
    return any ? largest / smallest : 1.0;
}

QVector<int> scale_groups(const QVector<QVector<double>>& series, double max_ratio) {
    QVector<int> chart(series.size(), -1);
    std::vector<std::pair<double, int>> scales; // (typical value, series), smallest first
    for (int i = 0; i < series.size(); ++i) {
        double median = 0.0;
        if (typical_magnitude(series[i], &median)) scales.emplace_back(median, i);
    }
    std::sort(scales.begin(), scales.end());
    QVector<int> group_of(int(scales.size()), 0); // counted from the smallest scale
    int group = 0;
    double group_start = scales.empty() ? 0.0 : scales.front().first;
    for (size_t k = 0; k < scales.size(); ++k) {
        if (scales[k].first > group_start * max_ratio) {
            ++group;
            group_start = scales[k].first;
        }
        group_of[int(k)] = group;
    }
    for (size_t k = 0; k < scales.size(); ++k)
        chart[scales[k].second] = group - group_of[int(k)]; // largest scale first
    for (int& c : chart)
        if (c < 0) c = group; // zeros: with the smallest values
    return chart;
}

// ---- look --------------------------------------------------------------------------------------

void style_axis_rect(QCPAxisRect* rect) {
    QFont tick_font = rect->parentPlot()->font();
    tick_font.setPointSizeF(9.0);
    QFont label_font = rect->parentPlot()->font();
    label_font.setPointSizeF(10.0);
    const QPen grid_pen(QColor(222, 222, 222), 0, Qt::SolidLine);
    const QPen sub_grid_pen(QColor(240, 240, 240), 0, Qt::DotLine);
    for (QCPAxis* axis : rect->axes()) {
        axis->setTickLabelFont(tick_font);
        axis->setLabelFont(label_font);
        axis->setBasePen(QPen(QColor(90, 90, 90)));
        axis->setTickPen(QPen(QColor(90, 90, 90)));
        axis->setSubTickPen(QPen(QColor(140, 140, 140)));
        axis->setTickLabelColor(QColor(50, 50, 50));
        axis->setLabelColor(QColor(30, 30, 30));
        axis->grid()->setPen(grid_pen);
        axis->grid()->setSubGridPen(sub_grid_pen);
        axis->grid()->setZeroLinePen(Qt::NoPen);
    }
}

void apply_plot_style(QCustomPlot* plot) {
    style_axis_rect(plot->axisRect());
    QFont tick_font = plot->font();
    tick_font.setPointSizeF(9.0);
    plot->setBackground(Qt::white);
    plot->legend->setFont(tick_font);
    plot->legend->setBrush(QColor(255, 255, 255, 220));
    plot->legend->setBorderPen(QPen(QColor(200, 200, 200)));
    // Rows as tall as a line of text plus room below the baseline: a legend item is clipped to its
    // row, and a 10 px row cut the underscores of names like "lora_r=4".
    plot->legend->setIconSize(22, QFontMetrics(tick_font).lineSpacing() + 2);
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->setAntialiasedElements(QCP::aePlottables | QCP::aeItems);
}

void place_legend_outside(QCustomPlot* plot) {
    QCPLayoutGrid* layout = plot->plotLayout();
    int row = 0, column = 0;
    for (int r = 0; r < layout->rowCount(); ++r)
        for (int c = 0; c < layout->columnCount(); ++c)
            if (layout->element(r, c) == plot->axisRect()) {
                row = r;
                column = c;
            }
    plot->axisRect()->insetLayout()->take(plot->legend);
    auto* side = new QCPLayoutGrid;
    layout->addElement(row, column + 1, side);
    side->addElement(0, 0, plot->legend);
    side->addElement(1, 0, new QCPLayoutElement(plot)); // empty filler keeps the legend at the top
    side->setRowStretchFactor(0, 0.001);
    side->setRowStretchFactor(1, 1.0);
    side->setMargins(QMargins(0, 12, 8, 0));
    layout->setColumnStretchFactor(column + 1, 0.001); // as narrow as the legend allows
    plot->legend->setVisible(true);
}

void include_decade_below(QCPAxis* axis) {
    const QCPRange range = axis->range();
    if (axis->scaleType() != QCPAxis::stLogarithmic || !(range.lower > 0.0)) return;
    const double decade = std::pow(10.0, std::floor(std::log10(range.lower)));
    if (range.lower < 2.0 * decade) axis->setRangeLower(decade);
}

void set_log_axis(QCPAxis* axis, bool log_scale) {
    if (log_scale) {
        axis->setScaleType(QCPAxis::stLogarithmic);
        QSharedPointer<QCPAxisTickerLog> ticker(new QCPAxisTickerLog);
        ticker->setLogBase(10.0);
        ticker->setSubTickCount(8);
        axis->setTicker(ticker);
        axis->setNumberFormat("gb"); // plain numbers: 0.1, 1, 10, 100
        axis->grid()->setSubGridVisible(true);
    } else {
        axis->setScaleType(QCPAxis::stLinear);
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        axis->setNumberFormat("g");
        axis->grid()->setSubGridVisible(false);
    }
}

// ---- saving ------------------------------------------------------------------------------------

bool image_format_for_path(const QString& path, ImageFormat* format, QString* error) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    const std::pair<const char*, ImageFormat> known[] = {
        {"png", ImageFormat::Png}, {"pdf", ImageFormat::Pdf}, {"svg", ImageFormat::Svg}};
    for (const auto& [name, value] : known)
        if (suffix == QLatin1String(name)) {
            *format = value;
            return true;
        }
    if (error)
        *error = QString("%1: expected a .png, .pdf or .svg file name, found suffix '%2'").arg(path, suffix);
    return false;
}

namespace {
// QCustomPlot writes PNG and PDF itself; SVG goes through Qt's SVG paint device.
bool save_plot_svg(QCustomPlot* plot, const QString& path, int width_px, int height_px) {
    const int width = width_px > 0 ? width_px : plot->width();
    const int height = height_px > 0 ? height_px : plot->height();
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(QSize(width, height));
    svg.setViewBox(QRect(0, 0, width, height));
    svg.setTitle(QFileInfo(path).baseName());
    svg.setDescription(QStringLiteral("RILQ Workbench"));
    QCPPainter painter;
    if (!painter.begin(&svg)) return false;
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    plot->toPainter(&painter, width, height);
    return painter.end();
}
} // namespace

bool save_plot(QCustomPlot* plot, const QString& path, QString* error, int width_px, int height_px) {
    ImageFormat format{};
    if (!image_format_for_path(path, &format, error)) return false;
    // PNG at 2x so text stays crisp in papers and slides; PDF and SVG keep vectors.
    bool ok = false;
    switch (format) {
    case ImageFormat::Png:
        ok = plot->savePng(path, width_px, height_px, 2.0);
        break;
    case ImageFormat::Pdf:
        ok = plot->savePdf(path, width_px, height_px, QCP::epNoCosmetic, "RILQ Workbench",
                           QFileInfo(path).baseName());
        break;
    case ImageFormat::Svg:
        ok = save_plot_svg(plot, path, width_px, height_px);
        break;
    }
    if (!ok && error)
        *error = QString("%1: could not write the chart (folder missing or not writable?)").arg(path);
    return ok;
}

} // namespace rilq::widgets
