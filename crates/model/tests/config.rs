//! `[model]` tables in TOML: `kind` optional (default `sparse`), components as tagged tables
//! or bare strings, unknown keys rejected; every catalogue model survives a TOML round trip.

use serde::{Deserialize, Serialize};
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::{ModelConfig, SparseConfig};
use smoe_nn::ActivationKind;
use smoe_router::RouterConfig;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Holder {
    #[serde(deserialize_with = "smoe_model::deserialize_model")]
    model: ModelConfig,
}

fn parse(text: &str) -> Result<ModelConfig, String> {
    toml::from_str::<Holder>(text)
        .map(|h| h.model)
        .map_err(|e| e.to_string())
}

fn sparse(text: &str) -> SparseConfig {
    match parse(text).unwrap_or_else(|e| panic!("{text}\n{e}")) {
        ModelConfig::Sparse(c) => c,
        other => panic!("{text}: not sparse: {other:?}"),
    }
}

#[test]
fn soft_configs_parse_with_defaults_and_refuse_top_k_fields() {
    let c = parse("[model]\nkind = \"soft\"\nexperts = 5\ntokens = 5\nhead = \"linear\"\n")
        .expect("soft");
    let ModelConfig::Soft(s) = &c else {
        panic!("{c:?}")
    };
    assert_eq!((s.experts, s.slots, s.tokens), (5, 1, 5));
    assert_eq!(s.head, smoe_model::SoftHead::Linear);
    assert!(!s.normalize);
    assert_eq!(c.kind(), "soft");
    // k of a soft model is n: every expert is used on every input
    assert_eq!((c.experts(), c.k()), (5, 5));
    assert!(c.as_sparse().is_none());
    let bare = parse("[model]\nkind = \"soft\"\n").expect("defaults");
    assert_eq!(bare, ModelConfig::Soft(smoe_model::SoftConfig::default()));
    for bad in [
        "k = 2",
        "router = \"linear\"",
        "head = \"mean\"",
        "slot = 2",
    ] {
        let e = parse(&format!("[model]\nkind = \"soft\"\n{bad}\n")).expect_err(bad);
        assert!(e.contains("unknown") || e.contains("variant"), "{bad}: {e}");
    }
    // d must be divisible by the tokens: one clear line
    let e = c.validate(12).expect_err("12 / 5");
    assert_eq!(
        e.to_string(),
        "invalid model config: d = 12 is not divisible by tokens = 5"
    );
    assert!(c.validate(10).is_ok());
    for (field, text) in [
        ("experts", "experts = 0"),
        ("slots", "slots = 0"),
        ("tokens", "tokens = 0"),
    ] {
        let cfg = parse(&format!("[model]\nkind = \"soft\"\n{text}\n")).expect(text);
        let e = cfg.validate(4).expect_err(text).to_string();
        assert!(e.contains(&format!("{field} = 0")), "{e}");
    }
}

#[test]
fn kind_is_optional() {
    let with = sparse("[model]\nkind = \"sparse\"\nexperts = 4\nk = 1\n");
    let without = sparse("[model]\nexperts = 4\nk = 1\n");
    assert_eq!(with, without);
    assert_eq!(
        without,
        SparseConfig {
            experts: 4,
            k: 1,
            ..Default::default()
        }
    );
    // an empty table is the default model
    assert_eq!(sparse("[model]\n"), SparseConfig::default());
    let d = SparseConfig::default();
    assert_eq!((d.experts, d.k, d.expert.width), (8, 2, 32));
}

#[test]
fn gate_as_table_or_string() {
    let table = sparse("[model]\nexperts = 4\n[model.gate]\nkind = \"noisy_topk\"\n");
    let string = sparse("[model]\nexperts = 4\ngate = \"noisy_topk\"\n");
    assert_eq!(table.gate, GateConfig::NoisyTopk);
    assert_eq!(table, string);
    // inline table, and a table without `kind` is the default gate
    let inline = sparse("[model]\ngate = { kind = \"softmax_topk\" }\n");
    assert_eq!(inline.gate, GateConfig::SoftmaxTopk);
    assert_eq!(
        sparse("[model]\n[model.gate]\n").gate,
        GateConfig::TopkSoftmax
    );
    // every gate of the catalogue as a table with its parameters, and as a bare string
    // when it has none
    for gate in GateConfig::examples() {
        let body = toml::to_string(&gate).expect("gate to TOML");
        assert_eq!(sparse(&format!("[model]\n[model.gate]\n{body}")).gate, gate);
        if body.trim().lines().count() == 1 {
            let k = gate.kind();
            assert_eq!(sparse(&format!("[model]\ngate = \"{k}\"\n")).gate, gate);
        }
    }
}

#[test]
fn router_and_expert_tables() {
    let c = sparse(
        "[model]\nexperts = 6\nk = 3\ncapacity_factor = 1.25\n\
         [model.router]\nkind = \"mlp\"\nhidden = 7\n\
         [model.expert]\ndepth = 2\nwidth = 8\nactivation = \"prelu\"\n",
    );
    assert_eq!(
        c,
        SparseConfig {
            experts: 6,
            k: 3,
            router: RouterConfig::Mlp { hidden: 7 },
            gate: GateConfig::TopkSoftmax,
            expert: ExpertConfig {
                depth: 2,
                width: 8,
                activation: ActivationKind::Prelu,
                ..Default::default()
            },
            capacity_factor: Some(1.25),
        }
    );
    assert_eq!(
        sparse("[model]\nrouter = \"linear\"\n").router,
        RouterConfig::Linear
    );
    // a partial expert table sets what it names
    let e = sparse("[model.expert]\ndepth = 0\nactivation = \"none\"\n").expert;
    assert_eq!((e.depth, e.activation), (0, ActivationKind::None));
}

#[test]
fn unknown_keys_and_kinds_are_rejected() {
    for (text, needle) in [
        ("[model]\nexpertz = 4\n", "expertz"),
        ("[model]\nkind = \"sparse\"\nd = 4\n", "`d`"),
        ("[model]\nkind = \"dense\"\n", "dense"),
        ("[model]\ngate = \"no_such_gate\"\n", "no_such_gate"),
        ("[model.gate]\nkind = \"no_such_gate\"\n", "no_such_gate"),
        (
            "[model.router]\nkind = \"mlp\"\nhidden = 3\nwidth = 2\n",
            "width",
        ),
        ("[model.router]\nkind = \"mlp\"\n", "hidden"),
        ("[model.expert]\nwidht = 3\n", "widht"),
        ("[model]\nk = \"two\"\n", "two"),
        ("[other]\nx = 1\n", "other"),
    ] {
        let e = parse(text).expect_err(text);
        assert!(e.contains(needle), "{text}: {e}");
    }
}

/// Unknown keys beside a component that has no parameters of its own
/// (`[model.gate] kind = "noisy_topk"`, `tau = 1`): serde's internally tagged enums let them
/// through for unit variants (serde-rs/serde#2123), so the gate and router configs must
/// reject them themselves.
#[test]
fn unknown_keys_beside_a_unit_kind_are_rejected() {
    for (text, needle) in [
        ("[model.gate]\nkind = \"noisy_topk\"\ntau = 1\n", "tau"),
        ("[model.gate]\ntau = 1\n", "tau"),
        ("[model.router]\nkind = \"linear\"\nhidden = 3\n", "hidden"),
    ] {
        let e = parse(text).expect_err(text);
        assert!(e.contains(needle), "{text}: {e}");
    }
}

#[test]
fn every_catalogue_model_round_trips_through_toml() {
    for cfg in ModelConfig::examples() {
        let text = toml::to_string(&Holder { model: cfg.clone() }).expect("serialize");
        assert!(
            text.contains(&format!("kind = \"{}\"", cfg.kind())),
            "{text}"
        );
        assert_eq!(parse(&text).unwrap_or_else(|e| panic!("{text}\n{e}")), cfg);
    }
}
