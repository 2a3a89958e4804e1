// The rule files (SPEC section 3): loading, validation, and the checks other stages reuse.
export { loadRules, loadRuleFiles, formatRuleError, isRuleFileName, type LoadResult } from './load';
export { validateCron, validateTimezone } from './cron';
export {
  DEFAULT_MIN_HISTORY_MS,
  DEFAULT_RATE_HALF_LIFE_MS,
  DEFAULT_REPEAT_EVERY_MS,
  DEFAULT_SEVERITY,
  DEFAULT_SEND_RESOLVED,
} from './ruleset';
export { ruleFileSchema, ruleFileSchemaText } from './schema';
