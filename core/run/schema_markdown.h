// The experiment JSON reference as Markdown, generated from the schema and the quantizer
// registry: one table per section (key, default, valid values, [origin,] meaning) and the table
// of quantization methods. `rilq schema --markdown` prints it; the README carries it verbatim
// (a test checks they are equal), so the reference cannot drift from what the parser accepts.
#pragma once
#include <string>

namespace rilq::run {

std::string experiment_schema_markdown();

} // namespace rilq::run
