/** The shopper's on-device history (localStorage), read by `Engine.suggest` as `cart.history`. */
export declare const HISTORY_DEFAULTS: Readonly<{
  key: string; maxEvents: number; maxAgeDays: number; halfLifeDays: number; maxItems: number;
  weights: Readonly<{ view: number; cart: number; purchase: number }>;
}>;
export type HistoryKind = "view" | "cart" | "purchase";
export interface HistoryEvent { kind: HistoryKind; id: string; at: number }
export declare class CartwiseHistory {
  constructor(options?: Partial<typeof HISTORY_DEFAULTS> & { storage?: Storage });
  /** False once `disable()` was called on this device. */
  readonly enabled: boolean;
  record(kind: HistoryKind, id: string, at?: number): void;
  events(now?: number): HistoryEvent[];
  /** Item ids, most relevant first: what `cart.history` takes. */
  ids(now?: number): string[];
  clear(): void;
  disable(): void;
  enable(): void;
}
