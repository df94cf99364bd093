export { createRng, type Rng } from './createRng.js';
