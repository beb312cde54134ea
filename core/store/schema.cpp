#include "core/store/schema.h"

#include "core/util/error.h"

#include <string>

namespace rilq::store {

namespace {

// Each entry upgrades version i to i + 1. Never edit a shipped step: add a new one.
const char* const kMigrations[] = {
    // v0 -> v1: MLflow's core tables. Times are Unix milliseconds, as in MLflow.
    R"sql(
    CREATE TABLE experiments (
        experiment_id    INTEGER PRIMARY KEY,
        name             TEXT NOT NULL UNIQUE,
        lifecycle_stage  TEXT NOT NULL DEFAULT 'active',
        creation_time    INTEGER NOT NULL,
        last_update_time INTEGER NOT NULL,
        config_json      TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE runs (
        run_uuid        TEXT PRIMARY KEY,
        experiment_id   INTEGER NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN
                            ('SCHEDULED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED', 'INTERRUPTED')),
        start_time      INTEGER,
        end_time        INTEGER,
        config_json     TEXT NOT NULL DEFAULT '',
        config_hash     TEXT NOT NULL DEFAULT '',
        program_version TEXT NOT NULL DEFAULT '',
        host            TEXT NOT NULL DEFAULT '',
        status_message  TEXT NOT NULL DEFAULT '',
        lifecycle_stage TEXT NOT NULL DEFAULT 'active'
    );
    CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
    CREATE TABLE params (
        run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        key      TEXT NOT NULL,
        value    TEXT NOT NULL,
        PRIMARY KEY (run_uuid, key)
    ) WITHOUT ROWID;
    CREATE TABLE tags (
        run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        key      TEXT NOT NULL,
        value    TEXT NOT NULL,
        PRIMARY KEY (run_uuid, key)
    ) WITHOUT ROWID;
    -- SQLite stores NaN as NULL; like MLflow we store 0 and set is_nan.
    CREATE TABLE metrics (
        run_uuid  TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        value     REAL NOT NULL,
        step      INTEGER NOT NULL,
        timestamp INTEGER NOT NULL,
        is_nan    INTEGER NOT NULL DEFAULT 0
    );
    -- A curve (one run, one key, by step) is one index range scan.
    CREATE INDEX metrics_curve ON metrics(run_uuid, key, step);
    CREATE TABLE latest_metrics (
        run_uuid  TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        value     REAL NOT NULL,
        step      INTEGER NOT NULL,
        timestamp INTEGER NOT NULL,
        is_nan    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_uuid, key)
    ) WITHOUT ROWID;
    )sql",

    // v1 -> v2: the workbench's own tables.
    R"sql(
    CREATE TABLE best_metrics (
        run_uuid  TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        min_value REAL NOT NULL,
        min_step  INTEGER NOT NULL,
        max_value REAL NOT NULL,
        max_step  INTEGER NOT NULL,
        PRIMARY KEY (run_uuid, key)
    ) WITHOUT ROWID;
    -- Backfill: the first step reaching the minimum (maximum) of every non-NaN series.
    INSERT INTO best_metrics (run_uuid, key, min_value, min_step, max_value, max_step)
    SELECT m.run_uuid, m.key, MIN(m.value),
           (SELECT step FROM metrics a WHERE a.run_uuid = m.run_uuid AND a.key = m.key AND a.is_nan = 0
                ORDER BY a.value ASC, a.step ASC LIMIT 1),
           MAX(m.value),
           (SELECT step FROM metrics b WHERE b.run_uuid = m.run_uuid AND b.key = m.key AND b.is_nan = 0
                ORDER BY b.value DESC, b.step ASC LIMIT 1)
    FROM metrics m WHERE m.is_nan = 0 GROUP BY m.run_uuid, m.key;
    CREATE TABLE layer_stats (
        run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        stage    TEXT NOT NULL CHECK (stage IN ('fp', 'quantized', 'compensated')),
        layer    INTEGER NOT NULL,
        module   TEXT NOT NULL,
        metric   TEXT NOT NULL,
        value    REAL NOT NULL,
        PRIMARY KEY (run_uuid, stage, layer, module, metric)
    ) WITHOUT ROWID;
    CREATE TABLE eval_results (
        run_uuid    TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        dataset     TEXT NOT NULL,
        stage       TEXT NOT NULL CHECK (stage IN ('fp', 'quantized', 'compensated')),
        file_sha256 TEXT NOT NULL,
        tokenizer   TEXT NOT NULL,
        seqlen      INTEGER NOT NULL,
        n_windows   INTEGER NOT NULL,
        n_tokens    INTEGER NOT NULL,
        ppl         REAL NOT NULL,
        timestamp   INTEGER NOT NULL,
        PRIMARY KEY (run_uuid, dataset, stage)
    ) WITHOUT ROWID;
    CREATE TABLE artifacts (
        run_uuid   TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        kind       TEXT NOT NULL,
        path       TEXT NOT NULL,
        sha256     TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        PRIMARY KEY (run_uuid, path)
    ) WITHOUT ROWID;
    )sql",

    // v2 -> v3: who is running a run and when it last showed life, so a run whose process
    // died (SIGKILL, power loss) can be marked INTERRUPTED instead of RUNNING forever.
    R"sql(
    ALTER TABLE runs ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN heartbeat_time INTEGER;
    CREATE INDEX runs_by_status ON runs(status);
    )sql",

    // v3 -> v4: downstream-task accuracy (core/eval/tasks), each number with its protocol. A
    // metric the task does not define (acc_norm of MMLU) is NULL.
    R"sql(
    CREATE TABLE task_results (
        run_uuid        TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        task            TEXT NOT NULL,
        stage           TEXT NOT NULL,
        n               INTEGER NOT NULL,
        acc             REAL NOT NULL,
        acc_stderr      REAL,
        acc_norm        REAL,
        acc_norm_stderr REAL,
        shots           INTEGER NOT NULL,
        data_sha256     TEXT NOT NULL,
        tokenizer       TEXT NOT NULL,
        bos             TEXT NOT NULL,
        max_length      INTEGER NOT NULL,
        protocol_json   TEXT NOT NULL,
        timestamp       INTEGER NOT NULL,
        PRIMARY KEY (run_uuid, task, stage)
    ) WITHOUT ROWID;
    CREATE TABLE task_group_scores (
        run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
        task     TEXT NOT NULL,
        stage    TEXT NOT NULL,
        kind     TEXT NOT NULL CHECK (kind IN ('category', 'subcategory', 'subject')),
        name     TEXT NOT NULL,
        position INTEGER NOT NULL,  -- the order logged: categories, subcategories, subjects
        n        INTEGER NOT NULL,
        acc      REAL NOT NULL,
        PRIMARY KEY (run_uuid, task, stage, kind, name)
    ) WITHOUT ROWID;
    )sql",
};

static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration per version step");

} // namespace

int schema_version(Database& db) {
    return static_cast<int>(db.query_int("PRAGMA user_version"));
}

void migrate(Database& db, int target) {
    if (target < 0 || target > kSchemaVersion) {
        throw Error(db.path() + ": no schema version " + std::to_string(target) + " (latest is " +
                    std::to_string(kSchemaVersion) + ")");
    }
    int version = schema_version(db);
    if (version > kSchemaVersion) {
        throw Error(db.path() + ": run store schema version " + std::to_string(version) +
                    " is newer than this program understands (" + std::to_string(kSchemaVersion) +
                    "); use a newer rilq");
    }
    while (version < target) {
        Transaction transaction(db);
        // Re-read inside the write lock: another process may have migrated meanwhile.
        version = schema_version(db);
        if (version >= target) break;
        db.exec(kMigrations[version]);
        db.exec("PRAGMA user_version = " + std::to_string(version + 1));
        transaction.commit();
        ++version;
    }
}

} // namespace rilq::store
