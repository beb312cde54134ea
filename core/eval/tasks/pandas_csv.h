// CSV files read the way IR-QLoRA's evaluate_mmlu.py reads MMLU: `pd.read_csv(path,
// header=None)` under pandas 2.x, each cell then printed by "{}".format(cell). The text of a
// prompt depends on both steps, so this reader returns the printed text of every cell:
//   parsing    pandas' C tokenizer with the default dialect: ',' separator, '"' quotes with
//              "" for a quote inside, line breaks (LF, CRLF, CR) kept verbatim inside quoted
//              cells, a quote after the start of an unquoted cell kept as text, text after a
//              closing quote appended to the cell, blank and whitespace-only lines skipped,
//              a UTF-8 BOM at the start dropped.
//   NA         a cell whose whole text is one of pandas 2.x's default NA strings (which
//              include "None"; pandas 1.x lacks it) is NaN and prints "nan".
//   dtypes     a column whose non-NA cells are all integers is int64 ("007" prints "7"), with
//              a NaN in it float64 ("7.0"); all numbers: float64, printed as Python's repr
//              ("1.50" -> "1.5", "1e5" -> "100000.0"); all True/False spellings: bool
//              ("true" -> "True"); anything else stays text.
// Column types are inferred over the whole file. (pandas' default low_memory parser infers per
// 256 KiB chunk; the two differ only for a column that is numeric in one chunk and text in
// another. MMLU has no numeric cell columns at all.)
// Errors name the file and the line a record starts on: invalid UTF-8, a quote left open at
// the end of the file, a record whose field count is not the expected one.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rilq {

struct CsvTable {
    std::string file;
    std::vector<std::vector<std::string>> rows; // printed cells, rows x columns
    std::vector<int64_t> lines;                 // 1-based line on which each row starts
};

// Reads `path`; every record must have `columns` fields.
CsvTable read_csv_like_pandas(const std::string& path, size_t columns);
// The same on bytes already in memory (`file` is only used in messages).
CsvTable parse_csv_like_pandas(const std::string& bytes, const std::string& file, size_t columns);

// pandas 2.x's default NA strings (pandas/_libs/parsers.pyx STR_NA_VALUES).
const std::vector<std::string>& pandas_na_strings();

} // namespace rilq
