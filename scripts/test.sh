#!/usr/bin/env bash
# Set up (a virtual environment with the pinned requirements) and run the test suite.
#   bash scripts/test.sh            -> SQLite and in-process Celery (nothing else needed)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
#     bash scripts/test.sh          -> PostgreSQL and a real Celery worker process on Redis
# Extra arguments go to pytest, e.g. bash scripts/test.sh -k import -x
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
exec .venv/bin/python -m pytest "$@"
