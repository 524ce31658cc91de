/** Rules applied on the way in beyond per-record validation: corrections and duplicate trades. */
export * from './corrections.js';
export * from './dedupe.js';
