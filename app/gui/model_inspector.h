// The setup form's view of a model path: core's summarize_model (headers only for HF folders,
// so picking a 7B folder costs milliseconds) turned into the form's ModelInfo.
#pragma once
#include "widgets/experiment_form.h"

namespace rilq::gui {

// Never throws: a bad path comes back as !ok with core's message (which names the file).
widgets::ModelInfo inspect_model(const QString& path);

} // namespace rilq::gui
