// RILQ calibration windows, as rilq_utils/{calib_data_loader,data}.py build them (METHODS.md
// section 4 "RILQ calibration"):
//   for each dataset d with n_d > 0, in the order given:
//       random.seed(seed)                         # get_dataset re-seeds for every dataset
//       c4:        n_d times: draw documents i = randint(0, D-1) until the document tokenized
//                  with BOS has > L tokens (strict); i = randint(0, len-L-1); window [i, i+L)
//       wikitext2: text = "".join(" \n" if r == "" else r for r in rows[:1000]) tokenized once
//                  with BOS; n_d times: i = randint(0, len-L-1); window [i, i+L)
//       text:      the file's bytes tokenized once with BOS; windows as for wikitext2
//       v = int(n_d * val_ratio): the last v windows -> validation, the first n_d - v -> train
//   random.shuffle(train); random.shuffle(validation)    # the RNG continues from the last dataset
// Several datasets are mixed by giving each its own count, as RILQ's --calib_datasets c4,wikitext2
// --calib_num_samples 160,160 does; calibration_sources() splits one total evenly when only a
// total is given (our choice: RILQ always takes explicit counts).
// Decision: with val_ratio > 0 and int(n_d * val_ratio) == 0, RILQ's each_dset[-0:] would put
// all of dataset d into validation and none into training; that is rejected as an Error.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/data/text_sources.h"
#include "core/data/token_windows.h"
#include "core/util/progress.h"

namespace rilq {

class Tokenizer;

struct CalibrationSource {
    DatasetSpec spec;
    int64_t n_samples = 0; // windows generated from this dataset (train + validation); 0 skips it
};

struct CalibrationOptions {
    int64_t seqlen = 512;        // L (RILQ --calib_max_length; the README setup is 320 x 512)
    uint64_t seed = 42;          // RILQ --m_seed
    double val_ratio = 0.2;      // RILQ --calib_val_ratio; 0 = no validation split
    size_t wikitext_rows = 1000; // RILQ reads only the first 1000 rows of the train split
};

struct CalibrationSet {
    TokenWindows train;                   // (N_train, L), in the shuffled order training cycles
    TokenWindows val;                     // (N_val, L)
    std::vector<std::string> files;       // per source: the file read (after data-root resolution)
    std::vector<std::string> file_sha256; // per source
    std::string description;              // what was drawn, from what, how
};

// Pairs specs with counts: counts.size() == specs.size() gives each its own count; a single
// count with several specs is split evenly, the first (total % k) datasets getting one more.
std::vector<CalibrationSource> calibration_sources(const std::vector<DatasetSpec>& specs,
                                                   const std::vector<int64_t>& counts);

// Resolves the specs (DataUse::Calibration), reads, tokenizes and draws. Errors name the file:
// malformed data, a stream of <= L tokens, no c4 document longer than L, a zero-sized split.
CalibrationSet build_calibration(const std::vector<CalibrationSource>& sources, const Tokenizer& tokenizer,
                                 const CalibrationOptions& options, const ProgressSink& progress = {});

} // namespace rilq
