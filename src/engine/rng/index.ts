export { createRng, type Rng } from './createRng.js';
export { seededRandom } from './seededRandom.js';
