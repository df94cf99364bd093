/** Attributes and children of an element made by `el`. */
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: never) => void)>;
type Child = Node | string | number | null | undefined | false;

/** Makes an element: `el('td', { class: 'x', onclick: f }, 'text', child)`. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') e.addEventListener(k.replace(/^on/, ''), v as (e: Event) => void);
    else if (k === 'value' && 'value' in e) (e as HTMLInputElement).value = String(v);
    else if (k === 'checked' && 'checked' in e) (e as HTMLInputElement).checked = Boolean(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'number' ? String(c) : c);
  return e;
}

/** Replaces the children of `parent`. */
export function mount(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)));
}

/** JSON as the journals print it (compact); `undefined` shows as an em dash. */
export const json = (v: unknown): string => (v === undefined ? '—' : JSON.stringify(v));

/** Runs `f` at most once per animation frame with the latest arguments. */
export function perFrame<A extends unknown[]>(f: (...a: A) => void): (...a: A) => void {
  let pending: A | null = null;
  return (...a: A) => {
    const first = pending === null;
    pending = a;
    if (first) requestAnimationFrame(() => {
      const p = pending as A;
      pending = null;
      f(...p);
    });
  };
}
