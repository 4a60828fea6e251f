# Sourced by the scripts: make .venv with Python 3.11+ and install $REQUIREMENTS into it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
# Reinstall only when the requirements changed since the last install.
stamp=.venv/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$(basename "$REQUIREMENTS")
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet -r "$REQUIREMENTS"
  touch "$stamp"
fi
