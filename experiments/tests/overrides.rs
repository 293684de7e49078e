//! Overrides apply to the typed defaults: setting any one field of any section — alone, on
//! the command line (`--set`) or in a file — changes that field and nothing else; fields of
//! another kind are errors.
//!
//! The fields are not listed by hand: they are every leaf of the built-in default config and
//! of every kind in the catalogues (`examples()`), so a new field is covered when it is added.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use smoe_train::TrainConfig;

/// The resolved config of `smoe train [--config FILE] --set S...` as JSON: the command line
/// resolves through `config_io::load` (before validation — a changed field may make the run
/// invalid, e.g. k > T, which is validation's business, not the defaults').
fn resolve(file: Option<PathBuf>, sets: &[String]) -> Result<Value, String> {
    let cfg = smoe_experiments::config_io::load::<TrainConfig>(file.as_deref(), sets)
        .map_err(|e| format!("{e:#}"))?;
    serde_json::to_value(&cfg).map_err(|e| e.to_string())
}

/// The same as a file holding only the overrides.
fn resolve_file(dir: &tempfile::TempDir, sets: &[(String, toml::Value)]) -> Result<Value, String> {
    let mut t = toml::Table::new();
    for (k, v) in sets {
        smoe_experiments::config_io::set_value(&mut t, k, v.clone()).map_err(|e| e.to_string())?;
    }
    let path = dir.path().join("c.toml");
    std::fs::write(&path, toml::to_string(&t).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    resolve(Some(path), &[])
}

/// Every leaf (non-table value other than `kind`) of `v` under `prefix`, dotted path → value.
fn leaves(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if k != "kind" {
                    leaves(&p, x, out);
                }
            }
        }
        Value::Null => {}
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

/// Fields that name files or columns (any other string is some kind's name).
const FILE_FIELDS: &[&str] = &["x", "y", "test_x", "test_y", "path", "test", "label"];

/// Optional fields (absent by default): table, field, a valid value.
const OPTIONAL: &[(&str, &str, f64)] = &[
    ("model", "capacity_factor", 1.5),
    ("train", "target_loss", 0.5),
];

/// Another valid value of the same type.
fn changed(path: &str, v: &Value) -> toml::Value {
    match v {
        Value::Bool(b) => toml::Value::Boolean(!b),
        Value::Number(n) if n.is_u64() || n.is_i64() => {
            toml::Value::Integer(n.as_i64().unwrap_or(0) + 1)
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            toml::Value::Float(if x == 0.0 { 0.25 } else { x * 0.5 })
        }
        // eval.gamma: "p10" (default) or a fixed number
        Value::String(s) if s == "p10" => toml::Value::Float(0.5),
        Value::String(s) if FILE_FIELDS.iter().any(|f| path.ends_with(&format!(".{f}"))) => {
            toml::Value::String(format!("other-{s}"))
        }
        Value::String(s) => toml::Value::String(
            match s.as_str() {
                "labels" => "real",
                "adam" => "sgd",
                "constant" => "cosine",
                "relu" => "none",
                "pytorch_uniform" => "kaiming_normal",
                "none" => "tanh", // the dense-to-sparse gate's activation
                "sigmoid" if path.ends_with("activation") => "none",
                "sigmoid" => "linear",
                "sum" => "linear",
                other => panic!("{path} = {other:?}: add an alternative value to `changed`"),
            }
            .into(),
        ),
        other => panic!("{path} = {other}: no alternative value"),
    }
}

fn json_of(v: &toml::Value) -> Value {
    serde_json::to_value(v).expect("toml value as json")
}

fn set_json(v: &mut Value, path: &str, x: Value) {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        cur = cur
            .get_mut(*p)
            .unwrap_or_else(|| panic!("no {p} in {path}"));
    }
    cur[parts[parts.len() - 1]] = x;
}

fn get_json<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, p| cur.get(p))
}

/// Sets every leaf of `base` under `scope` alone, and every optional field of `extra` (dotted
/// path → value; absent from `base`) alone, after the `fixed` settings (e.g. a kind), from the
/// command line and from a file, and checks that exactly that field changed. Returns the
/// number of fields set.
fn each_field_alone(
    dir: &tempfile::TempDir,
    fixed: &[(String, toml::Value)],
    base: &Value,
    scope: &str,
    extra: &BTreeMap<String, toml::Value>,
) -> usize {
    let mut all = BTreeMap::new();
    leaves("", base, &mut all);
    let mut settings: Vec<(String, toml::Value)> = all
        .iter()
        .filter(|(p, _)| p.starts_with(scope))
        .map(|(p, v)| (p.clone(), changed(p, v)))
        .collect();
    settings.extend(
        extra
            .iter()
            .filter(|(p, _)| !all.contains_key(*p))
            .map(|(p, v)| (p.clone(), v.clone())),
    );
    for (path, new) in &settings {
        let mut want = base.clone();
        set_json(&mut want, path, json_of(new));
        let cli: Vec<String> = fixed
            .iter()
            .chain(std::iter::once(&(path.clone(), new.clone())))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let got = resolve(None, &cli).unwrap_or_else(|e| panic!("--set {cli:?}: {e}"));
        assert_eq!(got, want, "--set {cli:?} changed other fields");
        let mut in_file = fixed.to_vec();
        in_file.push((path.clone(), new.clone()));
        let got = resolve_file(dir, &in_file).unwrap_or_else(|e| panic!("file {in_file:?}: {e}"));
        assert_eq!(
            got, want,
            "a file setting {path} alone changed other fields"
        );
    }
    settings.len()
}

/// The optional fields of [`OPTIONAL`] under `table`, dotted path → value.
fn optional(table: &str) -> BTreeMap<String, toml::Value> {
    OPTIONAL
        .iter()
        .filter(|(t, _, _)| *t == table)
        .map(|(t, f, v)| (format!("{t}.{f}"), toml::Value::Float(*v)))
        .collect()
}

#[test]
fn every_default_field_alone_keeps_every_other_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = serde_json::to_value(TrainConfig::default()).expect("json");
    // the documented defaults are the built-in ones (train-default.toml is checked elsewhere)
    assert_eq!(resolve(None, &[]).expect("defaults"), base);
    assert_eq!(
        get_json(&base, "model.expert.width"),
        Some(&Value::from(32))
    );
    let extra = optional("model")
        .into_iter()
        .chain(optional("train"))
        .collect();
    let n = each_field_alone(&dir, &[], &base, "", &extra);
    // seed + data (d, m_train, m_test, task.clusters, task.noise) + model + loss + train + aux
    // + eval: the count pins that the walk saw every section
    assert!(n >= 30, "only {n} fields were walked");
    for section in ["seed", "data", "model", "train", "aux", "eval"] {
        let mut all = BTreeMap::new();
        leaves("", &base, &mut all);
        assert!(
            all.keys().any(|k| k.starts_with(section)),
            "no field of {section} walked"
        );
    }
}

/// `(path of the kind table, its kind, the kind's own config as JSON)` for every kind of every
/// catalogue.
fn kinds() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let mut push = |table: &str, v: Value| {
        let kind = v
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{table}: example without kind: {v}"))
            .to_string();
        if !out.iter().any(|(t, k, _)| t == table && *k == kind) || table == "data" {
            out.push((table.to_string(), kind, v));
        }
    };
    for d in smoe_tasks::DataConfig::examples() {
        push("data", serde_json::to_value(d).expect("json"));
    }
    for m in smoe_model::ModelConfig::examples() {
        push("model", serde_json::to_value(m).expect("json"));
    }
    // the file sources, with every optional field (the catalogue has synthetic data only)
    push(
        "data",
        serde_json::json!({"kind": "npy", "x": "x.npy", "y": "y.npy", "test_fraction": 0.5, "targets": "labels"}),
    );
    push(
        "data",
        serde_json::json!({"kind": "npy", "x": "x.npy", "y": "y.npy", "test_x": "tx.npy", "test_y": "ty.npy"}),
    );
    push(
        "data",
        serde_json::json!({"kind": "csv", "path": "d.csv", "label": "y", "test_fraction": 0.5}),
    );
    push(
        "data",
        serde_json::json!({"kind": "csv", "path": "d.csv", "test": "t.csv"}),
    );
    for t in smoe_tasks::TaskConfig::examples() {
        push("data.task", serde_json::to_value(t).expect("json"));
    }
    for r in smoe::router::RouterConfig::examples() {
        push("model.router", serde_json::to_value(r).expect("json"));
    }
    for g in smoe_gating::GateConfig::examples() {
        push("model.gate", serde_json::to_value(g).expect("json"));
    }
    for l in smoe_train::LossConfig::examples() {
        push("loss", serde_json::to_value(l).expect("json"));
    }
    out
}

/// The resolved config of `table.kind = kind` alone — plus the fields the kind requires (no
/// default), taken from its catalogue example — and those settings.
fn kind_alone(table: &str, kind: &str, example: &Value) -> (Vec<(String, toml::Value)>, Value) {
    let mut fixed = vec![(format!("{table}.kind"), toml::Value::String(kind.into()))];
    for _ in 0..16 {
        let cli: Vec<String> = fixed.iter().map(|(k, v)| format!("{k}={v}")).collect();
        match resolve(None, &cli) {
            Ok(base) => return (fixed, base),
            Err(e) => {
                let field = e
                    .split("missing field `")
                    .nth(1)
                    .and_then(|r| r.split('`').next())
                    .unwrap_or_else(|| panic!("{cli:?}: {e}"));
                let v = example
                    .get(field)
                    .unwrap_or_else(|| panic!("{cli:?}: {e}; the example has no {field}"));
                fixed.push((
                    format!("{table}.{field}"),
                    toml::Value::try_from(v).expect("toml"),
                ));
            }
        }
    }
    panic!("{table}.kind = {kind}: more than 16 required fields?")
}

#[test]
fn every_field_of_every_kind_alone_keeps_every_other_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut walked = 0;
    for (table, kind, example) in kinds() {
        if table == "model.gate" && kind == "custom" {
            continue; // a user gate is built by the user's code, it has no fields here
        }
        if table == "loss" && kind == "custom" {
            continue;
        }
        let (fixed, base) = kind_alone(&table, &kind, &example);
        // the kind alone: every other section keeps its default
        let mut want = serde_json::to_value(TrainConfig::default()).expect("json");
        let own = get_json(&base, &table).expect("kind table").clone();
        set_json(&mut want, &table, own);
        assert_eq!(
            base, want,
            "setting {table}.kind = {kind} changed another section"
        );
        // the example's fields the kind alone leaves out (optional ones) are set alone too
        // (the optional fields listed are the sparse model's: a soft model has none)
        let mut extra = if table == "model" && kind != "sparse" {
            BTreeMap::new()
        } else {
            optional(&table)
        };
        // (its own fields only: a nested kind table, as data.task, is walked as its own kind)
        if let Some(m) = example.as_object() {
            extra.extend(
                m.iter()
                    .filter(|(k, v)| *k != "kind" && !v.is_object() && !v.is_null())
                    .map(|(k, v)| {
                        (
                            format!("{table}.{k}"),
                            toml::Value::try_from(v).expect("toml"),
                        )
                    }),
            );
        }
        let n = each_field_alone(&dir, &fixed, &base, &table, &extra);
        eprintln!("{table}.kind = {kind}: {n} fields");
        walked += n;
    }
    assert!(walked >= 10, "only {walked} kind fields walked");
}

#[test]
fn fields_of_another_kind_are_errors() {
    let all = kinds();
    let mut checked = 0;
    for (table, kind, _) in &all {
        let Ok(own) = resolve(None, &[format!("{table}.kind=\"{kind}\"")]) else {
            continue;
        };
        let own = get_json(&own, table).expect("table").clone();
        for (table2, kind2, other) in &all {
            if table2 != table || kind2 == kind {
                continue;
            }
            let mut fields = BTreeMap::new();
            leaves("", other, &mut fields);
            for (field, v) in fields {
                if own.get(&field).is_some() || field.contains('.') {
                    continue; // shared by both kinds
                }
                let sets = vec![
                    format!("{table}.kind=\"{kind}\""),
                    format!(
                        "{table}.{field}={}",
                        toml::Value::try_from(&v).expect("toml")
                    ),
                ];
                let err = resolve(None, &sets).expect_err(&format!(
                    "{sets:?}: a field of {kind2} was accepted under {kind}"
                ));
                assert!(err.contains(&field), "{sets:?}: {err}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "only {checked} foreign fields checked");
}
