#!/usr/bin/env bash
# Every figure of bench/README.md in one go (about 45 minutes), after the databases are loaded
# (see "Rerun"). Extra arguments go to every run.py call (e.g. --max-load 1 --patience 120).
set -euo pipefail
cd "$(dirname "$0")"
DATA=${BENCH_DATA:-/tmp/roomlog-bench}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432/roomlog_bench}
run() { python3 run.py "$@"; }
run read --db "sqlite://$DATA/sqlite-1m.db" --label sqlite-1m "$@"
run memory --db "sqlite://$DATA/sqlite-1m.db" --label sqlite-1m --runs 5 "$@"
run write --label writes "$@"
run forward --label forward --runs 5 "$@"
run prism --label prism "$@"
run read --db "sqlite://$DATA/sqlite-1m.db" --label sqlite-1m-nocache --response-cache 0 "$@"
run read --db "sqlite://$DATA/sqlite-10m.db" --rooms 10000000 --label sqlite-10m --cases first,filtered,rare,rare_type "$@"
run read --db "sqlite://$DATA/sqlite-10m.db" --rooms 10000000 --label sqlite-10m-nocache --response-cache 0 \
  --cases first,filtered,rare,rare_type "$@"
run read --db "$PG" --label postgres-1m "$@"
run table --label sqlite-1m,sqlite-1m-nocache,sqlite-10m,sqlite-10m-nocache,postgres-1m,writes,prism
