// A PivotTable written as Markdown (the RILQ README's table layout), CSV, LaTeX (booktabs)
// or JSON. Every format carries the protocol footer when the table has one.
//
// Markdown:  | LoRA rank   | Wiki2  | C4     | Avg.   |     cells padded to the column width,
//            |-------------|--------|--------|--------|     "mean ± std" with several runs,
//            | 0 (wo RILQ) | 433.65 | 474.32 | 453.99 |     **bold** best, "-" when missing;
//            then a blank line and the protocol line.
// CSV:       full-precision means (and "<column> std" columns when some cell has several runs),
//            no marking; the protocol as a last "# " comment line.
// LaTeX:     tabular with \toprule \midrule \bottomrule, $\pm$, \textbf for best, "--" when
//            missing, the protocol in a \multicolumn row under the rule.
// JSON:      format_version, metric, columns, rows with mean/std/n/best per cell (null when
//            missing), the protocol.
#pragma once
#include "core/report/pivot.h"

#include <string>

namespace rilq::report {

enum class TableFormat { Markdown, Csv, Latex, Json };

// "md" | "markdown" | "csv" | "latex" | "tex" | "json"; Error otherwise.
TableFormat parse_table_format(const std::string& name);
const char* file_extension(TableFormat format); // "md", "csv", "tex", "json"

std::string write_markdown(const PivotTable& table);
std::string write_csv(const PivotTable& table);
std::string write_latex(const PivotTable& table);
std::string write_json(const PivotTable& table);
std::string write_table(const PivotTable& table, TableFormat format);

} // namespace rilq::report
