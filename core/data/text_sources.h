// Where evaluation and calibration text comes from: dataset specs ("wikitext2=PATH",
// "c4=PATH", "text=PATH"), the standard file names found under a data-root folder, and the
// readers that turn each file into exactly the string(s) the reference Python scripts build.
//
// The strings, precisely:
//   wikitext2  rows = the HF `datasets` rows of a wikitext-*-raw split: one row per line of
//              the file, the line keeping its trailing "\n", and a whitespace-only line
//              becoming "" (HF's wikitext builder yields `row if row.strip() else ""`).
//              CRLF and lone CR are read as "\n" (Python text mode, which HF used).
//              Evaluation text  = "\n\n".join(rows)                      (GPTQ/OmniQuant)
//              Calibration text = "".join(" \n" if r == "" else r for r in rows[:1000])  (RILQ)
//              Files that dropped every blank line (the shared wikitext-2-raw/wiki.test.raw
//              is such a re-serialization) get their blank rows rebuilt by the WikiText
//              layout rule: "" before and after every heading line " = T = ", " = = T = = ",
//              ...; one more "" before a level-1 (article) heading except the first; one ""
//              at the end. On the tokenized test split, which keeps its layout, the rule
//              reproduces the 4,358 rows exactly except at 3 places (two formula lines that
//              look like headings, one article heading with a single blank line before it),
//              i.e. it adds 7 extra "" rows (14 characters) out of 1.3 million.
//   c4         JSON Lines, optionally gzip-compressed (detected by content, not by name):
//              one document per non-blank line, its string field "text". A line that is not
//              a JSON object with a string "text" is an error naming the file and line.
//   text       the file's bytes, verbatim, as one stream.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rilq {

enum class DatasetKind { WikiText2, C4, Text };

// What the file is for: evaluation reads the test/validation split, RILQ calibration the
// train split. Only matters when a spec names a data-root folder instead of a file.
enum class DataUse { Evaluation, Calibration };

struct DatasetSpec {
    DatasetKind kind = DatasetKind::Text;
    std::string path; // as given: a file, or a data-root folder (see standard_file_names)
    // The part of the file used, as fractions [begin, end), so calibration and evaluation can
    // take disjoint parts of one file: text by bytes (cut at line starts, see slice_text),
    // wikitext2 by rows, c4 by documents.
    double range_begin = 0.0;
    double range_end = 1.0;
    bool whole() const { return range_begin <= 0.0 && range_end >= 1.0; }
};

// ("wikitext2", "c4", "text"): the one list the CLI's NAME=PATH and the experiment's type read.
const std::vector<std::pair<DatasetKind, std::string>>& dataset_kind_names();
std::string dataset_kind_name(DatasetKind kind); // "wikitext2", "c4", "text"
// Error naming the value and the known names.
DatasetKind parse_dataset_kind(const std::string& name);
// "NAME=PATH". Errors: no '=', unknown NAME, empty PATH, PATH that does not exist.
DatasetSpec parse_dataset_spec(const std::string& spec);
// Comma-separated specs ("c4=/a.json.gz,wikitext2=/b"); paths may not contain commas here.
std::vector<DatasetSpec> parse_dataset_specs(const std::string& comma_separated);
std::string format_dataset_spec(const DatasetSpec& spec); // "NAME=PATH", plus "[0.5,1]" for a part

// The part [begin, end) of `text`: each fraction f becomes the start of the first line at or
// after byte floor(f * size), so a story or sentence is never split and ranges [a, b) and
// [b, c) of one file are disjoint and adjacent.
std::string slice_text(const std::string& text, double begin, double end);
// Items [floor(begin * count), floor(end * count)) of a list of `count` rows or documents.
std::pair<size_t, size_t> slice_indices(size_t count, double begin, double end);

// File names tried, in order, under a data-root folder:
//   wikitext2 eval:  wiki.test.raw, wikitext-2-raw/wiki.test.raw, wikitext-2-raw-v1/wiki.test.raw,
//                    test.txt, wiki.test.tokens, wikitext-2/test.txt, wikitext-2/wiki.test.tokens
//   wikitext2 calib: the same with "train" for "test"
//   c4 eval:         c4-validation.00000-of-00008.json.gz, c4-validation.00000-of-00008.json,
//                    each also under en/, c4/ and c4/en/; then c4_demo.jsonl, c4/c4_demo.jsonl
//   c4 calib:        c4-train.00000-of-01024.json(.gz) in the same folders; then c4_demo.jsonl,
//                    c4/c4_demo.jsonl
//   text:            none (a text spec must name a file)
std::vector<std::string> standard_file_names(DatasetKind kind, DataUse use);
// A file path is returned as is; a folder resolves to the first standard name present in it.
// Error naming the folder and every name tried, or a missing path.
std::string resolve_dataset_file(const DatasetSpec& spec, DataUse use);

// ---- wikitext2 ----
struct WikiTextRows {
    std::vector<std::string> rows; // HF rows, see the header comment
    bool layout_rebuilt = false;   // true when the file had no blank lines and they were rebuilt
};
WikiTextRows read_wikitext_rows(const std::string& file);
// Pure functions of the rows, exposed for tests and for other splits.
std::vector<std::string> wikitext_rows_from_text(const std::string& text); // no rebuild
std::vector<std::string> rebuild_wikitext_layout(const std::vector<std::string>& nonblank_rows);
int wikitext_heading_level(const std::string& row); // 0 for a non-heading row
std::string wikitext_eval_text(const std::vector<std::string>& rows);
std::string wikitext_calibration_text(const std::vector<std::string>& rows, size_t max_rows = 1000);

// ---- c4 ----
// Documents stored back to back in one buffer: the C4 train shard holds ~356k documents, and
// one allocation per document would cost more than the text.
class DocumentSet {
  public:
    void add(std::string_view text);
    size_t size() const { return ends_.size(); }
    bool empty() const { return ends_.empty(); }
    std::string_view view(size_t index) const;
    std::string text(size_t index) const { return std::string(view(index)); }
    size_t total_bytes() const { return bytes_.size(); }

  private:
    std::string bytes_;
    std::vector<size_t> ends_; // ends_[i] = end offset of document i in bytes_
};

// Reads a .jsonl or .jsonl.gz / .json.gz file (gzip detected by its magic bytes).
DocumentSet read_c4_documents(const std::string& file);

// ---- text ----
std::string read_text_file(const std::string& file); // verbatim bytes; Error when unreadable

// ---- the spec's part of what was read (the input itself when spec.whole()) ----
std::string text_in_range(std::string text, const DatasetSpec& spec);
std::vector<std::string> rows_in_range(std::vector<std::string> rows, const DatasetSpec& spec);
DocumentSet documents_in_range(DocumentSet documents, const DatasetSpec& spec);

} // namespace rilq
