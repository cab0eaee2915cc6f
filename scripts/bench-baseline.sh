#!/usr/bin/env bash
# The baseline of BENCHMARKS.md: the script an operator would otherwise run
# from cron to keep a FIRST LINE token fresh. It logs in with curl, picks
# the token out with jq, and writes it with a shell redirect. Nothing else:
# no journal, no fsync, no atomic replace (a reader can see an empty or
# half-written file), no retry and no login budget.
#
# Environment:
#   FIRSTLINE_URL            API base URL, e.g. https://01.example-tenant.host
#   FIRSTLINE_NAME_FILE      file holding the account name
#   FIRSTLINE_PASSWORD_FILE  file holding the password
#   TOKEN_FILE               where the token goes
#   BENCH_TIMING_FILE        optional: the benchmark's instrumentation (below)
#                            appends "<answered_us> <written_us>" to it
#
# Exit status: 0 done, 1 the login or the write failed, 3 curl or jq is
# missing (install them with: apt-get install -y curl jq).
set -euo pipefail

for tool in curl jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench-baseline.sh: $tool is not installed; apt-get install -y $tool" >&2
    exit 3
  fi
done

: "${FIRSTLINE_URL:?set FIRSTLINE_URL to the API base URL}"
: "${FIRSTLINE_NAME_FILE:?set FIRSTLINE_NAME_FILE to the file holding the account name}"
: "${FIRSTLINE_PASSWORD_FILE:?set FIRSTLINE_PASSWORD_FILE to the file holding the password}"
: "${TOKEN_FILE:?set TOKEN_FILE to where the token goes}"

name=$(<"$FIRSTLINE_NAME_FILE")
password=$(<"$FIRSTLINE_PASSWORD_FILE")

# The password goes to curl on stdin, not in its arguments.
response=$(curl -fsS -X POST "$FIRSTLINE_URL/api/v1/auth" \
  -H 'Content-Type: application/json' -H 'Accept: application/json' \
  --data-binary @- <<EOF
{"name": "$name", "password": "$password", "ttl": 1440}
EOF
)
answered=$EPOCHREALTIME # instrumentation: the answer is in hand

token=$(jq -r '.access_token // empty' <<<"$response")
if [ -z "$token" ]; then
  echo "bench-baseline.sh: no access_token in the answer" >&2
  exit 1
fi
printf '%s\n' "$token" >"$TOKEN_FILE"
written=$EPOCHREALTIME # instrumentation: the file is written (not synced)

# Instrumentation, not part of the operator's logic: bash's EPOCHREALTIME
# reads the clock without starting a process, in microseconds.
if [ -n "${BENCH_TIMING_FILE:-}" ]; then
  echo "${answered/[.,]/} ${written/[.,]/}" >>"$BENCH_TIMING_FILE"
fi
