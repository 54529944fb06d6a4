#!/bin/sh
# Step 1a: fetch the npm packages whose TypeScript/JavaScript sources form part of the corpus
# (pinned in corpus-npm-package.json). Install scripts are never run. Resumable/idempotent.
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
DEST="${SPECEXEC_TRAIN_WORK:-$HERE/work}/npm"
mkdir -p "$DEST"
cp "$HERE/corpus-npm-package.json" "$DEST/package.json"
cd "$DEST"
npm install --ignore-scripts --no-audit --no-fund --no-save
echo "npm corpus packages in $DEST/node_modules"
