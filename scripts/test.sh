#!/usr/bin/env bash
# Set up (same steps as quickstart.sh) and run every test in the solution.
set -euo pipefail
cd "$(dirname "$0")/.."
PPCLS_CONFIGURATION=Release scripts/setup.sh
dotnet test Ppcls.sln -c Release --no-build -nologo "$@"
