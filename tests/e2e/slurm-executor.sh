#!/usr/bin/env bash
# A pipeline fanned out as Slurm jobs, on a real one-node Slurm cluster started on this host from
# an artifact slurm-factory built (bookworm: this host's release), with the host's docker available
# to the jobs and a local s3rver layer as the shared cache layer.
#
#   tests/e2e/slurm-executor.sh [--artifact FILE]
#
# The artifact: --artifact FILE (or SF_E2E_ARTIFACT), else the one a previous run left in the
# cache (SF_E2E_CACHE), else `build-slurm --slurm-version 24.11.5 --toolchain bookworm` builds it.
# The cluster: tests/e2e/host-cluster.sh (munged, MariaDB, slurmdbd, slurmctld, slurmd under a
# random prefix with a space). The pipelines use stand-in recipes (tests/e2e/standin.sh): "slurm"
# 24.11.5 and 22.05.8 linking two shared libraries, fakea and fakeb, and a 23.11.1 that does not
# compile. Checks, one PASS/FAIL line each:
#   two cells through `run --executor slurm`: exit 0; both jobs COMPLETED in sacct under their
#   names sf-two-<cell>; the second job waited for the first (afterok: it needs fakea and fakeb,
#   which the first builds); fakea and fakeb were built once across both job logs; both artifacts
#   verify; the entries reached the s3rver layer; the report equals a local run's (cells, results,
#   built and cached counts, from an empty cache);
#   with `shared_cache_dir: true` both jobs start at once (no dependency) and the build lock still
#   builds fakea and fakeb once;
#   run again, both artifacts exist and verify: no job is submitted;
#   a broken cell with --keep-going: its job FAILED in sacct, the report names the cell, its job
#   id, state and log, the exit code is the build error's (7), and the other cell succeeds (its
#   first job waited on the broken one and is submitted again without that dependency);
#   the same without --keep-going: exit 7, the waiting cell's job cancelled and the cell skipped;
#   a job killed at its time limit (a build that sleeps, `time: "1"`): the report names its id,
#   TIMEOUT and its log, sacct says TIMEOUT, exit 7;
#   SIGINT while the jobs run: the run exits 130 and no job of ours is left in squeue.
#
# Environment: SF_BIN, SF_E2E_CACHE, SF_E2E_JOBS, SF_E2E_BACKEND (as the other e2e scripts),
# SF_E2E_KEEP=1 keeps the work folder.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/standin.sh
. "$here/standin.sh"
# shellcheck source=tests/e2e/host-cluster.sh
. "$here/host-cluster.sh"
ARTIFACT=${SF_E2E_ARTIFACT:-}
if [ "${1:-}" = "--artifact" ]; then
  ARTIFACT=${2:-}
  shift 2
fi
e2e_setup slurm-executor
s3pid="" s3data=""
cleanup() {
  host_cluster_stop >/dev/null 2>&1
  [ -n "$s3pid" ] && kill "$s3pid" 2>/dev/null
  [ -n "$s3data" ] && rm -rf "$s3data" "$s3data.log"
  stop_gpg_agent
  if [ -n "${SF_E2E_KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
need_binary "slurm executor e2e"
start=$(date +%s)

# The artifact the cluster runs (host-cluster.sh: given, kept from an earlier run, or built now).
if [ -z "$ARTIFACT" ]; then
  t0=$(date +%s)
  ARTIFACT=$(host_cluster_artifact "$CACHE" "$work")
  ok=$?  # before the message's command substitutions change $?
  check "the cluster's artifact: $(basename "${ARTIFACT:-none}") ($(($(date +%s) - t0)) s)" "$ok"
fi
[ -f "$ARTIFACT" ] || { check "the cluster's artifact" 1 "no file $ARTIFACT"; summary "slurm executor e2e"; exit 1; }

echo "== a one-node Slurm cluster on this host from $(basename "$ARTIFACT")"
if ! host_cluster_start "$ARTIFACT" "$work/cluster"; then
  check "start the cluster" 1 "see above"
  summary "slurm executor e2e"
  exit 1
fi
check "cluster up: node $HOST_CLUSTER_NODE idle, prefix '$HOST_CLUSTER_PREFIX'" 0

# The shared layer: s3rver with a bucket.
read -r s3port s3pid s3data < <("$here/../support/start-s3rver.sh") || {
  check "start s3rver" 1; summary "slurm executor e2e"; exit 1; }
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN
endpoint="http://127.0.0.1:$s3port"
empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
curl -fsS --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -X PUT \
  -H "x-amz-content-sha256: $empty_sha" "$endpoint/sf-exec" >/dev/null
check "s3rver bucket sf-exec at $endpoint" $?

# The pipelines, over stand-in recipes; a throwaway key of their own.
STANDIN_BROKEN=23.11.1 STANDIN_SLOW=21.08.8 standin_recipes "$work/standin" 24.11.5 22.05.8 23.11.1 21.08.8
signing_key "$work/gnupg" "slurm-factory executor e2e <executor@slurm-factory.invalid>"
config() { # config NAME -> $work/NAME.yaml with its own empty cache $work/NAME-cache
  standin_sources "$work/$1-cache"
  { sf_config "$work/$1-cache" cache-s3; cat <<CONF; } > "$work/$1.yaml"
build:
  jobs: $JOBS
cache:
  layers:
    - {name: local, type: local, url: "file://$work/$1-cache/cache", writable: true}
    - name: shared-s3
      type: s3
      url: s3://sf-exec/$1
      writable: true
      settings: {endpoint: "$endpoint", region: us-east-1}
pipelines:
  two:
    matrix: {slurm_versions: ["24.11.5", "22.05.8"], toolchains: [trixie]}
    backend: $BACKEND
    publish: cache
    executor:
      type: slurm
      partition: build
      time: "30:00"
      poll_seconds: 1
  broken:
    matrix: {slurm_versions: ["23.11.1", "24.11.5"], toolchains: [trixie]}
    backend: $BACKEND
    executor: {type: slurm, partition: build, poll_seconds: 1}
  together:
    matrix: {slurm_versions: ["24.11.5", "22.05.8"], toolchains: [trixie]}
    backend: $BACKEND
    executor: {type: slurm, partition: build, shared_cache_dir: true, poll_seconds: 1}
  limited:
    matrix: {slurm_versions: ["21.08.8"], toolchains: [trixie]}
    backend: $BACKEND
    executor: {type: slurm, partition: build, time: "1", poll_seconds: 1}
  slow:
    matrix: {slurm_versions: ["21.08.8", "24.11.5"], toolchains: [trixie]}
    backend: $BACKEND
    executor: {type: slurm, partition: build, poll_seconds: 1}
CONF
}
sf() { cfg=$1; shift; "$SF_BIN" --config "$work/$cfg.yaml" "$@"; }
# jobs_of REPORT -> the job ids of the report's cells, comma-separated
jobs_of() { jq -r '[.cells[].job.id // empty] | join(",")' "$1"; }
# has_event FILE FILTER: some JSON line of FILE matches the jq FILTER
has_event() { jq -c "select($2)" "$1" 2>/dev/null | grep -q .; }
# sacct_states IDS -> "ID STATE" lines (sacct lags behind slurmctld: asked until every id is there)
sacct_states() {
  for _ in $(seq 1 30); do
    out=$(sacct -X -n -P -j "$1" -o JobIDRaw,State,JobName 2>/dev/null)
    [ "$(printf '%s\n' "$out" | grep -c .)" -ge "$(echo "$1" | tr ',' '\n' | grep -c .)" ] && break
    sleep 1
  done
  printf '%s\n' "$out"
}

echo "== two cells through Slurm"
config slurm
t0=$(date +%s.%N)
sf slurm --json run two --executor slurm --output "$work/out-slurm" --report "$work/slurm.json" \
  > "$work/slurm.events" 2> "$work/slurm.err"
rc=$?
t1=$(date +%s.%N)
check "run two --executor slurm exits 0 ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s)" \
  $rc "$(tail -n 20 "$work/slurm.err"; tail -n 5 "$work/slurm.events")"
ids=$(jobs_of "$work/slurm.json")
states=$(sacct_states "$ids")
[ "$(echo "$ids" | tr ',' '\n' | grep -c .)" -eq 2 ] &&
  [ "$(printf '%s\n' "$states" | grep -c '|COMPLETED|sf-two-')" -eq 2 ]
check "both cells ran as Slurm jobs, COMPLETED in sacct (jobs $ids)" $? "sacct: $states"
first=$(jq -r '.cells[0].job.id' "$work/slurm.json")
waited=$(jq -r 'select(.kind=="submitted" and .cell=="22.05.8-trixie-cpu") | .data.after | join(",")' \
  "$work/slurm.events" 2>/dev/null)
[ "$waited" = "$first" ]
check "the second cell's job waited for the first (afterok:$first)" $? "after: '$waited'"
built=$(cat "$work"/out-slurm/jobs/*.log 2>/dev/null |
  jq -r 'select(.event=="build" and .kind=="built") | .package.name' 2>/dev/null | sort | uniq -c |
  awk '{printf "%s=%s ", $2, $1}')
[ "$built" = "fakea=1 fakeb=1 slurm=2 " ]
check "fakea and fakeb built once across both jobs ($built)" $?
verified=0
for a in $(jq -r '.cells[].artifact // empty' "$work/slurm.json"); do
  sf slurm verify "$a" > /dev/null 2>&1 && verified=$((verified + 1))
done
[ "$verified" -eq 2 ]
check "both artifacts verify" $? "$verified of 2"
in_s3=$(curl -fsS --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER \
  -H "x-amz-content-sha256: $empty_sha" "$endpoint/sf-exec?list-type=2&prefix=slurm/" 2>/dev/null | grep -o '<Key>[^<]*manifest[^<]*</Key>' | wc -l)
[ "$in_s3" -ge 4 ]
check "the jobs published their entries to the s3 layer ($in_s3 manifests)" $?

echo "== the same two cells with shared_cache_dir (and a relative --output): both jobs at once"
config together
# A relative --output (the jobs run in its jobs folder, so the run makes it absolute for them).
(cd "$work" && sf together --json run together --output out-together --report together.json \
  > together.events 2> together.err)
check "run together exits 0" $? "$(tail -n 10 "$work/together.err")"
afters=$(jq -r 'select(.kind=="submitted") | .data.after | length' "$work/together.events" | sort -u | paste -sd' ' -)
built=$(cat "$work"/out-together/jobs/*.log 2>/dev/null |
  jq -r 'select(.event=="build" and .kind=="built") | .package.name' 2>/dev/null | sort | uniq -c |
  awk '{printf "%s=%s ", $2, $1}')
[ "$afters" = "0" ] && [ "$built" = "fakea=1 fakeb=1 slurm=2 " ] &&
  [ "$(jq -r '.succeeded' "$work/together.json")" = 2 ]
check "no job waits for another, and fakea and fakeb are still built once ($built)" $? \
  "dependencies per job: '$afters'"

echo "== the same run again: both artifacts exist, so no job is submitted"
(cd "$work" && sf together --json run together --output out-together --report again.json \
  > again.events 2> again.err)
rc=$?
[ "$rc" -eq 0 ] && ! has_event "$work/again.events" '.kind=="submitted"' &&
  [ "$(jq -r '[.cells[] | "\(.result) \(.existed)"] | join(",")' "$work/again.json")" = "ok true,ok true" ]
check "a rerun finds both artifacts valid and submits no job" $? \
  "exit $rc: $(jq -c '[.cells[] | {cell, result, existed, job}]' "$work/again.json" 2>&1 | head -c 400)"

echo "== the same two cells locally, from an empty cache"
config local
sf local --json run two --executor local --output "$work/out-local" --report "$work/local.json" \
  > "$work/local.events" 2> "$work/local.err"
check "run two --executor local exits 0" $? "$(tail -n 20 "$work/local.err")"
norm='[.cells[] | {cell, result, built, cached, existed}] | tostring'
[ "$(jq -r "$norm" "$work/slurm.json")" = "$(jq -r "$norm" "$work/local.json")" ] &&
  [ "$(jq -r '.ok, .exit_code, .succeeded, .failed' "$work/slurm.json")" = \
    "$(jq -r '.ok, .exit_code, .succeeded, .failed' "$work/local.json")" ]
check "the report equals the local run's" $? \
  "slurm: $(jq -c "$norm" "$work/slurm.json"); local: $(jq -c "$norm" "$work/local.json")"

echo "== a broken cell with --keep-going"
config broken
sf broken --json run broken --keep-going --output "$work/out-broken" --report "$work/broken.json" \
  > "$work/broken.events" 2> "$work/broken.err"
rc=$?
[ "$rc" -eq 7 ]
check "run broken --keep-going exits 7 (a build error)" $? "exit $rc: $(tail -n 5 "$work/broken.err")"
bad_id=$(jq -r '.cells[] | select(.cell=="23.11.1-trixie-cpu") | .job.id // empty' "$work/broken.json")
bad_log=$(jq -r '.cells[] | select(.cell=="23.11.1-trixie-cpu") | .job.log // empty' "$work/broken.json")
[ "$(jq -r '.cells[] | select(.cell=="23.11.1-trixie-cpu") | .result' "$work/broken.json")" = failed ] &&
  [ -n "$bad_id" ] && [ -s "$bad_log" ] &&
  [ "$(jq -r '.cells[] | select(.cell=="23.11.1-trixie-cpu") | .error.context.job' "$work/broken.json")" = "$bad_id" ] &&
  [ "$(jq -r '.cells[] | select(.cell=="23.11.1-trixie-cpu") | .error.context["job log"]' "$work/broken.json")" = "$bad_log" ] &&
  has_event "$work/broken.events" ".kind==\"failed\" and .data.job_id==\"$bad_id\" and (.message | contains(\"$bad_log\"))"
check "the report and the error name the cell, its job $bad_id and its log" $? \
  "$(jq -c '.cells[0]' "$work/broken.json" | head -c 600)"
bad_state=$(sacct_states "$bad_id" | cut -d'|' -f2)
[ "$bad_state" = FAILED ]
check "its job is FAILED in sacct" $? "state '$bad_state'"
[ "$(jq -r '.cells[] | select(.cell=="24.11.5-trixie-cpu") | .result' "$work/broken.json")" = ok ]
check "the other cell succeeds" $? "$(jq -c '.cells[1]' "$work/broken.json" | head -c 600)"
has_event "$work/broken.events" '.kind=="resubmitted" and .cell=="24.11.5-trixie-cpu"'
check "the other cell's job waited on the broken one and was submitted again without it" $?

echo "== the broken cell without --keep-going (a fresh cache: the other cell waits for it again)"
config broken2
sf broken2 --json run broken --output "$work/out-broken2" --report "$work/broken2.json" \
  > "$work/broken2.events" 2> "$work/broken2.err"
rc=$?
[ "$rc" -eq 7 ] &&
  [ "$(jq -r '[.cells[].result] | join(" ")' "$work/broken2.json")" = "failed skipped" ] &&
  has_event "$work/broken2.events" '.kind=="skipped" and .cell=="24.11.5-trixie-cpu"'
check "without --keep-going the waiting cell is not run (its job cancelled, the cell skipped), exit 7" $? \
  "exit $rc: $(jq -c '[.cells[] | {cell, result, job}]' "$work/broken2.json" 2>&1 | head -c 400)"
! squeue -h -o '%j' | grep -q '^sf-broken-'
check "no job of that run is left in squeue" $?

echo "== a job killed at its time limit (21.08.8's build sleeps; the limit is 1 minute)"
config limited
sf limited --json run limited --output "$work/out-limited" --report "$work/limited.json" \
  > "$work/limited.events" 2> "$work/limited.err"
rc=$?
lim_id=$(jq -r '.cells[0].job.id // empty' "$work/limited.json")
[ "$rc" -eq 7 ] && [ -n "$lim_id" ] &&
  [ "$(jq -r '.cells[0].job.state' "$work/limited.json")" = TIMEOUT ] &&
  jq -r '.cells[0].error.message' "$work/limited.json" | grep -q "job $lim_id of cell 21.08.8-trixie-cpu ended timeout" &&
  [ "$(jq -r '.cells[0].error.context["job log"]' "$work/limited.json")" = "$work/out-limited/jobs/21.08.8-trixie-cpu.log" ]
check "a job killed at its time limit is reported with its id, TIMEOUT and its log, exit 7" $? \
  "exit $rc: $(jq -c '.cells[0] | {job, error}' "$work/limited.json" 2>&1 | head -c 600)"
lim_state=$(sacct_states "$lim_id" | cut -d'|' -f2)
[ "$lim_state" = TIMEOUT ]
check "sacct says TIMEOUT" $? "state '$lim_state'"

echo "== SIGINT while the jobs run (21.08.8's build sleeps; 24.11.5 waits for it)"
config interrupted
# The binary itself in the background (a function would run in a subshell, which ignores SIGINT).
"$SF_BIN" --config "$work/interrupted.yaml" --json run slow --output "$work/out-int" \
  --report "$work/int.json" > "$work/int.events" 2> "$work/int.err" &
pid=$!
# Until the first job, on the node, has built fakeb (its events are in its log) and sleeps in
# 21.08.8's build.
for _ in $(seq 1 240); do
  has_event "$work/out-int/jobs/21.08.8-trixie-cpu.log" \
    '.event=="build" and .kind=="start" and .package.name=="slurm"' && break
  sleep 0.5
done
sleep 2
ours=$(squeue -h -o '%i %j' | grep -c ' sf-slow-')
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$ours" -ge 1 ] && [ "$rc" -eq 130 ]
check "SIGINT with $ours job(s) of ours in squeue: exit 130" $? "exit $rc: $(tail -n 5 "$work/int.err")"
left=$(squeue -h -o '%i %j %T' | grep ' sf-slow-')
[ -z "$left" ]
check "no job of ours is left in squeue" $? "$left"
[ "$(jq -r '[.cells[].result] | join(" ")' "$work/int.json" 2>/dev/null)" = "failed failed" ] &&
  [ "$(jq -r '.exit_code' "$work/int.json")" = 130 ]
check "the report says both cells were cancelled (exit_code 130)" $? \
  "$(jq -c '{exit_code, interrupted, cells: [.cells[] | {cell, result, job}]}' "$work/int.json" 2>&1 | head -c 600)"
for _ in $(seq 1 30); do
  running=$(docker ps -q --filter "label=org.slurm-factory.build-id" | wc -l)
  [ "$running" -eq 0 ] && break
  sleep 1
done
[ "$running" -eq 0 ]
check "the cancelled job removed its build container" $? "$running still running"

summary "slurm executor e2e" ", $(($(date +%s) - start)) s"
