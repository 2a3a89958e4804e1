// Rule files written in a test, loaded by the real loader and compiled, or the test fails at once.
import { compileRuleSet, type CompiledRuleSet } from '../../src/engine/evaluate';
import { loadRuleFiles } from '../../src/rules';

export function compileRules(yaml: string, env: NodeJS.ProcessEnv = {}): CompiledRuleSet {
  const result = loadRuleFiles([{ name: 'rules.yaml', text: yaml }], env);
  if (!result.ok) throw new Error(`test rules do not load: ${JSON.stringify(result.errors)}`);
  return compileRuleSet(result.ruleSet);
}
