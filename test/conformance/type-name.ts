import type { ColumnType } from '../../src/lake/index.js';

/** Type names as delta_oracle.py prints them. */
export function typeNameForTest(type: ColumnType): string {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}: ${typeNameForTest(f.type)}`).join(', ')}>`;
    case 'array':
      return `array<${typeNameForTest(type.elementType)}>`;
    case 'map':
      return `map<${typeNameForTest(type.keyType)}, ${typeNameForTest(type.valueType)}>`;
  }
}
