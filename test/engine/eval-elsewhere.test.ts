// `eval --json` prints availableElsewhere on item-scope low_available alerts (SPEC sections 3.1, 4),
// after `inhibited`, and no forecast fields: `eval` on one overview knows no history.
import { runCli, tempDir } from '../cli/helpers';

describe('eval --json: the stock elsewhere', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('an item at 0 shows the stock of its product in the other warehouses; other alerts do not carry it', async () => {
    const rules = tmp.write('rules/rules.yaml', 'channels:\n  ops:\n    email:\n      to: [ops@example.com]\ndefaults:\n  channels: [ops]\nrules:\n  - name: out\n    type: low_available\n    below: 1\n  - name: neg\n    type: negative_reserved\n');
    const level = (productId: string, available: number, reserved = 0) => ({ productId, available, incoming: 0, reserved, updatedAt: '2026-01-01T00:00:00Z' });
    const overview = tmp.write(
      'overview.json',
      JSON.stringify({
        warehouses: [
          { id: 'w1', name: 'Oakville' },
          { id: 'w2', name: 'Markham' },
          { id: 'w3', name: 'Ajax' },
        ],
        products: [{ id: 'p1', sku: 'SKU-1', name: 'One', brand: { name: 'Acme' } }],
        items: [
          { warehouseId: 'w1', level: level('p1', 0, -2) },
          { warehouseId: 'w2', level: level('p1', 180) },
          { warehouseId: 'w3', level: level('p1', 60) },
        ],
      }),
    );
    const r = await runCli(['eval', '--rules', rules.replace(/\/rules\.yaml$/, ''), '--now', '2026-01-01T01:00:00Z', '--overview', overview, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const alerts = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const out = alerts.find((a) => a.rule === 'out')!;
    expect(out).toMatchObject({ warehouse: 'Oakville', available: 0, availableElsewhere: 240 });
    expect(Object.keys(out).slice(-3)).toEqual(['silenced', 'inhibited', 'availableElsewhere']);
    const neg = alerts.find((a) => a.rule === 'neg')!;
    expect(Object.keys(neg)).not.toContain('availableElsewhere');
    expect(alerts.some((a) => 'ratePerDay' in a || 'runsOutAt' in a)).toBe(false);
  });
});
