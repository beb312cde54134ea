// The table everyone wants from a sweep: rows = one swept setting (LoRA rank), columns = eval
// datasets, plus their average; each cell the mean over the runs that share row and column
// (several seeds), with the sample standard deviation when there are several.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace rilq::report {

// One measured value: the run it came from, its row and column keys.
struct PivotObservation {
    std::string row;    // "16"
    std::string column; // "wikitext2"
    std::string run;    // run id: one value per run and cell; also groups a run's average
    double value = 0.0;
};

struct PivotOptions {
    std::string row_header;                           // "LoRA rank"
    std::vector<std::string> columns;                 // order; others follow in order of appearance
    std::map<std::string, std::string> column_labels; // "wikitext2" -> "Wiki2"
    std::map<std::string, std::string> row_labels;    // "0" -> "0 (wo RILQ)"
    bool average_column = true;                       // over all columns, per run, then across runs
    std::string average_label = "Avg.";
    // A measured column that is the average (MMLU: the accuracy over all questions, which weighs
    // categories by their question counts): shown last as the average column instead of the
    // per-run mean of the others. "" = compute it.
    std::string average_from_column;
    bool mark_best = false;
    bool lower_is_better = true;
    int decimals = 2;
    std::string metric = "ppl";
    std::string footer; // the protocol line
};

struct PivotCell {
    bool present = false;
    double mean = 0.0;
    double std = 0.0;  // sample standard deviation (n - 1); 0 when n == 1
    int n = 0;         // runs averaged
    bool best = false; // best in its column at the printed precision (ties all marked)
};

struct PivotTable {
    std::string row_header;
    std::string metric;
    std::vector<std::string> row_keys, row_labels;
    std::vector<std::string> column_keys, column_labels; // the average column last, key "avg"
    std::vector<bool> column_is_average;
    std::vector<std::vector<PivotCell>> cells; // [row][column]
    int decimals = 2;
    bool lower_is_better = true;
    bool marked = false; // best cells are marked
    std::string footer;

    bool has_spread() const; // some cell averages several runs
};

// Rows sort numerically when every key is a number, else in order of appearance.
// Throws rilq::Error when a run gives two values for one cell.
PivotTable build_pivot(const std::vector<PivotObservation>& observations, const PivotOptions& options);

} // namespace rilq::report
