// Reasons and the widget's text in the shopper's language: the engine returns each reason as
// {code, params} beside its English text, and the element renders them from its message
// catalogs (English, German, Simplified Chinese, or the page's own) with Intl formatting.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, enginePage } from "./harness.mjs";

let env, page;
before(async () => {
  env = await launch();
  ({ page } = await enginePage(env.browser, env.base));
});
after(async () => env?.close());

/** The element's rendered text for one cart in `locale`, with optional extra catalogs. */
function render(locale, messages = null) {
  return page.evaluate(async ({ locale, messages }) => {
    const catalogs = messages && Object.fromEntries(Object.entries(messages).map(([tag, codes]) =>
      [tag, Object.fromEntries(Object.entries(codes).map(([code, text]) => [code, (p) => text.replace("{item}", p.item)]))]));
    const el = await window.mountBundles("/model-export/synth.cwm", ["SKU00001", "SKU00040"], { locale },
      catalogs ? { messages: catalogs } : {});
    const root = el.shadowRoot;
    const out = {
      heading: root.querySelector("h3").textContent,
      buttons: [...root.querySelectorAll("button[part=add-button]")].map((b) => b.textContent),
      reasons: [...root.querySelectorAll("li[part=reason]")].map((li) => li.textContent),
      english: el.bundles.flatMap((b) => b.reasons),
      codes: el.bundles.flatMap((b) => b.reasonCodes.map((r) => r.code)),
      prices: [...root.querySelectorAll("[part=bundle-price]")].map((p) => p.textContent),
    };
    el.remove();
    return out;
  }, { locale, messages });
}

test("every reason comes with a code and params, one per English sentence", async () => {
  const en = await render("en");
  assert.equal(en.codes.length, en.english.length);
  assert.ok(en.codes.includes("bought_with") || en.codes.includes("together"), en.codes.join(","));
  assert.equal(en.heading, "Complete your cart");
  assert.ok(en.prices.every((p) => /^\$\d+\.\d\d$/.test(p)), en.prices.join(" "));
});

test("German and Simplified Chinese render from their catalogs, numbers in the locale", async () => {
  const de = await render("de-DE");
  assert.equal(de.heading, "Vervollständigen Sie Ihren Warenkorb");
  assert.ok(de.buttons.every((b) => b === "Set hinzufügen" || b === "In den Warenkorb"), de.buttons.join());
  assert.ok(de.reasons.some((r) => /häufiger/.test(r)), de.reasons.join(" | "));
  assert.ok(de.reasons.some((r) => /\d,\d×/.test(r)), "German decimal comma");
  assert.ok(de.prices.every((p) => /^\d+,\d\d\s\$$/.test(p)), de.prices.join(" "));
  assert.ok(!de.reasons.some((r) => de.english.includes(r)), "no reason left in English");
  const zh = await render("zh-CN");
  assert.equal(zh.heading, "完善您的购物车");
  assert.ok(zh.reasons.every((r) => /[\u4e00-\u9fff]/.test(r)), zh.reasons.join(" | "));
});

test("a page supplies its own catalog; codes it lacks fall back to English", async () => {
  const fr = await render("fr", { fr: { popular: "{item} est un best-seller", bought_with: "{item} : souvent acheté avec" } });
  const en = await render("en");
  assert.equal(fr.reasons.length, en.reasons.length);
  fr.reasons.forEach((r, k) => {
    if (fr.codes[k] === "bought_with") assert.match(r, / : souvent acheté avec$/);
    else if (fr.codes[k] !== "popular") assert.equal(r, en.english[k], "unknown to the page's catalog: English");
  });
});

test("right-to-left pages lay the widget out from the right", async () => {
  const got = await page.evaluate(async () => {
    document.documentElement.dir = "rtl";
    const el = await window.mountBundles("/model-export/synth.cwm", ["SKU00001"]);
    const root = el.shadowRoot;
    const reasons = getComputedStyle(root.querySelector("ul.reasons"));
    const card = root.querySelector(".bundle").getBoundingClientRect();
    const button = root.querySelector("button[part=add-button]").getBoundingClientRect();
    const out = {
      paddingRight: reasons.paddingRight,
      paddingLeft: reasons.paddingLeft,
      // In RTL the first action sits at the card's right edge.
      buttonFromRight: card.right - button.right,
      buttonFromLeft: button.left - card.left,
    };
    el.remove();
    document.documentElement.dir = "ltr";
    return out;
  });
  assert.equal(got.paddingRight, "18px");
  assert.equal(got.paddingLeft, "0px");
  assert.ok(got.buttonFromRight < got.buttonFromLeft, JSON.stringify(got));
});
