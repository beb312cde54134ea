#include "core/run/run_record.h"

#include "core/run/config_document.h"

namespace rilq::run {

store::NewRun to_new_run(const RunConfig& config, const std::string& experiment_document) {
    store::NewRun run;
    run.experiment = config.experiment;
    run.experiment_config = experiment_document;
    run.name = config.run_name;
    run.config_json = run_document_text(config);
    run.config_hash = config.config_hash.empty() ? compute_config_hash(config) : config.config_hash;
    run.params = run_params(config);
    run.tags.emplace_back("sweep.index", std::to_string(config.index));
    for (const auto& [key, value] : config.swept)
        run.tags.emplace_back("sweep." + key, value);
    return run;
}

} // namespace rilq::run
