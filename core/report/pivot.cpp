#include "core/report/pivot.h"

#include "core/report/number_format.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace rilq::report {

namespace {

bool parse_number(const std::string& text, double& out) {
    if (text.empty()) return false;
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size();
}

void add_unique(std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// Mean and sample standard deviation. Summed in ascending order, so the last bits do not
// depend on run ids (the reference script in tests/reference does the same).
PivotCell aggregate(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    PivotCell cell;
    if (values.empty()) return cell;
    cell.present = true;
    cell.n = static_cast<int>(values.size());
    double sum = 0.0;
    for (double v : values)
        sum += v;
    cell.mean = sum / static_cast<double>(values.size());
    if (values.size() > 1) {
        double squares = 0.0;
        for (double v : values)
            squares += (v - cell.mean) * (v - cell.mean);
        cell.std = std::sqrt(squares / static_cast<double>(values.size() - 1));
    }
    return cell;
}

} // namespace

bool PivotTable::has_spread() const {
    for (const auto& row : cells) {
        for (const auto& cell : row) {
            if (cell.n > 1) return true;
        }
    }
    return false;
}

PivotTable build_pivot(const std::vector<PivotObservation>& observations, const PivotOptions& options) {
    PivotTable table;
    table.row_header = options.row_header;
    table.metric = options.metric;
    table.decimals = options.decimals;
    table.lower_is_better = options.lower_is_better;
    table.marked = options.mark_best;
    table.footer = options.footer;

    std::vector<std::string> rows, columns;
    for (const auto& c : options.columns)
        add_unique(columns, c);
    std::vector<std::string> appearing_columns;
    for (const auto& o : observations) {
        add_unique(rows, o.row);
        add_unique(appearing_columns, o.column);
    }
    // Listed columns that nothing measured are dropped; unlisted ones follow.
    columns.erase(std::remove_if(columns.begin(), columns.end(),
                                 [&](const std::string& c) {
                                     return std::find(appearing_columns.begin(), appearing_columns.end(),
                                                      c) == appearing_columns.end();
                                 }),
                  columns.end());
    for (const auto& c : appearing_columns)
        add_unique(columns, c);
    const bool observed_average =
        !options.average_from_column.empty() &&
        std::find(columns.begin(), columns.end(), options.average_from_column) != columns.end();
    if (observed_average)
        columns.erase(std::find(columns.begin(), columns.end(), options.average_from_column));
    const bool numeric_rows = std::all_of(rows.begin(), rows.end(), [](const std::string& r) {
        double x = 0;
        return parse_number(r, x);
    });
    if (numeric_rows) {
        std::stable_sort(rows.begin(), rows.end(), [](const std::string& a, const std::string& b) {
            double x = 0, y = 0;
            parse_number(a, x);
            parse_number(b, y);
            return x < y;
        });
    }

    // values[row][column][run] = value
    std::map<std::string, std::map<std::string, std::map<std::string, double>>> values;
    for (const auto& o : observations) {
        auto& per_run = values[o.row][o.column];
        if (per_run.count(o.run)) {
            throw Error("pivot: run " + o.run + " gives two values for row \"" + o.row + "\", column \"" +
                        o.column + "\"");
        }
        per_run[o.run] = o.value;
    }

    const bool with_average = options.average_column && !columns.empty();
    for (const auto& row : rows) {
        table.row_keys.push_back(row);
        const auto label = options.row_labels.find(row);
        table.row_labels.push_back(label == options.row_labels.end() ? row : label->second);
        std::vector<PivotCell> cells;
        std::map<std::string, std::vector<double>> run_values; // run -> its value per column, in order
        for (const auto& column : columns) {
            std::vector<double> in_cell;
            for (const auto& [run, v] : values[row][column]) {
                in_cell.push_back(v);
                run_values[run].push_back(v);
            }
            cells.push_back(aggregate(in_cell));
        }
        if (observed_average) {
            std::vector<double> in_cell;
            for (const auto& [run, v] : values[row][options.average_from_column])
                in_cell.push_back(v);
            cells.push_back(aggregate(in_cell));
        } else if (with_average) {
            // A run's average needs every column; runs missing one are left out of it.
            std::vector<double> averages;
            for (const auto& [run, vs] : run_values) {
                if (vs.size() != columns.size()) continue;
                double sum = 0.0;
                for (double v : vs)
                    sum += v;
                averages.push_back(sum / static_cast<double>(vs.size()));
            }
            cells.push_back(aggregate(averages));
        }
        table.cells.push_back(cells);
    }
    for (const auto& column : columns) {
        table.column_keys.push_back(column);
        const auto label = options.column_labels.find(column);
        table.column_labels.push_back(label == options.column_labels.end() ? column : label->second);
        table.column_is_average.push_back(false);
    }
    if (with_average || observed_average) {
        table.column_keys.push_back("avg");
        table.column_labels.push_back(options.average_label);
        table.column_is_average.push_back(true);
    }

    if (options.mark_best) {
        // Compare what the reader sees: the printed means.
        for (size_t c = 0; c < table.column_keys.size(); ++c) {
            bool found = false;
            double best = 0.0;
            for (const auto& row : table.cells) {
                if (!row[c].present) continue;
                const double shown =
                    std::strtod(format_fixed(row[c].mean, options.decimals).c_str(), nullptr);
                if (!found || (options.lower_is_better ? shown < best : shown > best)) best = shown;
                found = true;
            }
            for (auto& row : table.cells) {
                if (!row[c].present) continue;
                row[c].best =
                    std::strtod(format_fixed(row[c].mean, options.decimals).c_str(), nullptr) == best;
            }
        }
    }
    return table;
}

} // namespace rilq::report
