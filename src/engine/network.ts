// Sums per product over warehouses (SPEC 3.1): what `scope: network` rules compare, and the
// per-warehouse shares that say where a product's stock is.
import type { Item } from '../model';

export interface ProductSum {
  productId: string;
  /** The product's first item (its sku, name and brand are the product's). */
  first: Item;
  /** The item with the newest level. */
  newest: Item;
  available: number;
  incoming: number;
  reserved: number;
}

/** The products of the items `selects` keeps (null: all), in the order they first appear, with their sums. */
export function sumByProduct(items: readonly Item[], selects: ((item: Item) => boolean) | null): ProductSum[] {
  const byId = new Map<string, ProductSum>();
  const out: ProductSum[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (selects !== null && !selects(item)) continue;
    const sum = byId.get(item.productId);
    if (sum === undefined) {
      const created: ProductSum = { productId: item.productId, first: item, newest: item, available: item.available, incoming: item.incoming, reserved: item.reserved };
      byId.set(item.productId, created);
      out.push(created);
      continue;
    }
    sum.available += item.available;
    sum.incoming += item.incoming;
    sum.reserved += item.reserved;
    if (item.updatedAtMs > sum.newest.updatedAtMs) sum.newest = item;
  }
  return out;
}

/** One warehouse's share of a product. */
export interface Share {
  warehouseId: string;
  warehouse: string | null;
  available: number;
}

/**
 * The items of each wanted product (in overview order). One Map lookup per item; the lists are
 * short (one item per warehouse), so what is asked of them later costs little.
 */
export function itemsOfProducts(items: readonly Item[], wanted: Iterable<string>): Map<string, Item[]> {
  const out = new Map<string, Item[]>();
  for (const p of wanted) if (!out.has(p)) out.set(p, []);
  if (out.size === 0) return out;
  for (let i = 0; i < items.length; i++) {
    const list = out.get(items[i].productId);
    if (list !== undefined) list.push(items[i]);
  }
  return out;
}

/** The positive `available` of these items per warehouse (items `selects` keeps; null: all). */
export function sharesOf(list: readonly Item[] | undefined, selects: ((item: Item) => boolean) | null): Share[] {
  const shares: Share[] = [];
  if (list === undefined) return shares;
  for (const item of list) {
    if (!(item.available > 0) || (selects !== null && !selects(item))) continue;
    const same = shares.find((s) => s.warehouseId === item.warehouseId);
    if (same !== undefined) same.available += item.available;
    else shares.push({ warehouseId: item.warehouseId, warehouse: item.warehouse, available: item.available });
  }
  return shares;
}

/** How many warehouses a contributors text names before it says "+N more". */
export const SHARES_LISTED = 3;

/** `Markham 180, Oakville 60, +2 more`: the largest shares first (ties by name); `except` left out. */
export function sharesText(shares: readonly Share[], except: string | null = null): string {
  const list = shares
    .filter((s) => s.warehouseId !== except)
    .sort((a, b) => b.available - a.available || (a.warehouse ?? a.warehouseId).localeCompare(b.warehouse ?? b.warehouseId));
  const named = list.slice(0, SHARES_LISTED).map((s) => `${s.warehouse !== null && s.warehouse.trim() !== '' ? s.warehouse : s.warehouseId} ${s.available}`);
  if (list.length > SHARES_LISTED) named.push(`+${list.length - SHARES_LISTED} more`);
  return named.join(', ');
}
