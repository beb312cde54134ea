// The PPL-versus-rank figure of an experiment (the RILQ paper's central picture), read from the
// run store with exactly the rules of `rilq export` - it is built from pivot_from_store, one table
// per scope (`--where rilq.scope=S`) with rows rilq.lora_r and the eval datasets as columns, and
// its protocol line is that of the table with columns rilq.scope: FINISHED runs only, a point
// recorded twice counted once (its latest run), rank 0 (nothing compensated) standing in with its
// quantized model, seeds averaged, runs that differ in anything but rank, scope and seed an error
// naming the param. The GUI's Compare tab draws this; its Export tab and `rilq export` print the
// pivot tables; so the plot and the tables cannot disagree.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rilq::store {
class RunStore;
}

namespace rilq::report {

struct RankSweepPoint {
    std::string dataset; // the dataset's label ("Wiki2")
    std::string scope;   // rilq.scope of the runs
    int64_t rank = 0;    // rilq.lora_r; 0 = the quantized model, no compensation
    double value = 0.0;  // mean PPL over the runs of this cell
    int runs = 0;        // runs averaged (seeds)
};

struct RankSweep {
    std::vector<RankSweepPoint> points;     // one per (dataset, scope, rank), datasets in eval order
    std::map<std::string, double> fp_value; // dataset label -> PPL of the FP model
    std::string protocol;                   // the export table's protocol line
};

// Throws rilq::Error as pivot_from_store does (no finished runs, mixed settings in one cell).
RankSweep rank_sweep_from_store(store::RunStore& store, const std::string& experiment);

} // namespace rilq::report
