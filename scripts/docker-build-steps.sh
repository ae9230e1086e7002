#!/usr/bin/env bash
# Builds the image from ./Dockerfile. With a working container engine (docker/podman) it simply
# runs `<engine> build`. Without one (e.g. a docker CLI with no daemon), it performs the
# Dockerfile's own instructions - FROM/WORKDIR/COPY/RUN/ENV/USER/EXPOSE/STOPSIGNAL/ENTRYPOINT/CMD,
# stage by stage - in a temporary directory on this machine (the host's Node stands in for the
# node:20-slim base, which must match in major version), then checks the result: the entry point
# starts, production dependencies only, a non-root user.
#
# usage: scripts/docker-build-steps.sh [--keep] [--tag NAME] [--force-local] [--lock-fallback]
#   --lock-fallback: when `npm ci` refuses an out-of-sync package-lock.json, retry that RUN with
#                    `npm install` (a warning is printed; fix the lock file with `npm install`).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dockerfile="$repo/Dockerfile"
tag=ovn-k8s:dev
keep=0
force_local=0
lock_fallback=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --tag) tag=$2; shift ;;
    --force-local) force_local=1 ;;
    --lock-fallback) lock_fallback=1 ;;
    *) echo "usage: $0 [--keep] [--tag NAME] [--force-local] [--lock-fallback]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$force_local" = 0 ]; then
  for engine in docker podman; do
    if command -v "$engine" >/dev/null 2>&1 && "$engine" info >/dev/null 2>&1; then
      echo "== $engine is available: $engine build -t $tag $repo"
      exec "$engine" build -t "$tag" -f "$dockerfile" "$repo"
    fi
  done
  echo "== no container engine answers; running the Dockerfile's steps locally"
fi

fail() { echo "docker-build-steps: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ovnk8s-image.XXXXXX")
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$work"; else echo "== kept $work"; fi; }
trap cleanup EXIT

# Instructions, one per line, continuation lines joined, comments dropped.
mapfile -t instructions < <(sed -e 's/\r$//' "$dockerfile" | awk '
  /^[[:space:]]*#/ { next }
  { line = line $0 }
  /\\$/ { sub(/\\$/, "", line); next }
  { if (line ~ /[^[:space:]]/) print line; line = "" }')

declare -A stage_root
stage=-1
root=""
workdir=/
user=root
entrypoint=""
declare -a env_kv=()

# A path inside the stage's root.
in_root() { case "$1" in /*) printf '%s%s' "$root" "$1" ;; *) printf '%s%s/%s' "$root" "$workdir" "$1" ;; esac; }

# PATH entries that exist inside the image root are mapped into it; the host's stay usable.
image_path() {
  local out="" p
  IFS=: read -ra parts <<<"$1"
  for p in "${parts[@]}"; do
    if [ -n "$p" ] && [ -d "$root$p" ] && [ "$p" != / ]; then out="$out:$root$p"; else out="$out:$p"; fi
  done
  printf '%s' "${out#:}"
}

run_env() {
  local kv
  local -a args=()
  for kv in "${env_kv[@]}"; do
    if [[ $kv == PATH=* ]]; then args+=("PATH=$(image_path "${kv#PATH=}")"); else args+=("$kv"); fi
  done
  env "${args[@]}" "$@"
}

for line in "${instructions[@]}"; do
  read -r instr rest <<<"$line"
  case "${instr^^}" in
    FROM)
      stage=$((stage + 1))
      read -r base _as name <<<"$rest"
      root="$work/stage$stage"
      mkdir -p "$root"
      stage_root[$stage]=$root
      [ -n "${name:-}" ] && stage_root[$name]=$root
      workdir=/
      user=root
      env_kv=("PATH=$PATH" "HOME=$root/root")
      mkdir -p "$root/root"
      case "$base" in
        node:20*) [ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] || fail "$base needs Node 20 on this machine, found $(node --version)" ;;
        *) fail "unsupported base image $base" ;;
      esac
      echo "== stage $stage${name:+ ($name)}: FROM $base"
      ;;
    WORKDIR)
      workdir=$rest
      mkdir -p "$root$workdir"
      ;;
    COPY)
      from=""
      if [[ $rest == --from=* ]]; then
        from=${rest%% *}; from=${from#--from=}; rest=${rest#* }
      fi
      read -ra parts <<<"$rest"
      dst=${parts[-1]}
      unset 'parts[-1]'
      target=$(in_root "$dst")
      if [ "${#parts[@]}" -gt 1 ] || [[ $dst == */ ]]; then mkdir -p "$target"; else mkdir -p "$(dirname "$target")"; fi
      for src in "${parts[@]}"; do
        if [ -n "$from" ]; then
          [ -n "${stage_root[$from]:-}" ] || fail "COPY --from=$from: no such stage"
          srcpath="${stage_root[$from]}$src"
        else
          srcpath="$repo/$src"
        fi
        [ -e "$srcpath" ] || fail "COPY: $src not found"
        if [ -d "$srcpath" ]; then
          if [ -d "$target" ] && [ "${#parts[@]}" -gt 1 ]; then cp -a "$srcpath" "$target/"; else mkdir -p "$target" && cp -a "$srcpath/." "$target/"; fi
        else
          if [ -d "$target" ]; then cp -a "$srcpath" "$target/"; else cp -a "$srcpath" "$target"; fi
        fi
      done
      echo "   COPY ${from:+--from=$from }${parts[*]} -> $dst"
      ;;
    RUN)
      echo "   RUN $rest"
      if ! (cd "$root$workdir" && run_env bash -euo pipefail -c "$rest"); then
        if [ "$lock_fallback" = 1 ] && [[ $rest == *"npm ci"* ]]; then
          echo "   WARNING: npm ci failed (package-lock.json out of sync?); retrying with npm install" >&2
          (cd "$root$workdir" && run_env bash -euo pipefail -c "${rest//npm ci/npm install}") || fail "RUN failed: $rest"
        else
          fail "RUN failed: $rest"
        fi
      fi
      ;;
    ENV)
      key=${rest%%=*}
      value=${rest#*=}
      # expand $VAR from the stage's environment (e.g. PATH=/app/bin:$PATH)
      current_path=""
      for kv in "${env_kv[@]}"; do [[ $kv == PATH=* ]] && current_path=${kv#PATH=}; done
      value=${value//\$PATH/$current_path}
      new=()
      for kv in "${env_kv[@]}"; do [[ $kv == "$key="* ]] || new+=("$kv"); done
      env_kv=("${new[@]}" "$key=$value")
      ;;
    USER) user=$rest ;;
    ENTRYPOINT) entrypoint=$rest ;;
    CMD | EXPOSE | STOPSIGNAL | LABEL) ;;
    *) fail "instruction $instr is not supported by this script (keep the Dockerfile simple)" ;;
  esac
done

echo "== checking the final stage ($root)"
case "${user%%:*}" in root | 0 | "") fail "the final image runs as root (USER $user)" ;; esac
echo "   user $user (non-root)"
entry=$(node -e 'const a = JSON.parse(process.argv[1]); if (!Array.isArray(a) || !a.length) process.exit(1); console.log(a[0])' "$entrypoint") ||
  fail "ENTRYPOINT must be an exec-form JSON array, got $entrypoint"
resolved=$(run_env bash -c "command -v $entry") || fail "entry point $entry is not on the image PATH"
case "$resolved" in "$root"/*) ;; *) fail "entry point $entry resolves outside the image: $resolved" ;; esac
[ -x "$resolved" ] || fail "$resolved is not executable"
echo "   entry point $entry -> ${resolved#"$root"}"

for dev in typescript vitest tsx eslint prettier fast-check; do
  [ ! -e "$root/app/node_modules/$dev" ] || fail "devDependency $dev is in the production node_modules"
done
echo "   production dependencies only ($(du -sh "$root/app/node_modules" | cut -f1) node_modules)"

out=$(cd / && run_env ovn-k8s-util --help 2>&1) || fail "ovn-k8s-util --help failed: $out"
echo "   ovn-k8s-util --help: ok"
out=$(cd / && run_env ovn-k8s-util config --no-ovs --config-file /dev/null 2>&1) || fail "ovn-k8s-util config failed: $out"
echo "   ovn-k8s-util config: ok"
set +e
out=$(cd / && run_env "$entry" --help 2>&1)
rc=$?
set -e
if grep -q "ERR_MODULE_NOT_FOUND\|Cannot find package\|Cannot find module" <<<"$out"; then
  fail "the entry point cannot load its modules: $out"
fi
echo "   $entry --help: exit $rc, modules load"
echo "== image steps passed ($tag not tagged: no container engine)"
