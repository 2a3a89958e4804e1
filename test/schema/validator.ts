// A real JSON Schema validator (ajv 8, draft-07) over the committed rules/stockwatch.schema.json,
// fed the YAML as an editor's language server sees it: the document's data, aliases resolved.
import Ajv, { type ValidateFunction } from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';

export const SCHEMA_FILE = path.join(__dirname, '..', '..', 'rules', 'stockwatch.schema.json');

let compiled: ValidateFunction | undefined;

/** Compiles the schema once per test file; ajv checks it against the draft-07 meta-schema on the way. */
export function schemaValidator(): ValidateFunction {
  if (!compiled) {
    // strictTypes: every keyword must fit the types it is used with (a schema bug otherwise).
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: true });
    // The message editors show for a failed pattern (yaml-language-server and VS Code read it).
    ajv.addKeyword('patternErrorMessage');
    compiled = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')));
  }
  return compiled;
}

/** The schema's complaints about one rule file ([] when it validates); undefined when the text is not one YAML document. */
export function schemaProblems(text: string): string[] | undefined {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return undefined;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch {
    return undefined;
  }
  const validate = schemaValidator();
  if (validate(data === undefined ? null : data)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}
