// rilq quantize MODEL --method ... --bits B --group G [--variant ...] --out DIR [--stats FILE.json]
// Writes the fake-quantized model (same architecture, dequantized weights) as an HF folder.
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "app/cli/quant_cli.h"

#include "core/io/hf_checkpoint.h"
#include "core/io/model_loader.h"
#include "core/quant/quant_codes.h"
#include "core/quant/quant_stats_json.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace rilq::cli {

int cmd_quantize(const QStringList& args) {
    QCommandLineParser p;
    add_quant_options(p);
    add_model_options(p);
    p.addPositionalArgument("model", "HF model folder or llama2.c .bin file.");
    p.addOptions({
        {"out", "Output HF folder (config.json + model.safetensors + the tokenizer), written atomically.",
         "dir"},
        {"stats", "Also write the per-linear quantization stats as JSON.", "file.json"},
        {"codes",
         "Also write quant_codes.safetensors + quant_codes.json (integer codes and scales) into --out."},
        {"save-dtype",
         "Storage dtype of the written weights: float32, bfloat16, float16 (default: the model's).", "dtype"},
        {"quiet", "No progress bar."},
    });
    int exit_code = kExitOk;
    if (!parse_args(p, args,
                    "Fake-quantizes the seven projections of every decoder layer (RTN, NormalFloat, IR-QLoRA "
                    "ICQ) and "
                    "saves the model with dequantized weights, as RILQ's q_model.",
                    1, 1, exit_code))
        return exit_code;
    if (!p.isSet("out")) {
        std::cerr << "rilq quantize: --out DIR is required\n\n" << to_std(p.helpText());
        return kExitUsage;
    }
    QuantSpec spec;
    try {
        spec = quant_spec_from_options(p);
    } catch (const Error& e) {
        std::cerr << "rilq quantize: " << e.what() << "\n";
        return kExitUsage;
    }
    return run_guarded([&] {
        init_runtime(threads_from(p));
        const std::string model_path = to_std(p.positionalArguments().at(0));
        const std::string out_dir = to_std(p.value("out"));
        LlamaModel model = load_model(model_path, model_options_from(p));
        QuantizeModelOptions options;
        options.metrics = metrics_from_options(p);
        options.keep_states = p.isSet("codes");
        ModelQuantResult result;
        {
            QuantProgress progress(!p.isSet("quiet"));
            options.calib_ids = calibration_ids_from_options(p, model, model_path, progress.sink());
            result = quantize_model(model, spec, options, progress.sink());
            progress.finish();
        }
        save_hf_model(model, out_dir, to_std(p.value("save-dtype")));
        copy_tokenizer_files(p, model_path, out_dir);
        if (options.keep_states) write_quant_codes(result, out_dir, model_path);
        if (p.isSet("stats"))
            write_file_atomic(to_std(p.value("stats")),
                              quant_stats_to_json(result, model_path).dump(1) + "\n");
        print_quant_summary(result, std::cout);
        std::cout << "wrote " << out_dir << "\n";
        return kExitOk;
    });
}

} // namespace rilq::cli
