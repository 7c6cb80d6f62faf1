#!/usr/bin/env bash
# shiftline's benchmarks (issue 7), printed as one table. Not part of CI.
#
#   bench/run.sh
#
# Builds the release binaries, then measures on 127.0.0.1 only, each load bounded in time:
#   1. intake: wrk (2 threads, 32 connections, 10 s) sending signed SMS webhooks, every one
#      a fresh durable turn, to `shiftline serve` with 10,000 rostered workers, after 20 s
#      idle (and for 5 s straight after start-up, separately); the same load against
#      examples/bare_axum.rs; the ratio of the two.
#   2. assignment callback -> outbound call request latency (examples/bench_dispatch.rs).
#   3. start-up time and RSS with 100,000 stored workers (examples/bench_seed.rs,
#      examples/bench_startup.rs), RSS again after 10 s of the intake load; start-up
#      with the 100,000 workers in the configuration instead, for comparison.
#   4. where an intake turn's time goes (examples/bench_store.rs), for reading the table.
#   5. dispatch at Twilio's real speed (issue 11, examples/bench_dispatch.rs against a
#      stand-in that answers every request after 200 ms): 16 and 64 assignment callbacks at
#      one instant; 16 again with the outbox sending one request at a time (the old
#      outbox), side by side; a shift-start storm (2,000 workers' 09:00 timers fire at once
#      while 50 customers call); the same storm with 20% of requests answered 429, capped
#      at 120 s, for lost, parked and out-of-order TaskRouter changes.
#
# Needs wrk (installed with apt-get when missing and running as root) and curl. About six
# minutes once the release build is done (a clean release build adds about three).
# Environment: BENCH_DURATION (seconds per load, default 10), BENCH_SETTLE (idle seconds
# after start-up before the intake load, default 20), BENCH_TWILIO_LATENCY_MS (the
# stand-in's latency in section 5, default 200), BENCH_STORM429_CAP (seconds, default 120),
# BENCH_KEEP=1 (keep the temporary directory with every log).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-10}
SETTLE=${BENCH_SETTLE:-20} # idle seconds between start-up and the intake load
COLD=5                     # seconds of load straight after start-up
THREADS=2
CONNECTIONS=32
WORKERS=10000
REQUESTS=400000
SEEDED_WORKERS=100000
RESERVATIONS=2000
DISPATCH_CONCURRENCY=16
TWILIO_LATENCY_MS=${BENCH_TWILIO_LATENCY_MS:-200}
STORM_WORKERS=2000
STORM_CALLS=50
STORM429_CAP=${BENCH_STORM429_CAP:-120}
# shellcheck source=bench/lib.sh
source bench/lib.sh

prepare_intake

say "seeding a store with $SEEDED_WORKERS workers"
"$EX/bench_seed" --data-dir "$TMP/seeded" --workers "$SEEDED_WORKERS" >&2
# The start-up configuration: a few workers of its own (not among the seeded ones).
cat >"$TMP/seeded.toml" <<EOF
[server]
listen = "127.0.0.1:$PORT"
public_url = "http://127.0.0.1:$PORT"
data_dir = "$TMP/seeded"

[[skills]]
key = "billing"
[[skills]]
key = "support"
[[skills]]
key = "spanish"

[[workers]]
phone = "+15550001111"
name = "Ana"
[[workers]]
phone = "+15550002222"
name = "Ben"
[[workers]]
phone = "+15550003333"
name = "Luis"
EOF

# 1. Intake against shiftline, then the bare handler (bench/lib.sh).
measure_intake

# 2. Start-up and memory with 100,000 stored workers.
say "start-up: 5 starts on the store with $SEEDED_WORKERS workers"
STARTUP=$("$EX/bench_startup" --bin "$BIN" --config "$TMP/seeded.toml" --addr "127.0.0.1:$PORT" --runs 5 2>"$TMP/startup.log" |
  grep '^STARTUP ') || die "start-up measurement failed: $(tail -5 "$TMP/startup.log")"
say "$STARTUP"

say "start-up: 3 starts with all $SEEDED_WORKERS workers in the configuration instead"
"$EX/bench_requests" --public-url "http://127.0.0.1:$PORT" --token "$SHIFTLINE_TWILIO_AUTH_TOKEN" \
  --workers "$SEEDED_WORKERS" --requests 0 --out "$TMP/unused" --split 1 \
  --config "$TMP/roster.toml" --listen "127.0.0.1:$PORT" --data-dir "$TMP/roster-data"
ROSTER_STARTUP=$("$EX/bench_startup" --bin "$BIN" --config "$TMP/roster.toml" --addr "127.0.0.1:$PORT" --runs 3 2>"$TMP/roster-startup.log" |
  grep '^STARTUP ') || die "start-up measurement failed: $(tail -5 "$TMP/roster-startup.log")"
say "$ROSTER_STARTUP"

say "memory: RSS after start-up, then after ${DURATION} s of the intake load"
start shiftline-seeded "$BIN" serve --config "$TMP/seeded.toml"
SERVER=$PID
wait_healthy "$PORT" "$SERVER" "$TMP/shiftline-seeded.log"
sleep 1
RSS_START=$(rss_mb "$SERVER")
load seeded "$SERVER" "$PORT"
SEEDED=$BENCH
RSS_LOAD=$(rss_mb "$SERVER")
RSS_PEAK=$(hwm_mb "$SERVER")
stop_pid "$SERVER"

# 3. Assignment callback -> call request.
say "dispatch: $RESERVATIONS reservations one at a time, then $RESERVATIONS with $DISPATCH_CONCURRENCY senders"
timeout 300 "$EX/bench_dispatch" --reservations "$RESERVATIONS" --concurrency "$DISPATCH_CONCURRENCY" \
  >"$TMP/dispatch.txt" 2>&1 || die "bench_dispatch failed: $(tail -5 "$TMP/dispatch.txt")"
cat "$TMP/dispatch.txt" >&2
D_SERIAL=$(grep '^DISPATCH phase=serial ' "$TMP/dispatch.txt")
D_CONC=$(grep "^DISPATCH phase=concurrent" "$TMP/dispatch.txt")

# 4. Where an intake turn's time goes.
say "breakdown of one intake turn (in-process, no HTTP)"
timeout 300 "$EX/bench_store" --workers "$WORKERS" >"$TMP/store.txt" 2>&1 || die "bench_store failed: $(tail -5 "$TMP/store.txt")"
cat "$TMP/store.txt" >&2

# 5. Dispatch at Twilio's speed: every measured request answered after TWILIO_LATENCY_MS.
say "dispatch at ${TWILIO_LATENCY_MS} ms: bursts of 16 and 64 callbacks, then $STORM_WORKERS workers' shifts start while $STORM_CALLS customers call"
timeout 300 "$EX/bench_dispatch" --phases burst16,burst64,storm --twilio-latency-ms "$TWILIO_LATENCY_MS" \
  --storm-workers "$STORM_WORKERS" --storm-calls "$STORM_CALLS" \
  >"$TMP/dispatch-latency.txt" 2>&1 || die "bench_dispatch (latency) failed: $(tail -5 "$TMP/dispatch-latency.txt")"
cat "$TMP/dispatch-latency.txt" >&2
say "dispatch at ${TWILIO_LATENCY_MS} ms: 16 callbacks with the outbox sending one request at a time"
timeout 180 "$EX/bench_dispatch" --phases burst16 --twilio-latency-ms "$TWILIO_LATENCY_MS" --outbox-concurrency 1 \
  >"$TMP/dispatch-one.txt" 2>&1 || die "bench_dispatch (one at a time) failed: $(tail -5 "$TMP/dispatch-one.txt")"
cat "$TMP/dispatch-one.txt" >&2
say "dispatch at ${TWILIO_LATENCY_MS} ms: the storm with 20% of requests answered 429 (at most ${STORM429_CAP} s)"
timeout $((STORM429_CAP + 180)) "$EX/bench_dispatch" --phases storm429 --twilio-latency-ms "$TWILIO_LATENCY_MS" \
  --throttle-rate 0.2 --storm-workers "$STORM_WORKERS" --storm-calls "$STORM_CALLS" --storm-cap-secs "$STORM429_CAP" \
  >"$TMP/dispatch-429.txt" 2>&1 || die "bench_dispatch (storm429) failed: $(tail -5 "$TMP/dispatch-429.txt")"
cat "$TMP/dispatch-429.txt" >&2
L_B16=$(grep '^DISPATCH phase=burst16 ' "$TMP/dispatch-latency.txt")
L_B64=$(grep '^DISPATCH phase=burst64 ' "$TMP/dispatch-latency.txt")
L_STORM=$(grep '^DISPATCH phase=storm ' "$TMP/dispatch-latency.txt")
L_ONE=$(grep '^DISPATCH phase=burst16 ' "$TMP/dispatch-one.txt")
L_429=$(grep '^DISPATCH phase=storm429 ' "$TMP/dispatch-429.txt")

# The table.

I_RPS=$(field "$INTAKE" rps)
B_RPS=$(field "$BARE" rps)
RATIO=$(calc "$I_RPS / $B_RPS")
I_P50=$(ms "$(field "$INTAKE" p50_us)")
I_P99=$(ms "$(field "$INTAKE" p99_us)")
B_P50=$(ms "$(field "$BARE" p50_us)")
B_P99=$(ms "$(field "$BARE" p99_us)")
S_RPS=$(field "$SEEDED" rps)
S_P99=$(ms "$(field "$SEEDED" p99_us)")
START_MS=$(field "$STARTUP" median_ms)
ROSTER_MS=$(field "$ROSTER_STARTUP" median_ms)
DS_P50=$(field "$D_SERIAL" p50_ms)
DS_P99=$(field "$D_SERIAL" p99_ms)
DC_P50=$(field "$D_CONC" p50_ms)
DC_P99=$(field "$D_CONC" p99_ms)
RSS_MAX=$((RSS_START > RSS_LOAD ? RSS_START : RSS_LOAD))

echo
echo "shiftline benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
row figure value target result
row "intake throughput (req/s)" "$(printf %.0f "$I_RPS")" - -
row "bare axum throughput (req/s)" "$(printf %.0f "$B_RPS")" - -
row "intake / bare" "$(printf %.2fx "$RATIO")" ">= 0.5x" "$(verdict "$RATIO >= 0.5")"
row "intake p50 / p99 (ms)" "$(printf '%.2f / %.2f' "$I_P50" "$I_P99")" "p99 < 5" "$(verdict "$I_P99 < 5")"
row "intake p50 / p99 in the first ${COLD} s after start (ms)" "$(printf '%.2f / %.2f' "$(ms "$(field "$COLD_BENCH" p50_us)")" "$(ms "$(field "$COLD_BENCH" p99_us)")")" "p99 < 10" "$(verdict "$(ms "$(field "$COLD_BENCH" p99_us)") < 10")"
row "bare axum p50 / p99 (ms)" "$(printf '%.2f / %.2f' "$B_P50" "$B_P99")" - -
row "server CPU per request, intake / bare (us)" "$(printf '%.0f / %.0f' "$INTAKE_US" "$BARE_US")" - -
row "assignment -> call p50 / p99 (ms), serial" "$(printf '%.2f / %.2f' "$DS_P50" "$DS_P99")" "p99 < 5" "$(verdict "$DS_P99 < 5")"
row "assignment -> call p50 / p99 (ms), $DISPATCH_CONCURRENCY at once" "$(printf '%.2f / %.2f' "$DC_P50" "$DC_P99")" "p99 < 5" "$(verdict "$DC_P99 < 5")"
row "start-up with 100k workers (ms, median of 5)" "$START_MS" "< 1000" "$(verdict "$START_MS < 1000")"
row "RSS after start / under load (MB), 100k" "$RSS_START / $RSS_LOAD" "< 100" "$(verdict "$RSS_MAX < 100")"
row "start-up, 100k workers in the config (ms)" "$ROSTER_MS" "< 1000" "$(verdict "$ROSTER_MS < 1000")"
row "intake on the 100k store (req/s, p99 ms)" "$(printf '%.0f, %.2f' "$S_RPS" "$S_P99")" - -
echo "dispatch with every Twilio request answered after ${TWILIO_LATENCY_MS} ms:"
row "16 callbacks at once -> call p50/p99 (ms)" "$(printf '%.1f / %.1f' "$(field "$L_B16" p50_ms)" "$(field "$L_B16" p99_ms)")" "p99 <= 250" "$(verdict_of "$(field "$L_B16" p99_ms)" "<= 250")"
row "64 callbacks at once -> call p50/p99 (ms)" "$(printf '%.1f / %.1f' "$(field "$L_B64" p50_ms)" "$(field "$L_B64" p99_ms)")" "p99 <= 250" "$(verdict_of "$(field "$L_B64" p99_ms)" "<= 250")"
row "16 at once p99 (ms), outbox 1 / $(field "$L_B16" outbox_concurrency) in flight" "$(printf '%.0f / %.1f' "$(field "$L_ONE" p99_ms)" "$(field "$L_B16" p99_ms)")" - -
row "storm: callback -> call p50 / p99 (ms)" "$(printf '%.1f / %.1f' "$(field "$L_STORM" p50_ms)" "$(field "$L_STORM" p99_ms)")" "p99 <= 300" "$(verdict_of "$(field "$L_STORM" p99_ms)" "<= 300")"
row "storm: all $(field "$L_STORM" workers) syncs delivered (ms)" "$(field "$L_STORM" syncs_all_ms)" "<= $(field "$L_STORM" syncs_target_ms)" "$(verdict_of "$(field "$L_STORM" syncs_all_ms)" "<= $(field "$L_STORM" syncs_target_ms)")"
L429_LPO="$(field "$L_429" lost) / $(field "$L_429" parked) / $(field "$L_429" order_violations)"
row "storm429: lost / parked / order violations" "$L429_LPO" "0 / 0 / 0" "$([[ $L429_LPO == "0 / 0 / 0" && $(field "$L_429" overlaps) == 0 ]] && echo PASS || echo MISS)"
echo
echo "notes:"
echo "  intake right after start: $(field "$COLD_BENCH" requests) requests in ${COLD} s ($(printf %.0f "$(field "$COLD_BENCH" rps)") req/s), non-2xx $(field "$COLD_BENCH" non2xx), max $(ms "$(field "$COLD_BENCH" max_us)") ms"
echo "  intake: $(field "$INTAKE" requests) requests, non-2xx $(field "$INTAKE" non2xx), socket errors $(field "$INTAKE" socket_errors), replays $(field "$INTAKE" replays); $INTAKE_CPU"
echo "  intake: $INTAKE_WRITES write system calls per request; RSS after the load $INTAKE_RSS MB; outbox entries left $OUTBOX; ERROR log lines $INTAKE_ERRORS"
echo "  bare:   $(field "$BARE" requests) requests, non-2xx $(field "$BARE" non2xx), socket errors $(field "$BARE" socket_errors); $BARE_CPU"
echo "  100k store: peak RSS $RSS_PEAK MB; start-up runs $(field "$STARTUP" runs_ms) ms; 100k in the config: runs $(field "$ROSTER_STARTUP" runs_ms) ms, RSS $(field "$ROSTER_STARTUP" rss_mb) MB"
echo "  dispatch: webhook answered p50/p99 $(field "$D_SERIAL" webhook_p50_ms)/$(field "$D_SERIAL" webhook_p99_ms) ms serial, $(field "$D_CONC" webhook_p50_ms)/$(field "$D_CONC" webhook_p99_ms) ms concurrent; missing calls $(field "$D_SERIAL" missing)+$(field "$D_CONC" missing)"
sed -n 's/^STORE phase=/  turn breakdown: /p' "$TMP/store.txt"
echo "  storm: $(field "$L_STORM" requests) requests ($(field "$L_STORM" worker_updates) Worker updates, $(field "$L_STORM" texts) texts, $(field "$L_STORM" calls) calls), at most $(field "$L_STORM" max_in_flight) in flight; timers all fired at $(field "$L_STORM" timers_all_ms) ms; syncs delivered by the target $(field "$L_STORM" syncs_by_target) of $(field "$L_STORM" workers); texts all delivered at $(field "$L_STORM" texts_all_ms) ms; outbox empty at $(field "$L_STORM" drained_ms) ms"
echo "  storm429: finished $(field "$L_429" finished) (outbox empty at $(field "$L_429" drained_ms) ms, cap ${STORM429_CAP} s); workers delivered $(field "$L_429" delivered), pending $(field "$L_429" pending), parked $(field "$L_429" parked), lost $(field "$L_429" lost); order violations $(field "$L_429" order_violations) ($(field "$L_429" seen_twice) workers seen in two states), overlapping requests $(field "$L_429" overlaps); $(field "$L_429" requests) requests, $(field "$L_429" throttled) answered 429, $(field "$L_429" accepted_per_s) accepted/s; callback -> call p50/p99 $(field "$L_429" p50_ms)/$(field "$L_429" p99_ms) ms"
