#!/bin/sh
# The bundled example, answering real questions. Uses a fresh ledger file each run.
# Usage: sh examples/tour.sh   (from the repository, after installing the project)
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${SANCTIONS:-"$here/../.venv/bin/sanctions"}
[ -x "$bin" ] || bin=sanctions
db="sqlite:///$(mktemp -d)/example.db"
run() { echo; echo "\$ sanctions $*"; "$bin" --db "$db" "$@"; }

run init
run import "$here/navalny.jsonl"
run list --authority EU --regime "EU Global Human Rights Sanctions Regime" --at 2021-03-01
run list --authority EU --regime "EU Global Human Rights Sanctions Regime" --at 2021-03-03
run show igor-krasnov --at 2021-03-03
run history igor-krasnov
run verify
