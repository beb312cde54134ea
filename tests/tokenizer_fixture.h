// Reads tests/data/tokenizer_cases.json (written by tests/reference/tokenizer_reference.py):
// each case is a text, or a byte slice of a file under shared data, with the reference ids of
// every tokenizer. Shared by the test_tokenizer_*.cpp suites.
#pragma once
#include "tests/support/test_support.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace rilq::test {

struct TokenizerCase {
    std::string name;
    std::string text;
    nlohmann::json ids;             // tokenizer key -> reference ids (no BOS)
    std::vector<int64_t> pretokens; // byte lengths of the Llama-3 regex pieces (edge cases only)
};

inline std::string slice_text(const nlohmann::json& slice) {
    const std::string file = read_file(shared_data(slice.at("source").get<std::string>()));
    std::string whole = file;
    if (slice.contains("jsonl_line")) { // one field of one JSON line
        std::istringstream lines(file);
        std::string line;
        for (int i = 0; i <= slice.at("jsonl_line").get<int>(); ++i)
            std::getline(lines, line);
        whole = nlohmann::json::parse(line).at(slice.at("field").get<std::string>()).get<std::string>();
    }
    return whole.substr(slice.at("byte_offset").get<size_t>(), slice.at("byte_length").get<size_t>());
}

inline std::vector<TokenizerCase> load_tokenizer_cases() {
    const nlohmann::json doc = nlohmann::json::parse(read_file(test_data("tokenizer_cases.json")));
    std::vector<TokenizerCase> cases;
    for (const auto& c : doc.at("cases")) {
        TokenizerCase tc;
        tc.name = c.at("name").get<std::string>();
        tc.text = c.contains("slice") ? slice_text(c.at("slice")) : c.at("text").get<std::string>();
        tc.ids = c.at("ids");
        if (c.contains("pretokens")) tc.pretokens = c.at("pretokens").get<std::vector<int64_t>>();
        cases.push_back(std::move(tc));
    }
    return cases;
}

inline std::vector<int64_t> reference_ids(const TokenizerCase& c, const std::string& key) {
    return c.ids.at(key).get<std::vector<int64_t>>();
}

// First index where two id lists differ, for readable failure messages.
inline std::string first_difference(const std::vector<int64_t>& got, const std::vector<int64_t>& want) {
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i])
        ++i;
    if (i == got.size() && i == want.size()) return "equal";
    std::ostringstream s;
    s << "sizes " << got.size() << " vs " << want.size() << ", first difference at " << i << ": got "
      << (i < got.size() ? std::to_string(got[i]) : "end") << ", want "
      << (i < want.size() ? std::to_string(want[i]) : "end");
    return s.str();
}

} // namespace rilq::test
