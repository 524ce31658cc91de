/** Public surface of src/mdm: master data ports and adapters. */
export { MemorySymbolDirectory, type SymbolDirectory } from './symbol-directory.js';
