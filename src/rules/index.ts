// The rule files (SPEC section 3): loading, validation, and the checks other stages reuse.
export { loadRules, loadRuleFiles, formatRuleError, isRuleFileName, type LoadResult } from './load';
export { validateCron, validateTimezone } from './cron';
export { DEFAULT_REPEAT_EVERY_MS, DEFAULT_SEVERITY, DEFAULT_SEND_RESOLVED } from './ruleset';
