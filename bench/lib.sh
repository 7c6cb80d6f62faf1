# Shared by bench/run.sh and bench/intake.sh: process handling, the intake load through
# wrk, and the figures' arithmetic. Sourced, never run; expects ROOT as the current
# directory and THREADS, CONNECTIONS, DURATION set.
# The service's secrets for the benchmarks, and nothing of the caller's environment that
# would change what is measured.
export SHIFTLINE_TWILIO_AUTH_TOKEN=bench-twilio-token
export SHIFTLINE_API_TOKEN=bench-api-token
export RUST_LOG=warn
unset SHIFTLINE_ENROLMENT_PIN SHIFTLINE_LOG_JSON SHIFTLINE_CONFIG

BIN=target/release/shiftline
EX=target/release/examples
CLK_TCK=$(getconf CLK_TCK)

say() { printf '== %s\n' "$*" >&2; }
die() {
  printf '%s: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/shiftline-bench.XXXXXX")
STARTED=() # every process this script started, by pid

stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || {
    wait "$pid" 2>/dev/null || true
    return 0
  }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  for pid in ${STARTED[@]+"${STARTED[@]}"}; do
    stop_pid "$pid"
  done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    say "logs and data kept in $TMP"
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts "$@" in the background with its output in $1's log; sets PID.
start() {
  local log=$TMP/$1.log
  shift
  "$@" >"$log" 2>&1 &
  PID=$!
  STARTED+=("$PID")
}

# A port nothing listens on (best effort).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}

wait_healthy() { # port pid log
  local i
  for ((i = 0; i < 1200; i++)); do
    kill -0 "$2" 2>/dev/null || die "the server exited during start-up: $(tail -5 "$3")"
    curl -sf --max-time 1 "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "no healthy answer on port $1 within 60 s"
}

proc_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
proc_writes() { awk '/^syscw:/{print $2}' "/proc/$1/io"; }
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
rss_mb() { awk '/^VmRSS:/{printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM:/{printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# Value of key=value in a line.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }
calc() { awk "BEGIN {print $*}"; }

# Runs the intake load against the server $2 (pid) on port $3 for $4 seconds (default
# DURATION); $1 labels the logs.
# Sets BENCH (wrk's summary line), CPU_NOTE, SERVER_US (server CPU per request) and
# WRITES (the server's write system calls per request).
load() {
  local label=$1 pid=$2 port=$3 duration=${4:-$DURATION} s0 m0 s1 m1 t0 t1 w0 w1 wrk_cpu
  w0=$(proc_writes "$pid")
  s0=$(proc_ticks "$pid")
  m0=$(machine_ticks)
  t0=$(date +%s.%N)
  local TIMEFORMAT='%U %S'
  { time timeout $((duration + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${duration}s" \
    --latency -s bench/intake.lua "http://127.0.0.1:$port" -- "$TMP/requests" \
    >"$TMP/wrk-$label.txt" 2>&1; } 2>"$TMP/wrk-$label.time" ||
    die "wrk failed ($label): $(tail -5 "$TMP/wrk-$label.txt")"
  t1=$(date +%s.%N)
  s1=$(proc_ticks "$pid")
  m1=$(machine_ticks)
  w1=$(proc_writes "$pid")
  BENCH=$(grep '^BENCH ' "$TMP/wrk-$label.txt") || die "no summary from wrk ($label): $(tail -5 "$TMP/wrk-$label.txt")"
  wrk_cpu=$(awk '{print $1 + $2}' "$TMP/wrk-$label.time")
  local secs server wrkc others
  secs=$(calc "$t1 - $t0")
  server=$(calc "($s1 - $s0) / $CLK_TCK / $secs")
  wrkc=$(calc "$wrk_cpu / $secs")
  others=$(calc "(($m1 - $m0) / $CLK_TCK - ($s1 - $s0) / $CLK_TCK - $wrk_cpu) / $secs")
  SERVER_US=$(calc "($s1 - $s0) / $CLK_TCK * 1e6 / $(field "$BENCH" requests)")
  WRITES=$(calc "($w1 - $w0) / $(field "$BENCH" requests)")
  CPU_NOTE=$(printf 'CPU (cores of 2): server %.2f, wrk %.2f, everything else %.2f' "$server" "$wrkc" "$others")
  say "$label: $BENCH"
  say "$label: $CPU_NOTE"
}

command -v curl >/dev/null || die "curl is needed"
if ! command -v wrk >/dev/null; then
  [[ $(id -u) == 0 ]] || die "wrk is needed: apt-get install -y wrk"
  say "installing wrk"
  (apt-get update -qq && apt-get install -y -qq wrk) >"$TMP/apt.log" 2>&1 || die "cannot install wrk: $(tail -3 "$TMP/apt.log")"
fi
LOAD=$(cut -d' ' -f1 /proc/loadavg)
if awk "BEGIN {exit !($LOAD > 1.0)}"; then
  say "warning: load average $LOAD before starting; other processes will lower the figures"
fi

# The table's figures.
ms() { calc "$1 / 1000"; }
verdict() { if awk "BEGIN {exit !($1)}"; then echo PASS; else echo MISS; fi; }
# verdict for "$1 $2" when $1 is a number (a phase that measured nothing gives nan).
verdict_of() { if [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then verdict "$1 $2"; else echo MISS; fi; }
row() { printf '%-48s %-17s %-11s %s\n' "$@"; }

# Intake against shiftline, then the bare handler, with the requests in $TMP/requests and
# the configuration in $TMP/intake.toml (bench_requests writes both) on PORT and BARE_PORT.
# Start-up writes the rostered workers, and sled's background work after that slows some
# requests for a while: measured first on its own, straight after start-up, then after
# SETTLE idle seconds. The built-in Twilio answers after TWILIO_LATENCY_MS, as Twilio
# does (100-500 ms): at no latency the outbox would deliver the load's syncs as fast as
# the simulator in the same process can take them, and measure the simulator's CPU as
# much as shiftline's. Sets COLD_BENCH, INTAKE, INTAKE_US, INTAKE_CPU, INTAKE_WRITES,
# INTAKE_RSS, OUTBOX, INTAKE_ERRORS, BARE, BARE_US and BARE_CPU.
measure_intake() {
  printf '\n[simulator]\nlatency_ms = %s\n' "$TWILIO_LATENCY_MS" >>"$TMP/intake.toml"
  sed "s#^data_dir = .*#data_dir = \"$TMP/cold-data\"#" "$TMP/intake.toml" >"$TMP/cold.toml"
  say "intake: shiftline serve, $WORKERS rostered workers, ${COLD} s of load straight after start-up"
  start shiftline-cold "$BIN" serve --config "$TMP/cold.toml"
  SERVER=$PID
  wait_healthy "$PORT" "$SERVER" "$TMP/shiftline-cold.log"
  load cold "$SERVER" "$PORT" "$COLD"
  COLD_BENCH=$BENCH
  stop_pid "$SERVER"

  say "intake: shiftline serve, $WORKERS rostered workers, idle ${SETTLE} s, then wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
  start shiftline-intake "$BIN" serve --config "$TMP/intake.toml"
  SERVER=$PID
  wait_healthy "$PORT" "$SERVER" "$TMP/shiftline-intake.log"
  sleep "$SETTLE"
  load intake "$SERVER" "$PORT"
  INTAKE=$BENCH
  INTAKE_US=$SERVER_US
  INTAKE_CPU=$CPU_NOTE
  INTAKE_WRITES=$WRITES
  INTAKE_RSS=$(rss_mb "$SERVER")
  OUTBOX=$(curl -sf -H "Authorization: Bearer $SHIFTLINE_API_TOKEN" "http://127.0.0.1:$PORT/api/outbox" |
    grep -o '"id":' | wc -l || true)
  stop_pid "$SERVER"
  INTAKE_ERRORS=$(grep -c 'ERROR' "$TMP/shiftline-intake.log" || true)

  say "intake: bare axum handler"
  start bare "$EX/bare_axum" "127.0.0.1:$BARE_PORT"
  BARE_PID=$PID
  wait_healthy "$BARE_PORT" "$BARE_PID" "$TMP/bare.log"
  load bare "$BARE_PID" "$BARE_PORT"
  BARE=$BENCH
  BARE_US=$SERVER_US
  BARE_CPU=$CPU_NOTE
  stop_pid "$BARE_PID"
}

# Builds the release binaries, picks PORT and BARE_PORT, and writes REQUESTS signed SMS
# webhooks from WORKERS workers to $TMP/requests.* with the configuration that roster
# them in $TMP/intake.toml (the intake load of `measure_intake`).
prepare_intake() {
  say "building release binaries"
  cargo build --release --quiet --bin shiftline --examples

  PORT=$(free_port)
  BARE_PORT=$(free_port)
  [[ $PORT != "$BARE_PORT" ]] || BARE_PORT=$((PORT + 1))

  say "writing $REQUESTS signed requests from $WORKERS workers"
  "$EX/bench_requests" --public-url "http://127.0.0.1:$PORT" --token "$SHIFTLINE_TWILIO_AUTH_TOKEN" \
    --workers "$WORKERS" --requests "$REQUESTS" --out "$TMP/requests" --split "$THREADS" \
    --config "$TMP/intake.toml" --listen "127.0.0.1:$PORT" --data-dir "$TMP/intake-data"
}
