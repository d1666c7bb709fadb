#!/usr/bin/env bash
# Rebuild src/hipviz/app/static/vtk-hipviz.js (the part of vtk.js the 3D view uses) from js/vtk,
# with the locked package versions. Needs Node.js and npm; only needed after changing js/vtk.
set -euo pipefail
cd "$(dirname "$0")/../js/vtk"
npm ci --no-audit --no-fund --ignore-scripts
node build.mjs
