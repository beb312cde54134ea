// The smallest real sweep the GUI tests start from the window: the stories260K rank sweep
// (experiments/stories260k-rank-sweep.json, ../shared/data) cut to ranks 0 and 2, `steps`
// micro-steps, 20 calibration windows of 64 tokens and 4 eval windows.
#pragma once
#include "tests/support/test_support.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QString>

namespace rilq::test {

inline nlohmann::json tiny_gui_experiment(int steps) {
    QFile file(QString::fromStdString(test_data("../../experiments/stories260k-rank-sweep.json")));
    if (!file.open(QIODevice::ReadOnly)) return {};
    nlohmann::json doc = nlohmann::json::parse(file.readAll().toStdString());
    doc["name"] = "gui-tiny";
    doc["data_root"] = shared_data();
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

} // namespace rilq::test
