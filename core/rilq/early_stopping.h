// Early stopping exactly as aiha-lab/RILQ main.py "Step 4-3-6": a validation loss strictly
// below the best becomes the best and resets the counter; otherwise the counter grows when
// |v - best| >= delta or v is NaN (with delta 0: every non-improvement). Training stops when
// the counter reaches the patience. The validation before training (update 0) is logged by the
// trainer but never observed here, so it can never become the best.
#pragma once
#include <cstdint>
#include <limits>

namespace rilq {

class EarlyStopping {
public:
    EarlyStopping(bool enabled, int64_t patience, double delta);

    struct Verdict {
        bool improved = false;  // a new best: snapshot the adapters
        bool stop = false;      // patience exhausted (only when enabled)
    };
    Verdict observe(double v_loss);

    double best() const { return best_; }
    int64_t counter() const { return counter_; }
    void restore(double best, int64_t counter) {
        best_ = best;
        counter_ = counter;
    }

private:
    bool enabled_;
    int64_t patience_;
    double delta_;
    double best_ = std::numeric_limits<double>::infinity();
    int64_t counter_ = 0;
};

} // namespace rilq
