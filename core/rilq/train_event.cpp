#include "core/rilq/train_event.h"

namespace rilq {

std::string to_string(TrainEventKind kind) {
    switch (kind) {
    case TrainEventKind::Update: return "update";
    case TrainEventKind::Validation: return "validation";
    case TrainEventKind::EarlyStop: return "early_stop";
    case TrainEventKind::Finished: return "finished";
    }
    return "?";
}

std::string to_string(TrainStatus status) {
    switch (status) {
    case TrainStatus::Running: return "running";
    case TrainStatus::Finished: return "finished";
    case TrainStatus::EarlyStopped: return "early_stopped";
    case TrainStatus::Killed: return "killed";
    case TrainStatus::Failed: return "failed";
    }
    return "?";
}

} // namespace rilq
