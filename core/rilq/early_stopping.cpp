#include "core/rilq/early_stopping.h"

#include <cmath>

namespace rilq {

EarlyStopping::EarlyStopping(bool enabled, int64_t patience, double delta)
    : enabled_(enabled), patience_(patience), delta_(delta) {}

EarlyStopping::Verdict EarlyStopping::observe(double v_loss) {
    Verdict v;
    if (v_loss < best_) {
        best_ = v_loss;
        counter_ = 0;
        v.improved = true;
    } else if (std::abs(v_loss - best_) >= delta_ || std::isnan(v_loss)) {
        ++counter_;
    }
    v.stop = enabled_ && counter_ >= patience_;
    return v;
}

} // namespace rilq
