# Sourced by the other scripts: creates .venv (Python 3.11) and installs the pinned requirements
# (REQUIREMENTS, default requirements-dev.txt: the app plus test tools).
PYTHON_BIN=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON_BIN" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "${REQUIREMENTS:-requirements-dev.txt}"
