// A small line-chart writer for benchmark plots (SVG, no dependencies).
export interface Series {
  name: string;
  points: [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2'];

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const mult = [1, 2, 5, 10].find((m) => span / (step * m) <= count) ?? 10;
  const s = step * mult;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / s) * s; t <= max + 1e-9; t += s) ticks.push(+t.toPrecision(6));
  return ticks;
}

export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 640,
    H = o.height ?? 400,
    L = 60,
    R = 150,
    T = 40,
    B = 50;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const fx = (x: number) => (o.logX ? Math.log2(x) : x);
  const xs = all.map(([x]) => fx(x)),
    ys = all.map(([, y]) => y);
  const x0 = Math.min(...xs),
    x1 = Math.max(...xs),
    y0 = Math.min(0, ...ys),
    y1 = Math.max(...ys) * 1.05 || 1;
  const px = (x: number) => L + ((fx(x) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y: number) => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - R / 2}" y="20" text-anchor="middle" font-size="14">${escape(o.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${escape(o.xLabel)}</text>`,
    `<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${escape(o.yLabel)}</text>`,
  ];
  const xTicks = o.logX ? [...new Set(all.map(([x]) => x))].sort((a, b) => a - b) : niceTicks(x0, x1, 8);
  for (const t of xTicks) out.push(`<text x="${px(t)}" y="${H - B + 16}" text-anchor="middle">${t}</text>`);
  for (const t of niceTicks(y0, y1, 6)) {
    const y = py(t).toFixed(1);
    out.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    out.push(
      `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`);
    out.push(`<rect x="${W - R + 12}" y="${T + i * 20 - 9}" width="12" height="12" fill="${c}"/>`);
    out.push(`<text x="${W - R + 30}" y="${T + i * 20 + 2}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
