// The engine's logits against a torch reference fixture (reference_logits.py), shared by
// verify_export.mjs and test/engine/model-export.test.ts so that both judge an export alike.

/**
 * max |diff| over the fixture's top-k and probe ids at every position, the share of positions whose
 * argmax agrees, and the disagreements where torch's top-2 gap exceeds 2*tol (a true tie may flip).
 */
export function compareLogits(fx, logits, tol) {
  const V = fx.n_vocab;
  let maxDiff = 0;
  let agree = 0;
  let hardMiss = 0;
  for (let p = 0; p < fx.tokens.length; p++) {
    const row = logits.subarray(p * V, (p + 1) * V);
    fx.top_ids[p].forEach((id, j) => {
      maxDiff = Math.max(maxDiff, Math.abs(row[id] - fx.top_logits[p][j]));
    });
    fx.probe_ids.forEach((id, j) => {
      maxDiff = Math.max(maxDiff, Math.abs(row[id] - fx.probe_logits[p][j]));
    });
    let am = 0;
    for (let i = 1; i < V; i++) if (row[i] > row[am]) am = i;
    if (am === fx.top_ids[p][0]) agree++;
    else if (fx.top_logits[p][0] - fx.top_logits[p][1] > 2 * tol) hardMiss++;
  }
  return { maxDiff, argmaxAgreement: agree / fx.tokens.length, hardMiss, positions: fx.tokens.length };
}
