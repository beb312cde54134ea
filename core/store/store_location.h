// Where the run store lives when nobody says: the per-user data folder, by the XDG rule that
// Qt's QStandardPaths follows on Linux (core has no Qt, so the rule is spelt out here).
//   --db FILE  >  $RILQ_DB  >  $XDG_DATA_HOME/rilq-workbench/runs.sqlite
//                          >  $HOME/.local/share/rilq-workbench/runs.sqlite
#pragma once
#include <string>

namespace rilq::store {

constexpr const char* kStoreEnvVar = "RILQ_DB";

// The default path (env var, then the XDG data folder). Error when neither HOME nor
// XDG_DATA_HOME is set.
std::string default_store_path();

// `explicit_path` (from --db) when not empty, else default_store_path().
std::string resolve_store_path(const std::string& explicit_path);

} // namespace rilq::store
