import { childrenOf, type Cladogram, type CladeNode } from './cladogram.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Colours of the picture: extant lines, extinct lines, joins. */
const EXTANT = '#2a9d3f', EXTINCT = '#b8b8b8', JOIN = '#999';

/** Options of {@link cladogramSvg}. */
export interface CladogramSvgOptions {
  /** Width of the picture in pixels (default 1000). */
  width?: number;
  /** Height of one species' row (default 6; labels shrink with it and skip rows too close to the one labelled before). */
  rowHeight?: number;
  /** The title line (default: counts of species, extant and the last frame). */
  title?: string;
}

/**
 * Draws the cladogram as an SVG picture a person can read on its own:
 * - time runs left to right along a labelled axis ("frame");
 * - each species is a horizontal line from its split to its extinction (grey) or the last frame
 *   (green), joined to its parent by a vertical line at the split;
 * - rows come from a depth-first walk, so clades stay together, and each island's clade is named
 *   at its founding species on the left;
 * - extant species are named at their tips, in a margin of their own (a label that would overlap
 *   the one above is left out, and the legend says how many were);
 * - a legend says what green and grey mean.
 * Every line has a hover title with the species' id, island, birth, extinction and births.
 */
export function cladogramSvg(c: Cladogram, opts: CladogramSvgOptions = {}): string {
  const width = opts.width ?? 1000, row = opts.rowHeight ?? 6;
  const left = 70, right = 110, top = 58;
  const kids = childrenOf(c);
  const order: CladeNode[] = [];
  const walk = (n: CladeNode): void => {
    order.push(n);
    for (const k of kids.get(n.id) ?? []) walk(k);
  };
  for (const r of kids.get(null) ?? []) walk(r);
  const y = new Map(order.map((n, i) => [n.id, top + i * row]));
  const plotRight = width - right;
  const x = (frame: number): number => left + ((plotRight - left) * frame) / Math.max(1, c.lastFrame);
  const axisY = top + Math.max(1, order.length) * row + 10;
  const height = axisY + 44;
  const extant = order.filter((n) => n.extinct === null);
  const labelSize = Math.max(7, Math.min(11, row + 2));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14">${esc(opts.title ?? `Cladogram: ${order.length} species, ${extant.length} extant at frame ${c.lastFrame}`)}</text>`,
  ];
  const labels: string[] = [];
  let lastLabelY = -Infinity, skipped = 0;
  for (const n of order) {
    const yy = y.get(n.id)!, x0 = x(n.born), x1 = x(n.extinct ?? c.lastFrame);
    if (n.parent !== null && y.has(n.parent)) out.push(`<line x1="${x0.toFixed(1)}" y1="${y.get(n.parent)}" x2="${x0.toFixed(1)}" y2="${yy}" stroke="${JOIN}" stroke-width="0.6"/>`);
    out.push(`<line x1="${x0.toFixed(1)}" y1="${yy}" x2="${Math.max(x1, x0 + 0.5).toFixed(1)}" y2="${yy}" stroke="${n.extinct === null ? EXTANT : EXTINCT}" stroke-width="${Math.max(1, row * 0.6).toFixed(1)}"><title>${esc(`${n.id} (island ${n.island}) born ${n.born}${n.extinct === null ? '' : `, extinct ${n.extinct}`}, ${n.births} births`)}</title></line>`);
    if (n.parent === null) out.push(`<text x="${left - 6}" y="${yy + labelSize / 3}" text-anchor="end" font-size="11" font-weight="bold" fill="#333">island ${n.island}</text>`);
    if (n.extinct === null) {
      if (yy - lastLabelY >= labelSize) {
        labels.push(`<text class="tip" x="${plotRight + 4}" y="${yy + labelSize / 3}" font-size="${labelSize}" fill="${EXTANT}">${esc(n.id)}</text>`);
        lastLabelY = yy;
      } else skipped++;
    }
  }
  out.push(...labels);
  // The time axis: ticks, numbers and its title.
  out.push(`<line x1="${left}" y1="${axisY}" x2="${plotRight}" y2="${axisY}" stroke="#333"/>`);
  for (let i = 0; i <= 5; i++) {
    const f = Math.round((c.lastFrame * i) / 5);
    out.push(`<line x1="${x(f).toFixed(1)}" y1="${axisY}" x2="${x(f).toFixed(1)}" y2="${axisY + 4}" stroke="#333"/>`);
    out.push(`<text x="${x(f).toFixed(1)}" y="${axisY + 16}" text-anchor="middle">${f}</text>`);
  }
  out.push(`<text class="axis-title" x="${((left + plotRight) / 2).toFixed(1)}" y="${axisY + 34}" text-anchor="middle">frame (time →)</text>`);
  // The legend, under the title.
  const ly = 38;
  out.push(
    `<g class="legend" font-size="11">`,
    `<line x1="${left}" y1="${ly}" x2="${left + 24}" y2="${ly}" stroke="${EXTANT}" stroke-width="4"/><text x="${left + 30}" y="${ly + 4}">extant at frame ${c.lastFrame}</text>`,
    `<line x1="${left + 170}" y1="${ly}" x2="${left + 194}" y2="${ly}" stroke="${EXTINCT}" stroke-width="4"/><text x="${left + 200}" y="${ly + 4}">extinct (line ends at its extinction)</text>`,
    `<line x1="${left + 420}" y1="${ly - 6}" x2="${left + 420}" y2="${ly + 6}" stroke="${JOIN}"/><text x="${left + 426}" y="${ly + 4}">split from its parent${skipped ? `; ${skipped} tip labels left out (hover a line)` : ''}</text>`,
    `</g>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}
