#!/usr/bin/env bash
# Intake at the disk's limit (issue 13), printed as one table. Not part of CI.
#
#   bench/intake.sh
#
# Builds the release binaries, then measures on 127.0.0.1 only:
#   1. intake: wrk (2 threads, 32 connections) sending signed SMS webhooks, every one a
#      fresh durable turn, to `shiftline serve` with 10,000 rostered workers and the
#      built-in Twilio answering after BENCH_TWILIO_LATENCY_MS (default 200, Twilio's
#      speed): for 5 s straight after start-up, then for DURATION s after SETTLE s idle;
#      the same load against examples/bare_axum.rs; the ratio of the two (bench/lib.sh,
#      as bench/run.sh).
#   2. soak: 100,000 workers in the configuration, SOAK s of the same load (texts from all
#      of them, fresh ones until the requests run out, then Twilio-style replays), the
#      simulator in a process of its own answering at once, the server's RSS sampled
#      every 10 s: after 60 s, at the end, and the largest. 43% of the load's texts change
#      TaskRouter, more than the outbox can deliver beside it on 2 cores: the backlog
#      grows until every worker has one waiting sync (a newer one supersedes it), then
#      stays there.
#   3. backends (issue 12), when PostgreSQL answers at BENCH_DATABASE_URL (default
#      postgres://postgres@127.0.0.1:5432/postgres; a scratch database is made and dropped):
#      the intake load on one instance on PostgreSQL, and on two instances sharing the
#      database (one wrk per instance, 16 connections each), beside the sled figure of 1.
#
# Needs wrk and curl (see bench/run.sh), psql for 3. About 9 minutes once the release build
# is done.
# Environment: BENCH_DURATION (default 10), BENCH_SETTLE (default 20), BENCH_SOAK
# (seconds, default 300), BENCH_KEEP=1 (keep the temporary directory with every log).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-10}
SETTLE=${BENCH_SETTLE:-20}
SOAK=${BENCH_SOAK:-300}
TWILIO_LATENCY_MS=${BENCH_TWILIO_LATENCY_MS:-200}
COLD=5
THREADS=2
CONNECTIONS=32
WORKERS=10000
REQUESTS=400000
SOAK_WORKERS=100000
SOAK_REQUESTS=2000000
# shellcheck source=bench/lib.sh
source bench/lib.sh

prepare_intake

measure_intake

say "writing $SOAK_REQUESTS signed requests from $SOAK_WORKERS workers"
"$EX/bench_requests" --public-url "http://127.0.0.1:$PORT" --token "$SHIFTLINE_TWILIO_AUTH_TOKEN" \
  --workers "$SOAK_WORKERS" --requests "$SOAK_REQUESTS" --out "$TMP/soak-requests" --split "$THREADS" \
  --config "$TMP/soak.toml" --listen "127.0.0.1:$PORT" --data-dir "$TMP/soak-data"
# Twilio is another process, as it is in production: the simulator's own memory (every
# TaskRouter Worker, every request it records) is not shiftline's.
SIM_PORT=$(free_port)
start simulator "$BIN" simulator --listen "127.0.0.1:$SIM_PORT"
SIM=$PID
sleep 1 # it listens within milliseconds; serve sets its workspace up at start
printf '\n[simulator]\nurl = "http://127.0.0.1:%s"\n' "$SIM_PORT" >>"$TMP/soak.toml"
say "soak: $SOAK_WORKERS workers in the configuration, $SOAK s of wrk -t$THREADS -c$CONNECTIONS, the simulator in a process of its own"
start shiftline-soak "$BIN" serve --config "$TMP/soak.toml"
SERVER=$PID
wait_healthy "$PORT" "$SERVER" "$TMP/shiftline-soak.log"
timeout $((SOAK + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SOAK}s" --latency -s bench/intake.lua \
  "http://127.0.0.1:$PORT" -- "$TMP/soak-requests" >"$TMP/wrk-soak.txt" 2>&1 &
WRK=$!
STARTED+=("$WRK")
SAMPLES=()
for ((t = 10; t <= SOAK; t += 10)); do
  sleep 10
  SAMPLES+=("$(rss_mb "$SERVER")")
  ((t % 60 == 0)) && say "soak: ${t} s, RSS ${SAMPLES[-1]} MB"
done
wait "$WRK" || die "wrk failed (soak): $(tail -5 "$TMP/wrk-soak.txt")"
SOAK_BENCH=$(grep '^BENCH ' "$TMP/wrk-soak.txt") || die "no summary from wrk (soak)"
SOAK_ERRORS=$(grep -c 'ERROR' "$TMP/shiftline-soak.log" || true)
stop_pid "$SERVER"
stop_pid "$SIM"
RSS_60=${SAMPLES[5]}
RSS_END=${SAMPLES[-1]}
RSS_MAX=$(printf '%s\n' "${SAMPLES[@]:5}" | sort -n | tail -1)
DRIFT=$(calc "($RSS_END - $RSS_60) / $RSS_60 * 100")

# 3. Backends.
DB_ADMIN=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG1="" PG2A="" PG2B=""
if command -v psql >/dev/null && psql "$DB_ADMIN" -qAtc 'select 1' >/dev/null 2>&1; then
  DB=shiftline_bench_$$
  psql "$DB_ADMIN" -qc "CREATE DATABASE $DB" >/dev/null
  drop_db() { psql "$DB_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }
  trap 'cleanup; drop_db' EXIT
  export SHIFTLINE_DATABASE_URL=${DB_ADMIN%/*}/$DB
  PG_PORT=$(free_port)
  # The intake's requests and configuration again: the database is new, so every
  # request is a fresh turn there too.
  sed "s#^data_dir = .*#data_dir = \"$TMP/pg-a-data\"#" "$TMP/intake.toml" >"$TMP/pg-a.toml"
  printf '\n[store]\nbackend = "postgres"\n' >>"$TMP/pg-a.toml"
  sed -e "s#^listen = .*#listen = \"127.0.0.1:$PG_PORT\"#" -e "s#^data_dir = .*#data_dir = \"$TMP/pg-b-data\"#" \
    "$TMP/pg-a.toml" >"$TMP/pg-b.toml"

  say "backends: one instance on PostgreSQL, $WORKERS rostered workers, idle ${SETTLE} s, then the same load"
  start shiftline-pg1 "$BIN" serve --config "$TMP/pg-a.toml"
  SERVER=$PID
  wait_healthy "$PORT" "$SERVER" "$TMP/shiftline-pg1.log"
  sleep "$SETTLE"
  load pg1 "$SERVER" "$PORT" "$DURATION"
  PG1=$BENCH
  stop_pid "$SERVER"

  say "backends: two instances on the same database, one wrk -t1 -c16 each"
  psql "$DB_ADMIN" -qc "DROP DATABASE $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
  start shiftline-pg2a "$BIN" serve --config "$TMP/pg-a.toml"
  A=$PID
  wait_healthy "$PORT" "$A" "$TMP/shiftline-pg2a.log"
  start shiftline-pg2b "$BIN" serve --config "$TMP/pg-b.toml"
  B=$PID
  wait_healthy "$PG_PORT" "$B" "$TMP/shiftline-pg2b.log"
  sleep "$SETTLE"
  ln -sf "$TMP/requests.1" "$TMP/pg-b-requests.0"
  wrk -t1 -c16 -d"${DURATION}s" --latency -s bench/intake.lua "http://127.0.0.1:$PORT" -- "$TMP/requests" \
    >"$TMP/wrk-pg2a.txt" 2>&1 &
  WA=$!
  wrk -t1 -c16 -d"${DURATION}s" --latency -s bench/intake.lua "http://127.0.0.1:$PG_PORT" -- "$TMP/pg-b-requests" \
    >"$TMP/wrk-pg2b.txt" 2>&1 &
  WB=$!
  wait "$WA" "$WB" || die "wrk failed (pg2): $(tail -3 "$TMP/wrk-pg2a.txt" "$TMP/wrk-pg2b.txt")"
  PG2A=$(grep '^BENCH ' "$TMP/wrk-pg2a.txt") || die "no summary from wrk (pg2a)"
  PG2B=$(grep '^BENCH ' "$TMP/wrk-pg2b.txt") || die "no summary from wrk (pg2b)"
  stop_pid "$A"
  stop_pid "$B"
  unset SHIFTLINE_DATABASE_URL
else
  say "backends: no PostgreSQL answers at $DB_ADMIN; section 3 skipped"
fi

I_RPS=$(field "$INTAKE" rps)
B_RPS=$(field "$BARE" rps)
RATIO=$(calc "$I_RPS / $B_RPS")
C_P99=$(ms "$(field "$COLD_BENCH" p99_us)")
I_P99=$(ms "$(field "$INTAKE" p99_us)")
echo
echo "shiftline intake benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS, Twilio answering after ${TWILIO_LATENCY_MS} ms"
row figure value target result
row "intake / bare (req/s)" "$(printf '%.0f / %.0f = %.2fx' "$I_RPS" "$B_RPS" "$RATIO")" ">= 0.5x" "$(verdict "$RATIO >= 0.5")"
row "intake p50 / p99 (ms)" "$(printf '%.2f / %.2f' "$(ms "$(field "$INTAKE" p50_us)")" "$I_P99")" "p99 < 5" "$(verdict "$I_P99 < 5")"
row "first ${COLD} s after start p50 / p99 (ms)" "$(printf '%.2f / %.2f' "$(ms "$(field "$COLD_BENCH" p50_us)")" "$C_P99")" "p99 < 10" "$(verdict "$C_P99 < 10")"
row "soak RSS at 60 s / end / max (MB)" "$RSS_60 / $RSS_END / $RSS_MAX" "< 100" "$(verdict "$RSS_MAX < 100")"
row "soak RSS from 60 s to ${SOAK} s" "$(printf '%+.1f%%' "$DRIFT")" "within 10%" "$(verdict "$DRIFT <= 10 && $DRIFT >= -10")"
if [[ -n $PG1 ]]; then
  echo "backends, the same load (durable turns/s; p99 ms):"
  row "sled, one instance" "$(printf '%.0f; %.2f' "$I_RPS" "$I_P99")" - -
  row "PostgreSQL, one instance" "$(printf '%.0f; %.2f' "$(field "$PG1" rps)" "$(ms "$(field "$PG1" p99_us)")")" - -
  WORSE_P99=$(awk "BEGIN {a = $(field "$PG2A" p99_us); b = $(field "$PG2B" p99_us); print (a > b ? a : b)}")
  row "PostgreSQL, two instances (sum; worse p99)" "$(printf '%.0f; %.2f' "$(calc "$(field "$PG2A" rps) + $(field "$PG2B" rps)")" "$(ms "$WORSE_P99")")" - -
fi
echo
echo "notes:"
echo "  intake: $(field "$INTAKE" requests) requests, non-2xx $(field "$INTAKE" non2xx), socket errors $(field "$INTAKE" socket_errors), replays $(field "$INTAKE" replays); $INTAKE_CPU"
echo "  intake: server CPU per request $(printf %.0f "$INTAKE_US") us (bare $(printf %.0f "$BARE_US") us); $INTAKE_WRITES write system calls per request; outbox entries left $OUTBOX; ERROR log lines $INTAKE_ERRORS"
echo "  first ${COLD} s: $(field "$COLD_BENCH" requests) requests, max $(ms "$(field "$COLD_BENCH" max_us)") ms"
echo "  soak: $(field "$SOAK_BENCH" requests) requests ($(printf %.0f "$(field "$SOAK_BENCH" rps)") req/s, p99 $(ms "$(field "$SOAK_BENCH" p99_us)") ms), replays $(field "$SOAK_BENCH" replays), non-2xx $(field "$SOAK_BENCH" non2xx); ERROR log lines $SOAK_ERRORS"
echo "  soak RSS every 10 s (MB): ${SAMPLES[*]}"
