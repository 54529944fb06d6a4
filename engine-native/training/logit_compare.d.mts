export interface LogitFixture {
  model: string;
  model_sha256: string;
  n_vocab: number;
  tokens: number[];
  probe_ids: number[];
  top_ids: number[][];
  top_logits: number[][];
  probe_logits: number[][];
  logit_std: number;
}

export function compareLogits(
  fx: LogitFixture,
  logits: Float32Array,
  tol: number,
): { maxDiff: number; argmaxAgreement: number; hardMiss: number; positions: number };
