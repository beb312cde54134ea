// Shared by the commands that use the run store: the --db option and how times print.
#pragma once
#include <QCommandLineParser>

#include <cstdint>
#include <optional>
#include <string>

namespace rilq::cli {

// --db FILE; without it the store is at $RILQ_DB or the per-user data folder.
void add_db_option(QCommandLineParser& parser);
std::string store_path(const QCommandLineParser& parser);

std::string local_time(std::optional<int64_t> ms); // "2025-01-31 14:05", "-"
std::string duration_text(std::optional<int64_t> start_ms, std::optional<int64_t> end_ms); // "1h02m", "-"

} // namespace rilq::cli
