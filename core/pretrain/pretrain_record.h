// A pretraining job recorded in the run store like any other run: params from the job and its
// PretrainConfig, metrics train_loss / lr / tokens_per_s per step and val_loss per validation,
// the model folder as an artifact, and FINISHED / KILLED / FAILED at the end. Used by
// `rilq pretrain` and by the demo when it builds its model.
#pragma once
#include <functional>
#include <string>

#include "core/pretrain/pretrain_pipeline.h"
#include "core/util/progress.h"

namespace rilq::store {
class RunStore;
}

namespace rilq {

// Runs the job and records it in `store` under `experiment` (run name: the output folder's
// name). A cancel or an error marks the run and is rethrown.
PretrainJobResult run_recorded_pretrain_job(store::RunStore& store, const std::string& experiment,
                                            const PretrainJob& job,
                                            const std::function<void(const PretrainEvent&)>& on_event,
                                            const ProgressSink& progress = {});

} // namespace rilq
