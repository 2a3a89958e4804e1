// `summary` templates: one line of text with {{field}} placeholders filled from the alert.
import { SUMMARY_FIELDS } from '../engine/template';
import { closest } from './suggest';

// The placeholders are the engine's (it renders them): one list, so `check` accepts exactly what renders.

export type SummaryCheck = { ok: true; template: string } | { ok: false; problems: string[] };

/**
 * Checks a template and normalises its placeholders to `{{field}}` (so `{{ sku }}` is accepted and
 * renderers only need to know one form).
 */
export function checkSummary(text: string): SummaryCheck {
  if (/[\r\n]/.test(text)) {
    // A block scalar (`|`, `>`) ends in a line break even when its text is one line.
    const onlyTrailing = !/[\r\n]/.test(text.replace(/[\r\n]+$/, ''));
    return { ok: false, problems: [onlyTrailing ? 'must be one line (`|` and `>` end with a line break; use `>-` or quotes)' : 'must be one line'] };
  }
  const problems: string[] = [];
  let template = '';
  let rest = text;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) {
      problems.push('"{{" without a closing "}}"');
      break;
    }
    const field = rest.slice(open + 2, close).trim();
    if ((SUMMARY_FIELDS as readonly string[]).includes(field)) {
      template += `${rest.slice(0, open)}{{${field}}}`;
    } else {
      const hint = closest(field, SUMMARY_FIELDS);
      const shown = field.length > 40 ? `${field.slice(0, 39)}…` : field;
      problems.push(
        `unknown field {{${shown}}}${hint ? ` (did you mean {{${hint}}}?)` : ''}; fields: ${SUMMARY_FIELDS.join(', ')}`,
      );
    }
    rest = rest.slice(close + 2);
  }
  template += rest;
  return problems.length > 0 ? { ok: false, problems } : { ok: true, template };
}
