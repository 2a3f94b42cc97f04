#!/usr/bin/env bash
# Creates .venv with the project and its development tools, once per change of pyproject.toml,
# setup.py or the compiled fast paths' sources (cdc/binlog/_fastrows.c, replayer/_copytext.c,
# built in place).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "$python is older than 3.11" "install Python 3.11 or newer, or run: make PYTHON=python3.11 ..."
stamp=.venv/.installed
want=$(cat pyproject.toml setup.py cdc/binlog/*.c replayer/*.c | sha256sum | cut -c1-16)
[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && exit 0

if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    # Debian's Python ships venv support separately.
    if is_root; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$python" -m venv .venv
    else
      fail "'$python -m venv' failed" "install it with: sudo apt-get install python3-venv"
    fi
  fi
fi
# mysqlclient (the snapshot reader's driver) builds against MariaDB's client library.
build_needs=()
pkg-config --exists libmariadb 2>/dev/null || build_needs+=(libmariadb-dev pkg-config)
command -v gcc >/dev/null 2>&1 || build_needs+=(gcc)
if [ ${#build_needs[@]} -gt 0 ]; then
  is_root || fail "missing build packages: ${build_needs[*]}" \
    "install them with: sudo apt-get install ${build_needs[*]}"
  say "installing build packages: ${build_needs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${build_needs[@]}" >/dev/null
fi
say "installing the project and its tools into .venv"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "$want" > "$stamp"
