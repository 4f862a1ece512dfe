#!/usr/bin/env bash
# The full crash suite: every mutating operation killed with SIGKILL at random moments (at least
# 100 kills, against the 33 `cargo test` runs), the snapshot kill test, every durable step of
# snapshot, archive and backup run failed through the fault seam, the concurrency tests (every
# door saving the same files from its own process among them), and killed imports that cleanup
# must clear.
# Prints a summary line `N passed, M failed` and exits non-zero when anything failed.
#
#   bash scripts/crash-suite.sh                       # 100 kills, a seed from the clock
#   KURA_CRASH_KILLS=300 KURA_CRASH_SEED=42 bash scripts/crash-suite.sh
#   KURA_CRASH_RELEASE=1 bash scripts/crash-suite.sh  # release build (faster runs, long build)
set -uo pipefail
cd "$(dirname "$0")/.."
git config --global user.name >/dev/null 2>&1 || git config --global user.name "Kura tests"
git config --global user.email >/dev/null 2>&1 || git config --global user.email "tests@kura.invalid"

kills="${KURA_CRASH_KILLS:-100}"
seed="${KURA_CRASH_SEED:-$(date +%s%N)}"
profile=()
[ "${KURA_CRASH_RELEASE:-0}" = 1 ] && profile=(--release)
echo "crash suite: $kills kills, seed $seed (repeat with KURA_CRASH_SEED=$seed)"

cargo build "${profile[@]}" -p kura-cli --tests --locked || { echo "0 passed, 1 failed (build)"; exit 1; }

passed=0
failed=0
failures=()
run() {
    local name="$1"
    shift
    echo "== $name"
    if env "$@" cargo test "${profile[@]}" -p kura-cli --locked --test cli "$name" -- --exact --nocapture; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

run crash::killed_operations_never_damage_the_vault KURA_CRASH_KILLS="$kills" KURA_CRASH_SEED="$seed"
run crash::killed_snapshots_never_damage_the_vault
run faults::snapshots_failed_at_each_durable_step_leave_the_vault_sound KURA_FAULT_STEPS=all KURA_FAULT_SEED="$seed"
run faults::archives_failed_at_each_durable_step_leave_the_project_active_and_intact KURA_FAULT_STEPS=all KURA_FAULT_SEED="$seed"
run faults::backup_runs_failed_at_each_durable_step_leave_the_target_verifiable KURA_FAULT_STEPS=all KURA_FAULT_SEED="$seed"
run concurrency::writers_gc_and_a_backup_at_once_fail_only_with_busy KURA_CONCURRENCY_SEED="$seed"
run concurrency::saves_of_the_same_files_from_several_processes_never_kill_each_other
run serve::every_door_saving_the_same_files_at_once_leaves_each_file_whole
run crash::cleanup_removes_what_killed_imports_left KURA_KILLED_IMPORT_SEED="$seed"

for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
