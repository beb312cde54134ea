// Instruction data in the Alpaca format: a list of {instruction, input, output} records
// (Stanford Alpaca's alpaca_data.json, Alpaca-GPT-4, the rows of HF tatsu-lab/alpaca), what
// IR-QLoRA fine-tunes on (irlora.py `--dataset alpaca`). The prompt built from a record is in
// alpaca_prompt.h; tokenization and label masks in sft_example.h.
#pragma once
#include <string>
#include <vector>

namespace rilq {

struct AlpacaRecord {
    std::string instruction;
    std::string input; // "" = none (also when the field is absent): the no-input template
    std::string output;
};

// Reads a JSON array of records, or JSON Lines (one object per line, what datasets' to_json
// writes). `instruction` and `output` are required strings, `input` an optional string; other
// fields are ignored (tatsu-lab/alpaca's `text`, which irlora.py drops, l. 647-649). Errors name
// the file and the record: "alpaca.json: record 17 ($[17].output): expected a string, found null"
// ("line 18" for JSON Lines); an empty list is an error too.
std::vector<AlpacaRecord> read_alpaca_file(const std::string& path);
// The same on text already in memory; `source_name` stands for the file in errors.
std::vector<AlpacaRecord> parse_alpaca_text(const std::string& text, const std::string& source_name);

} // namespace rilq
