import type { JsonValue } from '../stream/index.js';
import type { Projection } from './Projection.js';
import { registerProjection } from './registerProjection.js';

/** The projections `framelog view` knows by name. */
export const builtinViews: ReadonlyMap<string, Projection<JsonValue>> = new Map([
  [registerProjection.name, registerProjection as unknown as Projection<JsonValue>],
]);
