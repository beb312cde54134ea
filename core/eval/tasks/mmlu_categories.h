// hendrycks/test categories.py (byte-identical to the file IR-QLoRA's evaluate_mmlu.py imports),
// transcribed as data: subject -> subcategory, and the four categories as lists of
// subcategories. shared/data/mmlu/categories.json holds the same facts (a test compares them).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace rilq {

// (subject, subcategory) for the 57 subjects, sorted by subject.
const std::vector<std::pair<std::string, std::string>>& mmlu_subcategories();
// (category, subcategories) in categories.py order: STEM, humanities, social sciences, other.
const std::vector<std::pair<std::string, std::vector<std::string>>>& mmlu_categories();
// The subject's subcategory, "" for a subject categories.py does not list.
std::string mmlu_subcategory(const std::string& subject);
// The category of a subcategory, "" when none lists it.
std::string mmlu_category(const std::string& subcategory);

} // namespace rilq
