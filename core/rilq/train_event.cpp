#include "core/rilq/train_event.h"

#include "core/util/config_fields.h"

namespace rilq {

std::string to_string(TrainEventKind kind) {
    static const config::EnumNames<TrainEventKind> names = {{TrainEventKind::Update, "update"},
                                                            {TrainEventKind::Validation, "validation"},
                                                            {TrainEventKind::EarlyStop, "early_stop"},
                                                            {TrainEventKind::Finished, "finished"}};
    return config::name_of(names, kind);
}

std::string to_string(TrainStatus status) {
    static const config::EnumNames<TrainStatus> names = {{TrainStatus::Running, "running"},
                                                         {TrainStatus::Finished, "finished"},
                                                         {TrainStatus::EarlyStopped, "early_stopped"},
                                                         {TrainStatus::Killed, "killed"},
                                                         {TrainStatus::Failed, "failed"}};
    return config::name_of(names, status);
}

std::vector<std::pair<std::string, double>> train_event_metrics(const TrainEvent& e) {
    if (e.kind == TrainEventKind::Update)
        return {{"t_a_loss", e.t_a_loss},
                {"t_gt_loss", e.t_gt_loss},
                {"t_loss", e.t_loss},
                {"lr", e.lr},
                {"tokens_per_s", e.tokens_per_s}};
    if (e.kind == TrainEventKind::Validation)
        return {{"v_a_loss", e.v_a_loss},
                {"v_gt_loss", e.v_gt_loss},
                {"v_loss", e.v_loss},
                {"es_counter", static_cast<double>(e.es_counter)}};
    return {};
}

} // namespace rilq
