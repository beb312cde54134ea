#!/usr/bin/env bash
# The slowest compile/link jobs of the last build, from ninja's log, and the total job time.
#   bash scripts/build-stats.sh [BUILD_DIR] [COUNT]     (defaults: build, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
count=${2:-10}
log="$dir/.ninja_log"
[ -f "$log" ] || { echo "build-stats: no $log (build first)" >&2; exit 1; }
# .ninja_log v5: start_ms end_ms mtime output hash; a rebuilt output appears again, keep the last.
awk -v n="$count" '
  NR > 1 { t[$4] = ($2 - $1) / 1000.0 }
  END {
    total = 0; jobs = 0
    for (o in t) { total += t[o]; jobs++ }
    printf "%d jobs, %.0f job-seconds in total\n", jobs, total
    cmd = "sort -rn | head -n " n
    for (o in t) printf "%8.1f s  %s\n", t[o], o | cmd
    close(cmd)
  }' "$log"
