// Reason messages for <cartwise-bundles>: one function per reason code (the engine's
// `bundle.reasonCodes`: {code, params}), per locale. The element picks the catalog of its
// `locale` (exact tag, then language: "de-AT" -> "de", "zh" -> "zh-CN"), falls back to the
// engine's English text for a code a catalog lacks, and merges `element.messages` over these,
// so a page can add a language or reword one reason. `f` formats numbers, shares and months
// in the locale (Intl).

export const MESSAGES = {
  en: {
    picked: () => "Picked by the shop",
    completes_set: () => "Completes a set often bought together",
    bought_with: (p, f) => `${p.item} is bought with ${p.anchor} ${f.times(p.lift)} more often than chance (${f.pct(p.share)} of its buyers)`,
    goes_with: (p, f) => `${p.item} goes with ${p.anchor}: having it in the cart raises the predicted chance of ${p.item} by ${f.num(p.weight, 2)}`,
    bought_before: (p) => `You bought ${p.item} before`,
    model_rank: (p, f) => `${p.item} ranks #${f.int(p.rank)} of ${f.int(p.of)} items as the completion of carts like this one`,
    new_like: (p, f) => `${p.item} is new here: its title reads like ${p.like}'s, and it ranks #${f.int(p.rank)} of ${f.int(p.of)} items for this cart`,
    new_ranked: (p, f) => `${p.item} is new here and ranks #${f.int(p.rank)} of ${f.int(p.of)} items for this cart`,
    new_typical: (p) => `${p.item} is new here, ranked as a typical ${p.category} item`,
    popular: (p) => `${p.item} is one of the shop's most popular items`,
    category_lift: (p, f) => `${p.category} items are bought with ${p.from} items ${f.times(p.lift)} more often than chance`,
    history: (p, f) => `From your history: ${p.past} is bought with ${p.item} ${f.times(p.lift)} more often than chance`,
    seasonal: (p, f) => `${p.item} is popular in ${f.month(p.month)} (${f.times(p.factor)} its usual sales)`,
    together: (p, f) => `${p.a} and ${p.b} are bought together ${f.times(p.lift)} more often than chance`,
    discount: (p, f) => `${f.pct(p.share)} off when bought together`,
    ui_heading: () => "Complete your cart",
    ui_loading: () => "Loading suggestions…",
    ui_empty_cart: () => "Add an item to see bundles.",
    ui_no_bundles: () => "No bundles for this cart.",
    ui_suggested: (p) => `${p.n} ${p.n === 1 ? "bundle" : "bundles"} suggested for your cart`,
    ui_add_bundle: () => "Add bundle",
    ui_add_item: () => "Add to cart",
    ui_add_label: (p) => `${p.action}: ${p.names.join(" and ")} for ${p.price}`,
    ui_dismiss: () => "Not interested",
    ui_save: (p) => `Save ${p.amount}`,
    ui_now: () => "Now ",
    ui_was: () => ", was ",
  },
  de: {
    picked: () => "Vom Shop ausgewählt",
    completes_set: () => "Vervollständigt ein oft zusammen gekauftes Set",
    bought_with: (p, f) => `${p.item} wird mit ${p.anchor} ${f.times(p.lift)} häufiger gekauft als zufällig (${f.pct(p.share)} seiner Käufer)`,
    goes_with: (p, f) => `${p.item} passt zu ${p.anchor}: im Warenkorb erhöht es die vorhergesagte Chance von ${p.item} um ${f.num(p.weight, 2)}`,
    bought_before: (p) => `Sie haben ${p.item} schon einmal gekauft`,
    model_rank: (p, f) => `${p.item} steht auf Platz ${f.int(p.rank)} von ${f.int(p.of)} Artikeln als Ergänzung solcher Warenkörbe`,
    new_like: (p, f) => `${p.item} ist neu: der Titel ähnelt ${p.like}, Platz ${f.int(p.rank)} von ${f.int(p.of)} Artikeln für diesen Warenkorb`,
    new_ranked: (p, f) => `${p.item} ist neu und steht auf Platz ${f.int(p.rank)} von ${f.int(p.of)} Artikeln für diesen Warenkorb`,
    new_typical: (p) => `${p.item} ist neu und wird wie ein typischer Artikel aus ${p.category} eingeordnet`,
    popular: (p) => `${p.item} gehört zu den beliebtesten Artikeln des Shops`,
    category_lift: (p, f) => `Artikel aus ${p.category} werden mit Artikeln aus ${p.from} ${f.times(p.lift)} häufiger gekauft als zufällig`,
    history: (p, f) => `Aus Ihrem Verlauf: ${p.past} wird mit ${p.item} ${f.times(p.lift)} häufiger gekauft als zufällig`,
    seasonal: (p, f) => `${p.item} ist im ${f.month(p.month)} gefragt (${f.times(p.factor)} der üblichen Verkäufe)`,
    together: (p, f) => `${p.a} und ${p.b} werden ${f.times(p.lift)} häufiger zusammen gekauft als zufällig`,
    discount: (p, f) => `${f.pct(p.share)} Rabatt beim gemeinsamen Kauf`,
    ui_heading: () => "Vervollständigen Sie Ihren Warenkorb",
    ui_loading: () => "Vorschläge werden geladen…",
    ui_empty_cart: () => "Legen Sie einen Artikel in den Warenkorb, um Sets zu sehen.",
    ui_no_bundles: () => "Keine Sets für diesen Warenkorb.",
    ui_suggested: (p) => `${p.n} ${p.n === 1 ? "Set" : "Sets"} für Ihren Warenkorb vorgeschlagen`,
    ui_add_bundle: () => "Set hinzufügen",
    ui_add_item: () => "In den Warenkorb",
    ui_add_label: (p) => `${p.action}: ${p.names.join(" und ")} für ${p.price}`,
    ui_dismiss: () => "Kein Interesse",
    ui_save: (p) => `${p.amount} sparen`,
    ui_now: () => "Jetzt ",
    ui_was: () => ", vorher ",
  },
  "zh-CN": {
    picked: () => "店铺精选",
    completes_set: () => "补全一组常被一起购买的商品",
    bought_with: (p, f) => `${p.item} 与 ${p.anchor} 一起购买的频率是随机的 ${f.times(p.lift)}（其买家的 ${f.pct(p.share)}）`,
    goes_with: (p, f) => `${p.item} 与 ${p.anchor} 相配：购物车中有它时，${p.item} 的预测购买概率提高 ${f.num(p.weight, 2)}`,
    bought_before: (p) => `您以前买过 ${p.item}`,
    model_rank: (p, f) => `在类似购物车的补充商品中，${p.item} 排名第 ${f.int(p.rank)}（共 ${f.int(p.of)} 件）`,
    new_like: (p, f) => `${p.item} 是新品：标题与 ${p.like} 相似，在此购物车中排名第 ${f.int(p.rank)}（共 ${f.int(p.of)} 件）`,
    new_ranked: (p, f) => `${p.item} 是新品，在此购物车中排名第 ${f.int(p.rank)}（共 ${f.int(p.of)} 件）`,
    new_typical: (p) => `${p.item} 是新品，按 ${p.category} 类的典型商品排序`,
    popular: (p) => `${p.item} 是本店最受欢迎的商品之一`,
    category_lift: (p, f) => `${p.category} 类商品与 ${p.from} 类商品一起购买的频率是随机的 ${f.times(p.lift)}`,
    history: (p, f) => `根据您的浏览记录：${p.past} 与 ${p.item} 一起购买的频率是随机的 ${f.times(p.lift)}`,
    seasonal: (p, f) => `${p.item} 在${f.month(p.month)}很受欢迎（平时销量的 ${f.times(p.factor)}）`,
    together: (p, f) => `${p.a} 和 ${p.b} 一起购买的频率是随机的 ${f.times(p.lift)}`,
    discount: (p, f) => `一起购买优惠 ${f.pct(p.share)}`,
    ui_heading: () => "完善您的购物车",
    ui_loading: () => "正在加载推荐…",
    ui_empty_cart: () => "加入商品即可查看组合推荐。",
    ui_no_bundles: () => "此购物车暂无组合推荐。",
    ui_suggested: (p) => `为您的购物车推荐了 ${p.n} 个组合`,
    ui_add_bundle: () => "加入组合",
    ui_add_item: () => "加入购物车",
    ui_add_label: (p) => `${p.action}：${p.names.join("、")}，${p.price}`,
    ui_dismiss: () => "不感兴趣",
    ui_save: (p) => `节省 ${p.amount}`,
    ui_now: () => "现价 ",
    ui_was: () => "，原价 ",
  },
};

/** Number, share, month and "×" formatting in a locale. */
export function formatters(locale) {
  const number = (digits) => new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return {
    num: (x, digits = 1) => number(digits).format(x),
    int: (x) => new Intl.NumberFormat(locale).format(x),
    pct: (x) => new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 }).format(x),
    times: (x) => `${number(1).format(x)}×`,
    month: (m) => new Intl.DateTimeFormat(locale, { month: "long", timeZone: "UTC" }).format(Date.UTC(2024, m - 1, 15)),
  };
}

/** The catalog for a locale tag among `catalogs` (exact, then its language), or null. */
export function catalogFor(catalogs, locale) {
  if (catalogs[locale]) return catalogs[locale];
  const language = String(locale).split("-")[0];
  const match = Object.keys(catalogs).find((tag) => tag.split("-")[0] === language);
  return match ? catalogs[match] : null;
}
