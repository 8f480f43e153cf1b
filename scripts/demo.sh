#!/usr/bin/env bash
# Set up and run the main job on the embedded default: a synthetic demo cohort through the pipeline
# (generate, import), then the web app on http://127.0.0.1:8000/ (SQLite, in-process Celery).
# Options go to `manage.py demo`, e.g. bash scripts/demo.sh --subjects 50 --no-serve
set -euo pipefail
cd "$(dirname "$0")/.."
REQUIREMENTS=requirements.txt source scripts/setup_env.sh
exec .venv/bin/python manage.py demo "$@"
