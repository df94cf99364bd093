/** The SVG namespace, for elements built by hand. */
export const SVG_NS = 'http://www.w3.org/2000/svg';

/** Line colours of the viewer's plots, in order. */
export const COLOURS = ['#4c9a2a', '#c08a2e', '#c0452e', '#2e6fc0', '#8a2ec0', '#2eb5c0', '#777'];

/** An SVG element with attributes and children. */
export const svg = (tag: string, attrs: Record<string, string | number>, ...children: Node[]): SVGElement => {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
};
