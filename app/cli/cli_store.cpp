#include "app/cli/cli_store.h"

#include "app/cli/cli_support.h"
#include "core/store/store_location.h"

#include <ctime>

namespace rilq::cli {

void add_db_option(QCommandLineParser& parser) {
    parser.addOption({QStringLiteral("db"),
                      QStringLiteral("Run store file (default: $RILQ_DB, else the per-user data folder)."),
                      QStringLiteral("FILE")});
}

std::string store_path(const QCommandLineParser& parser) {
    return store::resolve_store_path(to_std(parser.value(QStringLiteral("db"))));
}

std::string local_time(std::optional<int64_t> ms) {
    if (!ms) return "-";
    const std::time_t seconds = static_cast<std::time_t>(*ms / 1000);
    std::tm local{};
    localtime_r(&seconds, &local);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &local);
    return buf;
}

std::string duration_text(std::optional<int64_t> start_ms, std::optional<int64_t> end_ms) {
    if (!start_ms || !end_ms) return "-";
    const int64_t s = (*end_ms - *start_ms) / 1000;
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%llds", (long long)s);
    return buf;
}

} // namespace rilq::cli
