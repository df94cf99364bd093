import { childrenOf, type Cladogram, type CladeNode } from './cladogram.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Draws the cladogram as an SVG picture: time runs left to right; each species is a horizontal
 * line from its split to its extinction (grey) or the last frame (green), joined to its parent by
 * a vertical line at the split. Rows come from a depth-first walk, so clades stay together.
 */
export function cladogramSvg(c: Cladogram, opts: { width?: number; rowHeight?: number; title?: string } = {}): string {
  const width = opts.width ?? 1000, row = opts.rowHeight ?? 6, left = 40, right = 20, top = 40;
  const kids = childrenOf(c);
  const order: CladeNode[] = [];
  const walk = (n: CladeNode): void => {
    order.push(n);
    for (const k of kids.get(n.id) ?? []) walk(k);
  };
  for (const r of kids.get(null) ?? []) walk(r);
  const y = new Map(order.map((n, i) => [n.id, top + i * row]));
  const x = (frame: number): number => left + ((width - left - right) * frame) / Math.max(1, c.lastFrame);
  const height = top + order.length * row + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14">${esc(opts.title ?? `Cladogram: ${order.length} species, ${order.filter((n) => n.extinct === null).length} extant, frame ${c.lastFrame}`)}</text>`,
  ];
  for (const n of order) {
    const yy = y.get(n.id)!, x0 = x(n.born), x1 = x(n.extinct ?? c.lastFrame);
    if (n.parent !== null && y.has(n.parent)) out.push(`<line x1="${x0.toFixed(1)}" y1="${y.get(n.parent)}" x2="${x0.toFixed(1)}" y2="${yy}" stroke="#999" stroke-width="0.6"/>`);
    out.push(`<line x1="${x0.toFixed(1)}" y1="${yy}" x2="${Math.max(x1, x0 + 0.5).toFixed(1)}" y2="${yy}" stroke="${n.extinct === null ? '#2a9d3f' : '#bbb'}" stroke-width="${Math.max(1, row * 0.6).toFixed(1)}"><title>${esc(`${n.id} (island ${n.island}) born ${n.born}${n.extinct === null ? '' : `, extinct ${n.extinct}`}, ${n.births} births`)}</title></line>`);
  }
  const axisY = top + order.length * row + 10;
  out.push(`<line x1="${left}" y1="${axisY}" x2="${width - right}" y2="${axisY}" stroke="#333"/>`);
  for (let i = 0; i <= 5; i++) {
    const f = Math.round((c.lastFrame * i) / 5);
    out.push(`<text x="${x(f).toFixed(1)}" y="${axisY + 14}" text-anchor="middle">${f}</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
