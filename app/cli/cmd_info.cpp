// rilq info MODEL [--json]: config, parameter count and the addressable linear layers.
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/io/model_loader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace rilq::cli {

namespace {

nlohmann::json summary_json(const ModelSummary& s) {
    nlohmann::json linears = nlohmann::json::array();
    for (const auto& l : s.linears)
        linears.push_back(
            {{"name", l.name}, {"out_features", l.out_features}, {"in_features", l.in_features}});
    return {{"path", s.path},
            {"format", s.format},
            {"config", s.config.to_json()},
            {"parameter_count", s.parameter_count},
            {"linears", linears}};
}

// 260096 -> "260,096"
std::string grouped(int64_t n) {
    std::string digits = std::to_string(n);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<size_t>(i), ",");
    return digits;
}

void print_text(const ModelSummary& s) {
    std::cout << "model: " << s.path << " (" << (s.format == "hf" ? "HF folder" : "llama2.c file") << ")\n";
    std::cout << "config:\n";
    const nlohmann::json config = s.config.to_json(); // items() must not outlive it
    for (const auto& [key, value] : config.items())
        std::cout << "  " << key << std::string(key.size() < 26 ? 26 - key.size() : 1, ' ')
                  << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
    char millions[32];
    std::snprintf(millions, sizeof millions, "%.3f M", static_cast<double>(s.parameter_count) / 1e6);
    std::cout << "parameters: " << grouped(s.parameter_count) << " (" << millions << ")\n";
    size_t width = 0;
    for (const auto& l : s.linears)
        width = std::max(width, l.name.size());
    std::cout << "linear layers (" << s.linears.size() << ", weight shape out x in):\n";
    for (const auto& l : s.linears)
        std::cout << "  " << l.name << std::string(width - l.name.size() + 2, ' ') << l.out_features << " x "
                  << l.in_features << "\n";
}

} // namespace

int cmd_info(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("MODEL"),
                                 QStringLiteral("HF model folder or llama2.c .bin file."));
    parser.addOption({QStringLiteral("json"), QStringLiteral("Print one JSON object instead of text.")});
    int code = 0;
    if (!parse_args(parser, args,
                    QStringLiteral("Show a model's config, parameter count and linear layers (HF folders: "
                                   "headers only, weights are not loaded)."),
                    1, 1, code))
        return code;
    return run_guarded([&] {
        const ModelSummary summary = summarize_model(to_std(parser.positionalArguments().at(0)));
        if (parser.isSet(QStringLiteral("json")))
            std::cout << summary_json(summary).dump(2) << std::endl;
        else
            print_text(summary);
        return kExitOk;
    });
}

} // namespace rilq::cli
