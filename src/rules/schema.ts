// The JSON Schema (draft-07, what yaml-language-server understands) of a rule file, built from the
// tables in format.ts that the validator itself uses. It accepts everything `check` accepts (it
// cannot see across files, the environment, cron syntax or time zones) and rejects the structural
// mistakes: unknown keys, wrong value types, unknown enum values, missing keys, keys of another
// rule type. `stockwatch schema` prints it; rules/stockwatch.schema.json is a copy kept equal by a test.
import { RULE_TYPES } from '../model';
import { NAME, RULE_KEYS, TOP_LEVEL_KEYS, type Key, type KeyTable, type Value } from './format';
import { TIMESTAMP } from './validate';

type JsonSchema = Record<string, unknown>;

/** Matches any text holding a `${NAME}` reference: its value is only known once the environment is read. */
const ENV_REFERENCE = '\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}';
const SCALAR = ['string', 'number', 'boolean'];
const DURATION = '(?:\\d+(?:ms|s|m|h|d|w))+';

export function ruleFileSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'stockwatch rule file',
    description: 'One file of the rule set (every *.yaml in RULES_DIR together form one). `stockwatch check` validates all files together.',
    type: ['object', 'null'],
    ...mapSchema(TOP_LEVEL_KEYS, { nullableValues: true }),
  };
}

/** `stockwatch schema`'s output and the committed copy's exact text. */
export function ruleFileSchemaText(): string {
  return `${JSON.stringify(ruleFileSchema(), null, 2)}\n`;
}

function mapSchema(table: KeyTable, options: { nullableValues?: boolean } = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [name, key] of Object.entries(table)) {
    const schema = { ...describe(key), ...valueSchema(key.value) };
    if (options.nullableValues) schema.type = [...[schema.type as string | string[]].flat(), 'null'];
    properties[name] = schema;
  }
  const required = Object.entries(table).filter(([, key]) => key.required).map(([name]) => name);
  return { properties, additionalProperties: false, ...(required.length > 0 && { required }) };
}

function describe(key: Key): JsonSchema {
  return {
    description: key.types ? `${key.description} (${key.types.join(', ')} rules only.)` : key.description,
    ...(key.default !== undefined && { default: key.default }),
    examples: [key.example],
  };
}

function valueSchema(value: Value): JsonSchema {
  switch (value.kind) {
    case 'name':
      return { type: SCALAR, pattern: `${NAME.source}|${ENV_REFERENCE}`, patternErrorMessage: 'letters, digits, "-" and "_"' };
    case 'text':
      return value.oneLine ? { type: SCALAR, pattern: '^[^\\r\\n]*$', patternErrorMessage: 'must be one line' } : { type: SCALAR };
    case 'texts':
      return { type: [...SCALAR, 'array'], items: { type: SCALAR }, minItems: 1 };
    case 'integer':
      return { type: ['integer', 'string'], minimum: value.minimum, pattern: ENV_REFERENCE, patternErrorMessage: 'expected a whole number' };
    case 'boolean':
      return { type: ['boolean', 'string'], pattern: ENV_REFERENCE, patternErrorMessage: 'expected true or false' };
    case 'duration': {
      const nonZero = value.zero ? '' : '(?=.*[1-9])';
      const never = value.never ? '|never' : '';
      return {
        type: 'string',
        pattern: `^(?:\\s*${nonZero}${DURATION}\\s*${never})$|${ENV_REFERENCE}`,
        patternErrorMessage: `expected a duration like 90s, 5m, 2h, 3d, 1w or 1h30m${value.never ? ' or "never"' : ''}`,
      };
    }
    case 'choice':
      // `anyOf` keeps editors completing the values while still allowing `${NAME}`.
      return { type: 'string', anyOf: [{ enum: [...value.values] }, { pattern: ENV_REFERENCE }] };
    case 'url':
      return { type: 'string', pattern: `^\\s*[hH][tT][tT][pP][sS]?://|${ENV_REFERENCE}`, patternErrorMessage: 'expected an http(s) URL' };
    case 'timestamp':
      return {
        type: 'string',
        pattern: `^\\s*${TIMESTAMP.source.replace(/^\^|\$$/g, '')}\\s*$|${ENV_REFERENCE}`,
        patternErrorMessage: 'expected a date and time with a timezone, e.g. 2026-12-31T00:00:00Z',
      };
    case 'map':
      return {
        type: 'object',
        ...mapSchema(value.keys),
        ...(value.nonEmpty && { minProperties: 1 }),
        ...(value.exactlyOne && { minProperties: 1, maxProperties: 1 }),
        ...(value.atLeastOneOf && { anyOf: value.atLeastOneOf.map((name) => ({ required: [name] })) }),
        ...(value.needs && { dependencies: value.needs }),
        ...(value.rule && { allOf: ruleTypeConditions() }),
      };
    case 'list':
      return { type: 'array', items: valueSchema(value.of) };
    case 'named':
      return { type: 'object', propertyNames: { pattern: NAME.source }, additionalProperties: valueSchema(value.of) };
  }
}

/** Per rule type: its required keys, and the keys of other types refused. */
function ruleTypeConditions(): JsonSchema[] {
  return RULE_TYPES.map((type) => {
    const refused = Object.entries(RULE_KEYS).filter(([, key]) => key.types && !key.types.includes(type)).map(([name]) => name);
    const required = Object.entries(RULE_KEYS).filter(([, key]) => key.requiredFor?.includes(type)).map(([name]) => name);
    return {
      if: { properties: { type: { const: type } }, required: ['type'] },
      then: {
        ...(required.length > 0 && { required }),
        properties: Object.fromEntries(refused.map((name) => [name, false])),
      },
    };
  });
}
