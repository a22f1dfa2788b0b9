#!/usr/bin/env bash
# Dovecot's imaptest against MailAuth: (a) its scripted compliance tests, one imaptest process per
# test, PASS/FAIL/SKIP each; (b) its random-command stress mode against MailAuth and against a
# private Dovecot side by side, the two servers taking turns to go first, RUNS runs each; then one
# summary table (medians of the runs, ratio MailAuth / Dovecot).
#
#   bench/imaptest.sh [all|tests|stress]      (default all)
#   SECS=60 USERS=5 CLIENTS=10 RUNS=2 WARM_UP=5 BASE_PORT=21500 TESTS="fetch search-flags ..." bench/imaptest.sh
#
# imaptest is not packaged for Debian; the script uses, in this order: $IMAPTEST (the binary), an
# `imaptest` on PATH, or the copy vendored beside the repository in ../shared/tools/imaptest (built
# on first use with its run.sh into $IMAPTEST_BUILD, default /tmp/imaptest-build). Without any of
# them it says so and exits 0: nothing else in the repository needs imaptest.
# The scripted tests come from $IMAPTEST_TESTS_DIR or the binary's ../share/imaptest/tests; the
# stress mailbox from $IMAPTEST_MBOX, the vendored make-mbox.py (60 varied messages), or the
# tests' default.mbox. Dovecot (Debian's dovecot-imapd) runs privately on BASE_PORT+100 with
# login and imap process reuse (Dovecot's "high-performance" mode, the fastest for this load);
# without it only MailAuth is measured. Both servers: plaintext LOGIN on loopback,
# testuser1..USERS (MailAuth: @example.org, Argon2id m=19456 KiB t=2; Dovecot: {PLAIN}), Maildir.
# Results and logs: $OUT (default /tmp/mailauth-imaptest.XXXXXX).
set -uo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
REPO=$(pwd)

MODE=${1:-all}
SECS=${SECS:-60}
USERS=${USERS:-5}
CLIENTS=${CLIENTS:-10}
RUNS=${RUNS:-2}
WARM_UP=${WARM_UP:-5}
BASE_PORT=${BASE_PORT:-21500}
MAILAUTH_PORT=$BASE_PORT
DOVECOT_PORT=$((BASE_PORT + 100))
# ../shared beside the repository; from a git worktree, beside its main checkout.
SHARED=${IMAPTEST_SHARED:-$REPO/../shared/tools/imaptest}
if [ ! -d "$SHARED" ] && common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
    SHARED=$(dirname "$common")/../shared/tools/imaptest
fi
case $MODE in all|tests|stress) ;; *) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 2 ;; esac

find_imaptest() {
    if [ -n "${IMAPTEST:-}" ]; then
        [ -x "$IMAPTEST" ] && { echo "$IMAPTEST"; return; }
        echo "bench/imaptest.sh: IMAPTEST=$IMAPTEST is not an executable" >&2; return 1
    fi
    if command -v imaptest >/dev/null; then command -v imaptest; return; fi
    if [ -x "$SHARED/run.sh" ]; then
        "$SHARED/run.sh" build >&2 || return 1
        echo "${IMAPTEST_BUILD:-/tmp/imaptest-build}/bin/imaptest"; return
    fi
    return 1
}
# imaptest links against Dovecot's libraries.
export LD_LIBRARY_PATH=/usr/lib/dovecot${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if ! BIN=$(find_imaptest) || ! "$BIN" --help >/dev/null 2>&1; then
    echo "bench/imaptest.sh: imaptest is not available (set IMAPTEST=/path/to/imaptest, put it on PATH," \
        "or have ../shared/tools/imaptest beside the repository); nothing to do."
    exit 0
fi
TESTS_DIR=${IMAPTEST_TESTS_DIR:-$(dirname "$BIN")/../share/imaptest/tests}
[ "$SECS" -le 600 ] && [ "$CLIENTS" -le 50 ] && [ "$USERS" -ge 1 ] && [ "$USERS" -le 20 ] ||
    { echo "bench/imaptest.sh: keep it bounded: SECS<=600, CLIENTS<=50, USERS 1..20" >&2; exit 2; }
for port in $MAILAUTH_PORT $((MAILAUTH_PORT + 1)) $((MAILAUTH_PORT + 2)) $((MAILAUTH_PORT + 3)) $DOVECOT_PORT; do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "bench/imaptest.sh: port $port is in use; choose another BASE_PORT" >&2; exit 2
    fi
done

OUT=${OUT:-$(mktemp -d /tmp/mailauth-imaptest.XXXXXX)}
mkdir -p "$OUT"
chmod 755 "$OUT" # Dovecot's processes run as other users.
mailauth_pid=""
dovecot_conf=""
cleanup() {
    [ -n "$mailauth_pid" ] && kill "$mailauth_pid" 2>/dev/null && wait "$mailauth_pid" 2>/dev/null
    [ -n "$dovecot_conf" ] && dovecot -c "$dovecot_conf" stop 2>/dev/null
}
trap cleanup EXIT

start_mailauth() {
    dotnet build -c Release -v q --nologo src/MailAuth.Server >"$OUT/build.log" 2>&1 ||
        { tail -20 "$OUT/build.log"; exit 2; }
    export MailAuth__DataDirectory=$OUT/mailauth MailAuth__BindAddress=127.0.0.1
    export MailAuth__Imap__Port=$MAILAUTH_PORT MailAuth__Imap__TlsPort=$((MAILAUTH_PORT + 1))
    export MailAuth__Smtp__SubmissionPort=$((MAILAUTH_PORT + 2)) MailAuth__Smtp__SubmissionsPort=$((MAILAUTH_PORT + 3))
    export MailAuth__Hashing__MemoryKiB=19456 MailAuth__Hashing__Iterations=2
    local mailauth=src/MailAuth.Server/bin/Release/net10.0/mailauth
    "$mailauth" domain add example.org >/dev/null || exit 2
    for n in $(seq "$USERS"); do echo pass | "$mailauth" mailbox add "testuser$n@example.org" >/dev/null || exit 2; done
    "$mailauth" serve >"$OUT/mailauth.log" 2>&1 &
    mailauth_pid=$!
    wait_port "$MAILAUTH_PORT" "$mailauth_pid" || { echo "MailAuth did not start:"; tail "$OUT/mailauth.log"; exit 2; }
}

start_dovecot() {
    if ! command -v dovecot >/dev/null || [ ! -x /usr/lib/dovecot/imap ]; then
        echo "bench/imaptest.sh: Dovecot's imap service is not installed (apt-get install dovecot-imapd): MailAuth only"
        return 1
    fi
    local d=$OUT/dovecot
    mkdir -p "$d/run" "$d/state" "$d/mail"
    chown nobody:nogroup "$d/mail"
    : >"$d/users"
    for n in $(seq "$USERS"); do echo "testuser$n:{PLAIN}pass" >>"$d/users"; done
    chmod 644 "$d/users"
    dovecot_conf=$d/dovecot.conf
    cat >"$dovecot_conf" <<CONF
base_dir = $d/run
state_dir = $d/state
instance_name = mailauth-imaptest
log_path = $d/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$d/mail/%u/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
mail_max_userip_connections = 100
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_PORT
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = 2
  client_limit = 200
}
service imap {
  service_count = 0
  process_min_avail = 4
  client_limit = 1
}
service stats {
  inet_listener http {
    port = 0
  }
}
CONF
    dovecot -c "$dovecot_conf" 2>>"$d/dovecot.log" || { dovecot_conf=""; echo "bench/imaptest.sh: Dovecot did not start: MailAuth only"; return 1; }
    wait_port "$DOVECOT_PORT" || { echo "bench/imaptest.sh: Dovecot does not answer: MailAuth only"; return 1; }
}

# One scripted test's verdict from its output: PASS, FAIL or SKIP. imaptest counts a test skipped
# for a capability the server lacks neither as failed nor as skipped: it ran no command at all.
verdict() { # rc stdout stderr
    local groups failed skipped base ext
    [ "$1" = 124 ] || [ "$1" = 137 ] && { echo "FAIL(timeout)"; return; }
    groups=$(sed -n 's/^[0-9]* test groups: \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2/p' "$2")
    [ -n "$groups" ] || { echo "FAIL(rc=$1)"; return; }
    failed=${groups% *}; skipped=${groups#* }
    base=$(sed -n 's|^base protocol: [0-9]*/\([0-9]*\) .*|\1|p' "$2")
    ext=$(sed -n 's|^extensions: [0-9]*/\([0-9]*\) .*|\1|p' "$2")
    if [ "$failed" != 0 ] || grep -q '^\*\*\* Test' "$3"; then echo FAIL
    elif [ "$skipped" != 0 ] || [ "$((${base:-0} + ${ext:-0}))" = 0 ]; then echo SKIP
    else echo PASS; fi
}

scripted() {
    if [ ! -d "$TESTS_DIR" ]; then
        echo "== scripted tests: no test directory ($TESTS_DIR; set IMAPTEST_TESTS_DIR)"; return
    fi
    local names=() t v rc
    if [ -n "${TESTS:-}" ]; then read -r -a names <<<"$TESTS"; else
        for t in "$TESTS_DIR"/*; do [ -f "$t" ] && [ "${t%.mbox}" = "$t" ] && names+=("$(basename "$t")"); done
    fi
    echo "== imaptest scripted tests against MailAuth (logs in $OUT/tests)"
    for t in "${names[@]}"; do
        mkdir -p "$OUT/tests/$t"
        (cd "$OUT/tests/$t" && timeout -k 5 60 "$BIN" host=127.0.0.1 port="$MAILAUTH_PORT" \
            user=testuser1@example.org user2=testuser2@example.org pass=pass test="$TESTS_DIR/$t" \
            mbox="$TESTS_DIR/default.mbox" rawlog >stdout 2>stderr)
        rc=$?
        v=$(verdict "$rc" "$OUT/tests/$t/stdout" "$OUT/tests/$t/stderr")
        echo "$t $v" >>"$OUT/verdicts"
        [ "$v" = PASS ] || [ "$v" = SKIP ] || { echo "=== $t ($v)"; cat "$OUT/tests/$t/stderr"; } >>"$OUT/failures.txt"
    done
    awk '{n[$2 ~ /^FAIL/ ? "FAIL" : $2]++} END {printf "scripted: %d passed, %d failed, %d skipped (a SKIP needs a capability MailAuth does not advertise)\n", n["PASS"], n["FAIL"], n["SKIP"]}' "$OUT/verdicts"
    grep -E ' FAIL' "$OUT/verdicts" | awk '{printf "%s%s", (NR > 1 ? " " : "failed: "), $1} END {if (NR) printf "  (details: %s)\n", "'"$OUT/failures.txt"'"}'
}

mbox() {
    local made=$OUT/stress.mbox
    if [ -n "${IMAPTEST_MBOX:-}" ]; then echo "$IMAPTEST_MBOX"
    elif [ -f "$made" ] || { [ -f "$SHARED/make-mbox.py" ] && python3 "$SHARED/make-mbox.py" "$made" 60 >/dev/null; }; then echo "$made"
    else echo "$TESTS_DIR/default.mbox"; fi
}

stress_run() { # server label port user-template
    local log=$OUT/stress-$2.log
    timeout -k 10 $((SECS + 60)) "$BIN" host=127.0.0.1 port="$3" user="$4" users="$USERS" pass=pass \
        mbox="$MBOX" clients="$CLIENTS" secs="$SECS" >"$log" 2>&1
    local rc=$? errors
    errors=$(grep -ciE 'error:|panic:|assert|fatal:' "$log")
    # imaptest ends with "Totals:", the command names ("Logi List ... Logo"), two lines of
    # percentages and the counts; every few seconds it prints each command's mean latency
    # ("... ms/cmd avg"), of which the run's mean is kept for LOGIN, FETCH and APPEND.
    awk -v server="$1" -v label="$2" -v rc="$rc" -v errors="$errors" '
        /^Logi / { n = split($0, names) }
        / ms\/cmd avg$/ { for (i = 1; i <= n; i++) ms[names[i]] += $i; intervals++ }
        /^Totals:/ { totals = 1 }
        totals && $0 ~ /^[ 0-9]+$/ && NF == n { for (i = 1; i <= n; i++) total[names[i]] = $i; totals = 0 }
        END { printf "%s %s logins %d select %d fetch %d store %d append %d expunge %d login_ms %.0f fetch_ms %.0f append_ms %.0f rc %d errors %d\n",
              server, label, total["Logi"], total["Sele"], total["Fetc"], total["Stor"], total["Appe"], total["Expu"],
              ms["Logi"] / (intervals ? intervals : 1), ms["Fetc"] / (intervals ? intervals : 1), ms["Appe"] / (intervals ? intervals : 1), rc, errors }' "$log" |
        tee -a "$OUT/stress-results"
}

stress() {
    MBOX=$(mbox)
    local servers=mailauth
    start_dovecot && servers="mailauth dovecot"
    echo "== imaptest stress: $SECS s, users=$USERS, clients=$CLIENTS, $RUNS runs per server, mbox $MBOX"
    # Unmeasured: neither a fresh server (MailAuth still compiling, Dovecot starting processes)
    # nor empty mailboxes go into the first run.
    for server in $servers; do
        local port=$MAILAUTH_PORT user='testuser%d@example.org'
        [ "$server" = dovecot ] && port=$DOVECOT_PORT user='testuser%d'
        timeout -k 10 $((WARM_UP + 60)) "$BIN" host=127.0.0.1 port="$port" user="$user" users="$USERS" pass=pass \
            mbox="$MBOX" clients="$CLIENTS" secs="$WARM_UP" >"$OUT/warm-up-$server.log" 2>&1
    done
    for run in $(seq "$RUNS"); do
        local order=$servers
        [ $((run % 2)) = 0 ] && [ "$servers" != mailauth ] && order="dovecot mailauth"
        for server in $order; do
            if [ "$server" = mailauth ]; then stress_run mailauth "mailauth-$run" "$MAILAUTH_PORT" 'testuser%d@example.org'
            else stress_run dovecot "dovecot-$run" "$DOVECOT_PORT" 'testuser%d'; fi
        done
    done
    echo
    echo "== summary: medians of $RUNS runs of $SECS s (commands completed; *_ms: mean latency in ms; ratio MailAuth / Dovecot)"
    awk '
        function median(list,   v, n, i, j, t) {
            n = split(list, v, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
            return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        { for (i = 3; i < NF; i += 2) { key = $1 SUBSEP $i; runs[key] = runs[key] " " $(i + 1) } seen[$1] = 1 }
        END {
            split("logins select fetch store append expunge login_ms fetch_ms append_ms errors", names, " ")
            printf "%-10s %12s %12s %8s   %s\n", "command", "MailAuth", "Dovecot", "ratio", "(each run: MailAuth | Dovecot)"
            for (k = 1; k <= 10; k++) {
                a = median(runs["mailauth" SUBSEP names[k]]); d = seen["dovecot"] ? median(runs["dovecot" SUBSEP names[k]]) : ""
                printf "%-10s %12s %12s %8s   (%s |%s)\n", names[k], a, d, (d > 0 && names[k] !~ /errors|_ms/) ? sprintf("%.2fx", a / d) : "",
                    substr(runs["mailauth" SUBSEP names[k]], 2), runs["dovecot" SUBSEP names[k]]
            }
        }' "$OUT/stress-results"
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), MailAuth $(git rev-parse --short HEAD 2>/dev/null), imaptest $BIN${dovecot_version:-}$(command -v dovecot >/dev/null && echo ", Dovecot $(dovecot --version)")"
start_mailauth
case $MODE in
    tests) scripted ;;
    stress) stress ;;
    all) scripted; echo; stress ;;
esac
echo "results and logs: $OUT"
