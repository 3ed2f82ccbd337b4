//! The CLI contract of DESIGN.md, run as a user would: synth, split, train, suggest, eval, inspect.

use crate::common::{cartwise, ok};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// HR@10 of a method in an `eval --json` report.
fn method_hr10(report: &serde_json::Value, name: &str) -> f64 {
    let methods = report["methods"].as_array().unwrap();
    methods.iter().find(|m| m["method"] == name).unwrap()["hr@10"]
        .as_f64()
        .unwrap()
}

/// Method names of an `eval --json` report, in report order.
fn method_names(report: &serde_json::Value) -> Vec<&str> {
    let methods = report["methods"].as_array().unwrap();
    methods
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect()
}

/// `train` arguments over the split shop in `dir` (train.csv, products.csv) writing `out`, then
/// `extra`.
fn train_args(dir: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let mut args = vec![
        "train".to_string(),
        "--orders".into(),
        s(&dir.join("train.csv")),
        "--products".into(),
        s(&dir.join("products.csv")),
        "--out".into(),
        s(out),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// A small synthetic shop split by time and trained once for all tests.
fn trained() -> &'static (tempfile::TempDir, PathBuf) {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let s = |p: &Path| p.to_str().unwrap().to_string();
        ok(&[
            "synth",
            "--out",
            &s(d),
            "--seed",
            "5",
            "--items",
            "400",
            "--orders",
            "8000",
            "--customers",
            "800",
        ]);
        for f in ["orders.csv", "products.csv", "planted.json"] {
            assert!(d.join(f).exists(), "synth wrote {f}");
        }
        ok(&[
            "split",
            "--orders",
            &s(&d.join("orders.csv")),
            "--out",
            &s(d),
            "--test-fraction",
            "0.1",
        ]);
        let model = d.join("m.cwm");
        let args = train_args(d, &model, &["--fast"]);
        ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        (dir, model)
    })
}

#[test]
fn suggest_writes_one_line_per_cart_in_order() {
    let (dir, model) = trained();
    let carts = dir.path().join("carts.jsonl");
    std::fs::write(
        &carts,
        "{\"items\": [\"SKU00001\"]}\n{\"items\": [\"SKU00001\", \"GHOST\"]}\n{\"items\": []}\n\n{\"items\": [\"SKU00007\", \"SKU00008\"]}\n",
    )
    .unwrap();
    let out = ok(&[
        "suggest",
        "--model",
        model.to_str().unwrap(),
        "--carts",
        carts.to_str().unwrap(),
        "--k",
        "10",
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GHOST"),
        "unknown ids are named on stderr"
    );
    for (line, cart) in lines.iter().zip([
        vec!["SKU00001"],
        vec!["SKU00001"],
        vec![],
        vec![],
        vec!["SKU00007", "SKU00008"],
    ]) {
        let items = line["items"].as_array().unwrap();
        assert!(!items.is_empty() && items.len() <= 10);
        assert!(items.iter().all(|i| !cart.contains(&i.as_str().unwrap())));
        for b in line["bundles"].as_array().unwrap() {
            for key in [
                "items",
                "basePrice",
                "discount",
                "bundlePrice",
                "score",
                "reasons",
            ] {
                assert!(b.get(key).is_some(), "bundle lacks {key}: {b}");
            }
            assert_eq!(
                b["bundlePrice"].as_i64().unwrap(),
                b["basePrice"].as_i64().unwrap() - b["discount"].as_i64().unwrap()
            );
            for i in b["items"].as_array().unwrap() {
                assert!(
                    i["id"].is_string() && i["title"].is_string() && i["price"].is_i64(),
                    "{i}"
                );
            }
        }
    }
    assert_eq!(
        lines[0]["items"], lines[1]["items"],
        "unknown ids are ignored"
    );
    // The espresso machine's planted partners are SKU00002..SKU00006.
    let first: Vec<&str> = lines[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .take(5)
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        first
            .iter()
            .filter(|id| ["SKU00002", "SKU00003", "SKU00004", "SKU00005", "SKU00006"].contains(id))
            .count()
            >= 4,
        "{first:?}"
    );
}

#[test]
fn eval_beats_popularity_on_held_out_orders() {
    let (dir, model) = trained();
    let test = dir.path().join("test.csv");
    let out = ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--orders",
        test.to_str().unwrap(),
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["carts"].as_u64().unwrap() > 200);
    let hr = |name: &str| method_hr10(&report, name);
    assert!(hr("cartwise") > hr("popularity") * 1.5, "{report}");
    assert!(hr("cartwise") >= hr("co-occurrence") * 0.9, "{report}");
    // With the training orders, item-kNN and EASE join on the same carts.
    let train = dir.path().join("train.csv");
    let out = ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--orders",
        test.to_str().unwrap(),
        "--train-orders",
        train.to_str().unwrap(),
        "--json",
    ]);
    let full: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = method_names(&full);
    let personalized = names[8];
    assert!(
        personalized.starts_with("personalized EASE (history weight "),
        "{names:?}"
    );
    assert_eq!(
        names,
        [
            "cartwise",
            "cartwise without history",
            "cartwise assoc only",
            "popularity",
            "co-occurrence",
            "sparse EASE (int8, 32 per item)",
            "item-kNN",
            "EASE",
            personalized,
            "neighbourhood EASE (256 neighbours, int8)"
        ]
    );
    // The carts whose shopper has earlier orders are reported on their own too: there the
    // history is what the blend's history term and personalized EASE add.
    let with_history = full["carts_with_history"].as_u64().unwrap();
    assert!(with_history > 0 && with_history <= full["carts"].as_u64().unwrap());
    let on_history = |name: &str| {
        let methods = full["methods"].as_array().unwrap();
        methods.iter().find(|m| m["method"] == name).unwrap()["with_history"]["hr@10"]
            .as_f64()
            .unwrap()
    };
    assert!(
        on_history("cartwise") > on_history("cartwise without history"),
        "{full}"
    );
    assert_eq!(
        method_hr10(&full, "cartwise without history"),
        hr("cartwise"),
        "without a history the export ranks as it does for carts that never had one"
    );
    assert_eq!(
        full["carts"], report["carts"],
        "same carts for every method"
    );
    // With --train-orders each test cart carries its shopper's history, which the blend's
    // history term weighs (measured 0.426 against 0.405 without).
    assert!(
        method_hr10(&full, "cartwise") > hr("cartwise"),
        "histories should help: {full}"
    );
    assert!(
        method_hr10(&full, "EASE") > hr("popularity") * 1.5,
        "{full}"
    );
    assert!(method_hr10(&full, "item-kNN") > hr("popularity"), "{full}");
    // The scalable variant within 2% of the dense solve it approximates.
    assert!(
        method_hr10(&full, "neighbourhood EASE (256 neighbours, int8)")
            >= 0.98 * method_hr10(&full, "EASE"),
        "{full}"
    );
    assert!(
        hr("cartwise") >= method_hr10(&full, "item-kNN"),
        "the shipped blend ranks at least as well as item-kNN: {full}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("chose λ"));
    // Leave-one-out hides each item of every test order once: at least two carts per order.
    let out = ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--orders",
        test.to_str().unwrap(),
        "--leave-one-out",
        "--json",
    ]);
    let loo: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(loo["leave_one_out"], true);
    assert_eq!(report["leave_one_out"], false);
    assert!(
        loo["carts"].as_u64().unwrap() >= 2 * report["carts"].as_u64().unwrap(),
        "{loo}"
    );
    assert!(
        method_hr10(&loo, "cartwise") > method_hr10(&loo, "popularity") * 1.5,
        "{loo}"
    );
    let text = ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--orders",
        test.to_str().unwrap(),
    ]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("HR@10") && text.contains("popularity") && text.contains("co-occurrence"),
        "{text}"
    );
}

#[test]
fn inspect_describes_sections_and_top_pairs() {
    let (_, model) = trained();
    let out = ok(&["inspect", model.to_str().unwrap(), "--json"]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tags: Vec<&str> = info["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tag"].as_str().unwrap())
        .collect();
    assert_eq!(
        tags,
        ["META", "CATL", "ASOC", "ISET", "SEAS", "RULE", "EASE", "BLND", "PRIC", "RBUY"]
    );
    // The shop's customers come back: rebuy factors for every item, staples first.
    assert_eq!(info["rebuy"]["items"], info["items"]);
    let factors: Vec<f64> = info["rebuy"]["staples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["factor"].as_f64().unwrap())
        .collect();
    assert!(factors.len() >= 5 && factors[0] > 1.0, "{factors:?}");
    assert!(factors.windows(2).all(|w| w[0] >= w[1]), "{factors:?}");
    // The synthetic shop's promotions give a fitted acceptance curve.
    assert_eq!(info["acceptance"]["source"], "fitted");
    assert_eq!(info["items"], 400);
    assert_eq!(info["version"], cartwise::serve::export::VERSION);
    assert!(
        info["ease"]["weights"].as_u64().unwrap() > 400,
        "{}",
        info["ease"]
    );
    assert!(info["blend"]["ease"].is_number(), "{}", info["blend"]);
    assert!(info["topPairs"].as_array().unwrap().len() == 10);
    let text = String::from_utf8(ok(&["inspect", model.to_str().unwrap()]).stdout).unwrap();
    assert!(
        text.contains("top pairs") && text.contains("ASOC"),
        "{text}"
    );
}

#[test]
fn train_reports_rejects_to_a_file_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("p.csv"),
        "item_id,title,price,cost\nA,Alpha,1.00,0.50\nB,Beta,2.00,1.00\nC,Gamma,x,1\n",
    )
    .unwrap();
    std::fs::write(
        d.join("o.csv"),
        "order_id,item_id,quantity\n1,A,1\n1,B,1\n2,A,1\n2,B,1\n3,A,-2\n3,C,1\n",
    )
    .unwrap();
    let s = |p: PathBuf| p.to_str().unwrap().to_string();
    let args = |strict: bool| {
        let mut a = vec![
            "train".to_string(),
            "--fast".into(),
            "--orders".into(),
            s(d.join("o.csv")),
            "--products".into(),
            s(d.join("p.csv")),
            "--out".into(),
            s(d.join("m.cwm")),
        ];
        if strict {
            a.push("--strict".into());
        }
        a
    };
    let out = cartwise(&args(false).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("p.csv:4: bad price"), "{err}");
    assert!(err.contains("o.csv:6: non-positive quantity"), "{err}");
    assert!(err.contains("o.csv:7: unknown item"), "{err}");
    let rejects = std::fs::read_to_string(d.join("m.rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 4, "header + 3 rejects:\n{rejects}");
    std::fs::remove_file(d.join("m.cwm")).unwrap();
    let out = cartwise(&args(true).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--strict: 3 rows rejected"));
    assert!(
        !d.join("m.cwm").exists(),
        "no export written under --strict"
    );
}

#[test]
fn bad_model_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.cwm");
    std::fs::write(&path, b"CARTWISE but not really").unwrap();
    let out = cartwise(&["inspect", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.cwm") && err.contains("truncated"),
        "{err}"
    );
}

/// The default `train` keeps to its time budget: the transformer trains until the budget is
/// spent (or it converges) and the whole run ends within ±20% of it; a budget too small for
/// one epoch leaves the transformer out and still writes the export.
#[test]
fn train_keeps_to_its_time_budget() {
    let (dir, _) = trained();
    let d = dir.path();
    let run_with = |budget: &str, out: &str, extra: &[&str]| {
        let mut flags = vec!["--time-budget", budget, "--json"];
        flags.extend(extra);
        let args = train_args(d, &d.join(out), &flags);
        let out = ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (summary, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let run = |budget: &str, out: &str| run_with(budget, out, &[]);
    // The shop's transformer converges in about 13 s on 2 cores, so 10 s is spent on epochs.
    let budget = 10.0;
    let (summary, log) = run("10s", "budget.cwm");
    assert_eq!(summary["timeBudgetSeconds"], budget);
    assert_eq!(summary["transformer"], true, "{log}");
    let seconds = summary["seconds"].as_f64().unwrap();
    assert!(
        seconds <= 1.2 * budget,
        "{seconds} s over a {budget} s budget\n{log}"
    );
    if log.contains("transformer: stopped by the time budget") {
        assert!(
            seconds >= 0.8 * budget,
            "{seconds} s of a {budget} s budget\n{log}"
        );
    } else {
        assert!(log.contains("transformer: converged"), "{log}");
    }
    assert!(log.contains("transformer epoch 2:"), "{log}");

    // With a refit, the fit and the refit share the budget; the refit runs only if it fits.
    let (summary, log) = run_with("10s", "refit.cwm", &["--refit"]);
    let seconds = summary["seconds"].as_f64().unwrap();
    assert!(
        seconds <= 1.2 * budget,
        "{seconds} s over a {budget} s budget\n{log}"
    );
    assert!(
        log.contains("transformer: refitting on all") || log.contains("transformer: no refit"),
        "{log}"
    );

    let (summary, log) = run("10ms", "no-time.cwm");
    assert_eq!(summary["transformer"], false, "{log}");
    assert!(
        log.contains(
            "transformer: left out, the association tables and EASE used the whole time budget"
        ),
        "{log}"
    );
    assert!(log.contains("blend: assoc"), "{log}");
    assert!(d.join("no-time.cwm").exists());
}

#[test]
fn train_with_transformer_adds_it_to_eval() {
    let (dir, _) = trained();
    let d = dir.path();
    let s = |p: PathBuf| p.to_str().unwrap().to_string();
    let model = d.join("with-model.cwm");
    let out = ok(&[
        "train",
        "--orders",
        &s(d.join("train.csv")),
        "--products",
        &s(d.join("products.csv")),
        "--out",
        &s(model.clone()),
        "--transformer",
        "--epochs",
        "2",
        "--dim",
        "32",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("transformer epoch 1"),
        "per-epoch progress"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("blend: assoc"),
        "the fitted blend is reported"
    );
    let out = ok(&[
        "eval",
        "--model",
        &s(model.clone()),
        "--orders",
        &s(d.join("test.csv")),
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = method_names(&report);
    assert_eq!(
        names,
        [
            "cartwise",
            "cartwise without history",
            "cartwise assoc only",
            "popularity",
            "co-occurrence",
            "transformer (q8_0, item ids q5_1)",
            "sparse EASE (int8, 32 per item)"
        ]
    );
    let info = ok(&["inspect", &s(model), "--json"]);
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let tags: Vec<&str> = info["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tag"].as_str().unwrap())
        .collect();
    assert_eq!(
        tags,
        [
            "META", "CATL", "ASOC", "ISET", "SEAS", "RULE", "MODL", "TOKN", "EASE", "BLND", "PRIC",
            "RBUY"
        ]
    );
}

#[test]
fn keygen_and_train_sign_make_an_export_inspect_names_the_signer_of() {
    let (dir, _) = trained();
    let d = dir.path();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let key = d.join("shop.key");
    let public = String::from_utf8(ok(&["keygen", "--out", &s(&key)]).stdout).unwrap();
    let public = public.trim();
    assert_eq!(public.len(), 64);
    assert_eq!(
        std::fs::read_to_string(d.join("shop.pub")).unwrap().trim(),
        public
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the secret key is readable by its owner only"
        );
    }
    let again = cartwise(&["keygen", "--out", &s(&key)]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    let signed = d.join("signed.cwm");
    let args = train_args(d, &signed, &["--fast", "--sign", &s(&key)]);
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let inspect = String::from_utf8(ok(&["inspect", &s(&signed)]).stdout).unwrap();
    assert!(
        inspect.contains(&format!("signed by {public}")),
        "{inspect}"
    );
    let bytes = std::fs::read(&signed).unwrap();
    let pinned = cartwise::serve::export::signature::parse_public_key(public).unwrap();
    assert_eq!(
        cartwise::serve::export::signature::verify(&bytes, &pinned),
        Ok(())
    );
    // A key file that is not one fails before training starts.
    std::fs::write(d.join("bad.key"), "hello").unwrap();
    let args = train_args(
        d,
        &d.join("never.cwm"),
        &["--fast", "--sign", &s(&d.join("bad.key"))],
    );
    let bad = cartwise(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not a key written by cartwise keygen"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(!d.join("never.cwm").exists());
}
