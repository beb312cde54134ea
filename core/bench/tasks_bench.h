// `rilq bench tasks`: MMLU questions per second with and without prefix reuse (the k-shot
// prefix run once per subject and shot count, its keys/values reused by every question, the
// questions batched) on two models: a random Llama of width 512 (8 layers, context 2048) with
// the Llama-2 tokenizer, where prompts have their real lengths (400-2000 tokens), and
// stories260K (context 512, so most prompts drop shots). Both modes score the same questions;
// the largest probability difference between them is printed as a check.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/util/progress.h"

namespace rilq {

struct TasksBenchOptions {
    std::string mmlu_dir;         // MMLU data folder (dev/, test/)
    std::string llama2_tokenizer; // tokenizer.model for the random model
    std::string stories_model;    // stories260K.bin ("" skips it)
    std::vector<std::string> subjects = {"abstract_algebra", "high_school_european_history", "marketing",
                                         "professional_law"};
    // Questions per subject: every question of a subject shares its prefix (MMLU's test split has
    // 100+ per subject), so a handful would mostly time the one prefix forward.
    int64_t limit = 25;
    int64_t shots = 5;
};

struct TasksBenchRow {
    std::string model;
    int64_t questions = 0;
    double plain_questions_per_s = 0.0; // each prompt whole, one per forward (IR-QLoRA's way)
    double reuse_questions_per_s = 0.0; // prefix keys/values reused, then each question's own tokens
    double speedup = 0.0;
    double max_prob_diff = 0.0;
    double mean_prompt_tokens = 0.0;
};

std::vector<TasksBenchRow> run_tasks_bench(const TasksBenchOptions& options,
                                           const ProgressSink& progress = {});

} // namespace rilq
