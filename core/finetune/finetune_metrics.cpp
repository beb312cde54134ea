#include "core/finetune/finetune_metrics.h"

#include <cmath>

namespace rilq {

std::vector<std::pair<std::string, double>> finetune_event_metrics(const TrainEvent& e,
                                                                   const std::string& prefix) {
    std::vector<std::pair<std::string, double>> m;
    if (e.kind == TrainEventKind::Update) {
        m = {{prefix + "t_loss", e.t_loss}, {prefix + "lr", e.lr}, {prefix + "tokens_per_s", e.tokens_per_s}};
        if (std::isfinite(e.grad_norm)) m.emplace_back(prefix + "grad_norm", e.grad_norm);
    } else if (e.kind == TrainEventKind::Validation) {
        m = {{prefix + "v_loss", e.v_loss}};
    }
    return m;
}

} // namespace rilq
