#!/bin/bash
# Steps 4-8 for the final pair, in order (run after training; each step can be re-run alone).
# usage: ./finish.sh   (LLAMA_CPP_SRC as for the other steps)
set -e
cd "$(dirname "$0")"
PY=/usr/bin/python3
W=${SPECEXEC_TRAIN_WORK:-work}
T=$W/ckpt/target/final.pt; [ -f $T ] || T=$W/ckpt/target/last.pt
D=$W/ckpt/draft/final.pt
$PY export_gguf.py $T ../../models/specexec-target.gguf --type q8_0
$PY export_gguf.py $D ../../models/specexec-draft.gguf --type q8_0
$PY reference_logits.py ../../models/specexec-target.gguf ../../test/fixtures/target-reference-logits.json --ckpt $T
$PY reference_logits.py ../../models/specexec-draft.gguf ../../test/fixtures/draft-reference-logits.json --ckpt $D
$PY heldout_fixture.py
$PY export_gguf.py $T /tmp/specexec-target-noperm.gguf --no-permute >/dev/null
rm -f $W/verify.jsonl
node verify_export.mjs ../../test/fixtures/target-reference-logits.json 2>/dev/null >> $W/verify.jsonl
node verify_export.mjs ../../test/fixtures/draft-reference-logits.json 2>/dev/null >> $W/verify.jsonl
node verify_export.mjs ../../test/fixtures/target-reference-logits.json --model /tmp/specexec-target-noperm.gguf 2>/dev/null >> $W/verify.jsonl || true
cat $W/verify.jsonl
THREADS=2 $PY evaluate.py ../../models/specexec-draft.gguf ../../models/specexec-target.gguf
node pass_rate.mjs --prompts ${PASS_PROMPTS:-8} --max-tokens 32
node samples.mjs --tokens 32 2>/dev/null
$PY model_card.py
