/** Formats numbers, shares and months in a locale. */
export interface Formatters {
  num(x: number, digits?: number): string;
  int(x: number): string;
  pct(x: number): string;
  times(x: number): string;
  month(m: number): string;
}
/** One message: a reason code's params (or a ui_* code's) to text. */
export type Message = (params: Record<string, any>, f: Formatters) => string;
/** Catalogs by locale tag ("en", "de", "zh-CN"), each a message per code. */
export declare const MESSAGES: Record<string, Record<string, Message>>;
export declare function formatters(locale: string): Formatters;
export declare function catalogFor(catalogs: Record<string, Record<string, Message>>, locale: string): Record<string, Message> | null;
