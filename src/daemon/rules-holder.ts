// The rule set in force, and hot reload (SPEC section 3): a changed, added or removed file takes
// effect at the next poll; a set that does not pass `check` is refused and the last good one stays.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileRuleSet, type CompiledRuleSet } from '../engine/evaluate';
import { oneLine } from '../errors';
import type { Logger } from '../log';
import type { RuleError } from '../model';
import { formatRuleError, isRuleFileName, loadRules } from '../rules';

export interface Refusal {
  atMs: number;
  errors: string[];
}

export class RulesHolder {
  private compiledSet: CompiledRuleSet;
  private fingerprint: string;
  loadedAtMs: number;
  /** The last refused change, until a good set replaces it. */
  refused: Refusal | null = null;
  /** Called after a new set is in force (the digest scheduler follows channel changes). */
  onChange: ((compiled: CompiledRuleSet) => void) | null = null;

  private constructor(
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
    compiled: CompiledRuleSet,
    fingerprint: string,
  ) {
    this.compiledSet = compiled;
    this.fingerprint = fingerprint;
    this.loadedAtMs = Date.now();
  }

  /** Loads the first set; returns the errors instead when it does not pass `check`. */
  static open(dir: string, env: NodeJS.ProcessEnv, log: Logger): RulesHolder | RuleError[] {
    // Taken before the load, so that a change made meanwhile is seen by the next refresh. A folder
    // that cannot be read is left to loadRules, which says so in one line.
    let fingerprint = '';
    try {
      fingerprint = fingerprintOf(dir);
    } catch {
      // loadRules throws next
    }
    const result = loadRules(dir, env);
    if (!result.ok) return result.errors;
    return new RulesHolder(dir, env, log, compileRuleSet(result.ruleSet), fingerprint);
  }

  get current(): CompiledRuleSet {
    return this.compiledSet;
  }

  /** Re-reads the folder when its files changed. Cheap when nothing did: one read of small files. */
  refresh(): void {
    let fingerprint: string;
    try {
      fingerprint = fingerprintOf(this.dir);
    } catch (err) {
      this.log.error({ rulesDir: this.dir }, `rules folder unreadable, keeping the rules in force: ${oneLine(err)}`);
      return;
    }
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    let errors: string[];
    try {
      const result = loadRules(this.dir, this.env);
      if (result.ok) {
        this.apply(compileRuleSet(result.ruleSet));
        return;
      }
      errors = result.errors.map(formatRuleError);
    } catch (err) {
      errors = [oneLine(err)];
    }
    this.refused = { atMs: Date.now(), errors };
    for (const line of errors) this.log.error(line);
    this.log.error({ problems: errors.length }, 'rule change refused: the last good rule set stays in force');
  }

  private apply(compiled: CompiledRuleSet): void {
    this.compiledSet = compiled;
    this.loadedAtMs = Date.now();
    this.refused = null;
    const rs = compiled.ruleSet;
    this.log.info(
      { rules: rs.rules.length, channels: Object.keys(rs.channels).length, silences: rs.silences.length, files: rs.files },
      'rules reloaded',
    );
    this.onChange?.(this.compiledSet);
  }
}

/** A hash of the names and contents of the rule files: what "changed" means for hot reload. */
function fingerprintOf(dir: string): string {
  const hash = createHash('sha1');
  const names = fs.readdirSync(dir).filter(isRuleFileName).sort();
  for (const name of names) {
    hash.update(name).update('\0');
    try {
      hash.update(fs.readFileSync(path.join(dir, name)));
    } catch {
      hash.update('(unreadable)');
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}
