#!/usr/bin/env bash
# Installs every Debian 12 package RILQ Workbench needs, quietly when all is present.
# Idempotent: safe to run before every build.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  qt6-base-dev qt6-svg-dev libqt6sql6-sqlite libqcustomplot-dev libqcustomplot2.1-qt6
  libtorch-dev nlohmann-json3-dev libsqlite3-dev libsentencepiece-dev zlib1g-dev
  # OpenBLAS (OpenMP build): LibTorch's fp32 GEMM goes through libblas.so.3,
  # and the reference BLAS is ~17x slower (see README, "Speed").
  libopenblas0-openmp
  # Headless GUI checks and the demo corpus.
  xvfb xauth fortunes
  # Sweeps on a Slurm cluster (rilq run --backend slurm); the CI test starts a one-node cluster.
  slurmctld slurmd slurm-client munge
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Pin the OpenMP OpenBLAS: a pthread OpenBLAS (if another package pulls it in) wins the
# alternatives by priority, ignores torch's thread setting, and fights torch's OpenMP pool.
arch_dir=/usr/lib/x86_64-linux-gnu
if [ -e "$arch_dir/openblas-openmp/libblas.so.3" ]; then
  for lib in libblas.so.3 liblapack.so.3; do
    cur=$(readlink -f "$arch_dir/$lib" || true)
    want=$(readlink -f "$arch_dir/openblas-openmp/$lib")
    if [ "$cur" != "$want" ]; then
      update-alternatives --quiet --set "$lib-x86_64-linux-gnu" "$arch_dir/openblas-openmp/$lib"
    fi
  done
fi
