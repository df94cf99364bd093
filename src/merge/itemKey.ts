import { canonicalJson } from '../delta/canonicalJson.js';
import { sha256Hex } from '../delta/contentHash.js';
import type { JsonObject, JsonValue } from '../delta/types.js';

/** Item keys per collection, as the plan gives them (default `id`). */
export type ItemKeys = Record<string, string | string[]>;

/**
 * The natural key of an item: canonical JSON of its key fields' values (`[6201]`), or
 * `sha256:<hex>` of the item's canonical JSON when it lacks any key field.
 */
export function itemKey(keys: ItemKeys, collection: string, item: JsonObject): string {
  const spec = Object.prototype.hasOwnProperty.call(keys, collection) ? keys[collection] : 'id';
  if (typeof spec === 'string') {
    if (Object.prototype.hasOwnProperty.call(item, spec)) return '[' + canonicalJson(item[spec]) + ']';
  } else {
    const values: JsonValue[] = [];
    let complete = true;
    for (const f of spec) {
      if (!Object.prototype.hasOwnProperty.call(item, f)) { complete = false; break; }
      values.push(item[f]);
    }
    if (complete) return canonicalJson(values);
  }
  return 'sha256:' + sha256Hex(canonicalJson(item));
}
