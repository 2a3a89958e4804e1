// The alert state between polls: records in the lifecycle's order, with their alertKey()s, and a
// by-key index made only when something asks for one. At 95 % of 200,000 items firing, building a
// 335,000-entry Map every poll cost ~170 ms of the daemon's poll (issue 14); the lifecycle itself
// walks the records in order and needs no map. A state's records never change: the index is a
// cache, which a state that replaces this one (after a commit) may take over and patch with its
// few changes instead of building its own. A state read back from Redis (in bucket order, not the
// lifecycle's) answers the few lookups a commit makes from its records grouped by product, which
// the store notes while it decodes them: hashing 335,000 fresh keys cost a one-shot poll ~600 ms.
import type { AlertRecord } from './lifecycle';

/**
 * The part of an alertKey() after its last separator, which is also that of its product id: the
 * id itself, or the end of one that holds the separator ('' for none).
 */
export const productPart = (keyOrId: string): string => keyOrId.slice(keyOrId.lastIndexOf('\u001f') + 1);

export class AlertState implements ReadonlyMap<string, AlertRecord> {
  private index: Map<string, AlertRecord> | null;
  /** Read back: positions by productPart(), instead of an index. */
  private readonly byProduct: ReadonlyMap<string, readonly number[]> | null;

  /**
   * `keys[i]` is alertKey() of `records[i]`; the arrays are the state's from now on (not to be
   * changed by the caller). `index`, when given, must hold exactly these records by key.
   */
  constructor(
    readonly keyList: readonly string[],
    readonly recordList: readonly AlertRecord[],
    index: Map<string, AlertRecord> | null = null,
    byProduct: ReadonlyMap<string, readonly number[]> | null = null,
  ) {
    this.index = index;
    this.byProduct = byProduct;
  }

  /**
   * Records read back in Redis's order, with their positions by productPart() of their product
   * ids (every position once). The lifecycle indexes them its own way, as no walk in its order
   * would find them.
   */
  static readBack(keys: readonly string[], records: readonly AlertRecord[], byProduct: ReadonlyMap<string, readonly number[]>): AlertState {
    return new AlertState(keys, records, null, byProduct);
  }

  /** In the lifecycle's order (its own output, or a map's order): false when read back. */
  get ordered(): boolean {
    return this.byProduct === null;
  }

  /** `state` as an AlertState: itself, or another map's entries in its order (the map left as it is). */
  static of(state: ReadonlyMap<string, AlertRecord>): AlertState {
    if (state instanceof AlertState) return state;
    const keys: string[] = [];
    const records: AlertRecord[] = [];
    for (const [key, record] of state) {
      keys.push(key);
      records.push(record);
    }
    return new AlertState(keys, records);
  }

  /** A state holding what `map` holds, in its order. Takes `map` as its index: nobody may change it afterwards. */
  static fromMap(map: Map<string, AlertRecord>): AlertState {
    const state = AlertState.of(map);
    state.index = map;
    return state;
  }

  /**
   * Takes `base`'s index, if it has one, patched into this state's: this state must be `base` with
   * `set` (records new or replaced, by key) and `deleted` keys applied. `base` builds its own
   * again if it is ever asked. Costs the number of changes, not of records.
   */
  adoptIndex(base: AlertState, set: ReadonlyArray<readonly [string, AlertRecord]>, deleted: readonly string[]): void {
    if (this.index !== null || base.index === null || base === this) return;
    const index = base.index;
    base.index = null;
    for (const key of deleted) index.delete(key);
    for (const [key, record] of set) index.set(key, record);
    this.index = index;
  }

  /** The position of the record of `key` among those read back; -1 when none. */
  private position(byProduct: ReadonlyMap<string, readonly number[]>, key: string): number {
    for (const at of byProduct.get(productPart(key)) ?? []) if (this.keyList[at] === key) return at;
    return -1;
  }

  private indexed(): Map<string, AlertRecord> {
    if (this.index === null) {
      const index = new Map<string, AlertRecord>();
      for (let i = 0; i < this.keyList.length; i++) index.set(this.keyList[i], this.recordList[i]);
      this.index = index;
    }
    return this.index;
  }

  get size(): number {
    return this.keyList.length;
  }
  get(key: string): AlertRecord | undefined {
    if (this.index === null && this.byProduct !== null) {
      const at = this.position(this.byProduct, key);
      return at < 0 ? undefined : this.recordList[at];
    }
    return this.indexed().get(key);
  }
  has(key: string): boolean {
    if (this.index === null && this.byProduct !== null) return this.position(this.byProduct, key) >= 0;
    return this.indexed().has(key);
  }
  *entries(): MapIterator<[string, AlertRecord]> {
    for (let i = 0; i < this.keyList.length; i++) yield [this.keyList[i], this.recordList[i]];
  }
  keys(): MapIterator<string> {
    return this.keyList.values();
  }
  values(): MapIterator<AlertRecord> {
    return this.recordList.values();
  }
  [Symbol.iterator](): MapIterator<[string, AlertRecord]> {
    return this.entries();
  }
  forEach(callback: (value: AlertRecord, key: string, map: ReadonlyMap<string, AlertRecord>) => void, thisArg?: unknown): void {
    for (let i = 0; i < this.keyList.length; i++) callback.call(thisArg, this.recordList[i], this.keyList[i], this);
  }
}
