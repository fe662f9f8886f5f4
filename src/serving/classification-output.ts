/** Turns a model's raw output rows into labels, probabilities and confidence. */
export interface ClassProbabilities {
  prediction: string;
  confidence: number;
  probabilities: Record<string, number>;
}

export function softmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  const exps = Array.from(row, (v) => Math.exp(v - max));
  const sum = exps.reduce((s, v) => s + v, 0);
  return exps.map((v) => v / sum);
}

/** `scores` holds N rows of C columns; labels name the columns. Round-trip safe: values kept as float64 of the float32. */
export function decodeClassRows(scores: ArrayLike<number>, rows: number, labels: string[], logits: boolean): ClassProbabilities[] {
  const c = scores.length / rows;
  if (c !== labels.length && !(c === 1 && labels.length === 2)) {
    throw new Error(`model returned ${c} probability columns but the output spec names ${labels.length} labels`);
  }
  const out: ClassProbabilities[] = [];
  for (let r = 0; r < rows; r++) {
    let p: number[] = Array.from({ length: c }, (_, j) => scores[r * c + j]!);
    if (c === 1)
      p = [1 - p[0]!, p[0]!]; // a single sigmoid column is P(labels[1])
    else if (logits) p = softmax(p);
    let best = 0;
    for (let j = 1; j < p.length; j++) if (p[j]! > p[best]!) best = j;
    out.push({
      prediction: labels[best]!,
      confidence: p[best]!,
      probabilities: Object.fromEntries(labels.map((l, j) => [l, p[j]!])),
    });
  }
  return out;
}
