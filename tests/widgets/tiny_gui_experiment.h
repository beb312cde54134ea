// The smallest real experiments the GUI tests start from the window: shipped ones
// (experiments/, data from ../shared/data) cut to seconds.
#pragma once
#include "tests/support/test_support.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QString>

namespace rilq::test {

// experiments/FILE with its data root pointed at ../shared/data; null when the file is missing.
inline nlohmann::json shipped_gui_experiment(const char* file_name, const char* name) {
    QFile file(QString::fromStdString(test_data(std::string("../../experiments/") + file_name)));
    if (!file.open(QIODevice::ReadOnly)) return {};
    nlohmann::json doc = nlohmann::json::parse(file.readAll().toStdString());
    doc["name"] = name;
    doc["data_root"] = shared_data();
    return doc;
}

// The stories260K rank sweep cut to ranks 0 and 2, `steps` micro-steps, 20 calibration windows
// of 64 tokens and 4 eval windows.
inline nlohmann::json tiny_gui_experiment(int steps) {
    nlohmann::json doc = shipped_gui_experiment("stories260k-rank-sweep.json", "gui-tiny");
    if (doc.is_null()) return doc;
    doc["rilq"]["lora_r"] = nlohmann::json::parse("[0, 2]");
    doc["rilq"]["approx_total_steps"] = steps;
    doc["rilq"]["calib_num_samples"] = 20;
    doc["rilq"]["calib_max_length"] = 64;
    doc["rilq"]["approx_eval_steps"] = 1;
    doc["rilq"]["gradient_accumulation_steps"] = 1;
    doc["eval"]["seqlen"] = 64;
    doc["datasets"]["tinystories_eval"]["max_windows"] = 4;
    return doc;
}

// The shipped chain (RILQ, then IR-QLoRA's fine-tuning) cut to seconds: rank 2, 4 RILQ updates,
// 6 fine-tuning updates with an eval every 2, no task scoring.
inline nlohmann::json tiny_chain_experiment() {
    nlohmann::json doc = shipped_gui_experiment("stories260k-rilq-sft-chain.json", "gui-chain");
    if (doc.is_null()) return doc;
    doc["rilq"]["lora_r"] = 2;
    doc["rilq"]["approx_total_steps"] = 4;
    doc["rilq"]["calib_num_samples"] = 10;
    doc["rilq"]["calib_max_length"] = 64;
    doc["rilq"]["gradient_accumulation_steps"] = 1;
    doc["rilq"]["approx_eval_steps"] = 2;
    doc["eval"]["seqlen"] = 64;
    doc["eval"].erase("tasks");
    doc["datasets"]["tinystories_eval"]["max_windows"] = 2;
    doc["finetune"]["approx_total_steps"] = 6;
    doc["finetune"]["approx_batch_size"] = 2;
    doc["finetune"]["approx_eval_steps"] = 2;
    doc["finetune"]["eval_dataset_size"] = 8;
    doc["finetune"]["max_eval_samples"] = 4;
    doc["finetune"]["eval_batch_size"] = 4;
    return doc;
}

} // namespace rilq::test
