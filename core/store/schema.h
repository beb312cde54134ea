// The run store's schema, versioned with PRAGMA user_version and upgraded by forward
// migrations, one per version step. Modelled on MLflow's tracking schema (experiments, runs,
// params, tags, metrics, latest_metrics) so people recognise it and an export is easy.
//
//   v1  MLflow's core: experiments, runs (uuid, status, times, config, hash, version, host),
//       params, tags, metrics (key, value, step, timestamp ms, is_nan), latest_metrics
//   v2  the workbench's tables: best_metrics (min and max per key, backfilled from metrics),
//       layer_stats, eval_results, artifacts
//   v3  crash detection: runs.pid and runs.heartbeat_time
//   v4  downstream accuracy: task_results (per task and stage, with its protocol) and
//       task_group_scores (MMLU categories, subcategories, subjects)
#pragma once
#include "core/store/sqlite.h"

namespace rilq::store {

constexpr int kSchemaVersion = 4;

// The version stored in the file (0 for a new, empty database).
int schema_version(Database& db);

// Applies the migrations from the file's version up to `target` (default: the latest), each
// in its own transaction, so an interrupted upgrade leaves a consistent older version.
// Throws when the file is newer than this program.
void migrate(Database& db, int target = kSchemaVersion);

} // namespace rilq::store
