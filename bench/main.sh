#!/usr/bin/env bash
# The README's main command: installs what is missing, builds a Release
# ipcbench and runs the standard sweep (every transport; 2, 4 and 8
# processes; 64 B, 4 KiB, 64 KiB; work none, cpu:50, io:50; both patterns),
# printing the comparison table. Results land in results/sweep.json, figures
# in plots/. Extra arguments go to ipcbench (e.g. --repeat 5).
set -euo pipefail
cd "$(dirname "$0")/.."

bench/setup.sh run
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
build/release/bench/ipcbench --sweep --format json --output results/sweep.json \
	--plot plots "$@"
echo "results: results/sweep.json   figures: plots/ (fig*.png, each with its .gp script and .csv data)" >&2
